// NumPy's .npz: a zip of .npy arrays (np.savez), one record `<name>.npy` per array, as Google's BiT
// checkpoints are published. Each array is read with the .npy reader (src/tensor/npy.ts).
import type { ZipEntry } from '../formats/zip/zip.ts';
import { parseNpy } from '../tensor/npy.ts';
import { quote } from '../formats/quote.ts';
import type { TensorArchive, TensorEntry } from './archive.ts';
import { decodeToFloat32 } from './decode.ts';

const DTYPE = { f32: 'F32', f16: 'F16', i64: 'I64', i32: 'I32' } as const;

/** A zip is an .npz when every record is a .npy file. */
export function isNpz(entries: ReadonlyMap<string, ZipEntry>): boolean {
  return entries.size > 0 && [...entries.keys()].every((name) => name.endsWith('.npy'));
}

/** The arrays of an .npz, named without `.npy` (each record's .npy is checked here). */
export function npzArchive(entries: ReadonlyMap<string, ZipEntry>, source: string): TensorArchive {
  const tensors = new Map<string, TensorEntry>();
  for (const [record, entry] of entries) {
    const name = record.slice(0, -'.npy'.length);
    const array = parseNpy(entry.read(), `${source}: ${quote(record)}`);
    const dtype = DTYPE[array.dtype];
    const bytes = () => new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength);
    const toFloat32 = () => decodeToFloat32(bytes(), dtype, `${source}: array ${quote(name)}`);
    tensors.set(name, { name, dtype, shape: array.shape, bytes, toFloat32 });
  }
  return { source, tensors, metadata: {} };
}
