// Pickles holding numpy arrays (CIFAR's python version), read with the project's pickle interpreter
// and an allowlist that can only rebuild arrays, never run anything:
//   numpy.core.multiarray._reconstruct → an empty NdArray, filled by BUILD with
//                                       (version, shape, dtype, is_fortran, raw bytes)
//   numpy.ndarray                      → the class token _reconstruct takes
//   numpy.dtype                        → a DType ('u1', 'i8', …), its byte order set by BUILD
//   _codecs.encode(text, 'latin1')     → bytes: how Python 3 writes bytes at protocol 2
// (numpy ≥ 2 spells the module numpy._core.multiarray.) Every other global — os.system,
// builtins.eval, any class — is refused by name. Python 2 `str`s (Python 2's cPickle wrote every
// string and the arrays' raw data so) arrive as bytes, as pickle.load(f, encoding='bytes') gives them.
import { PyCallable, PyObject, describe, isTuple, unpickle } from '../formats/pickle/pickle.ts';
import { quote } from '../formats/quote.ts';

const NDARRAY = Symbol('numpy.ndarray');

/** numpy's dtype: kind + item size ('u1', 'i8', 'f4', …) and byte order. */
export class DType extends PyObject {
  byteOrder: '<' | '>' | '|' | '=' = '=';
  constructor(
    readonly descr: string,
    private readonly where: string,
  ) {
    super();
  }

  get itemsize(): number {
    return Number(this.descr.slice(1));
  }

  setState(state: unknown): void {
    // (version, byteorder, subarray descr, names, fields, elsize, alignment, flags); version 3 or 4
    if (!isTuple(state) || state.length < 8 || typeof state[0] !== 'number') throw new Error(`${this.where}: unexpected numpy dtype state ${describe(state)}`);
    const order = asText(state[1], this.where);
    if (order !== '<' && order !== '>' && order !== '|' && order !== '=') throw new Error(`${this.where}: unknown numpy byte order ${quote(order)}`);
    if (state[2] !== null || state[3] !== null || state[4] !== null) throw new Error(`${this.where}: structured numpy dtypes are not supported`);
    this.byteOrder = order;
  }
}

/** A numpy array: its shape, dtype, memory order and raw bytes. */
export class NdArray extends PyObject {
  shape: number[] = [];
  dtype: DType | null = null;
  fortran = false;
  data: Uint8Array = new Uint8Array(0);

  constructor(private readonly where: string) {
    super();
  }

  setState(state: unknown): void {
    const fail = (why: string) => new Error(`${this.where}: numpy array: ${why}`);
    if (!isTuple(state) || state.length !== 5) throw fail(`unexpected state ${describe(state)}`);
    const [version, shape, dtype, fortran, raw] = state;
    if (version !== 1) throw fail(`state version ${describe(version)} is not 1`);
    if (!isTuple(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) throw fail(`shape ${describe(shape)} is not a tuple of sizes`);
    if (!(dtype instanceof DType)) throw fail(`dtype ${describe(dtype)}`);
    if (fortran !== true && fortran !== false && fortran !== 0 && fortran !== 1) throw fail(`is_fortran ${describe(fortran)}`);
    if (!(raw instanceof Uint8Array)) throw fail(`the data is ${describe(raw)}, not raw bytes (object arrays are not read)`);
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    if (raw.length !== numel * dtype.itemsize) throw fail(`shape [${shape.join(', ')}] of ${dtype.descr} needs ${numel * dtype.itemsize} bytes, the pickle holds ${raw.length}`);
    this.shape = [...(shape as number[])];
    this.dtype = dtype;
    this.fortran = fortran === true || fortran === 1;
    this.data = raw;
  }
}

/** A string or Python 2 str (bytes) as text (ASCII/latin-1). */
export function asText(value: unknown, where: string): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return latin1(value);
  throw new Error(`${where}: expected a string, got ${describe(value)}`);
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return s;
}

/** Run a pickle whose globals may only rebuild numpy arrays; `where` (the file) starts every error. */
export function loadNumpyPickle(bytes: Uint8Array, where: string): unknown {
  const fail = (why: string) => new Error(`${where}: ${why}`);
  const reconstruct = new PyCallable('numpy.core.multiarray._reconstruct', (args) => {
    if (args.length !== 3 || args[0] !== NDARRAY) throw fail(`_reconstruct of ${describe(args[0])}: only numpy.ndarray is rebuilt`);
    return new NdArray(where);
  });
  const globals = new Map<string, unknown>([
    ['numpy.core.multiarray._reconstruct', reconstruct],
    ['numpy._core.multiarray._reconstruct', reconstruct],
    ['numpy.ndarray', NDARRAY],
    ['numpy.dtype', new PyCallable('numpy.dtype', (args) => {
      const descr = asText(args[0], where);
      if (!/^[uif][1248]$|^b1$/.test(descr)) throw fail(`numpy dtype ${quote(descr)} is not a plain numeric type`);
      return new DType(descr, where);
    })],
    ['_codecs.encode', new PyCallable('_codecs.encode', (args) => {
      const [text, encoding] = args;
      if (typeof text !== 'string' || (encoding !== 'latin1' && encoding !== 'latin-1')) throw fail(`_codecs.encode(${describe(text)}, ${describe(encoding)}): only latin-1 text is encoded`);
      const out = new Uint8Array(text.length);
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c > 255) throw fail('_codecs.encode: a character outside latin-1');
        out[i] = c;
      }
      return out;
    })],
  ]);
  const { value } = unpickle(bytes, 0, {
    findGlobal(module, name) {
      const qualified = `${module}.${name}`;
      if (globals.has(qualified)) return globals.get(qualified);
      throw fail(`refusing global ${quote(qualified)}: a dataset pickle may hold only numpy arrays and plain containers, and nothing in it is ever imported or run`);
    },
    persistentLoad() {
      throw fail('a dataset pickle has no persistent ids');
    },
    py2Strings: 'bytes',
  }, where);
  return value;
}

/** dict[key] where the pickle's keys are str or bytes (Python 2 str); undefined when absent. */
export function dictGet(dict: unknown, key: string, where: string): unknown {
  if (!(dict instanceof Map)) throw new Error(`${where}: expected a dict, got ${describe(dict)}`);
  for (const [k, v] of dict) {
    if ((typeof k === 'string' || k instanceof Uint8Array) && asText(k, where) === key) return v;
  }
  return undefined;
}
