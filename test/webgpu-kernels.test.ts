// Every WebGPU kernel against the CPU reference (src/kernels/cpu/ops.ts), through the real recorder and
// plan machinery, on shapes that are not multiples of the tile sizes (odd spatial sizes, channel
// counts not multiples of 4), at batch 1 and 3, in f32 and f16. Runs on the adapter nodeGpu() finds
// (lavapipe here) and fails when there is none.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ops from '../src/kernels/cpu/ops.ts';
import { CpuBackend } from '../src/kernels/cpu/backend.ts';
import { GpuError, WebGpuRuntime, type LimitOverrides, type Precision, type Sym } from '../src/kernels/webgpu/engine.ts';
import { GpuContext } from '../src/kernels/webgpu/device.ts';
import { chooseConfig, foldGroups, kernelSource } from '../src/kernels/webgpu/kernels.ts';
import { f16BitsToF32, f32ToF16Bits } from '../src/tensor/tensor.ts';
import type { Backend } from '../src/nn/backend.ts';
import type { FoldedConv } from '../src/nn/model.ts';
import { randomInput } from '../src/nn/random.ts';
import { nodeGpu } from '../src/platform/node-gpu.ts';
import { Tensor } from '../src/tensor/tensor.ts';
import { errorLog, expectClose } from './webgpu-helpers.ts';
import { randomFoldedConv as randomConv, randomLinear } from '../src/nn/random.ts';

const TOL: Record<Precision, number> = { f32: 1e-4, f16: 1e-2 };

afterAll(() => {
  console.log(`WebGPU kernels vs CPU reference:\n  ${errorLog.join('\n  ')}`);
});
const T = 60_000;

function input(shape: number[], seed: number): Tensor {
  return new Tensor(shape, randomInput(shape, seed));
}

/** A conv with its fused epilogue on the CPU reference backend. */
const cpuConv = (x: Tensor, c: FoldedConv, relu: boolean, residual?: Tensor): Tensor => new CpuBackend().conv2d(x, c, { relu, residual });

type Program = (b: Backend<Sym>, x: Sym) => Sym;
async function gpu(rt: WebGpuRuntime, key: string, x: Tensor, program: Program): Promise<Tensor> {
  const out = await rt.run(key, x, (b, v) => new Map([['y', program(b, v)]]));
  return out.get('y')!;
}

// Every (kernel, stride, padding) ResNet-50 uses.
const CONVS: [number, number, number][] = [[1, 1, 0], [1, 2, 0], [3, 1, 1], [3, 2, 1], [7, 2, 3]];

// The adapter's default configuration (gemm_sg + implicit-GEMM convs on lavapipe), the explicit
// im2col reference path, and the portable GEMM kernel forced, with each conv path. Odd tiles (TM 3,
// TN4 6 / 3) check that nothing assumes the shapes are multiples of the tile.
const portable = { gemmKernel: 'gemm', gemm: { tm: 8, tn4: 2, wgX: 8, wgY: 8 } } as const;
const VARIANTS: { name: string; limits: LimitOverrides }[] = [
  { name: 'default GEMM', limits: {} },
  { name: 'explicit im2col reference', limits: { conv: 'im2col' } },
  { name: 'subgroup GEMM, odd tile', limits: { gemmKernel: 'gemm_sg', gemm: { tm: 3, tn4: 6, wgX: 8, wgY: 1 } } },
  { name: 'portable gemm kernel', limits: { ...portable, conv: 'implicit' } },
  { name: 'portable gemm kernel, im2col', limits: { ...portable, conv: 'im2col' } },
  { name: 'portable gemm kernel, odd tile', limits: { gemmKernel: 'gemm', gemm: { tm: 3, tn4: 3, wgX: 4, wgY: 2 } } },
];

