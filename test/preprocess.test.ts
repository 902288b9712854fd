// The preprocessing steps against PIL, OpenCV and PyTorch, stage by stage, each fed the reference
// library's own output from the stage before (test/fixtures/images, scripts/make_image_fixtures.py).
// Resizes must match to the last bit; crop + normalise within 1e-6.
import { describe, expect, it } from 'vitest';
import { applyExifOrientation, rgbImage, toRgb, type RgbImage } from '../src/image/image.ts';
import { centerCropOffsets, crop, normalize, preprocess } from '../src/image/preprocess.ts';
import { cvCoefficients, resizeBilinearCv } from '../src/image/resize-cv.ts';
import { pilCoefficients, resizePil, resizeShorterSidePil, shorterSideSize } from '../src/image/resize-pil.ts';
import { errors } from './helpers.ts';
import { manifest, pixelDiff, referencePixels, referenceTensor, tensorFromLut } from './image-fixtures.ts';

const ORDER = { torchvision: 'rgb', msvision: 'bgr' } as const;
/** The presets test/fixtures/images has stages for (clip and bit: test/preprocess-presets.test.ts). */
const FIXTURE_PRESETS = ['torchvision', 'msvision'] as const;

describe('resize, bit-exact on the reference decoders’ pixels', () => {
  for (const c of manifest.images) {
    it(`PIL Resize(256): ${c.file}`, async () => {
      const ours = resizeShorterSidePil(await referencePixels(c.torchvision.decoded), 256);
      const ref = await referencePixels(c.torchvision.resized);
      expect([ours.width, ours.height]).toEqual([ref.width, ref.height]);
      expect(pixelDiff(ours, ref)).toEqual({ differing: 0, maxDiff: 0 });
    });
    it(`cv2.resize 256×256: ${c.file}`, async () => {
      const ours = resizeBilinearCv(await referencePixels(c.msvision.decoded), 256, 256);
      expect(pixelDiff(ours, await referencePixels(c.msvision.resized))).toEqual({ differing: 0, maxDiff: 0 });
    });
  }
});

describe('crop and normalise, within 1e-6 of PyTorch', () => {
  for (const c of manifest.images) {
    for (const preset of FIXTURE_PRESETS) {
      it(`${preset}: ${c.file}`, async () => {
        const resized = await referencePixels(c[preset].resized);
        const offsets = preset === 'torchvision' ? centerCropOffsets(resized.height, resized.width, 224, 224) : [16, 16];
        expect(offsets).toEqual(c[preset].crop);
        const cropped = crop(resized, offsets[0], offsets[1], 224, 224);
        const e = errors(normalize(cropped, ORDER[preset]).data, tensorFromLut(cropped, ORDER[preset]).data);
        expect(e.maxAbs).toBeLessThanOrEqual(1e-6);
        // The whole pipeline from the reference decoder's pixels.
        const whole = preprocess(await referencePixels(c[preset].decoded), preset);
        expect(whole.shape).toEqual([3, 224, 224]);
        expect(errors(whole.data, tensorFromLut(cropped, ORDER[preset]).data).maxAbs).toBeLessThanOrEqual(1e-6);
        if (c[preset].tensor) expect(errors(whole.data, referenceTensor(c[preset].tensor).data).maxAbs).toBeLessThanOrEqual(1e-6);
      });
    }
  }

  it('normalises by channel index: msvision channel 0 is blue with mean 0.485, std 0.229', () => {
    const px = rgbImage(1, 1, Uint8Array.from([255, 128, 0]));
    const bgr = normalize(px, 'bgr').data;
    expect(bgr[0]).toBeCloseTo((0 - 0.485) / 0.229, 6);
    expect(bgr[2]).toBeCloseTo((1 - 0.406) / 0.225, 6);
    expect(normalize(px, 'rgb').data[0]).toBeCloseTo((1 - 0.485) / 0.229, 6);
  });
});

