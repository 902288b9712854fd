// 8-bit RGB images, and the two reference libraries' ways of getting one from decoded pixels:
// PIL's Image.open + convert("RGB") (the torchvision recipe) and cv2.imread(IMREAD_COLOR) (the
// Microsoft Vision recipe). Both drop alpha without compositing, replicate grey, and take a palette
// image's colours; they differ on 16-bit greyscale and on EXIF orientation (applyExifOrientation).

/** An 8-bit RGB image, rows top to bottom, pixels interleaved R, G, B. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** Pixels as a decoder hands them over: grey, grey + alpha, RGB or RGBA, 8 or 16 bits, interleaved. */
export interface DecodedPixels {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 2 | 3 | 4;
  readonly data: Uint8Array | Uint16Array;
}

export type RgbConvention = 'pil' | 'opencv';

export function rgbImage(width: number, height: number, data: Uint8Array): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`invalid image size ${width}×${height}`);
  }
  if (data.length !== width * height * 3) {
    throw new Error(`a ${width}×${height} RGB image needs ${width * height * 3} bytes, got ${data.length}`);
  }
  return { width, height, data };
}

/** Round half to even, as Python's round() and OpenCV's cvRound (x86) do. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Decoded pixels as 8-bit RGB. 16-bit samples keep their high byte (both libraries), except 16-bit
 * greyscale under PIL, which opens as 32-bit integer mode "I" and clips to 255 on conversion.
 */
export function toRgb(px: DecodedPixels, convention: RgbConvention): RgbImage {
  const { width, height, channels, data } = px;
  const n = width * height;
  if (data.length !== n * channels) {
    throw new Error(`${width}×${height}×${channels} pixels need ${n * channels} samples, got ${data.length}`);
  }
  const level =
    data instanceof Uint8Array ? (v: number) => v
    : convention === 'pil' && channels === 1 ? (v: number) => Math.min(v, 255)
    : (v: number) => v >> 8;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const s = i * channels;
    if (channels < 3) {
      out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = level(data[s]);
    } else {
      out[i * 3] = level(data[s]);
      out[i * 3 + 1] = level(data[s + 1]);
      out[i * 3 + 2] = level(data[s + 2]);
    }
  }
  return rgbImage(width, height, out);
}

/**
 * The image as displayed under EXIF orientation 1–8 (what cv2.imread does by default; PIL's
 * Image.open leaves it as stored). 2 and 4 mirror, 3 turns 180°, 5 transposes, 6 turns 90°
 * clockwise, 7 transverses, 8 turns 90° counter-clockwise; anything else is left alone.
 */
export function applyExifOrientation(img: RgbImage, orientation: number): RgbImage {
  if (!Number.isInteger(orientation) || orientation < 2 || orientation > 8) return img;
  const { width: w, height: h, data } = img;
  const swap = orientation >= 5;
  const ow = swap ? h : w;
  const oh = swap ? w : h;
  // For each output pixel (x, y), the stored pixel it shows.
  const source: (x: number, y: number) => number = {
    2: (x: number, y: number) => y * w + (w - 1 - x),
    3: (x: number, y: number) => (h - 1 - y) * w + (w - 1 - x),
    4: (x: number, y: number) => (h - 1 - y) * w + x,
    5: (x: number, y: number) => x * w + y,
    6: (x: number, y: number) => (h - 1 - x) * w + y,
    7: (x: number, y: number) => (h - 1 - x) * w + (w - 1 - y),
    8: (x: number, y: number) => x * w + (w - 1 - y),
  }[orientation]!;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const s = source(x, y) * 3;
      const d = (y * ow + x) * 3;
      out[d] = data[s];
      out[d + 1] = data[s + 1];
      out[d + 2] = data[s + 2];
    }
  }
  return rgbImage(ow, oh, out);
}