for (const precision of ['f32', 'f16'] as const) for (const variant of VARIANTS) {
  describe(`WebGPU kernels, ${precision}, ${variant.name}`, () => {
    let rt: WebGpuRuntime;
    beforeAll(async () => {
      rt = await WebGpuRuntime.create(nodeGpu(), precision, variant.limits);
      console.log(`${precision} ${variant.name}: ${rt.ctx.config.gemmKernel} ${JSON.stringify(rt.ctx.config.gemm)} ${rt.ctx.config.conv}`);
    }, T);
    afterAll(() => rt?.dispose());
    const tol = TOL[precision];

    it('nchw_to_nhwc: the input layout change round-trips', async () => {
      for (const shape of [[1, 3, 5, 7], [3, 6, 4, 9]]) {
        const x = input(shape, 1);
        const y = await gpu(rt, `identity ${shape}`, x, (_b, v) => v);
        // f32 exactly; f16 within half-precision rounding.
        expectClose(y, x, precision === 'f32' ? 0 : 1e-3, `${precision} nchw_to_nhwc ${shape}`);
      }
    }, T);

    for (const [k, s, p] of CONVS) {
      for (const n of [1, 3]) {
        it(`conv ${k}×${k} stride ${s} pad ${p}, batch ${n}: plain, +ReLU, +residual+ReLU`, async () => {
          const [cin, cout, h, w] = k === 7 ? [3, 19, 23, 17] : [13, 37, 11, 9];
          const x = input([n, cin, h, w], 10 + k + s);
          const conv = randomConv(cin, cout, k, s, p, 100 + k * 10 + s);
          const shortcut = randomConv(cin, cout, 1, s, 0, 200 + k * 10 + s);
          const key = `conv${k}s${s}`;
          const plain = await gpu(rt, `${key} plain`, x, (b, v) => b.conv2d(v, conv, { relu: false }));
          expectClose(plain, cpuConv(x, conv, false), tol, `${precision} ${rt.ctx.config.gemmKernel} ${rt.ctx.config.conv} ${key} n${n}`);
          const relu = await gpu(rt, `${key} relu`, x, (b, v) => b.conv2d(v, conv, { relu: true }));
          expectClose(relu, cpuConv(x, conv, true), tol, `${precision} ${key} n${n} relu`);
          const res = await gpu(rt, `${key} residual`, x, (b, v) => {
            const r = b.conv2d(v, shortcut, { relu: false });
            const y = b.conv2d(v, conv, { relu: true, residual: r });
            b.release(r);
            return y;
          });
          const cpuR = cpuConv(x, shortcut, false);
          expectClose(res, cpuConv(x, conv, true, cpuR), tol, `${precision} ${key} n${n} residual relu`);
          const resNoRelu = await gpu(rt, `${key} residual norelu`, x, (b, v) => {
            const r = b.conv2d(v, shortcut, { relu: false });
            const y = b.conv2d(v, conv, { relu: false, residual: r });
            b.release(r);
            return y;
          });
          expectClose(resNoRelu, cpuConv(x, conv, false, cpuR), tol, `${precision} ${key} n${n} residual`);
          // A residual that stays live (not released right after) is read from its own buffer, not
          // overwritten in place.
          const kept = await rt.run(`${key} residual kept`, x, (b, v) => {
            const r = b.conv2d(v, shortcut, { relu: false });
            return new Map([['y', b.conv2d(v, conv, { relu: true, residual: r })], ['r', r]]);
          });
          expectClose(kept.get('y')!, cpuConv(x, conv, true, cpuR), tol, `${precision} ${key} n${n} residual kept`);
          expectClose(kept.get('r')!, cpuR, tol, `${precision} ${key} n${n} residual kept, r intact`);
        }, T);
      }
    }

    it('max pool 3×3/2 pad 1 (odd and even sizes, negative inputs: padding never wins)', async () => {
      for (const shape of [[1, 5, 9, 7], [3, 8, 10, 13], [2, 3, 1, 2]]) {
        const x = input(shape, 3);
        const y = await gpu(rt, `maxpool ${shape}`, x, (b, v) => b.maxPool(v));
        expectClose(y, ops.maxPool2d(x), precision === 'f32' ? 0 : 1e-3, `${precision} maxpool ${shape}`);
      }
    }, T);

    it('global average pool', async () => {
      for (const shape of [[1, 7, 5, 3], [3, 37, 7, 7]]) {
        const x = input(shape, 4);
        const y = await gpu(rt, `avgpool ${shape}`, x, (b, v) => b.globalAvgPool(v));
        const want = ops.globalAvgPool(x);
        expectClose(y.reshape(want.shape), want, tol, `${precision} avgpool ${shape}`);
      }
    }, T);

    it('linear (fc) after the pool, batch 1 and 3, odd sizes', async () => {
      for (const [n, cin, cout] of [[1, 37, 23], [3, 50, 1000]]) {
        const x = input([n, cin, 3, 5], 5);
        const fc = randomLinear(cin, cout, 6);
        const y = await gpu(rt, `linear ${n} ${cin} ${cout}`, x, (b, v) => {
          const p = b.globalAvgPool(v);
          const l = b.linear(p, fc);
          b.release(p);
          return l;
        });
        const want = ops.linear(ops.globalAvgPool(x), fc);
        expectClose(y.reshape(want.shape), want, tol, `${precision} linear n${n} ${cin}→${cout}`);
      }
    }, T);
  });
}

