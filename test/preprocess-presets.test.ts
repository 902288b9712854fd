// The clip and bit presets against PIL + torchvision (test/fixtures/presets,
// scripts/make_preset_fixtures.py), from the decoded pixels of test/fixtures/images: PIL's bicubic
// and bilinear resizes to the last bit (upscales, a near-identity, a 2.3× downscale, hard edges whose
// bicubic overshoot PIL clips after each pass), the crop offsets, and the final tensors equal to PyTorch's.
import { describe, expect, it } from 'vitest';
import { centerCrop, centerCropOffsets, crop, PIL_PRESETS, preprocess, PRESETS } from '../src/image/preprocess.ts';
import { resizeBilinearCv } from '../src/image/resize-cv.ts';
import { tensorToRgba } from '../src/platform/browser.ts';
import { pilCoefficients, resizeShorterSidePil } from '../src/image/resize-pil.ts';
import { pixelDiff, referencePixels, tensorFromLut } from './image-fixtures.ts';
import { PRESET_FIXTURES, pixelsSha256, presetLut, presetManifest } from './preset-fixtures.ts';

describe('clip and bit presets, as PIL + torchvision compute them', () => {
  for (const preset of ['clip', 'bit'] as const) {
    const p = PIL_PRESETS[preset];
    expect(p.size).toBe(presetManifest.presets[preset].size);
    expect(p.mean).toEqual(presetManifest.presets[preset].mean);
    expect(p.std).toEqual(presetManifest.presets[preset].std);
    const table = presetLut(preset);
    for (const c of presetManifest.images) {
      it(`${preset}: ${c.image} (${c.width}×${c.height} → ${c[preset].width}×${c[preset].height}, ${p.filter})`, async () => {
        const decoded = await referencePixels(c.decoded);
        const resized = resizeShorterSidePil(decoded, p.size, p.filter);
        expect([resized.width, resized.height]).toEqual([c[preset].width, c[preset].height]);
        const stored = c[preset].resized;
        if (stored) expect(pixelDiff(resized, await referencePixels(stored, PRESET_FIXTURES))).toEqual({ differing: 0, maxDiff: 0 });
        expect(pixelsSha256(resized), 'resized pixels differ from PIL’s').toBe(c[preset].sha256);
        const [top, left] = centerCropOffsets(resized.height, resized.width, 224, 224);
        expect([top, left]).toEqual(c[preset].crop);
        const want = tensorFromLut(crop(resized, top, left, 224, 224), 'rgb', table);
        const got = preprocess(decoded, preset);
        expect(got.shape).toEqual([3, 224, 224]);
        expect(Buffer.from(got.data.buffer).equals(Buffer.from(want.data.buffer)), 'tensor differs from PyTorch’s').toBe(true);
      });
    }
  }
});

describe('PIL bicubic coefficients', () => {
  it('weights sum to 2^22 (±rounding), some negative; support 2 scaled by the downscale factor', () => {
    for (const [from, to] of [[400, 224], [1024, 224], [40, 224], [199, 224]]) {
      const c = pilCoefficients(from, to, 'bicubic');
      expect(c.taps).toBe(Math.ceil(2 * Math.max(from / to, 1)) * 2 + 1);
      let negative = 0;
      for (let i = 0; i < to; i++) {
        let sum = 0;
        for (let t = 0; t < c.taps; t++) {
          sum += c.weights[i * c.taps + t];
          if (c.weights[i * c.taps + t] < 0) negative++;
        }
        expect(Math.abs(sum - (1 << 22))).toBeLessThanOrEqual(c.taps);
      }
      expect(negative).toBeGreaterThan(0);
    }
  });
});

describe('tensorToRgba (browser previews) undoes each preset’s normalisation and channel order', () => {
  it.each(PRESETS)('%s', async (preset) => {
    const img = await referencePixels(presetManifest.images[1].decoded);
    const rgba = tensorToRgba(preprocess(img, preset), preset);
    const want = preset === 'msvision'
      ? crop(resizeBilinearCv(img, 256, 256), 16, 16, 224, 224)
      : centerCrop(resizeShorterSidePil(img, PIL_PRESETS[preset].size, PIL_PRESETS[preset].filter), 224);
    let differing = 0;
    for (let i = 0; i < 224 * 224; i++) for (let c = 0; c < 3; c++) if (rgba[4 * i + c] !== want.data[3 * i + c]) differing++;
    expect(differing).toBe(0);
  });
});
