// The CLI's input loading (src/cli/inputs.ts) with images: JPEG/PNG through decode + preprocess per
// preset, .npy as before, folders walked recursively in sorted order, and per-file failures
// reported instead of thrown.
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeImageFile } from '../src/cli/decode.ts';
import { loadInputs } from '../src/cli/inputs.ts';
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

describe('loadInputs with images', () => {
  it('preprocesses images with the preset: [1, 3, 224, 224] each, batched in order', async () => {
    for (const preset of ['torchvision', 'msvision'] as const) {
      const { inputs, failures, batch } = await loadInputs([PNG, JPG], preset);
      expect(failures).toEqual([]);
      expect(inputs.map((i) => i.path)).toEqual([PNG, JPG]);
      expect(batch.shape).toEqual([2, 3, 224, 224]);
      const second = preprocess(await decodeImageFile(JPG, preset), preset);
      expect(errors(batch.data.subarray(3 * 224 * 224), second.data).maxAbs).toBe(0);
    }
    const tv = (await loadInputs([JPG])).batch.data; // torchvision is the default
    expect(errors(tv, (await loadInputs([JPG], 'torchvision')).batch.data).maxAbs).toBe(0);
    expect(errors(tv, (await loadInputs([JPG], 'msvision')).batch.data).maxAbs).toBeGreaterThan(0.5);
  });

  it('walks folders recursively in sorted order, skipping dot-files and other extensions, reporting failures', async () => {
    const dir = folder();
    const { inputs, failures, batch } = await loadInputs([dir, join(dir, 'missing.png'), join(dir, 'notes.txt')]);
    expect(inputs.map((i) => i.path)).toEqual([join(dir, 'a', 'x.npy'), join(dir, 'a', 'z.JPG'), join(dir, 'b.png')]);
    expect(batch.shape).toEqual([3, 3, 224, 224]);
    expect(failures.map((f) => f.path)).toEqual([join(dir, 'broken.png'), join(dir, 'missing.png'), join(dir, 'notes.txt')]);
    expect(failures[0].message).toMatch(/broken\.png: cannot decode image: /);
    expect(failures[1].message).toMatch(/cannot read input .*missing\.png: no such file/);
    expect(failures[2].message).toMatch(/notes\.txt: unsupported input type '\.txt' \(supported: \.npy, \.jpg, \.jpeg, \.png\)/);
  });

  it('an empty folder is a failure; nothing loadable at all is a CliError listing every failure', async () => {
    const dir = folder();
    const empty = join(dir, 'empty');
    await expect(loadInputs([empty, join(dir, 'broken.png')])).rejects.toThrow(
      new RegExp(`^${empty}: no \\.npy, \\.jpg, \\.jpeg, \\.png files in this folder\\n.*broken\\.png: cannot decode image: `),
    );
  });

  it('images and tensors of another size cannot share a batch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'resnet50-inputs-'));
    const small = join(dir, 'small.npy');
    writeFileSync(small, serializeNpy({ shape: [3, 64, 64], dtype: 'f32', data: new Float32Array(3 * 64 * 64) }));
    await expect(loadInputs([PNG, small])).rejects.toThrow(/different image sizes \(224×224, 64×64\)/);
  });
});
