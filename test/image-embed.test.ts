// Images to embeddings end to end, against the official pipelines run in Python
// (scripts/make_image_embedding_fixtures.py): PIL + torchvision transforms for the torchvision preset,
// OpenCV for the msvision preset, then the same reduced ResNet-50 in PyTorch. Through the CLI, on
// both devices. Tolerances from the issue: 1e-3 relative (torchvision), 2e-3 (msvision).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { npyToTensor, parseNpy } from '../src/tensor/npy.ts';
import { cli, expectClose, fixture, FIXTURES } from './helpers.ts';

const IMAGES = join(FIXTURES, 'images');
const { weights, files } = JSON.parse(readFileSync(join(IMAGES, 'embeddings.json'), 'utf8')) as { weights: string; files: string[] };
const dir = mkdtempSync(join(tmpdir(), 'resnet50-image-embed-'));

describe('embed images vs PIL/OpenCV + PyTorch', () => {
  for (const [preset, tol] of [['torchvision', 1e-3], ['msvision', 2e-3]] as const) {
    for (const device of ['cpu', 'webgpu'] as const) {
      it(`${preset} preset on ${device}: ${files.length} JPEG/PNG images within ${tol} relative`, async () => {
        const out = join(dir, `${preset}-${device}.npy`);
        const r = await cli('embed', ...files.map((f) => join(IMAGES, f)), '--weights', join(FIXTURES, weights),
          '--preset', preset, '--device', device, '--batch', '3', '--out', out, '--quiet');
        expect(r.code, r.stderr).toBe(0);
        const ours = npyToTensor(parseNpy(readFileSync(out), out));
        const e = expectClose(ours, fixture(`images/embeddings.${preset}.npy`), tol, `${preset} ${device}`);
        console.log(`${preset} ${device}: max-abs ${e.maxAbs.toExponential(2)} max-rel ${e.maxRel.toExponential(2)}`);
      });
    }
  }
});