describe('WebGPU executor limits and errors', () => {
  for (const conv of ['implicit', 'im2col'] as const) it(`chunks the batch when a binding would exceed maxStorageBufferBindingSize, folds dispatches past the per-dimension limit (${conv} convs)`, async () => {
    // A 32 KiB binding limit and 6 workgroups per dimension force both paths on small shapes.
    const rt = await WebGpuRuntime.create(nodeGpu(), 'f32', { maxStorageBufferBindingSize: 32768, maxComputeWorkgroupsPerDimension: 6, conv });
    try {
      const x = input([5, 3, 9, 11], 7);
      const stem = randomConv(3, 8, 7, 2, 3, 8);
      const c1 = randomConv(8, 12, 1, 1, 0, 9);
      const y = await gpu(rt, 'chunked', x, (b, v) => {
        const s = b.conv2d(v, stem, { relu: true });
        const m = b.maxPool(s);
        b.release(s);
        const t = b.conv2d(m, c1, { relu: true });
        b.release(m);
        return t;
      });
      const want = cpuConv(ops.maxPool2d(cpuConv(x, stem, true)), c1, true);
      expectClose(y, want, 1e-4, 'chunked + folded');
      // An image that alone exceeds the binding limit is a clear error.
      const big = input([1, 3, 48, 48], 7); // 36 KiB of NHWC input (and more of im2col columns)
      await expect(gpu(rt, 'too big', big, (b, v) => b.conv2d(v, stem, { relu: true }))).rejects.toThrow(/maxStorageBufferBindingSize/);
    } finally {
      rt.dispose();
    }
  }, T);

  it('chooses tiles per adapter, never over 256 invocations per workgroup', () => {
    const info = (vendor: string, description: string, sg: number) =>
      ({ vendor, architecture: '', device: '', description, subgroupMinSize: sg, subgroupMaxSize: sg }) as unknown as GPUAdapterInfo;
    const lavapipe = chooseConfig({ info: info('mesa', 'llvmpipe (LLVM 15)', 8), maxInvocations: 1024, subgroups: true });
    expect(lavapipe.gemmKernel).toBe('gemm_sg');
    expect(lavapipe.gemm.wgX * lavapipe.gemm.wgY).toBe(8);
    const swiftshader = chooseConfig({ info: info('google', 'SwiftShader Device', 4), maxInvocations: 256, subgroups: false });
    expect(swiftshader.gemmKernel).toBe('gemm');
    const gpu = chooseConfig({ info: info('nvidia', 'NVIDIA H100', 32), maxInvocations: 1024, subgroups: true });
    expect(gpu.gemmKernel).toBe('gemm');
    expect(gpu.gemm.wgX * gpu.gemm.wgY).toBeLessThanOrEqual(256);
    const small = chooseConfig({ info: info('x', 'y', 32), maxInvocations: 64, subgroups: false });
    expect(small.gemm.wgX * small.gemm.wgY).toBeLessThanOrEqual(64);
    expect(small.wg1d).toBeLessThanOrEqual(64);
  });

  it('generates the kernel preamble: storage type, constants, subgroups only where used', () => {
    const f16 = kernelSource('gemm_sg', 'f16', { TM: 4, TN4: 4 });
    expect(f16).toMatch(/^enable subgroups;\nalias S4 = vec2<u32>;/);
    expect(f16).toContain('const TM: u32 = 4u;');
    expect(kernelSource('gemm_sg', 'f16', { TM: 4, TN4: 4 }, false)).not.toContain('enable subgroups');
    expect(kernelSource('maxpool', 'f32', { WG: 64 })).toMatch(/^alias S4 = vec4<f32>;/);
    expect(() => kernelSource('gemm', 'f32', { TM: 0 })).toThrow(/positive integer/);
  });

  it('folds workgroup counts into 2-D', () => {
    expect(foldGroups(10, 65535)).toEqual([10, 1]);
    const [x, y] = foldGroups(200_000, 65535);
    expect(x * y).toBeGreaterThanOrEqual(200_000);
    expect(x).toBeLessThanOrEqual(65535);
  });

  it('f16 conversion rounds to nearest even and handles subnormals, overflow and NaN', () => {
    const v = Float32Array.of(0, -0, 1, -2.5, 65504, 65520, 1e6, 2 ** -24, 2 ** -25, 3 * 2 ** -26, 1 + 2 ** -11, 1 + 3 * 2 ** -11, NaN, 0.1);
    const back = f16BitsToF32(f32ToF16Bits(v));
    expect([...back.slice(0, 12)]).toEqual([0, -0, 1, -2.5, 65504, Infinity, Infinity, 2 ** -24, 0, 2 ** -24, 1, 1 + 2 ** -9]);
    expect(back[12]).toBeNaN();
    expect(Math.abs(back[13] - 0.1)).toBeLessThan(1e-4);
  });

  it('WGSL compile errors and validation errors become thrown errors naming the kernel', async () => {
    const ctx = await GpuContext.create(nodeGpu(), 'f32');
    try {
      await expect(ctx.compile('broken-kernel', '@compute @workgroup_size(1) fn main() { let x: u32 = 1.5; }')).rejects.toThrow(
        /broken-kernel: WGSL compilation failed/,
      );
      await expect(
        ctx.scoped('my-dispatch', () => ctx.device.createBuffer({ size: 64, usage: 0x01 | 0x80 /* MAP_READ | STORAGE */ })),
      ).rejects.toThrow(/my-dispatch: validation error/);
      // Nothing leaked to the uncaptured-error handler.
      expect(() => ctx.check('after')).not.toThrow();
    } finally {
      ctx.destroy();
    }
  }, T);

  it("precision 'f16' runs on an adapter without shader-f16 (halves only through pack2x16float / unpack2x16float)", async () => {
    const real = await nodeGpu().requestAdapter();
    const fake = {
      __brand: 'GPU',
      requestAdapter: async () => ({ info: real!.info, limits: real!.limits, features: new Set<string>(), requestDevice: () => real!.requestDevice() }),
    } as unknown as GPU;
    const rt = await WebGpuRuntime.create(fake, 'f16');
    try {
      expect(rt.ctx.device.features.has('shader-f16')).toBe(false);
      const x = input([2, 13, 9, 7], 4);
      const conv = randomConv(13, 21, 3, 2, 1, 5);
      const y = await gpu(rt, 'f16 without shader-f16', x, (b, v) => b.conv2d(v, conv, { relu: true }));
      expectClose(y, cpuConv(x, conv, true), TOL.f16, 'f16 without shader-f16');
    } finally {
      rt.dispose();
    }
  }, T);
});

