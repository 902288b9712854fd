// What a torch.save pickle may name and what it builds: the guarantee torch.load(weights_only=True)
// gives, without any Python. The allowlist of globals:
//   collections.OrderedDict            → an empty dict (its items follow through SETITEMS)
//   torch._utils._rebuild_tensor_v2    → a TensorRef, a strided view of a storage
//   torch._utils._rebuild_parameter    → the parameter's tensor
//   torch.FloatStorage, HalfStorage, … → storage types, meaningful only inside persistent ids
// Every other global (os.system, builtins.eval, a model class) is refused by name before anything
// else happens; this reader has nothing it could run in any case.
//
// A TorchScript archive's data.pkl (torch.jit.save) also names its module classes, `__torch__.*`,
// and builds each module with NEWOBJ + BUILD of a dict of parameters, buffers, submodules and plain
// attributes. With `torchScript` set those classes are allowed as plain records (PyRecord): their
// methods are TorchScript source in the archive's code/ folder, which is never read. A state that is
// not such a dict is refused.
//
// Storages are persistent ids, the tuple ('storage', torch.FloatStorage, key, location, numel) in
// the zip format; the legacy format adds view metadata, which must be None (storage views come from
// PyTorch before 1.0). Their bytes live outside the pickle (the zip record data/<key>, or after the
// pickles in the legacy format), so a StorageRef only names them; two tensors with the same key
// share one storage. The location ('cpu', 'cuda:0') does not matter here: bytes are bytes.
import { PyCallable, PyClass, PyRecord, describe, isTuple, unpickle } from '../../formats/pickle/pickle.ts';
import { quote } from '../../formats/quote.ts';

class StorageType {
  constructor(
    readonly name: string, // e.g. 'FloatStorage'
    readonly dtype: string, // safetensors spelling, e.g. 'F32'
    readonly itemsize: number,
  ) {}
}

const STORAGE_TYPES = new Map(
  ([
    ['DoubleStorage', 'F64', 8], ['FloatStorage', 'F32', 4], ['HalfStorage', 'F16', 2], ['BFloat16Storage', 'BF16', 2],
    ['LongStorage', 'I64', 8], ['IntStorage', 'I32', 4], ['ShortStorage', 'I16', 2], ['CharStorage', 'I8', 1],
    ['ByteStorage', 'U8', 1], ['BoolStorage', 'BOOL', 1],
  ] as const).map(([name, dtype, itemsize]) => [`torch.${name}`, new StorageType(name, dtype, itemsize)]),
);

export class StorageRef {
  constructor(
    readonly key: string,
    readonly type: StorageType,
    readonly numel: number,
  ) {}
}

/** torch's tensor = storage + offset + sizes + strides, all counted in elements. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
  ) {}
}

/** Run a torch.save pickle; returns its value, the offset after it and the storages it names by key. */
export function loadTorchPickle(bytes: Uint8Array, start: number, where: string, opts: { torchScript?: boolean } = {}) {
  const fail = (why: string) => new Error(`${where}: ${why}`);
  const storages = new Map<string, StorageRef>();

  const globals = new Map<string, unknown>([
    ...STORAGE_TYPES,
    ['collections.OrderedDict', new PyCallable('collections.OrderedDict', (args) => {
      if (args.length > 0) throw fail('OrderedDict called with arguments');
      return new Map();
    })],
    ['torch._utils._rebuild_tensor_v2', new PyCallable('torch._utils._rebuild_tensor_v2', (args) => rebuildTensor(args, fail))],
    ['torch._utils._rebuild_parameter', new PyCallable('torch._utils._rebuild_parameter', ([data]) => {
      if (!(data instanceof TensorRef)) throw fail(`_rebuild_parameter of ${describe(data)}`);
      return data;
    })],
  ]);

  const findGlobal = (module: string, name: string) => {
    const qualified = `${module}.${name}`;
    if (globals.has(qualified)) return globals.get(qualified);
    if (opts.torchScript && (module === '__torch__' || module.startsWith('__torch__.'))) {
      return new PyClass(qualified, (state) => checkModuleState(qualified, state, fail));
    }
    throw fail(`refusing global ${quote(qualified)}: a weights file may hold only tensors and plain containers, and nothing in it is ever imported or run${hintFor(module)}`);
  };

  const persistentLoad = (pid: unknown) => {
    if (!isTuple(pid) || pid[0] !== 'storage' || (pid.length !== 5 && pid.length !== 6)) {
      throw fail(`unsupported persistent id (${describe(pid)}); expected ('storage', type, key, location, numel)`);
    }
    const [, type, key, , numel, view] = pid;
    if (!(type instanceof StorageType)) throw fail(`a storage's type is ${describe(type)}, not a torch storage class`);
    if (typeof key !== 'string') throw fail(`a storage key is ${describe(key)}, not a str`);
    if (!isCount(numel)) throw fail(`storage ${quote(key)} has ${String(numel)} elements`);
    if (pid.length === 6 && view !== null) throw fail(`storage ${quote(key)} is a storage view (PyTorch before 1.0), which is not supported`);
    const known = storages.get(key);
    if (known && (known.type !== type || known.numel !== numel)) {
      throw fail(`storage ${quote(key)} is both a ${known.type.name} of ${known.numel} and a ${type.name} of ${numel} elements`);
    }
    const storage = known ?? new StorageRef(key, type, numel);
    storages.set(key, storage);
    return storage;
  };

  const { value, end } = unpickle(bytes, start, { findGlobal, persistentLoad }, where);
  return { value, end, storages };
}

