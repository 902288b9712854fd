// The CLI's input loading (src/cli/inputs.ts) with images: JPEG/PNG through decode + preprocess per
// preset, .npy as before, folders walked recursively in sorted order, failures named per file.
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeImageFile } from '../src/cli/decode.ts';
import { expandInputs, loadInput } from '../src/cli/inputs.ts';
import { preprocess } from '../src/image/preprocess.ts';
import { serializeNpy } from '../src/tensor/npy.ts';
import { errors } from './helpers.ts';
import { IMAGES } from './image-fixtures.ts';

const JPG = join(IMAGES, 'rgb_exif6_320x240.jpg');
const PNG = join(IMAGES, 'rgb_301x199.png');

/** A folder: a/x.npy, a/z.JPG, b.png, broken.png, notes.txt, .hidden.png, empty/ */
function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'resnet50-inputs-'));
  mkdirSync(join(dir, 'a'));
  mkdirSync(join(dir, 'empty'));
  writeFileSync(join(dir, 'a', 'x.npy'), serializeNpy({ shape: [3, 224, 224], dtype: 'f32', data: new Float32Array(3 * 224 * 224).fill(0.5) }));
  copyFileSync(JPG, join(dir, 'a', 'z.JPG'));
  copyFileSync(PNG, join(dir, 'b.png'));
  writeFileSync(join(dir, 'broken.png'), 'not a png');
  writeFileSync(join(dir, 'notes.txt'), 'skipped');
  copyFileSync(PNG, join(dir, '.hidden.png'));
  return dir;
}

describe('CLI inputs with images', () => {
  it('preprocesses images with the preset to [1, 3, 224, 224]', async () => {
    for (const preset of ['torchvision', 'msvision'] as const) {
      const batch = await loadInput(JPG, preset);
      expect(batch.shape).toEqual([1, 3, 224, 224]);
      const expected = preprocess(await decodeImageFile(JPG, preset), preset);
      expect(errors(batch.data, expected.data).maxAbs).toBe(0);
    }
    const tv = (await loadInput(JPG)).data; // torchvision is the default
    expect(errors(tv, (await loadInput(JPG, 'torchvision')).data).maxAbs).toBe(0);
    expect(errors(tv, (await loadInput(JPG, 'msvision')).data).maxAbs).toBeGreaterThan(0.5);
  });

  it('walks folders recursively in sorted order, skipping dot-files and other extensions', async () => {
    const dir = folder();
    const { files, failures } = await expandInputs([dir, join(dir, 'missing.png'), join(dir, 'notes.txt'), join(dir, 'empty')]);
    expect(files).toEqual([join(dir, 'a', 'x.npy'), join(dir, 'a', 'z.JPG'), join(dir, 'b.png'), join(dir, 'broken.png'), join(dir, 'notes.txt')]);
    expect(failures.map((f) => f.message)).toEqual([
      `cannot read input ${join(dir, 'missing.png')}: no such file`,
      `${join(dir, 'empty')}: no .npy, .jpg, .jpeg, .png files in this folder`,
    ]);
  });

  it('a file that cannot be loaded is a one-line CliError naming it', async () => {
    const dir = folder();
    await expect(loadInput(join(dir, 'broken.png'))).rejects.toThrow(/broken\.png: cannot decode image: /);
    await expect(loadInput(join(dir, 'notes.txt'))).rejects.toThrow(/notes\.txt: unsupported input type '\.txt' \(supported: \.npy, \.jpg, \.jpeg, \.png\)/);
    await expect(expandInputs([])).rejects.toThrow(/no inputs given/);
  });
});
