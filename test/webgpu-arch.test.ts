// CLIP RN50's and BiT R50x1's WebGPU kernels (GroupNorm + ReLU, 2×2 average pool, zero-padded max
// pool, attention tokens, attention pooling) against their CPU reference ops (src/kernels/cpu/ops.ts)
// on shapes that are not multiples of any tile, at batch > 1, in f32 and f16; then both fixture models
// (test/fixtures/arch, PyTorch stand-ins made by scripts/make_arch_fixtures.py) on the WebGPU executor
// against PyTorch's outputs. Runs on the adapter nodeGpu() finds (lavapipe here); fails when there is none.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ops from '../src/kernels/cpu/ops.ts';
import { createWebGpuEngine, WebGpuRuntime, type Precision, type Sym } from '../src/kernels/webgpu/engine.ts';
import type { Backend } from '../src/nn/backend.ts';
import type { AttentionTokens, GroupNorm } from '../src/nn/network.ts';
import { randomInput, randomLinear } from '../src/nn/random.ts';
import { nodeGpu } from '../src/platform/node-gpu.ts';
import { Tensor } from '../src/tensor/tensor.ts';
import { loadWeights } from '../src/weights/load.ts';
import { fixture, FIXTURES } from './helpers.ts';
import { errorLog, expectClose } from './webgpu-helpers.ts';

const TOL: Record<Precision, number> = { f32: 1e-4, f16: 1e-2 };
const T = 120_000;

afterAll(() => {
  console.log(`WebGPU CLIP/BiT kernels and models vs reference:\n  ${errorLog.join('\n  ')}`);
});

const input = (shape: number[], seed: number) => new Tensor(shape, randomInput(shape, seed));

function groupNorm(channels: number, groups: number, seed: number): GroupNorm {
  const gamma = randomInput([channels], seed).map((v) => 1 + v);
  return { name: `gn ${channels}/${groups}`, channels, groups, eps: 1e-5, gamma, beta: randomInput([channels], seed + 1) };
}

type Program = (b: Backend<Sym>, x: Sym) => Sym;
async function gpu(rt: WebGpuRuntime, key: string, x: Tensor, program: Program): Promise<Tensor> {
  return (await rt.run(key, x, (b, v) => new Map([['y', program(b, v)]]))).get('y')!;
}
const flat = (t: Tensor) => t.reshape([t.shape[0], t.shape[1]]);