describe('WebGPU device loss and uncaptured errors', () => {
  it('a lost device makes the next run throw, naming the loss', async () => {
    const rt = await WebGpuRuntime.create(nodeGpu(), 'f32');
    try {
      const x = input([1, 3, 8, 8], 1);
      await gpu(rt, 'identity', x, (_b, v) => v);
      rt.ctx.device.destroy(); // as if the device were lost
      await rt.ctx.device.lost;
      await expect(gpu(rt, 'identity', x, (_b, v) => v)).rejects.toThrow(/device lost/);
    } finally {
      rt.dispose();
    }
  }, T);

  it('errors outside every error scope are not printed by Dawn but thrown by the next check', async () => {
    const ctx = await GpuContext.create(nodeGpu(), 'f32');
    try {
      ctx.device.createBuffer({ label: 'bad-buffer', size: 64, usage: 0x01 | 0x80 });
      let thrown: unknown = null;
      for (let i = 0; i < 300 && !thrown; i++) {
        await new Promise((r) => setTimeout(r, 10));
        try {
          ctx.check('next call');
        } catch (e) {
          thrown = e;
        }
      }
      expect(String(thrown)).toMatch(/next call: WebGPU error: .*bad-buffer/s);
    } finally {
      ctx.destroy();
    }
  }, T);
});
