// Host-side packing of GEMM weights (src/kernels/webgpu/kernels.ts): B's layout, BatchNorm folded
// while packing (bit-identical to packing the folded weights), and f16 packing (bit-identical to
// rounding the f32 packing). No GPU needed.
import { describe, expect, it } from 'vitest';
import { convPacking } from '../src/kernels/webgpu/kernels.ts';
import type { FoldedConv } from '../src/nn/model.ts';
import { seededNormal } from '../src/nn/random.ts';
import { f32ToF16Bits } from '../src/tensor/tensor.ts';
import { foldConvLazily } from '../src/weights/fold.ts';

function lazyConv(cin: number, cout: number, k: number, seed: number): FoldedConv {
  const normal = seededNormal(seed);
  const values = (n: number, f: () => number) => Float32Array.from({ length: n }, f);
  const spec = { conv: 'c', bn: 'bn', inChannels: cin, outChannels: cout, kernel: k, stride: 1, padding: k >> 1 };
  const bn = {
    gamma: values(cout, () => 0.5 + Math.abs(normal())),
    beta: values(cout, () => 0.1 * normal()),
    mean: values(cout, () => 0.1 * normal()),
    variance: values(cout, () => 0.5 + Math.abs(normal())),
  };
  return foldConvLazily(spec, values(cout * cin * k * k, () => normal() * 0.2), bn);
}

describe('convPacking', () => {
  for (const [cin, cout, k, panel] of [[3, 10, 7, 4], [6, 13, 3, 2], [5, 9, 1, 8]] as const) {
    it(`${k}×${k} ${cin}→${cout}, panels of ${panel} vec4 columns`, () => {
      const conv = lazyConv(cin, cout, k, cin * 100 + cout);
      const packing = convPacking(conv, panel);
      const b = new Float32Array(packing.length);
      packing.fill(b);
      // Layout: row k ↔ (tap, ci) with channels padded to 4; column n in panel floor(n / (4·panel));
      // conv.weight is the folded OIHW weight (computed on first access).
      const c4 = Math.ceil(cin / 4);
      const pw = 4 * panel;
      const kk = 4 * packing.k4;
      for (let n = 0; n < cout; n++) {
        for (let tap = 0; tap < k * k; tap++) {
          for (let ci = 0; ci < 4 * c4; ci++) {
            const row = tap * 4 * c4 + ci;
            const at = Math.floor(n / pw) * kk * pw + row * pw + (n % pw);
            const want = ci < cin ? conv.weight[(n * cin + ci) * k * k + tap] : 0;
            if (b[at] !== want) throw new Error(`B[${row}][${n}] = ${b[at]}, expected ${want}`);
          }
        }
      }
      // Folding while packing equals packing the folded weights, bit for bit.
      const eager = convPacking({ ...conv, unscaled: undefined, weight: conv.weight }, panel);
      const b2 = new Float32Array(eager.length);
      eager.fill(b2);
      expect(b2).toEqual(b);
      // f16: each value rounded once from its f32 packing.
      const h = new Uint16Array(packing.length);
      packing.fill(h);
      expect(h).toEqual(f32ToF16Bits(b));
    });
  }
});
