// Browser helpers: decoding an image file with the browser's own decoder (createImageBitmap + a
// canvas) into the RgbImage the pure-TypeScript preprocessing takes, and drawing a preprocessed
// tensor back as pixels. No Node, no DOM types beyond what lib.dom declares.
//
// Decoding here is NOT bit-exact with PIL / OpenCV: the browser's JPEG decoder (Chromium: libjpeg-turbo
// with its own IDCT and upsampling settings, other browsers differ), colour management (an embedded ICC
// profile may be applied) and EXIF orientation handling can change pixel values by a few levels. The
// preprocessing after decoding (resize, crop, normalize) is the same code as under Node. For
// reference-exact inputs, decode under Node (sharp) or pass a preprocessed tensor.
import type { RgbImage } from '../image/image.ts';
import { presetNormalization, type Preset } from '../image/preprocess.ts';
import type { Tensor } from '../tensor/tensor.ts';

/**
 * Decodes an image (a File, Blob or ImageBitmapSource) to 8-bit RGB. Alpha is dropped without
 * compositing (as PIL's convert('RGB') does); no colour-space conversion and no premultiplication are
 * asked for. `orientation`: 'none' keeps the pixels as stored (PIL: the torchvision, clip and bit presets), 'from-image'
 * applies EXIF orientation (OpenCV, the msvision preset).
 */
export async function decodeImageInBrowser(source: Blob | ImageBitmapSource, orientation: 'none' | 'from-image' = 'none'): Promise<RgbImage> {
  const bitmap = await createImageBitmap(source as ImageBitmapSource, {
    colorSpaceConversion: 'none',
    premultiplyAlpha: 'none',
    imageOrientation: orientation,
  });
  try {
    const { width, height } = bitmap;
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true, colorSpace: 'srgb' } as CanvasRenderingContext2DSettings);
    if (!ctx) throw new Error('no 2d canvas context');
    ctx.drawImage(bitmap, 0, 0);
    return rgbaToRgb(ctx.getImageData(0, 0, width, height).data, width, height);
  } finally {
    bitmap.close();
  }
}

/** RGBA bytes (ImageData.data) to an RgbImage, alpha dropped. */
export function rgbaToRgb(rgba: ArrayLike<number>, width: number, height: number): RgbImage {
  const n = width * height;
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    data[i * 3] = rgba[i * 4];
    data[i * 3 + 1] = rgba[i * 4 + 1];
    data[i * 3 + 2] = rgba[i * 4 + 2];
  }
  return { width, height, data };
}

/**
 * A preprocessed tensor [3, H, W] or [1, 3, H, W] back to RGBA pixels (for ImageData): undoes the
 * normalisation and, for the msvision preset, the BGR channel order.
 */
export function tensorToRgba(t: Tensor, preset: Preset): Uint8ClampedArray<ArrayBuffer> {
  const [c, h, w] = t.shape.slice(-3);
  if (c !== 3) throw new Error(`expected 3 channels, got [${t.shape}]`);
  const hw = h * w;
  const out = new Uint8ClampedArray(new ArrayBuffer(hw * 4));
  const { mean, std } = presetNormalization(preset);
  for (let ch = 0; ch < 3; ch++) {
    const dst = preset === 'msvision' ? 2 - ch : ch; // tensor channel ch holds colour dst
    const m = mean[ch];
    const s = std[ch];
    for (let i = 0; i < hw; i++) out[i * 4 + dst] = Math.round((t.data[ch * hw + i] * s + m) * 255);
  }
  for (let i = 0; i < hw; i++) out[i * 4 + 3] = 255;
  return out;
}
