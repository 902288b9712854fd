// A tensor is a shape plus contiguous row-major data. Two element types: f32 (Float32Array) and
// f16 (raw IEEE half bits in a Uint16Array). Everything the engine computes on the CPU is f32;
// f16 exists so weights and activations can be stored and exchanged at half the size.

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
    // Sign, 5-bit exponent (bias 15), 10-bit mantissa: subnormals are mantissa · 2^-24, normals
    // (1024 + mantissa) · 2^(exponent − 25); exponent 31 is ±inf or NaN. All exact in f32.
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) {
      const exponent = (h >> 10) & 0x1f;
      const mantissa = h & 0x3ff;
      const magnitude =
        exponent === 0 ? mantissa * 2 ** -24 : exponent === 31 ? (mantissa ? NaN : Infinity) : (1024 + mantissa) * 2 ** (exponent - 25);
      f16Table[h] = h & 0x8000 ? -magnitude : magnitude;
    }
  }
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = f16Table[bits[i]];
  return out;
}

/** Round f32 values to the nearest f16 (ties to even), returned as bit patterns. */
export function f32ToF16Bits(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f32BitsToF16Bits(bits[i]);
  return out;
}

/**
 * Keep the top bits, round on the dropped ones: up past halfway, or at halfway to an even result.
 * A carry out of the mantissa correctly bumps the exponent (up to infinity).
 */
function roundHalfEven(kept: number, dropped: number, halfway: number): number {
  return kept + (dropped > halfway || (dropped === halfway && (kept & 1)) ? 1 : 0);
}

/**
 * One f32 bit pattern to the nearest f16 bit pattern, ties to even. f32: sign, 8-bit exponent (bias
 * 127), 23-bit mantissa; f16: sign, 5-bit exponent (bias 15), 10-bit mantissa. Values below f16's
 * normal range become subnormals (mantissa shifted right, with the implicit 1), above it infinity.
 */
export function f32BitsToF16Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const a = x & 0x7fffffff;
  // |v| in [2^-14, 2^16): f16's normal range (and what rounds to its infinity), the common case. Rebias
  // the exponent and round the mantissa to nearest even in one integer add; a carry bumps the exponent.
  if (a >= 0x38800000 && a < 0x47800000) return sign | ((a - 0x38000000 + 0xfff + ((a >>> 13) & 1)) >>> 13);
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 | (mantissa >>> 13) : 0); // NaN, ±inf
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow to ±inf
  if (e > 0) return sign | roundHalfEven((e << 10) | (mantissa >>> 13), mantissa & 0x1fff, 0x1000);
  if (e < -10) return sign; // below half the smallest subnormal: ±0
  const full = mantissa | 0x800000;
  const shift = 14 - e;
  return sign | roundHalfEven(full >>> shift, full & ((1 << shift) - 1), 1 << (shift - 1));
}

/** bfloat16 is the top half of an f32: widen by shifting the bits back into place. */
export function bf16BitsToF32(bits: Uint16Array): Float32Array {
  const wide = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) wide[i] = bits[i] << 16;
  return new Float32Array(wide.buffer);
}
