// From the value a checkpoint unpickles to, to its state dict as a TensorArchive. Accepted layouts:
//   {name: tensor, …}                              a state dict (OrderedDict or dict)
//   {'state_dict': {…}, 'epoch': …, 'optimizer': …}  a training checkpoint (PyTorch's ImageNet example)
//   {'model': {…}, …}                               (torchvision's reference scripts and many others)
// the wrappers nested up to MAX_WRAPPERS deep. Names are kept as saved: DataParallel's `module.`
// prefix included (loadResNet strips it).
import { describe } from '../../formats/pickle/pickle.ts';
import { TensorRef, type StorageRef } from './torch-pickle.ts';
import type { TensorArchive, TensorEntry } from '../archive.ts';
import { viewEntry, type ByteOrder } from './tensor-entry.ts';
import { quote } from '../../formats/quote.ts';

const WRAPPER_KEYS = ['state_dict', 'model'];
const MAX_WRAPPERS = 3;

/** `storageBytes` finds a storage's bytes in the file (or throws); their length is checked here. */
export function stateDictArchive(
  root: unknown,
  storageBytes: (storage: StorageRef) => Uint8Array,
  byteOrder: ByteOrder,
  source: string,
): TensorArchive {
  const fail = (why: string) => new Error(`${source}: ${why}`);
  let dict = root;
  let path = 'the checkpoint';
  for (let depth = 0; ; depth++) {
    if (!(dict instanceof Map)) throw fail(`${path} is ${describe(dict)}, not a dict of tensors`);
    const others = [...dict].filter(([, value]) => !(value instanceof TensorRef));
    if (others.length === 0) break;
    const wrapper = WRAPPER_KEYS.find((key) => dict instanceof Map && dict.get(key) instanceof Map);
    if (wrapper !== undefined && depth < MAX_WRAPPERS) {
      dict = dict.get(wrapper);
      path += `['${wrapper}']`;
      continue;
    }
    if (others.length < dict.size) {
      const [key, value] = others[0];
      throw fail(`${path} mixes tensors with other values: ${keyName(key)} is ${describe(value)}`);
    }
    const keys = [...dict.keys()].slice(0, 8).map(keyName).join(', ');
    throw fail(`no state dict in ${path}: expected a dict of tensors or a 'state_dict' or 'model' entry, found keys ${keys || '(none)'}`);
  }

  const storages = new Map<StorageRef, Uint8Array>();
  const tensors = new Map<string, TensorEntry>();
  for (const [name, tensor] of dict as Map<unknown, TensorRef>) {
    if (typeof name !== 'string') throw fail(`${path} has a key that is ${describe(name)}, not a str`);
    const { storage } = tensor;
    let bytes = storages.get(storage);
    if (bytes === undefined) {
      bytes = storageBytes(storage);
      const expected = storage.numel * storage.type.itemsize;
      if (bytes.length !== expected) {
        throw fail(`storage ${quote(storage.key)} holds ${bytes.length} bytes, but a ${storage.type.name} of ${storage.numel} elements needs ${expected}`);
      }
      storages.set(storage, bytes);
    }
    tensors.set(name, viewEntry(name, tensor, bytes, byteOrder, `${source}: tensor ${quote(name)}`));
  }
  return { source, tensors, metadata: {} };
}

function keyName(key: unknown): string {
  return typeof key === 'string' ? quote(key) : describe(key);
}
