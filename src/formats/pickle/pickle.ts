// A pickle interpreter that only builds data. A pickle is a program for a small stack machine; two of
// its instructions make Python's own unpickler dangerous: GLOBAL imports any Python object by name
// (`os system`) and REDUCE calls it with arguments from the stack. This interpreter has no Python to
// run: GLOBAL and STACK_GLOBAL go through the caller's `findGlobal`, which returns a value from an
// allowlist or throws, and REDUCE only calls the `PyCallable`s that allowlist hands out.
//
// NEWOBJ and BUILD of objects go through the allowlist too: only a `PyClass` it hands out can be
// instantiated, as a plain record (PyRecord) whose state its class checks; objects the allowlist's
// callables return (PyObject subclasses, e.g. numpy arrays) take BUILD's state through `setState`.
//
// It implements the opcodes of protocols 2–5 that torch.save and torch.jit.save write (the cases of the switch below);
// any other opcode is an error that names it. Python values become:
//   None → null   bool → boolean   int → number (bigint beyond ±2^53)   float → number   str → string
//   tuple → frozen array   list → array   dict → Map
// Every instruction consumes at least one byte, so a pickle runs in time linear in its length.

/** A Python callable the allowlist permits: REDUCE calls it with the argument tuple. */
export class PyCallable {
  constructor(
    readonly name: string,
    readonly call: (args: readonly unknown[]) => unknown,
  ) {}
}

/**
 * A Python class the allowlist permits NEWOBJ to instantiate (with no arguments): the instance is a
 * plain record, a PyRecord, and BUILD hands it its state once, after `checkState` accepted it. No
 * method of the class exists here, so none can run.
 */
export class PyClass {
  constructor(
    readonly name: string,
    readonly checkState: (state: unknown) => void,
  ) {}
}

export interface UnpickleHooks {
  /** The value `module.name` stands for; throws to refuse it. */
  findGlobal(module: string, name: string): unknown;
  /** The object a persistent id stands for (torch.save uses these for storages). */
  persistentLoad(pid: unknown): unknown;
  /**
   * What a Python 2 `str` (BINSTRING, SHORT_BINSTRING) becomes: 'utf8' (the default) a string decoded
   * as UTF-8, as torch.load does; 'bytes' a Uint8Array of its bytes, as pickle.load(encoding='bytes').
   */
  py2Strings?: 'utf8' | 'bytes';
}

/**
 * An object the allowlist builds that takes BUILD's state (Python's `__setstate__`); a subclass
 * checks the state and throws to refuse it.
 */
export abstract class PyObject {
  abstract setState(state: unknown): void;
}

/** An instance of an allowed PyClass: its class and the state BUILD gave it (undefined before). */
export class PyRecord extends PyObject {
  state: unknown = undefined;
  constructor(readonly cls: PyClass) {
    super();
  }

  setState(state: unknown): void {
    this.cls.checkState(state);
    this.state = state;
  }
}

const MAX_PROTOCOL = 5;
const MAX_GLOBAL_NAME = 512; // bytes in a GLOBAL's module or name line
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Run the pickle starting at `start` up to its STOP; returns the value and the offset after STOP.
 * `where` (e.g. 'model.pth: data.pkl') starts every error message.
 */