describe('torchvision’s size arithmetic', () => {
  it('Resize(256) truncates the long side: int(256 · long / short)', () => {
    expect(shorterSideSize(301, 199, 256)).toEqual([387, 256]);
    expect(shorterSideSize(300, 450, 256)).toEqual([256, 384]);
    expect(shorterSideSize(333, 500, 256)).toEqual([256, 384]); // 384.38…
    expect(shorterSideSize(500, 500, 256)).toEqual([256, 256]);
  });

  it('CenterCrop offsets round half to even, like Python’s round()', () => {
    expect(centerCropOffsets(256, 387, 224, 224)).toEqual([16, 82]); // 81.5 → 82
    expect(centerCropOffsets(256, 385, 224, 224)).toEqual([16, 80]); // 80.5 → 80
    expect(centerCropOffsets(257, 256, 224, 224)).toEqual([16, 16]); // 16.5 → 16
    expect(centerCropOffsets(259, 256, 224, 224)).toEqual([18, 16]); // 17.5 → 18
  });

  it('crop refuses a window outside the image', () => {
    const img = rgbImage(4, 3, new Uint8Array(36));
    expect(() => crop(img, 1, 1, 3, 3)).toThrow(/does not fit a 4×3 image/);
    expect(crop(img, 1, 1, 2, 3).data.length).toBe(18);
  });
});

describe('resize coefficient tables (what a GPU kernel would upload)', () => {
  it('PIL: weights sum to 2^22 (±rounding), footprint grows with the downscale factor', () => {
    for (const [from, to] of [[400, 256], [1024, 256], [40, 256], [199, 256]]) {
      const c = pilCoefficients(from, to);
      expect(c.taps).toBe(Math.ceil(Math.max(from / to, 1)) * 2 + 1);
      for (let i = 0; i < to; i++) {
        let sum = 0;
        for (let t = 0; t < c.taps; t++) sum += c.weights[i * c.taps + t];
        expect(Math.abs(sum - (1 << 22))).toBeLessThanOrEqual(c.taps);
        expect(c.start[i] + c.count[i]).toBeLessThanOrEqual(from);
      }
    }
  });

  it('OpenCV: two weights summing to 2048, edges clamped', () => {
    const x = cvCoefficients(40, 256, true);
    const y = cvCoefficients(40, 256, false);
    for (let i = 0; i < 256; i++) {
      expect(x.weights[2 * i] + x.weights[2 * i + 1]).toBe(2048);
      expect(y.weights[2 * i] + y.weights[2 * i + 1]).toBe(2048);
    }
    expect([x.first[0], x.second[0], x.weights[0], x.weights[1]]).toEqual([0, 1, 2048, 0]);
    expect([y.first[0], y.second[0]]).toEqual([0, 0]); // row −1 clamps to 0, fractions kept
    expect(y.weights[1]).toBeGreaterThan(0);
  });

  it('same-size resizes are the identity', () => {
    const data = Uint8Array.from({ length: 5 * 4 * 3 }, (_, i) => (i * 37) % 256);
    const img: RgbImage = rgbImage(5, 4, data);
    expect(resizePil(img, 5, 4).data).toEqual(data);
    expect(resizeBilinearCv(img, 5, 4).data).toEqual(data);
  });
});

describe('decoded pixels to RGB', () => {
  it('16-bit grey: PIL clips to 255, OpenCV keeps the high byte; 16-bit colour keeps the high byte', () => {
    const grey = { width: 3, height: 1, channels: 1 as const, data: Uint16Array.from([200, 300, 65535]) };
    expect([...toRgb(grey, 'pil').data]).toEqual([200, 200, 200, 255, 255, 255, 255, 255, 255]);
    expect([...toRgb(grey, 'opencv').data]).toEqual([0, 0, 0, 1, 1, 1, 255, 255, 255]);
    const rgba = { width: 1, height: 1, channels: 4 as const, data: Uint16Array.from([300, 40000, 65535, 0]) };
    expect([...toRgb(rgba, 'pil').data]).toEqual([1, 156, 255]);
  });

  it('alpha is dropped, not composited; grey + alpha is replicated', () => {
    const la = { width: 1, height: 1, channels: 2 as const, data: Uint8Array.from([90, 0]) };
    expect([...toRgb(la, 'pil').data]).toEqual([90, 90, 90]);
    const rgba = { width: 1, height: 1, channels: 4 as const, data: Uint8Array.from([10, 20, 30, 0]) };
    expect([...toRgb(rgba, 'opencv').data]).toEqual([10, 20, 30]);
  });

  it('EXIF orientation 6 turns 90° clockwise; 1 and unknown values leave the image alone', () => {
    // 2 wide, 1 high: pixels A (1,1,1) and B (2,2,2); turned clockwise, A is on top.
    const img = rgbImage(2, 1, Uint8Array.from([1, 1, 1, 2, 2, 2]));
    const turned = applyExifOrientation(img, 6);
    expect([turned.width, turned.height, ...turned.data]).toEqual([1, 2, 1, 1, 1, 2, 2, 2]);
    expect(applyExifOrientation(img, 1)).toBe(img);
    expect(applyExifOrientation(img, 9)).toBe(img);
  });
});
