// Reading test/fixtures/images (made by scripts/make_image_fixtures.py): the manifest, the reference
// pixels (8-bit RGB PNGs, read with sharp: any misread would fail the comparisons, never pass them),
// the level → float LUT, and the whole reference tensors (gzipped .npy).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';
import { rgbImage, type RgbImage } from '../src/image/image.ts';
import { npyToTensor, parseNpy } from '../src/tensor/npy.ts';
import { Tensor } from '../src/tensor/tensor.ts';
import { FIXTURES } from './helpers.ts';

export const IMAGES = join(FIXTURES, 'images');

export interface PresetStages {
  decoded: string;
  resized: string;
  crop: [number, number];
  tensor?: string;
}

export interface ImageCase {
  file: string;
  what: string;
  width: number;
  height: number;
  torchvision: PresetStages & { pil_mode: string };
  msvision: PresetStages;
}

export interface Manifest {
  mean: number[];
  std: number[];
  normalize_lut: string;
  images: ImageCase[];
  orientations: { file: string; orientation: number; pil: string; cv: string }[];
}

export const manifest: Manifest = JSON.parse(readFileSync(join(IMAGES, 'manifest.json'), 'utf8'));

/** A reference PNG's pixels. */
export async function referencePixels(file: string, dir = IMAGES): Promise<RgbImage> {
  const { data, info } = await sharp(join(dir, file)).raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`${file}: expected an RGB reference, got ${info.channels} channels`);
  return rgbImage(info.width, info.height, new Uint8Array(data));
}

/** lut[c · 256 + v]: what ToTensor + Normalize make of level v in channel index c (PyTorch, float32). */
export const lut: Float32Array = (() => {
  const path = join(IMAGES, manifest.normalize_lut);
  return npyToTensor(parseNpy(readFileSync(path), path), path).data;
})();

/** The reference tensor of a crop: channel c of the output is table[c][pixel channel order[c]]. */
export function tensorFromLut(img: RgbImage, order: 'rgb' | 'bgr', table: Float32Array = lut): Tensor {
  const hw = img.width * img.height;
  const out = new Float32Array(3 * hw);
  for (let c = 0; c < 3; c++) {
    const src = order === 'rgb' ? c : 2 - c;
    for (let i = 0; i < hw; i++) out[c * hw + i] = table[c * 256 + img.data[i * 3 + src]];
  }
  return new Tensor([3, img.height, img.width], out);
}

export function referenceTensor(file: string): Tensor {
  const path = join(IMAGES, file);
  return npyToTensor(parseNpy(gunzipSync(readFileSync(path)), path), path);
}

/** How two images differ: the number of differing samples and the largest difference. */
export function pixelDiff(a: RgbImage, b: RgbImage): { differing: number; maxDiff: number } {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`sizes differ: ${a.width}×${a.height} vs ${b.width}×${b.height}`);
  let differing = 0;
  let maxDiff = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(a.data[i] - b.data[i]);
    if (d) differing++;
    maxDiff = Math.max(maxDiff, d);
  }
  return { differing, maxDiff };
}
