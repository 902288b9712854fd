// From a strided view of a storage to a TensorEntry. torch tensors are (storage, offset, sizes,
// strides) in elements; a state dict's tensors are nearly always row-major and contiguous, and then
// their bytes are a view of the file. Other views (t[1:, ::2], t.t()) are gathered into a row-major
// copy; big-endian files (byteorder 'big') are byte-swapped into a copy. Values are decoded to f32
// only when asked for, and nothing is kept: each call reads the file's bytes again.
import type { TensorEntry } from '../archive.ts';
import { bf16BitsToF32, f16BitsToF32, numel } from '../../tensor/tensor.ts';
import type { TensorRef } from './torch-pickle.ts';

/** A TensorEntry that also gives its raw values (`convert` copies integer tensors as they are). */
export type ByteOrder = 'little' | 'big';

/** `storage` holds the whole storage's bytes, in `byteOrder`; `label` starts error messages. */
export function viewEntry(name: string, tensor: TensorRef, storage: Uint8Array, byteOrder: ByteOrder, label: string): TensorEntry {
  const { dtype, itemsize } = tensor.storage.type;
  const bytes = () => {
    const raw = rowMajorBytes(storage, itemsize, tensor);
    return byteOrder === 'big' ? byteSwapped(raw, itemsize) : raw;
  };
  return { name, dtype, shape: tensor.shape, bytes, toFloat32: () => decodeToFloat32(bytes(), dtype, label) };
}

function rowMajorBytes(storage: Uint8Array, itemsize: number, { offset, shape, stride }: TensorRef): Uint8Array {
  const count = numel(shape);
  if (isRowMajor(shape, stride)) return storage.subarray(offset * itemsize, (offset + count) * itemsize);
  const out = new Uint8Array(count * itemsize);
  const index = shape.map(() => 0);
  let from = offset; // element of the storage that output element i comes from
  for (let i = 0; i < count; i++) {
    for (let b = 0; b < itemsize; b++) out[i * itemsize + b] = storage[from * itemsize + b];
    for (let d = shape.length - 1; d >= 0; d--) {
      from += stride[d];
      if (++index[d] < shape[d]) break;
      from -= stride[d] * shape[d];
      index[d] = 0;
    }
  }
  return out;
}

/** Row-major (C-contiguous): each stride is the product of the later sizes; size-1 dimensions don't count. */
function isRowMajor(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return numel(shape) === 0;
    expected *= shape[d];
  }
  return true;
}

function byteSwapped(raw: Uint8Array, itemsize: number): Uint8Array {
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i += itemsize) {
    for (let b = 0; b < itemsize; b++) out[i + b] = raw[i + itemsize - 1 - b];
  }
  return out;
}

function decodeToFloat32(raw: Uint8Array, dtype: string, label: string): Float32Array {
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
  return raw.byteOffset % alignment === 0 ? raw : new Uint8Array(raw); // (a Node Buffer's slice() would not copy)
}
