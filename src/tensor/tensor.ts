// A tensor is a shape plus contiguous row-major data. Two element types: f32 (Float32Array) and
// f16 (raw IEEE half bits in a Uint16Array). Everything the engine computes on the CPU is f32;
// f16 exists so weights and activations can be stored and exchanged at half the size.
import { getFloat16, setFloat16 } from '@petamoriken/float16';

export type DType = 'f32' | 'f16';
export type TensorData<D extends DType> = D extends 'f32' ? Float32Array : Uint16Array;

export class Tensor<D extends DType = 'f32'> {
  readonly shape: readonly number[];
  readonly dtype: D;
  readonly data: TensorData<D>;

  constructor(shape: readonly number[], data: TensorData<D>, dtype?: D) {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new Error(`invalid tensor shape [${shape.join(', ')}]`);
    }
    const n = numel(shape);
    if (data.length !== n) {
      throw new Error(`tensor of shape [${shape.join(', ')}] needs ${n} elements, got ${data.length}`);
    }
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype ?? ((data instanceof Float32Array ? 'f32' : 'f16') as D);
    this.data = data;
  }

  static zeros(shape: readonly number[]): Tensor<'f32'> {
    return new Tensor(shape, new Float32Array(numel(shape)));
  }

  get size(): number {
    return this.data.length;
  }

  /** Same data, new shape (the element count must match). */
  reshape(shape: readonly number[]): Tensor<D> {
    return new Tensor(shape, this.data, this.dtype);
  }

  toF32(): Tensor<'f32'> {
    if (this.dtype === 'f32') return this as unknown as Tensor<'f32'>;
    return new Tensor(this.shape, f16BitsToF32(this.data as Uint16Array));
  }

  toF16(): Tensor<'f16'> {
    if (this.dtype === 'f16') return this as unknown as Tensor<'f16'>;
    return new Tensor(this.shape, f32ToF16Bits(this.data as Float32Array), 'f16');
  }
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeString(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

let f16Table: Float32Array | null = null;

/** Decode IEEE half-precision bit patterns to f32 (exact: every f16 is representable in f32). */
export function f16BitsToF32(bits: Uint16Array): Float32Array {
  // A 65,536-entry table (256 KiB, built once) makes decoding a 25M-weight model a plain gather.
  if (!f16Table) {
    const all = new DataView(Uint16Array.from({ length: 65536 }, (_, i) => i).buffer);
    f16Table = Float32Array.from({ length: 65536 }, (_, i) => getFloat16(all, 2 * i, true));
  }
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = f16Table[bits[i]];
  return out;
}

/** Round f32 values to the nearest f16 (ties to even), returned as bit patterns. */
export function f32ToF16Bits(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) setFloat16(view, 2 * i, values[i], true);
  return out;
}

/** bfloat16 is the top half of an f32: widen by shifting the bits back into place. */
export function bf16BitsToF32(bits: Uint16Array): Float32Array {
  const wide = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) wide[i] = bits[i] << 16;
  return new Float32Array(wide.buffer);
}
