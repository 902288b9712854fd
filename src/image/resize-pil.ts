// PIL's resize (Image.resize(size, BILINEAR | BICUBIC), what torchvision's Resize does to a PIL
// image), reproduced to the last bit. A filter whose support grows with the downscale factor
// (antialiasing), applied separably: a horizontal pass, 8-bit rounding, a vertical pass. Bilinear is
// the triangle (support 1); bicubic Keys' cubic convolution with a = −0.5 (support 2), whose negative
// lobes can take a sum below 0 or above 255: the clip after each pass is part of the result.
// Weights are computed in double precision exactly as Pillow's Resample.c does, then fixed to 22
// fractional bits; each output is (2^21 + Σ pixel·weight) >> 22, clipped to 0–255.
import { rgbImage, type RgbImage } from './image.ts';

const PRECISION_BITS = 22;

/** One axis of a resize: output i reads `count[i]` inputs from `start[i]` with `weights[i·taps …]`. */
export interface PilAxisCoefficients {
  /** Weights per output (the largest filter footprint); unused ones are 0. */
  readonly taps: number;
  readonly start: Int32Array;
  readonly count: Int32Array;
  /** outSize × taps fixed-point weights, 22 fractional bits. */
  readonly weights: Int32Array;
}

export type PilFilter = 'bilinear' | 'bicubic';

/** Pillow's filters (Resample.c): the kernel and its support at scale 1. */
const FILTERS: Record<PilFilter, { support: number; kernel: (x: number) => number }> = {
  bilinear: {
    support: 1,
    kernel: (x) => {
      const a = Math.abs(x);
      return a < 1 ? 1 - a : 0;
    },
  },
  bicubic: {
    support: 2,
    kernel: (x) => {
      const a = -0.5;
      const t = Math.abs(x);
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
  },
};

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for `filter` over the whole axis. */
export function pilCoefficients(inSize: number, outSize: number, filter: PilFilter = 'bilinear'): PilAxisCoefficients {
  const f = FILTERS[filter];
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = f.support * filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * taps);
  const k = new Float64Array(taps);
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const ss = 1 / filterScale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const n = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let sum = 0;
    for (let x = 0; x < n; x++) {
      k[x] = f.kernel((x + xmin - center + 0.5) * ss);
      sum += k[x];
    }
    for (let x = 0; x < n; x++) {
      const w = sum !== 0 ? k[x] / sum : k[x];
      weights[i * taps + x] = Math.trunc(w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS));
    }
    start[i] = xmin;
    count[i] = n;
  }
  return { taps, start, count, weights };
}

const clip8 = (acc: number) => Math.min(Math.max(acc >> PRECISION_BITS, 0), 255);

/**
 * One pass along an axis of a 3-channel image. `stride` is the step between the samples filtered
 * together (3 along a row, 3·width along a column); `lines`/`lineStride` walk the other axis.
 */
function pass(
  src: Uint8Array, dst: Uint8Array, c: PilAxisCoefficients, outSize: number,
  stride: number, lines: number, srcLineStride: number, dstLineStride: number, dstStride: number,
): void {
  const half = 1 << (PRECISION_BITS - 1);
  for (let line = 0; line < lines; line++) {
    for (let i = 0; i < outSize; i++) {
      const base = line * srcLineStride + c.start[i] * stride;
      const w0 = i * c.taps;
      let r = half, g = half, b = half;
      for (let t = 0; t < c.count[i]; t++) {
        const s = base + t * stride;
        const w = c.weights[w0 + t];
        r += src[s] * w;
        g += src[s + 1] * w;
        b += src[s + 2] * w;
      }
      const d = line * dstLineStride + i * dstStride;
      dst[d] = clip8(r);
      dst[d + 1] = clip8(g);
      dst[d + 2] = clip8(b);
    }
  }
}

/** PIL's `image.resize((width, height), Image.BILINEAR)` (or BICUBIC) on an RGB image. */
export function resizePil(img: RgbImage, width: number, height: number, filter: PilFilter = 'bilinear'): RgbImage {
  let cur = img;
  if (width !== cur.width) {
    const out = new Uint8Array(width * cur.height * 3);
    pass(cur.data, out, pilCoefficients(cur.width, width, filter), width, 3, cur.height, cur.width * 3, width * 3, 3);
    cur = rgbImage(width, cur.height, out);
  }
  if (height !== cur.height) {
    const out = new Uint8Array(width * height * 3);
    const rowStride = width * 3;
    pass(cur.data, out, pilCoefficients(cur.height, height, filter), height, rowStride, width, 3, 3, rowStride);
    cur = rgbImage(width, height, out);
  }
  return cur;
}

/**
 * torchvision's Resize(size) output size: the shorter side becomes `size`, the longer
 * int(size · long / short) (truncated, as Python's int() does). Returns [width, height].
 */
export function shorterSideSize(width: number, height: number, size: number): [number, number] {
  if (width <= height) return [size, Math.trunc((size * height) / width)];
  return [Math.trunc((size * width) / height), size];
}

/** torchvision's `Resize(size, interpolation)` on a PIL RGB image. */
export function resizeShorterSidePil(img: RgbImage, size: number, filter: PilFilter = 'bilinear'): RgbImage {
  const [w, h] = shorterSideSize(img.width, img.height, size);
  return resizePil(img, w, h, filter);
}
