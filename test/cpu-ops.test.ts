// Every CPU reference op against PyTorch (F.conv2d, F.batch_norm, F.max_pool2d, …) on the fixtures.
import { describe, expect, it } from 'vitest';
import * as ops from '../src/kernels/cpu/ops.ts';
import { gemm } from '../src/kernels/cpu/gemm.ts';
import { foldBatchNorm } from '../src/weights/fold.ts';
import { Tensor } from '../src/tensor/tensor.ts';
import { seededNormal } from '../src/nn/random.ts';
import { errors, expectClose } from './helpers.ts';
import { caseTensors, MANIFEST, type OpCase } from './torch-cases.ts';

/** Our CPU reference's answer to a PyTorch op case. */
function runCase(c: OpCase, t: Record<string, Tensor>): Tensor {
  const convParams = (weight: Tensor) => ({
    outChannels: weight.shape[0],
    kernel: c.kernel!,
    stride: c.stride!,
    padding: c.padding!,
  });
  const bn = () => ({ gamma: t.gamma.data, beta: t.beta.data, mean: t.mean.data, variance: t.var.data });
  switch (c.op) {
    case 'conv2d':
      return ops.conv2d(t.x, t.weight.data, t.bias?.data ?? null, convParams(t.weight));
    case 'batchnorm':
      return ops.batchNorm(t.x, { ...bn(), eps: c.eps! });
    case 'relu':
      return ops.relu(t.x);
    case 'add':
      return ops.add(t.a, t.b);
    case 'maxpool':
      return ops.maxPool2d(t.x);
    case 'global_avg_pool':
      return ops.globalAvgPool(t.x);
    case 'linear':
      return ops.linear(t.x, {
        inFeatures: t.weight.shape[1],
        outFeatures: t.weight.shape[0],
        weight: t.weight.data,
        bias: t.bias.data,
      });
    case 'conv_bn': {
      // BatchNorm folded into the conv at load time must equal conv then BN.
      const folded = foldBatchNorm(t.weight.data, bn(), c.eps!);
      return ops.conv2d(t.x, folded.weight, folded.bias, convParams(t.weight));
    }
  }
}

describe('CPU reference vs PyTorch', () => {
  it('covers every op ResNet-50 uses', () => {
    const opsSeen = new Set(MANIFEST.ops.map((c) => c.op));
    for (const op of ['conv2d', 'batchnorm', 'relu', 'add', 'maxpool', 'global_avg_pool', 'linear', 'conv_bn']) {
      expect(opsSeen).toContain(op);
    }
  });
  for (const c of MANIFEST.ops) {
    it(`${c.name}`, () => {
      const t = caseTensors(c);
      // f32 sums over up to 245 terms in a different order than PyTorch: errors of a few ulps.
      const e = expectClose(runCase(c, t), t.y, 1e-5, c.name);
      console.log(`${c.name}: max-abs ${e.maxAbs.toExponential(2)} max-rel ${e.maxRel.toExponential(2)}`);
    });
  }

  it('folded BN equals unfolded conv → BN on the same input', () => {
    const c = MANIFEST.ops.find((o) => o.op === 'conv_bn')!;
    const t = caseTensors(c);
    const params = { outChannels: t.weight.shape[0], kernel: c.kernel!, stride: c.stride!, padding: c.padding! };
    const bn = { gamma: t.gamma.data, beta: t.beta.data, mean: t.mean.data, variance: t.var.data };
    const unfolded = ops.batchNorm(ops.conv2d(t.x, t.weight.data, null, params), { ...bn, eps: 1e-5 });
    const folded = foldBatchNorm(t.weight.data, bn);
    expectClose(ops.conv2d(t.x, folded.weight, folded.bias, params), unfolded, 1e-5, 'folded vs unfolded');
  });
});

describe('gemm', () => {
  // Sizes straddle the 4-row micro-kernel and the 256-column / 128-depth blocks.
  for (const [m, n, k] of [[1, 1, 1], [5, 3, 7], [9, 300, 130], [67, 257, 129], [4, 512, 256]]) {
    it(`${m}×${k} · ${k}×${n} matches the naive triple loop`, () => {
      const normal = seededNormal(m * 1000 + n * 10 + k);
      const a = Float32Array.from({ length: m * k }, normal);
      const b = Float32Array.from({ length: k * n }, normal);
      const c = new Float32Array(m * n);
      gemm(m, n, k, a, b, c);
      const naive = new Float64Array(m * n);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) naive[i * n + j] += a[i * k + p] * b[p * n + j];
      expect(errors(c, naive).maxRel).toBeLessThan(1e-5);
      gemm(m, n, k, a, b, c, true); // accumulate: C += A·B
      expect(errors(c, naive.map((v) => 2 * v)).maxRel).toBeLessThan(1e-5);
    });
  }
});
