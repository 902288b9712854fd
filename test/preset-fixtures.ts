// Reading test/fixtures/presets (made by scripts/make_preset_fixtures.py): the clip and bit presets
// run by PIL + torchvision on decoded images of test/fixtures/images. Per image and preset: the
// resized size, the SHA-256 of the resized 8-bit pixels, the crop offsets; per preset the level →
// float LUT of ToTensor + Normalize.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RgbImage } from '../src/image/image.ts';
import { npyToTensor, parseNpy } from '../src/tensor/npy.ts';
import { FIXTURES } from './helpers.ts';

export const PRESET_FIXTURES = join(FIXTURES, 'presets');

export interface PresetStage {
  width: number;
  height: number;
  /** SHA-256 of PIL's resized RGB bytes. */
  sha256: string;
  crop: [number, number];
  /** The resized image as a PNG (for one image). */
  resized?: string;
}

export interface PresetCase {
  image: string;
  /** A decoded PNG in test/fixtures/images. */
  decoded: string;
  width: number;
  height: number;
  clip: PresetStage;
  bit: PresetStage;
}

interface PresetManifest {
  presets: Record<'clip' | 'bit', { lut: string; size: number; mean: number[]; std: number[] }>;
  images: PresetCase[];
}

export const presetManifest: PresetManifest = JSON.parse(readFileSync(join(PRESET_FIXTURES, 'manifest.json'), 'utf8'));

/** lut[c · 256 + v] of a preset: PyTorch's ToTensor + Normalize of level v in channel c. */
export function presetLut(preset: 'clip' | 'bit'): Float32Array {
  const path = join(PRESET_FIXTURES, presetManifest.presets[preset].lut);
  return npyToTensor(parseNpy(readFileSync(path), path), path).data;
}

export const pixelsSha256 = (img: RgbImage): string => createHash('sha256').update(img.data).digest('hex');
