// OpenCV's cv2.resize(img, (width, height)) with the default INTER_LINEAR on 8-bit images,
// reproduced to the last bit (OpenCV 4.x, x86 build). Half-pixel centres, no antialiasing: each
// output reads 2×2 inputs. Weights are float32 fractions scaled to 11 fractional bits and rounded
// half to even; the horizontal pass keeps exact integer sums (up to 255·2^11), the vertical pass
// combines two rows as ((b0·(S0 >> 4)) >> 16) + ((b1·(S1 >> 4)) >> 16), then (· + 2) >> 2.
// Columns past an edge repeat the edge pixel with weight 2048; rows past an edge are clamped to the
// edge row but keep their fractional weights (so the vertical rounding differs there, as in OpenCV).
// An exact 2× downscale takes OpenCV's INTER_AREA shortcut, whose result these formulas equal.
import { rgbImage, roundHalfEven, type RgbImage } from './image.ts';

const COEF_SCALE = 2048;

/** One axis: output i blends input `first[i]` (weight w[2i]) and `second[i]` (weight w[2i + 1]). */
export interface CvAxisCoefficients {
  readonly first: Int32Array;
  readonly second: Int32Array;
  /** 2 per output, 11 fractional bits. */
  readonly weights: Int16Array;
}

/**
 * OpenCV's per-axis tables. `clampEdges`: the horizontal axis zeroes the fraction at the edges;
 * the vertical axis only clamps the row index.
 */
export function cvCoefficients(inSize: number, outSize: number, clampEdges: boolean): CvAxisCoefficients {
  const scale = 1 / (outSize / inSize); // OpenCV inverts inv_scale = dsize / ssize
  const first = new Int32Array(outSize);
  const second = new Int32Array(outSize);
  const weights = new Int16Array(outSize * 2);
  for (let i = 0; i < outSize; i++) {
    let f = Math.fround((i + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    f = Math.fround(f - s);
    if (clampEdges && (s < 0 || s >= inSize - 1)) {
      s = s < 0 ? 0 : inSize - 1;
      f = 0;
    }
    first[i] = Math.min(Math.max(s, 0), inSize - 1);
    second[i] = Math.min(Math.max(s + 1, 0), inSize - 1);
    // saturate_cast<short> rounds as cvRound does: half to even (x86's default mode).
    weights[2 * i] = roundHalfEven(Math.fround(1 - f) * COEF_SCALE);
    weights[2 * i + 1] = roundHalfEven(f * COEF_SCALE);
  }
  return { first, second, weights };
}

/** `cv2.resize(img, (width, height))` (INTER_LINEAR) on a 3-channel 8-bit image. */
export function resizeBilinearCv(img: RgbImage, width: number, height: number): RgbImage {
  if (width === img.width && height === img.height) return rgbImage(width, height, img.data.slice());
  const { width: w, data } = img;
  const cx = cvCoefficients(w, width, true);
  const cy = cvCoefficients(img.height, height, false);
  const rowLen = width * 3;
  // Horizontal pass over every source row (exact integers, up to 255 · 2048).
  const rows = new Int32Array(img.height * rowLen);
  for (let y = 0; y < img.height; y++) {
    const src = y * w * 3;
    for (let x = 0; x < width; x++) {
      const a = src + cx.first[x] * 3;
      const b = src + cx.second[x] * 3;
      const w0 = cx.weights[2 * x];
      const w1 = cx.weights[2 * x + 1];
      const d = y * rowLen + x * 3;
      rows[d] = data[a] * w0 + data[b] * w1;
      rows[d + 1] = data[a + 1] * w0 + data[b + 1] * w1;
      rows[d + 2] = data[a + 2] * w0 + data[b + 2] * w1;
    }
  }
  // Vertical pass with OpenCV's 8-bit rounding.
  const out = new Uint8Array(height * rowLen);
  for (let y = 0; y < height; y++) {
    const r0 = cy.first[y] * rowLen;
    const r1 = cy.second[y] * rowLen;
    const b0 = cy.weights[2 * y];
    const b1 = cy.weights[2 * y + 1];
    for (let i = 0; i < rowLen; i++) {
      out[y * rowLen + i] = (((b0 * (rows[r0 + i] >> 4)) >> 16) + ((b1 * (rows[r1 + i] >> 4)) >> 16) + 2) >> 2;
    }
  }
  return rgbImage(width, height, out);
}
