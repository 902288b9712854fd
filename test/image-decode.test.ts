// Decoding (src/cli/decode.ts, sharp) against PIL's Image.open + convert("RGB") and cv2.imread on
// the fixture JPEGs and PNGs: every pixel must match, JPEG included (sharp's mozjpeg decoder and
// the libjpeg-turbo under PIL and OpenCV agree bit for bit). Then EXIF orientation, ICC profiles
// and the errors a bad file gives.
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImage, decodeImageFile } from '../src/cli/decode.ts';
import { CliError } from '../src/cli/files.ts';
import { rgbImage } from '../src/image/image.ts';
import { IMAGES, manifest, pixelDiff, referencePixels } from './image-fixtures.ts';

const REFERENCE = { torchvision: 'PIL', msvision: 'OpenCV' } as const;

describe('decoding matches the reference decoders exactly', () => {
  for (const c of manifest.images) {
    for (const preset of ['torchvision', 'msvision'] as const) {
      it(`${c.file} (${c.what}) as ${REFERENCE[preset]} decodes it`, async () => {
        const ours = await decodeImageFile(join(IMAGES, c.file), preset);
        const ref = await referencePixels(c[preset].decoded);
        expect([ours.width, ours.height]).toEqual([ref.width, ref.height]);
        expect(pixelDiff(ours, ref)).toEqual({ differing: 0, maxDiff: 0 });
      });
    }
  }

  it('the ICC fixture would decode differently if its profile were applied', async () => {
    const file = join(IMAGES, 'rgb_q90_400x300.jpg');
    expect((await sharp(file).metadata()).icc).toBeDefined();
    const { data } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
    const managed = rgbImage(400, 300, new Uint8Array(data));
    expect(pixelDiff(managed, await decodeImageFile(file, 'torchvision')).maxDiff).toBeGreaterThan(20);
  });
});

describe('EXIF orientation: applied for msvision (cv2.imread), ignored for torchvision (PIL)', () => {
  for (const o of manifest.orientations) {
    it(`orientation ${o.orientation}`, async () => {
      const path = join(IMAGES, o.file);
      expect(pixelDiff(await decodeImageFile(path, 'msvision'), await referencePixels(o.cv))).toEqual({ differing: 0, maxDiff: 0 });
      expect(pixelDiff(await decodeImageFile(path, 'torchvision'), await referencePixels(o.pil))).toEqual({ differing: 0, maxDiff: 0 });
    });
  }
});

describe('bad files are one-line CliErrors naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'resnet50-decode-'));
  const jpeg = readFileSync(join(IMAGES, 'rgb_q90_400x300.jpg'));

  it('a missing file', async () => {
    await expect(decodeImageFile(join(dir, 'nope.jpg'), 'torchvision')).rejects.toThrow(/cannot read input .*nope\.jpg: no such file/);
  });

  it('a truncated JPEG, text posing as a PNG, an empty file', async () => {
    const cases: [string, Uint8Array][] = [
      ['cut.jpg', jpeg.subarray(0, jpeg.length >> 1)],
      ['text.png', new TextEncoder().encode('not an image\n')],
      ['empty.png', new Uint8Array(0)],
    ];
    for (const [name, bytes] of cases) {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      const err = await decodeImageFile(path, 'torchvision').catch((e) => e);
      expect(err, name).toBeInstanceOf(CliError);
      expect(err.message, name).toMatch(new RegExp(`${name}: cannot decode image: `));
      expect(err.message, name).not.toContain('\n');
    }
  });

  it('formats other than JPEG and PNG are refused, whatever the file is called', async () => {
    const webp = await sharp(jpeg).webp().toBuffer();
    await expect(decodeImage(webp, 'msvision', 'photo.jpg')).rejects.toThrow(/photo\.jpg: cannot decode image: not a JPEG or PNG file \(found webp\)/);
  });

  it('CMYK JPEGs are refused (PIL and OpenCV convert them to RGB differently; not matched yet)', async () => {
    const cmyk = await sharp(jpeg).toColourspace('cmyk').jpeg().toBuffer();
    await expect(decodeImage(cmyk, 'torchvision', 'print.jpg')).rejects.toThrow(/print\.jpg: cannot decode image: unsupported colour space 'cmyk'/);
  });

  it('content decides the format, not the extension', async () => {
    const jpg = join(IMAGES, 'rgb_progressive_300x450.jpg'); // no ICC profile, so sharp's PNG keeps its pixels
    const png = await sharp(jpg).png().toBuffer();
    const img = await decodeImage(png, 'torchvision', 'really-a-png.jpg');
    expect(pixelDiff(img, await decodeImageFile(jpg, 'torchvision')).differing).toBe(0);
  });
});
