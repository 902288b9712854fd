// torch.save's zip format, the default since PyTorch 1.6. Its records share one top folder (named
// after the file when it was saved, or 'archive'):
//   <top>/data.pkl     the pickled object; tensors are _rebuild_tensor_v2 calls on persistent storages
//   <top>/data/<key>   each storage's raw bytes, starting 64-byte aligned in the file
//   <top>/byteorder    'little' or 'big', in files from newer PyTorch; without it, little-endian
//   <top>/version, .format_version, .storage_alignment, .data/serialization_id: not needed here
// torch.jit.save writes the same layout plus <top>/code/ (TorchScript source, never read) and
// <top>/constants.pkl; its data.pkl is the module tree (`__torch__.*` records, torch-pickle.ts),
// whose parameters and buffers become the state dict.
import { readZip, type ZipEntry } from '../../formats/zip/zip.ts';
import { loadTorchPickle, moduleTensors } from './torch-pickle.ts';
import { PyRecord, describe } from '../../formats/pickle/pickle.ts';
import { stateDictArchive } from './state-dict.ts';
import type { TensorArchive } from '../archive.ts';
import type { ByteOrder } from './tensor-entry.ts';
import { quote } from '../../formats/quote.ts';

const PICKLE = /^[^/]+\/data\.pkl$/;

/** Read a torch.save zip checkpoint's state dict. `source` (the file name) starts every error message. */
export function readTorchZip(bytes: Uint8Array, source: string): TensorArchive {
  const entries = readZip(bytes, source);
  const pickles = [...entries.keys()].filter((name) => PICKLE.test(name));
  if (pickles.length !== 1) {
    throw new Error(`${source}: a zip, but not a torch.save checkpoint (${pickles.length} records named <folder>/data.pkl, expected 1)`);
  }
  const top = pickles[0].slice(0, -'/data.pkl'.length);
  const byteOrder = readByteOrder(entries.get(`${top}/byteorder`), source);
  const pickle = entries.get(pickles[0])!.read();
  const torchScript = [...entries.keys()].some((name) => name.startsWith(`${top}/code/`) || name === `${top}/constants.pkl`);
  const where = `${source}: ${quote(pickles[0])}`;
  const loaded = loadTorchPickle(pickle, 0, where, { torchScript });
  const { end } = loaded;
  let value = loaded.value;
  if (torchScript) {
    if (!(value instanceof PyRecord)) throw new Error(`${where}: a TorchScript archive whose data.pkl holds ${describe(value)}, not a module`);
    value = moduleTensors(value);
  }
  if (end !== pickle.length) throw new Error(`${source}: ${quote(pickles[0])} has ${pickle.length - end} bytes after its end`);
  const storageBytes = (storage: { key: string }) => {
    const record = entries.get(`${top}/data/${storage.key}`);
    if (!record) throw new Error(`${source}: storage ${quote(storage.key)} is missing: there is no record ${quote(`${top}/data/${storage.key}`)}`);
    return record.read();
  };
  return stateDictArchive(value, storageBytes, byteOrder, source);
}

function readByteOrder(record: ZipEntry | undefined, source: string): ByteOrder {
  if (!record) return 'little';
  const text = new TextDecoder().decode(record.read());
  if (text !== 'little' && text !== 'big') throw new Error(`${source}: ${quote(record.name)} says ${JSON.stringify(text.slice(0, 20))}, not 'little' or 'big'`);
  return text;
}
