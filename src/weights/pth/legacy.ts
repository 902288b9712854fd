// torch.save's legacy format: PyTorch before 1.6, or torch.save(…, _use_new_zipfile_serialization=False).
// Five pickles back to back, then the storages' bytes:
//   1  the magic number 0x1950a86a20f9469cfc6c
//   2  the format's protocol version, 1001
//   3  sys_info: {'protocol_version': 1001, 'little_endian': True, 'type_sizes': {…}}
//   4  the object; storages are persistent ids ('storage', torch.FloatStorage, key, location, numel, None)
//   5  the list of saved storage keys, in the order their bytes follow
//   then, per key, its element count as an 8-byte integer and count × itemsize bytes, both in the
//   byte order sys_info names. (PyTorch 0.3 and older wrote a tar archive instead; not read here.)
import { describe, unpickle, type UnpickleHooks } from '../../formats/pickle/pickle.ts';
import { loadTorchPickle } from './torch-pickle.ts';
import { stateDictArchive } from './state-dict.ts';
import type { TensorArchive } from '../archive.ts';
import { quote } from '../../formats/quote.ts';

export const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

/** Read a legacy torch.save checkpoint's state dict. `source` (the file name) starts every error message. */
export function readTorchLegacy(bytes: Uint8Array, source: string): TensorArchive {
  const fail = (why: string) => new Error(`${source}: legacy torch.save file: ${why}`);
  let pos = 0;
  /** The next pickle, which may only hold plain data. */
  const plain = (what: string) => {
    const refuse = () => {
      throw fail(`the ${what} pickle refers to objects`);
    };
    const hooks: UnpickleHooks = { findGlobal: refuse, persistentLoad: refuse };
    const { value, end } = unpickle(bytes, pos, hooks, `${source}: ${what}`);
    pos = end;
    return value;
  };

  if (plain('magic number') !== LEGACY_MAGIC) throw fail('wrong magic number');
  const protocol = plain('protocol version');
  if (protocol !== LEGACY_PROTOCOL) throw fail(`protocol version ${String(protocol)}, expected ${LEGACY_PROTOCOL}`);
  const sysInfo = plain('sys_info');
  const littleEndian = sysInfo instanceof Map ? sysInfo.get('little_endian') : undefined;
  if (typeof littleEndian !== 'boolean') throw fail(`sys_info is ${describe(sysInfo)} without a little_endian flag`);

  const { value, end, storages } = loadTorchPickle(bytes, pos, `${source}: object pickle`);
  pos = end;
  const keys = plain('storage keys');
  if (!Array.isArray(keys) || !keys.every((key) => typeof key === 'string')) throw fail(`the storage keys are ${describe(keys)}, not a list of str`);

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stored = new Map<string, Uint8Array>();
  for (const key of keys as string[]) {
    const storage = storages.get(key);
    if (!storage) throw fail(`storage ${quote(key)} is stored but not used, so its element size is unknown`);
    if (stored.has(key)) throw fail(`storage ${quote(key)} is stored twice`);
    if (pos + 8 > bytes.length) throw fail(`truncated before storage ${quote(key)}`);
    const count = view.getBigUint64(pos, littleEndian);
    const length = count * BigInt(storage.type.itemsize);
    if (length > BigInt(bytes.length - pos - 8)) throw fail(`storage ${quote(key)} of ${count} elements runs past the end of the file`);
    stored.set(key, bytes.subarray(pos + 8, pos + 8 + Number(length)));
    pos += 8 + Number(length);
  }
  if (pos !== bytes.length) throw fail(`${bytes.length - pos} bytes after the last storage`);

  const storageBytes = ({ key }: { key: string }) => {
    const data = stored.get(key);
    if (!data) throw fail(`storage ${quote(key)} is used but not stored`);
    return data;
  };
  return stateDictArchive(value, storageBytes, littleEndian ? 'little' : 'big', source);
}
