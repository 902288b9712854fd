// The workgroup-memory tiled kernels (gemm_wg.wgsl with gemm_a_matrix / gemm_a_im2col: kernels
// gemm_wg and conv_wg) against the CPU reference, on shapes that are not multiples of the tile (M,
// K and N each span several tiles with a ragged last one), at batch 3, in f32 and f16; and a plan
// whose layers run different strategies, chosen per layer by a selector (as a tuned table does).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../src/kernels/cpu/backend.ts';
import * as ops from '../src/kernels/cpu/ops.ts';
import { WebGpuRuntime, type Precision } from '../src/kernels/webgpu/engine.ts';
import { candidates, choiceName, layerKey, type LayerShape } from '../src/kernels/webgpu/candidates.ts';
import { workgroupBytes, type GemmTile } from '../src/kernels/webgpu/kernels.ts';
import { randomFoldedConv, randomInput, randomLinear } from '../src/nn/random.ts';
import { nodeGpu } from '../src/platform/node-gpu.ts';
import { Tensor } from '../src/tensor/tensor.ts';
import { expectClose } from './webgpu-helpers.ts';

const TOL: Record<Precision, number> = { f32: 1e-4, f16: 1e-2 };
const T = 60_000;
const cpu = new CpuBackend();

// Odd tile (3 rows strided by 4 invocations, 3 vec4 columns, K-slabs of 12 k-values) and a GPU-sized one.
const TILES: GemmTile[] = [
  { tm: 3, tn4: 3, wgX: 4, wgY: 2, bk4: 3 },
  { tm: 4, tn4: 1, wgX: 16, wgY: 16, bk4: 4 },
];

for (const precision of ['f32', 'f16'] as const) for (const gemm of TILES) {
  describe(`gemm_wg / conv_wg ${precision}, tile ${JSON.stringify(gemm)}`, () => {
    let rt: WebGpuRuntime;
    beforeAll(async () => {
      rt = await WebGpuRuntime.create(nodeGpu(), precision, { gemmKernel: 'gemm_wg', gemm });
      expect(rt.ctx.config.gemmKernel).toBe('gemm_wg');
    }, T);
    afterAll(() => rt?.dispose());

    // [k, stride, pad, cin, cout, h, w]: 1×1/1 is the plain-matrix A (gemm_wg), the others im2col (conv_wg).
    for (const [k, s, p, cin, cout, h, w] of [
      [1, 1, 0, 13, 150, 11, 9],
      [1, 2, 0, 13, 37, 11, 9],
      [3, 1, 1, 13, 37, 11, 9],
      [3, 2, 1, 21, 70, 9, 13],
      [7, 2, 3, 3, 19, 23, 17],
    ]) {
      it(`conv ${k}×${k}/${s} pad ${p} ${cin}→${cout} @${h}×${w}, batch 3, with residual and ReLU`, async () => {
        const x = new Tensor([3, cin, h, w], randomInput([3, cin, h, w], k * 10 + s));
        const conv = randomFoldedConv(cin, cout, k, s, p, 300 + k);
        const shortcut = randomFoldedConv(cin, cout, 1, s, 0, 400 + k);
        const out = await rt.run(`conv${k}/${s}`, x, (b, v) => {
          const r = b.conv2d(v, shortcut, { relu: false });
          const plain = b.conv2d(v, conv, { relu: false });
          const y = b.conv2d(v, conv, { relu: true, residual: r });
          b.release(r);
          return new Map([['plain', plain], ['y', y]]);
        });
        const want = cpu.conv2d(x, conv, { relu: false });
        expectClose(out.get('plain')!, want, TOL[precision], `${precision} wg conv ${k}/${s}`);
        const r = cpu.conv2d(x, shortcut, { relu: false });
        expectClose(out.get('y')!, cpu.conv2d(x, conv, { relu: true, residual: r }), TOL[precision], `${precision} wg conv ${k}/${s} residual relu`);
      }, T);
    }

    it('fc (plain GEMM, M = batch 3)', async () => {
      const x = new Tensor([3, 70, 1, 1], randomInput([3, 70, 1, 1], 5));
      const fc = randomLinear(70, 45, 6);
      const out = await rt.run('fc', x, (b, v) => new Map([['y', b.linear(v, fc)]]));
      const want = ops.linear(new Tensor([3, 70], x.data), fc);
      expectClose(out.get('y')!.reshape([3, 45]), want, TOL[precision], `${precision} wg fc`);
    }, T);
  });
}

describe('per-layer kernel choice', () => {
  it('a selector runs each layer with its own strategy and tile; the outputs match the CPU reference', async () => {
    const rt = await WebGpuRuntime.create(nodeGpu(), 'f32');
    try {
      const all = candidates(rt.ctx.config, rt.ctx);
      expect(all[0]).toEqual({ gemmKernel: rt.ctx.config.gemmKernel, gemm: rt.ctx.config.gemm }); // the default first
      expect(all.slice(1).every((c) => c.gemmKernel === 'gemm_wg' && workgroupBytes(c.gemm) <= rt.ctx.maxWorkgroupStorage)).toBe(true);
      const asked: string[] = [];
      const wg = all[1];
      const select = (l: LayerShape) => {
        asked.push(layerKey(l));
        return l.k === 3 ? wg : undefined;
      };
      const x = new Tensor([2, 13, 9, 7], randomInput([2, 13, 9, 7], 9));
      const c1 = randomFoldedConv(13, 24, 3, 1, 1, 1);
      const c2 = randomFoldedConv(24, 40, 1, 1, 0, 2);
      const out = await rt.run(`mixed ${choiceName(wg)}`, x, (b, v) => {
        const y1 = b.conv2d(v, c1, { relu: true });
        const y2 = b.conv2d(y1, c2, { relu: false });
        b.release(y1);
        return new Map([['y', y2]]);
      }, { select });
      expect(asked).toEqual(['conv 3×3/1 p1 13→24 @9×7 n2', 'conv 1×1/1 p0 24→40 @9×7 n2']);
      const want = cpu.conv2d(cpu.conv2d(x, c1, { relu: true }), c2, { relu: false });
      expectClose(out.get('y')!, want, TOL.f32, 'mixed per-layer choice');
    } finally {
      rt.dispose();
    }
  }, T);
});
