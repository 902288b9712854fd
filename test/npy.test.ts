// .npy read/write: files NumPy wrote, round trips, and the arrays we refuse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNpy, serializeNpy, npyToTensor, tensorToNpy } from '../src/tensor/npy.ts';
import { Tensor } from '../src/tensor/tensor.ts';
import { nchwToNhwc, nhwcToNchw, concatBatch } from '../src/tensor/layout.ts';
import { FIXTURES } from './helpers.ts';

const read = (name: string) => parseNpy(readFileSync(join(FIXTURES, 'npy', name)), name);

describe('.npy files written by NumPy', () => {
  it('float32 [2, 3]', () => {
    const a = read('f32_2x3.npy');
    expect(a.dtype).toBe('f32');
    expect(a.shape).toEqual([2, 3]);
    expect(a.data.length).toBe(6);
  });
  it('float16 [4] widens to f32 exactly', () => {
    const a = read('f16_4.npy');
    expect(a.dtype).toBe('f16');
    const t = npyToTensor(a);
    expect(t.dtype).toBe('f32');
    expect(t.shape).toEqual([4]);
  });
  it('int64 [5]', () => {
    const a = read('i64_5.npy');
    expect(a.dtype).toBe('i64');
    expect(a.data).toBeInstanceOf(BigInt64Array);
    expect(a.shape).toEqual([5]);
    expect(() => npyToTensor(a, 'labels.npy')).toThrow(/labels\.npy: expected a float32 or float16 array, got int64/);
  });
  it('a 0-d scalar', () => {
    const a = read('f32_scalar.npy');
    expect(a.shape).toEqual([]);
    expect(a.data.length).toBe(1);
  });
  it('refuses big-endian and Fortran-ordered arrays, naming the file', () => {
    expect(() => read('f32_bigendian.npy')).toThrow(/f32_bigendian\.npy: .*unsupported dtype '>f4'/);
    expect(() => read('f32_fortran_3x2.npy')).toThrow(/f32_fortran_3x2\.npy: .*Fortran-ordered/);
  });
});

describe('.npy round trips and broken files', () => {
  it('serialises what it parses, byte for byte, for each dtype', () => {
    for (const name of ['f32_2x3.npy', 'f16_4.npy', 'i64_5.npy', 'f32_scalar.npy']) {
      const bytes = readFileSync(join(FIXTURES, 'npy', name));
      expect(Buffer.from(serializeNpy(parseNpy(bytes))).equals(bytes), name).toBe(true);
    }
  });
  it('round-trips a tensor through f16', () => {
    const t = new Tensor([2, 2], Float32Array.from([1, -2.5, 0.099975586, 65504]));
    const back = npyToTensor(parseNpy(tensorToNpy(t.toF16())));
    expect([...back.data]).toEqual([...t.data]);
  });
  it('rejects bad magic, truncated data, trailing bytes and bad shapes', () => {
    const good = serializeNpy({ shape: [2, 2], dtype: 'f32', data: new Float32Array(4) });
    expect(() => parseNpy(new Uint8Array(20), 'a.npy')).toThrow(/a\.npy: not a valid \.npy file: missing/);
    expect(() => parseNpy(good.subarray(0, good.length - 1), 'b.npy')).toThrow(/b\.npy: .*needs 16 data bytes, file has 15/);
    const longer = new Uint8Array(good.length + 3);
    longer.set(good);
    expect(() => parseNpy(longer, 'c.npy')).toThrow(/c\.npy: .*3 unexpected bytes/);
    const badShape = new TextDecoder('latin1').decode(good).replace('(2, 2)', '(2, x)');
    expect(() => parseNpy(Uint8Array.from(badShape, (ch) => ch.charCodeAt(0)), 'd.npy')).toThrow(/d\.npy: .*bad dimension 'x'/);
  });
});

describe('layouts', () => {
  it('NCHW → NHWC → NCHW is the identity and moves channels last', () => {
    const t = new Tensor([2, 3, 2, 2], Float32Array.from({ length: 24 }, (_, i) => i));
    const nhwc = nchwToNhwc(t);
    expect(nhwc.shape).toEqual([2, 2, 2, 3]);
    expect([...nhwc.data.subarray(0, 6)]).toEqual([0, 4, 8, 1, 5, 9]);
    expect([...nhwcToNchw(nhwc).data]).toEqual([...t.data]);
  });
  it('concatenates batches and refuses mismatched shapes', () => {
    const a = Tensor.zeros([1, 3, 4, 4]);
    expect(concatBatch([a, Tensor.zeros([2, 3, 4, 4])]).shape).toEqual([3, 3, 4, 4]);
    expect(() => concatBatch([a, Tensor.zeros([1, 3, 5, 4])])).toThrow(/cannot batch/);
  });
});
