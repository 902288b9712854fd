// f16 and bf16 conversions against @petamoriken/float16 (an independent implementation).
import { describe, expect, it } from 'vitest';
import { getFloat16, setFloat16 } from '@petamoriken/float16';
import { bf16BitsToF32, f16BitsToF32, f32ToF16Bits, Tensor } from '../src/tensor/tensor.ts';
import { seededRandom } from '../src/nn/random.ts';

describe('f16 conversions', () => {
  it('decodes every one of the 65,536 f16 bit patterns exactly', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const ours = f16BitsToF32(all);
    const view = new DataView(all.buffer);
    for (let i = 0; i < 65536; i++) expect(Object.is(ours[i], Math.fround(getFloat16(view, 2 * i, true))) || (Number.isNaN(ours[i]) && Number.isNaN(getFloat16(view, 2 * i, true)))).toBe(true);
  });

  it('rounds f32 to f16 like the reference on random bit patterns and every rounding boundary', () => {
    const random = seededRandom(7);
    const bits = new Uint32Array(400_000);
    for (let i = 0; i < 200_000; i++) bits[i] = Math.floor(random() * 2 ** 32);
    // Values at, just below and just above each halfway point between adjacent f16 values.
    const halves = f16BitsToF32(Uint16Array.from({ length: 65536 }, (_, i) => i));
    let n = 200_000;
    const f = new Float32Array(bits.buffer);
    for (let h = 0; h < 0x7bff && n + 3 <= bits.length; h++) {
      const mid = (halves[h] + halves[h + 1]) / 2;
      const m = Math.fround(mid);
      f[n++] = m;
      f[n++] = Math.fround(m * (1 - 2 ** -23));
      f[n++] = Math.fround(m * (1 + 2 ** -23));
    }
    const values = f.subarray(0, n);
    const ours = f32ToF16Bits(values);
    const reference = new DataView(new ArrayBuffer(2 * n));
    for (let i = 0; i < n; i++) setFloat16(reference, 2 * i, values[i], true);
    let mismatches = 0;
    for (let i = 0; i < n; i++) {
      const want = reference.getUint16(2 * i, true);
      const isNaN = (want & 0x7c00) === 0x7c00 && (want & 0x3ff) !== 0;
      if (isNaN ? (ours[i] & 0x7c00) !== 0x7c00 || (ours[i] & 0x3ff) === 0 : ours[i] !== want) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('round-trips a tensor through f16 and widens bf16 by position', () => {
    const t = new Tensor([3], Float32Array.from([1.5, -0.333251953125, 65504]));
    expect([...t.toF16().toF32().data]).toEqual([...t.data]);
    expect([...bf16BitsToF32(Uint16Array.from([0x3f80, 0xc000]))]).toEqual([1, -2]);
  });
});
