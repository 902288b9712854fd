// Small photo-like test images made on the fly (seeded, so every run makes the same pixels) for the
// search and image-folder probe tests: a two-colour gradient, soft blobs, a faint texture and noise,
// encoded with sharp. A "kind" biases the colours and the structure, so that even a randomly
// initialised ResNet's features separate kinds.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import sharp from 'sharp';
import { seededRandom } from '../src/nn/random.ts';

export type Kind = 'warm' | 'cool' | 'leafy' | 'any';

const HUES: Record<Kind, [number, number]> = { warm: [-30, 40], cool: [190, 250], leafy: [80, 150], any: [0, 360] };

function hsv(h: number, s: number, v: number): [number, number, number] {
  h = ((h % 360) + 360) % 360;
  const c = v * s;
  const x = c * (1 - Math.abs(((h / 60) % 2) - 1));
  const m = v - c;
  const [r, g, b] = h < 60 ? [c, x, 0] : h < 120 ? [x, c, 0] : h < 180 ? [0, c, x] : h < 240 ? [0, x, c] : h < 300 ? [x, 0, c] : [c, 0, x];
  return [255 * (r + m), 255 * (g + m), 255 * (b + m)];
}

/** RGB pixels [height, width, 3] of a seeded photo-like picture. */
export function photoPixels(seed: number, width: number, height: number, kind: Kind = 'any'): Uint8Array {
  const rand = seededRandom(seed);
  const [h0, h1] = HUES[kind];
  const hue = () => h0 + (h1 - h0) * rand();
  const c0 = hsv(hue(), 0.3 + 0.6 * rand(), 0.3 + 0.7 * rand());
  const c1 = hsv(hue(), 0.3 + 0.6 * rand(), 0.3 + 0.7 * rand());
  const angle = 2 * Math.PI * rand();
  const [dx, dy] = [Math.cos(angle), Math.sin(angle)];
  const blobs = Array.from({ length: 3 + Math.floor(5 * rand()) }, () => ({
    x: width * rand(),
    y: height * rand(),
    r: Math.min(width, height) * (0.08 + 0.3 * rand()),
    c: hsv(hue(), 0.4 + 0.6 * rand(), 0.2 + 0.8 * rand()),
  }));
  // texture: stripes for cool, fine checks for leafy, a slow wave otherwise
  const freq = kind === 'cool' ? 0.15 + 0.1 * rand() : kind === 'leafy' ? 0.35 + 0.2 * rand() : 0.03 + 0.05 * rand();
  const amp = kind === 'warm' || kind === 'any' ? 12 : 40;
  const tAngle = Math.PI * rand();
  const [tx, ty] = [Math.cos(tAngle), Math.sin(tAngle)];
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = Math.min(1, Math.max(0, 0.5 + ((x - width / 2) * dx + (y - height / 2) * dy) / Math.max(width, height)));
      const px = [0, 1, 2].map((k) => c0[k] * (1 - t) + c1[k] * t);
      for (const b of blobs) {
        const w = Math.exp(-((x - b.x) ** 2 + (y - b.y) ** 2) / (2 * b.r * b.r));
        for (let k = 0; k < 3; k++) px[k] = px[k] * (1 - w) + b.c[k] * w;
      }
      const wave = kind === 'leafy' ? Math.sign(Math.sin(freq * x) * Math.sin(freq * y)) : Math.sin(freq * (x * tx + y * ty));
      const noise = 8 * (rand() - 0.5);
      for (let k = 0; k < 3; k++) out[(y * width + x) * 3 + k] = Math.max(0, Math.min(255, Math.round(px[k] + amp * wave + noise)));
    }
  }
  return out;
}

/** Writes a seeded photo-like image as .jpg (quality 90) or .png, by the path's extension. */
export async function writePhoto(path: string, seed: number, kind: Kind = 'any', width = 160, height = 120): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const image = sharp(photoPixels(seed, width, height, kind), { raw: { width, height, channels: 3 } });
  await (path.toLowerCase().endsWith('.png') ? image.png() : image.jpeg({ quality: 90 })).toFile(path);
}

/** A near-duplicate of an image: resized by `scale` and re-encoded as JPEG at `quality`. */
export async function writeVariant(source: string, path: string, scale: number, quality: number): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const meta = await sharp(source).metadata();
  await sharp(source).resize(Math.round(meta.width! * scale), Math.round(meta.height! * scale)).jpeg({ quality }).toFile(path);
}
