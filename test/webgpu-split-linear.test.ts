// A linear layer whose packed weights exceed one storage binding (BiT-M's 21,843-class head is 179 MB
// in f32, over lavapipe's 128 MiB) runs as column blocks: groups of whole weight panels, each in its
// own buffer within the limit, one GEMM dispatch per block writing its columns of the one output.
// Checked against the CPU reference at batch 3 with ≥ 3 blocks and a narrower last one: the reduced
// ResNet-50's fc on the engine (the adapter's default kernel, f32 and f16, blocks seen in the
// profile), a bare fc on each GEMM strategy (gemm, gemm_wg; binding and buffer limits), and the
// refusal of a conv too big for one binding. Runs on the adapter nodeGpu() finds (lavapipe here).
import { describe, expect, it } from 'vitest';
import { runCpu } from '../src/kernels/cpu/backend.ts';
import * as ops from '../src/kernels/cpu/ops.ts';
import { createWebGpuEngine, WebGpuRuntime, type Precision } from '../src/kernels/webgpu/engine.ts';
import type { GemmKernel, GemmTile } from '../src/kernels/webgpu/kernels.ts';
import { randomInput, randomLinear, randomResNet } from '../src/nn/random.ts';
import { reducedResNet50 } from '../src/nn/spec.ts';
import { nodeGpu } from '../src/platform/node-gpu.ts';
import { Tensor } from '../src/tensor/tensor.ts';
import { expectClose } from './webgpu-helpers.ts';

const TOL: Record<Precision, number> = { f32: 1e-4, f16: 1e-2 };
const T = 120_000;
const bytesOf = (p: Precision) => (p === 'f16' ? 2 : 4);
const input = (shape: number[], seed: number) => new Tensor(shape, randomInput(shape, seed));
const flat = (t: Tensor) => t.reshape([t.shape[0], t.shape[1]]);

describe('a linear layer larger than one storage binding', () => {
  const model = randomResNet(reducedResNet50(16), 1); // fc: 128 × 1000
  for (const precision of ['f32', 'f16'] as const) {
    it(`runs as column blocks on the engine, ${precision}: ≥ 3 blocks, the last narrower, batch 3`, async () => {
      // Blocks of 384 output features (a whole number of panels for panel widths of 16, 64 and 128
      // columns): 1000 = 384 + 384 + 232. The whole fc takes 128 × 1008+ values, over the limit.
      const limits = { maxStorageBufferBindingSize: 384 * 128 * bytesOf(precision) };
      const engine = await createWebGpuEngine(model, nodeGpu(), { precision, limits, tuning: 'off' });
      try {
        const x = input([3, 3, 64, 64], 5);
        expectClose(flat((await engine.run(x)).logits!), runCpu(model, x).logits!, TOL[precision], `reduced ResNet-50, fc in column blocks (${precision})`);
        const fc = (await engine.profile(x)).filter((s) => s.label.startsWith('fc'));
        expect(fc.map((s) => s.label)).toEqual(['fc: gemm block 1/3', 'fc: gemm block 2/3', 'fc: gemm block 3/3']);
        expect(fc.map((s) => s.shape)).toEqual([
          '3×128 → 3×1000 [0:384] [3×128]·[128×384]',
          '3×128 → 3×1000 [384:768] [3×128]·[128×384]',
          '3×128 → 3×1000 [768:1000] [3×128]·[128×232]',
        ]);
      } finally {
        engine.dispose();
      }
    }, T);
  }

  // Each GEMM strategy's write-out (gemm_io.wgsl) places its block at the block's column offset.
  const strategies: { gemmKernel: GemmKernel; gemm: GemmTile }[] = [
    { gemmKernel: 'gemm', gemm: { tm: 3, tn4: 3, wgX: 4, wgY: 2 } }, // panels of 24 columns
    { gemmKernel: 'gemm_wg', gemm: { tm: 3, tn4: 3, wgX: 4, wgY: 2, bk4: 3 } },
  ];
  for (const precision of ['f32', 'f16'] as const) for (const s of strategies) {
    for (const limit of ['maxStorageBufferBindingSize', 'maxBufferSize'] as const) {
      it(`${s.gemmKernel} ${precision}: a 70 → 125 fc in blocks of 48 columns under ${limit}`, async () => {
        // k4 = 18; 2 panels of 24 columns per block: 48 + 48 + 29 (the last block's last vec4 ragged).
        const rt = await WebGpuRuntime.create(nodeGpu(), precision, { ...s, [limit]: 2 * 4 * 18 * 4 * 6 * bytesOf(precision) });
        try {
          const x = input([3, 70, 1, 1], 7);
          const fc = randomLinear(70, 125, 8);
          const profile: Parameters<WebGpuRuntime['run']>[3] = { profile: [] };
          const y = (await rt.run('fc', x, (b, v) => new Map([['y', b.linear(v, fc)]]), profile)).get('y')!;
          expectClose(y.reshape([3, 125]), ops.linear(new Tensor([3, 70], x.data), fc), TOL[precision], `${s.gemmKernel} ${precision} fc in blocks`);
          expect(profile.profile!.map((t) => t.label).filter((l) => l.startsWith('fc'))).toEqual(
            ['fc: gemm block 1/3', 'fc: gemm block 2/3', 'fc: gemm block 3/3'],
          );
        } finally {
          rt.dispose();
        }
      }, T);
    }
  }

  it('a conv too big for one binding is refused at load, naming it, the sizes and what to do', async () => {
    // layer4's 3×3 convs (32 → 32 channels: 36,864+ bytes in f32) are over 32 KiB; the fc would split.
    await expect(createWebGpuEngine(model, nodeGpu(), { precision: 'f32', limits: { maxStorageBufferBindingSize: 32 * 1024 } })).rejects.toThrow(
      /^layer4\.0\.conv2: its f32 weights take \d+ bytes in one binding, over this adapter's maxStorageBufferBindingSize 32768 \(run it in f16, or on the cpu device\)$/,
    );
  }, T);
});
