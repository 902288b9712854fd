// From a strided view of a storage to a TensorEntry. torch tensors are (storage, offset, sizes,
// strides) in elements; a state dict's tensors are nearly always row-major and contiguous, and then
// their bytes are a view of the file. Other views (t[1:, ::2], t.t()) are gathered into a row-major
// copy; big-endian files (byteorder 'big') are byte-swapped into a copy. Values are decoded to f32
// only when asked for, and nothing is kept: each call reads the file's bytes again.
import type { TensorEntry } from '../archive.ts';
import { numel } from '../../tensor/tensor.ts';
import { decodeToFloat32 } from '../decode.ts';
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