export function unpickle(bytes: Uint8Array, start: number, hooks: UnpickleHooks, where: string): { value: unknown; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: unknown[] = [];
  const marks: number[] = []; // stack heights at each open MARK
  const memo = new Map<number, unknown>();
  let pos = start;
  let opcodeAt = start;
  const fail = (why: string) => new Error(`${where}: byte ${opcodeAt}: ${why}`);

  /** Advance over n argument bytes; returns where they start. */
  const take = (n: number) => {
    if (n > bytes.length - pos) throw fail('the pickle is truncated');
    pos += n;
    return pos - n;
  };
  const floor = () => (marks.length > 0 ? marks[marks.length - 1] : 0);
  const pop = () => {
    if (stack.length <= floor()) throw fail('stack underflow');
    return stack.pop();
  };
  const top = () => {
    if (stack.length <= floor()) throw fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popToMark = () => {
    const height = marks.pop();
    if (height === undefined) throw fail('no MARK to pop to');
    return stack.splice(height);
  };
  const text = (length: number) => {
    const at = take(length);
    try {
      return utf8.decode(bytes.subarray(at, at + length));
    } catch {
      throw fail('a string is not valid UTF-8');
    }
  };
  const py2String = (length: number) => {
    if (hooks.py2Strings !== 'bytes') return text(length);
    const at = take(length);
    return bytes.subarray(at, at + length);
  };
  const line = () => {
    const newline = bytes.subarray(pos, pos + MAX_GLOBAL_NAME).indexOf(0x0a);
    if (newline < 0) {
      throw fail(pos + MAX_GLOBAL_NAME >= bytes.length ? 'the pickle is truncated' : `GLOBAL without a newline in the next ${MAX_GLOBAL_NAME} bytes`);
    }
    return text(newline + 1).slice(0, -1);
  };
  const dictOnTop = () => {
    const dict = top();
    if (!(dict instanceof Map)) throw fail(`cannot set items on ${describe(dict)}`);
    return dict;
  };
  const listOnTop = () => {
    const list = top();
    if (!Array.isArray(list) || Object.isFrozen(list)) throw fail(`cannot append to ${describe(list)}`);
    return list;
  };
  const remember = (index: number) => memo.set(index, top());
  const recall = (index: number) => {
    if (!memo.has(index)) throw fail(`memo entry ${index} was never stored`);
    stack.push(memo.get(index));
  };
  const pushGlobal = (module: unknown, name: unknown) => {
    if (typeof module !== 'string' || typeof name !== 'string') throw fail('a global is named by something other than strings');
    stack.push(hooks.findGlobal(module, name));
  };

  for (;;) {
    opcodeAt = pos;
    const opcode = bytes[take(1)];
    switch (opcode) {
      case 0x80: { // PROTO
        const protocol = bytes[take(1)];
        if (protocol > MAX_PROTOCOL) throw fail(`pickle protocol ${protocol} is newer than ${MAX_PROTOCOL}`);
        break;
      }
      case 0x95: // FRAME: a length hint for buffered readers
        take(8);
        break;
      case 0x2e: // STOP
        if (marks.length > 0 || stack.length !== 1) throw fail(`STOP with ${stack.length} values and ${marks.length} open MARKs on the stack`);
        return { value: stack[0], end: pos };
      case 0x63: { // GLOBAL 'module\nname\n'
        const module = line();
        pushGlobal(module, line());
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        pushGlobal(pop(), name);
        break;
      }
      case 0x51: // BINPERSID
        stack.push(hooks.persistentLoad(pop()));
        break;
      case 0x52: { // REDUCE: callable(*args)
        const args = pop();
        const callable = pop();
        if (!(callable instanceof PyCallable)) throw fail(`REDUCE calls ${describe(callable)}, which is not an allowed callable`);
        if (!isTuple(args)) throw fail(`REDUCE arguments for ${callable.name} are ${describe(args)}, not a tuple`);
        stack.push(callable.call(args));
        break;
      }
      case 0x81: { // NEWOBJ: cls.__new__(cls, *args)
        const args = pop();
        const cls = pop();
        if (!(cls instanceof PyClass)) throw fail(`NEWOBJ of ${describe(cls)}, which is not an allowed class`);
        if (!isTuple(args) || args.length > 0) throw fail(`NEWOBJ of ${cls.name} with arguments`);
        stack.push(new PyRecord(cls));
        break;
      }
      case 0x62: { // BUILD: object.__setstate__(state)
        const state = pop();
        const target = top();
        if (target instanceof PyObject) {
          if (target instanceof PyRecord && target.state !== undefined) throw fail(`BUILD of a ${target.cls.name} object that already has its state`);
          target.setState(state);
          break;
        }
        // Only dicts are built: the state holds Python attributes (a state dict's `_metadata`), not items.
        if (!(target instanceof Map) || !(state instanceof Map)) throw fail(`BUILD of ${describe(target)} from ${describe(state)} is not supported`);
        break;
      }
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x74: // TUPLE
        stack.push(Object.freeze(popToMark()));
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(Object.freeze([]));
        break;
      case 0x85: // TUPLE1
      case 0x86: // TUPLE2
      case 0x87: { // TUPLE3
        const n = opcode - 0x84;
        if (stack.length - floor() < n) throw fail('stack underflow');
        stack.push(Object.freeze(stack.splice(stack.length - n)));
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x73: { // SETITEM
        const value = pop();
        const key = pop();
        dictOnTop().set(key, value);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popToMark();
        if (items.length % 2 !== 0) throw fail('SETITEMS with an odd number of keys and values');
        const dict = dictOnTop();
        for (let i = 0; i < items.length; i += 2) dict.set(items[i], items[i + 1]);
        break;
      }
      case 0x61: { // APPEND
        const value = pop();
        listOnTop().push(value);
        break;
      }
      case 0x65: { // APPENDS
        const items = popToMark();
        const list = listOnTop();
        for (const item of items) list.push(item);
        break;
      }
      case 0x71: // BINPUT
        remember(bytes[take(1)]);
        break;
      case 0x72: // LONG_BINPUT
        remember(view.getUint32(take(4), true));
        break;
      case 0x94: // MEMOIZE
        remember(memo.size);
        break;
      case 0x68: // BINGET
        recall(bytes[take(1)]);
        break;
      case 0x6a: // LONG_BINGET
        recall(view.getUint32(take(4), true));
        break;
      case 0x4a: // BININT
        stack.push(view.getInt32(take(4), true));
        break;
      case 0x4b: // BININT1
        stack.push(bytes[take(1)]);
        break;
      case 0x4d: // BININT2
        stack.push(view.getUint16(take(2), true));
        break;
      case 0x8a: { // LONG1: n bytes of little-endian two's complement
        const n = bytes[take(1)];
        const at = take(n);
        stack.push(decodeLong(bytes.subarray(at, at + n)));
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        stack.push(view.getFloat64(take(8), false));
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x58: // BINUNICODE
        stack.push(text(view.getUint32(take(4), true)));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(bytes[take(1)]));
        break;
      case 0x8d: { // BINUNICODE8
        const length = view.getBigUint64(take(8), true);
        if (length > BigInt(bytes.length - pos)) throw fail('the pickle is truncated');
        stack.push(text(Number(length)));
        break;
      }
      case 0x54: { // BINSTRING (Python 2 str; torch.load decodes these as UTF-8)
        const length = view.getInt32(take(4), true);
        if (length < 0) throw fail('BINSTRING with a negative length');
        stack.push(py2String(length));
        break;
      }
      case 0x55: // SHORT_BINSTRING
        stack.push(py2String(bytes[take(1)]));
        break;
      default: {
        const printable = opcode >= 0x20 && opcode < 0x7f ? ` ('${String.fromCharCode(opcode)}')` : '';
        throw fail(`unsupported pickle opcode 0x${opcode.toString(16).padStart(2, '0')}${printable}`);
      }
    }
  }
}

export function isTuple(value: unknown): value is readonly unknown[] {
  return Array.isArray(value) && Object.isFrozen(value);
}

/** A short name for a value's Python type, for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'None';
  if (value instanceof Map) return 'a dict';
  if (value instanceof PyCallable || value instanceof PyClass) return value.name;
  if (value instanceof PyRecord) return `a ${value.cls.name} object`;
  if (value instanceof Uint8Array) return 'bytes';
  if (Array.isArray(value)) return Object.isFrozen(value) ? 'a tuple' : 'a list';
  if (typeof value === 'object') return `a ${value.constructor.name}`;
  return { number: 'a number', bigint: 'an int', string: 'a str', boolean: 'a bool' }[typeof value as string] ?? typeof value;
}

function decodeLong(bytes: Uint8Array): number | bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]);
  if (bytes.length > 0 && bytes[bytes.length - 1] & 0x80) value -= 1n << BigInt(8 * bytes.length);
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}