for (const precision of ['f32', 'f16'] as const) {
  describe(`WebGPU CLIP/BiT kernels, ${precision}`, () => {
    let rt: WebGpuRuntime;
    beforeAll(async () => {
      rt = await WebGpuRuntime.create(nodeGpu(), precision);
    }, T);
    afterAll(() => rt?.dispose());
    const tol = TOL[precision];

    it('groupnorm_stats + groupnorm_apply (± ReLU) match ops.groupNorm', async () => {
      // 5 and 2 channels per group: groups straddle the vec4s.
      for (const [n, c, groups, h, w] of [[3, 40, 8, 5, 7], [2, 6, 3, 9, 3]]) {
        const x = input([n, c, h, w], c + h);
        // An offset and a scale per channel, so the statistics are not those of N(0, 1).
        x.data.forEach((v, i) => (x.data[i] = 3 + 2 * v * (1 + (Math.floor(i / (h * w)) % c) / c)));
        const gn = groupNorm(c, groups, c);
        for (const relu of [false, true]) {
          const y = await gpu(rt, `gn ${n} ${c} ${groups} ${relu}`, x, (b, v) => b.groupNorm(v, gn, { relu }));
          expectClose(y, ops.groupNorm(x, gn, relu), tol, `${precision} groupNorm [${n}, ${c}, ${h}, ${w}] ${groups} groups relu=${relu}`);
        }
      }
    }, T);

    it('avgpool 2×2/2 matches ops.avgPool2d (odd sides: the last row and column dropped)', async () => {
      const x = input([3, 6, 9, 7], 3);
      const y = await gpu(rt, 'avgpool2', x, (b, v) => b.avgPool(v, 2));
      expectClose(y, ops.avgPool2d(x, 2), tol, `${precision} avgPool 2×2 [3, 6, 9, 7]`);
    }, T);

    it('maxpool with zero padding matches ops.maxPool2d(x, true), and differs from −∞ padding', async () => {
      const x = input([3, 6, 9, 7], 4);
      x.data.forEach((v, i) => (x.data[i] = v - 0.8)); // mostly negative: the zero padding wins at the edges
      const y = await gpu(rt, 'maxpool0', x, (b, v) => b.maxPool(v, { zeroPadding: true }));
      const want = ops.maxPool2d(x, true);
      expectClose(y, want, precision === 'f32' ? 0 : 1e-3, `${precision} maxPool zero padding [3, 6, 9, 7]`);
      expect(ops.maxPool2d(x).data.some((v, i) => v !== want.data[i])).toBe(true);
    }, T);

    it('attention_tokens (mean token + positional) and attention (3 heads of 5 over 10 tokens) match ops', async () => {
      const [n, c, grid] = [2, 15, 3];
      const l = 1 + grid * grid;
      const tokens: AttentionTokens = { name: 'attnpool', channels: c, grid, positional: randomInput([l * c], 7) };
      const x = input([n, c, grid, grid], 8);
      const t = await gpu(rt, 'tokens', x, (b, v) => b.attentionTokens(v, b.globalAvgPool(v), tokens));
      const wantTokens = ops.attentionTokens(x, ops.globalAvgPool(x), tokens);
      expectClose(t, wantTokens, tol, `${precision} attentionTokens [${n}, ${c}, ${grid}, ${grid}]`);

      // q from the keys' mean through a linear (the program has one input); kv the input itself.
      const kv = input([n, 2 * c, l, 1], 9);
      kv.data.forEach((v, i) => (kv.data[i] = 3 * v));
      const fc = randomLinear(2 * c, c, 10);
      const y = await gpu(rt, 'attention', kv, (b, v) => b.attention(b.linear(b.globalAvgPool(v), fc), v, 3));
      const q = ops.linear(ops.globalAvgPool(kv), fc);
      expectClose(flat(y), ops.attention(q, kv, 3), tol, `${precision} attention ${n}×${l} tokens, 3 heads of 5`);
    }, T);
  });
}

const DIR = join(FIXTURES, 'arch');
const bytes = (name: string) => new Uint8Array(readFileSync(join(DIR, name)));

for (const precision of ['f32', 'f16'] as const) {
  describe(`CLIP RN50 and BiT R50x1 fixtures on WebGPU ${precision}`, () => {
    const tol = TOL[precision];
    it('CLIP RN50 (TorchScript stand-in) matches encode_image at batch 2', async () => {
      const net = loadWeights(bytes('clip_rn50_div16.pt'), 'clip.pt', { onNotice: () => {} });
      const engine = await createWebGpuEngine(net, nodeGpu(), { precision, tuning: 'off' });
      try {
        const x = fixture('arch/clip_rn50_div16.input.npy');
        expect(x.shape[0]).toBeGreaterThan(1);
        const out = await engine.run(x);
        console.log(`CLIP webgpu ${precision}`,
          expectClose(out.features, fixture('arch/clip_rn50_div16.embedding.npy'), tol, `${precision} CLIP embedding`));
      } finally {
        engine.dispose();
      }
    }, T);

    it('BiT R50x1 (.npz stand-in) matches the pre-logits and logits at batch 2', async () => {
      const net = loadWeights(bytes('bit_r50x1_div16.npz'), 'bit.npz');
      const engine = await createWebGpuEngine(net, nodeGpu(), { precision, tuning: 'off' });
      try {
        const out = await engine.run(fixture('arch/bit_r50x1_div16.input.npy'));
        console.log(`BiT webgpu ${precision}`,
          expectClose(out.features, fixture('arch/bit_r50x1_div16.features.npy'), tol, `${precision} BiT features`),
          expectClose(out.logits!, fixture('arch/bit_r50x1_div16.logits.npy'), tol, `${precision} BiT logits`));
      } finally {
        engine.dispose();
      }
    }, T);
  });
}

