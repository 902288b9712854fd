// Our seeded ResNet-50 (randomStateDict(RESNET50, seed)) as a torchvision-layout safetensors file, so
// scripts/export_onnx.py, the TF.js peer and our engine all run the very same weights.
//   npx tsx bench/peers/write-seeded-weights.ts [--seed 1] [--out bench/out/peers/resnet50_seed1.safetensors]
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { randomStateDict } from '../../src/nn/random.ts';
import { RESNET50 } from '../../src/nn/spec.ts';
import { writeSafetensors, type TensorToWrite } from '../../src/weights/safetensors.ts';

/** The seeded state dict as F32 safetensors bytes (no num_batches_tracked: eval mode ignores it). */
export function seededWeightsBytes(seed: number): Uint8Array {
  const archive = randomStateDict(RESNET50, seed);
  const tensors: TensorToWrite[] = [...archive.tensors.values()].map((t) => ({
    name: t.name,
    dtype: 'F32',
    shape: t.shape,
    data: t.toFloat32(),
  }));
  return writeSafetensors(tensors, {
    format: 'pt',
    arch: 'resnet50',
    generator: 'bench/peers/write-seeded-weights.ts (randomStateDict(RESNET50, seed))',
    seed: String(seed),
  });
}

/** Write the file atomically (temporary name, then rename). */
export function writeSeededWeights(path: string, seed: number): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, seededWeightsBytes(seed));
  renameSync(tmp, path);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { seed: { type: 'string', default: '1' }, out: { type: 'string' } } });
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${values.seed}`);
  const out = values.out ?? join(import.meta.dirname, '..', 'out', 'peers', `resnet50_seed${seed}.safetensors`);
  writeSeededWeights(out, seed);
  console.log(out);
}
