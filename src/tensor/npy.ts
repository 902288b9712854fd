// NumPy's .npy format (versions 1.0, 2.0 and 3.0), little-endian float32, float16, int64 and int32.
// Layout: "\x93NUMPY", major, minor, header length (u16 in 1.0, u32 later), a Python dict literal
// {'descr': '<f4', 'fortran_order': False, 'shape': (N, C), } padded with spaces to a multiple of
// 64 bytes and ended by '\n', then the raw C-order data.
import { Tensor } from './tensor.ts';

export type NpyDType = 'f32' | 'f16' | 'i64' | 'i32';

export interface NpyArray {
  shape: number[];
  dtype: NpyDType;
  data: Float32Array | Uint16Array | BigInt64Array | Int32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const DESCR: Record<string, NpyDType> = { '<f4': 'f32', '<f2': 'f16', '<i8': 'i64', '<i4': 'i32' };
const DESCR_OF: Record<NpyDType, string> = { f32: '<f4', f16: '<f2', i64: '<i8', i32: '<i4' };
const ITEMSIZE: Record<NpyDType, number> = { f32: 4, f16: 2, i64: 8, i32: 4 };

/** Parse a .npy file. `source` names the file in error messages. The data is copied out. */
export function parseNpy(bytes: Uint8Array, source = '<npy>'): NpyArray {
  const fail = (why: string): never => {
    throw new Error(`${source}: not a valid .npy file: ${why}`);
  };
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) fail('missing the \\x93NUMPY magic');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail('truncated header');
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    return fail(`unsupported format version ${major}.${bytes[7]}`);
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) fail(`header of ${headerLen} bytes runs past the end of the file`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataStart));

  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    fail(`header is not a dict with descr, fortran_order and shape: ${header.trim()}`);
  }
  const dtype = DESCR[descr!];
  if (!dtype) fail(`unsupported dtype '${descr}' (supported: little-endian float32 <f4, float16 <f2, int64 <i8, int32 <i4)`);
  if (fortran === 'True') fail('Fortran-ordered arrays are not supported; save with np.ascontiguousarray');
  const shape = shapeText!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const d = Number(s.replace(/L$/, ''));
      if (!Number.isInteger(d) || d < 0) fail(`bad dimension '${s}' in shape`);
      return d;
    });
  const count = shape.reduce((a, b) => a * b, 1);
  const byteLength = count * ITEMSIZE[dtype];
  if (bytes.length - dataStart < byteLength) {
    fail(`shape (${shape.join(', ')}) needs ${byteLength} data bytes, file has ${bytes.length - dataStart}`);
  }
  if (bytes.length - dataStart > byteLength) {
    fail(`${bytes.length - dataStart - byteLength} unexpected bytes after the data`);
  }
  // Copy into a fresh, aligned buffer: the file's data offset need not be aligned to the item size.
  // (new Uint8Array(view) copies; Node's Buffer.slice would not.)
  const raw = new Uint8Array(bytes.subarray(dataStart, dataStart + byteLength)).buffer;
  const data =
    dtype === 'f32' ? new Float32Array(raw) : dtype === 'f16' ? new Uint16Array(raw) : dtype === 'i32' ? new Int32Array(raw) : new BigInt64Array(raw);
  return { shape, dtype, data };
}

/** Serialise an array as .npy version 1.0 (2.0 when the header does not fit in 65535 bytes). */
export function serializeNpy(array: NpyArray): Uint8Array {
  const shapeText = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  let dict = `{'descr': '${DESCR_OF[array.dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const count = array.shape.reduce((a, b) => a * b, 1);
  if (count !== array.data.length) {
    throw new Error(`serializeNpy: shape (${array.shape.join(', ')}) does not match ${array.data.length} elements`);
  }
  let prefix = 10;
  if (dict.length + 1 + prefix > 65535) prefix = 12;
  const total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  dict = dict.padEnd(total - prefix - 1, ' ') + '\n';
  const dataBytes = new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  const out = new Uint8Array(total + dataBytes.length);
  out.set(MAGIC, 0);
  out[6] = prefix === 10 ? 1 : 2;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (prefix === 10) view.setUint16(8, dict.length, true);
  else view.setUint32(8, dict.length, true);
  for (let i = 0; i < dict.length; i++) out[prefix + i] = dict.charCodeAt(i);
  out.set(dataBytes, total);
  return out;
}

/** A float .npy as an f32 tensor (f16 is widened); integer arrays are refused. */
export function npyToTensor(array: NpyArray, source = '<npy>'): Tensor {
  if (array.dtype === 'i64' || array.dtype === 'i32') {
    throw new Error(`${source}: expected a float32 or float16 array, got ${array.dtype === 'i64' ? 'int64' : 'int32'}`);
  }
  const t = array.dtype === 'f32'
    ? new Tensor(array.shape, array.data as Float32Array)
    : new Tensor(array.shape, array.data as Uint16Array, 'f16').toF32();
  return t;
}

export function tensorToNpy(t: Tensor<'f32' | 'f16'>): Uint8Array {
  return serializeNpy({ shape: [...t.shape], dtype: t.dtype, data: t.data });
}