/** _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]) */
function rebuildTensor(args: readonly unknown[], fail: (why: string) => Error): TensorRef {
  const [storage, offset, shape, stride] = args;
  if (args.length !== 6 && args.length !== 7) throw fail(`_rebuild_tensor_v2 with ${args.length} arguments`);
  if (!(storage instanceof StorageRef)) throw fail(`a tensor's storage is ${describe(storage)}`);
  const where = `a tensor on storage ${quote(storage.key)}`;
  if (!isCount(offset)) throw fail(`${where} has storage offset ${String(offset)}`);
  if (!isTuple(shape) || !shape.every(isCount)) throw fail(`${where} has size ${describe(shape)}, not a tuple of counts`);
  if (!isTuple(stride) || !stride.every(isCount) || stride.length !== shape.length) {
    throw fail(`${where} has strides that do not match its ${shape.length} dimensions`);
  }
  const elements = shape.reduce((n, d) => n * d, 1);
  // Views within one storage never need more elements than it has unless they overlap (expand());
  // refusing those bounds every tensor's memory by the file's size.
  if (elements > storage.numel) {
    throw fail(`${where} has ${elements} elements, more than its storage's ${storage.numel} (an expanded view? save .clone() instead)`);
  }
  const last = elements === 0 ? offset : offset + shape.reduce((sum, d, i) => sum + (d - 1) * stride[i], 0);
  if (last > storage.numel || (elements > 0 && last >= storage.numel)) {
    throw fail(`${where} (offset ${offset}, size [${shape.join(', ')}], stride [${stride.join(', ')}]) reaches past the storage's ${storage.numel} elements`);
  }
  return new TensorRef(storage, offset, shape, stride);
}

function hintFor(module: string): string {
  if (module.startsWith('__torch__')) return ' (this is TorchScript, from torch.jit.save: load it in Python and torch.save(model.state_dict()))';
  if (module === '__main__' || module.startsWith('torch.nn.') || module.startsWith('torchvision.')) {
    return ' (this looks like a whole model saved with torch.save(model): save model.state_dict() instead)';
  }
  return '';
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** A TorchScript module's state: a dict of str → tensor, built submodule or plain value. */
function checkModuleState(name: string, state: unknown, fail: (why: string) => Error): void {
  if (!(state instanceof Map)) throw fail(`a TorchScript module ${quote(name)} has ${describe(state)} as its state, not a dict of tensors, submodules and plain values`);
  for (const [key, value] of state) {
    if (typeof key !== 'string') throw fail(`a TorchScript module ${quote(name)} has an attribute named by ${describe(key)}`);
    const ok = value instanceof TensorRef || (value instanceof PyRecord && value.state !== undefined) || isPlain(value);
    if (!ok) throw fail(`a TorchScript module ${quote(name)} has ${quote(key)} = ${describe(value)}: only tensors, submodules and plain values are read`);
  }
}

function isPlain(value: unknown): boolean {
  if (value === null || ['boolean', 'number', 'bigint', 'string'].includes(typeof value)) return true;
  return Array.isArray(value) && value.every(isPlain);
}

/** A TorchScript module tree → its tensors under dotted names (`visual.layer1.0.conv1.weight`), as state_dict() names them. */
export function moduleTensors(root: PyRecord): Map<string, TensorRef> {
  const out = new Map<string, TensorRef>();
  const walk = (m: PyRecord, prefix: string) => {
    for (const [key, value] of m.state as Map<string, unknown>) {
      if (value instanceof TensorRef) out.set(prefix + key, value);
      else if (value instanceof PyRecord) walk(value, `${prefix}${key}.`);
    }
  };
  walk(root, '');
  return out;
}
