// The per-op PyTorch fixtures (test/fixtures/manifest.json, made by scripts/make_fixtures.py) and
// one helper that runs a case through an implementation of the ops and compares with PyTorch.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../src/tensor/tensor.ts';
import { FIXTURES, fixture } from './helpers.ts';

export interface OpCase {
  name: string;
  op: 'conv2d' | 'batchnorm' | 'relu' | 'add' | 'maxpool' | 'global_avg_pool' | 'linear' | 'conv_bn';
  kernel?: number;
  stride?: number;
  padding?: number;
  eps?: number;
  files: Record<string, string>;
}

export const MANIFEST = JSON.parse(readFileSync(join(FIXTURES, 'manifest.json'), 'utf8')) as {
  ops: OpCase[];
};

/** A case's tensors by role (x, weight, bias, y, …). */
export function caseTensors(c: OpCase): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(c.files).map(([role, file]) => [role, fixture(file)]));
}
