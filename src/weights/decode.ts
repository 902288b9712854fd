// Tensor bytes (little-endian, row-major) of a floating-point dtype as f32, shared by the readers.
import { bf16BitsToF32, f16BitsToF32 } from '../tensor/tensor.ts';

/** F32 bytes become a view (a copy only when unaligned); F16, BF16 and F64 are decoded. */
export function decodeToFloat32(raw: Uint8Array, dtype: string, label: string): Float32Array {
  switch (dtype) {
    case 'F32': {
      const bytes = alignedTo(raw, 4);
      return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    }
    case 'F16':
    case 'BF16': {
      const bytes = alignedTo(raw, 2);
      const bits = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
      return dtype === 'F16' ? f16BitsToF32(bits) : bf16BitsToF32(bits);
    }
    case 'F64': {
      const bytes = alignedTo(raw, 8);
      return new Float32Array(new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length / 8));
    }
    default:
      throw new Error(`${label}: ${dtype} values cannot be read as f32 (only F32, F16, BF16 and F64 can)`);
  }
}

/** The bytes themselves when their address is a multiple of `alignment`, else a copy (typed arrays need alignment). */
function alignedTo(raw: Uint8Array, alignment: number): Uint8Array {
  return raw.byteOffset % alignment === 0 ? raw : new Uint8Array(raw); // a copy (Buffer.slice would not copy)
}
