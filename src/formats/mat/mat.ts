// A reader of MATLAB 5 MAT-files (what `save -v7` and scipy.io.savemat write), for numeric arrays.
// Layout: a 128-byte header (116 bytes of text starting "MATLAB 5.0 MAT-file", 8 bytes of subsystem
// offset, version 0x0100, endian indicator "IM" little-endian / "MI" big-endian), then data elements,
// each an 8-byte tag (u32 type, u32 byte count; a "small element" packs a count ≤ 4 into the type's
// upper half and its data into the tag's last 4 bytes) and its data padded to 8 bytes. Type 15
// (miCOMPRESSED) is a zlib stream holding one element; type 14 (miMATRIX) holds array flags (class in
// the low byte), dimensions (int32), the name (int8) and the real part, stored in any numeric type
// (MATLAB stores a double array as uint8 when its values fit). Values are column-major.
// Numeric arrays come out; cells, structs, sparse, char and complex arrays are skipped with a note
// in `skipped`. MAT v7.3 files are HDF5 and refused as such. Every error names the file.

export type MatClass = 'double' | 'single' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64';

export interface MatArray {
  readonly name: string;
  readonly class: MatClass;
  /** MATLAB's dimensions (at least 2) */
  readonly dims: number[];
  /** the values as stored, column-major (bigint arrays for 64-bit integers) */
  readonly data: Float64Array | Float32Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;
}

export interface MatFile {
  readonly arrays: Map<string, MatArray>;
  /** variables that are not numeric arrays: name and class */
  readonly skipped: { name: string; class: string }[];
}

// class codes (array flags' low byte) → names; 1-5 cell, struct, object, char, sparse
const CLASSES: Record<number, MatClass> = { 6: 'double', 7: 'single', 8: 'int8', 9: 'uint8', 10: 'int16', 11: 'uint16', 12: 'int32', 13: 'uint32', 14: 'int64', 15: 'uint64' };
const OTHER_CLASSES: Record<number, string> = { 1: 'cell', 2: 'struct', 3: 'object', 4: 'char', 5: 'sparse', 16: 'function' };
// data types → [bytes per value, typed array]
type Ctor = { new (n: number): MatArray['data']; BYTES_PER_ELEMENT: number };
const TYPES: Record<number, Ctor> = {
  1: Int8Array, 2: Uint8Array, 3: Int16Array, 4: Uint16Array, 5: Int32Array, 6: Uint32Array,
  7: Float32Array, 9: Float64Array, 12: BigInt64Array, 13: BigUint64Array,
};
const CLASS_ARRAYS: Record<MatClass, Ctor> = {
  double: Float64Array, single: Float32Array, int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array,
  int32: Int32Array, uint32: Uint32Array, int64: BigInt64Array, uint64: BigUint64Array,
};
const MI_MATRIX = 14;
const MI_COMPRESSED = 15;
const MI_INT8 = 1;
const MI_INT32 = 5;
const MI_UINT32 = 6;
const FLAG_COMPLEX = 0x0800;

const ascii = new TextDecoder('latin1');

/** zlib-decompress (RFC 1950) with the runtime's DecompressionStream (Node ≥ 18, Deno, browsers). */
async function inflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Read every numeric array of a MAT v5 file; `where` (the file's name) starts every error. */
export async function readMat(bytes: Uint8Array, where: string): Promise<MatFile> {
  const fail = (why: string) => new Error(`${where}: ${why}`);
  const head = ascii.decode(bytes.subarray(0, 116));
  if (bytes.length >= 512 + 8 && ascii.decode(bytes.subarray(512, 520)) === '\x89HDF\r\n\x1a\n' || head.startsWith('MATLAB 7.3')) {
    throw fail('a MAT v7.3 file (HDF5) is not read: save it as MAT v5/v7 (MATLAB save -v7, or scipy.io.savemat)');
  }
  if (bytes.length < 128 || !head.startsWith('MATLAB 5.0 MAT-file')) throw fail('not a MAT v5 file (no "MATLAB 5.0 MAT-file" header)');
  const indicator = ascii.decode(bytes.subarray(126, 128));
  if (indicator !== 'IM' && indicator !== 'MI') throw fail(`bad endian indicator ${JSON.stringify(indicator)}`);
  const le = indicator === 'IM';
  const version = new DataView(bytes.buffer, bytes.byteOffset + 124, 2).getUint16(0, le);
  if (version !== 0x0100) throw fail(`MAT version 0x${version.toString(16)} is not 0x0100`);

  const arrays = new Map<string, MatArray>();
  const skipped: MatFile['skipped'] = [];
  /** The elements of `buf` from `start`; `what` says where in the file for errors. */
  const walk = async (buf: Uint8Array, start: number, what: string): Promise<void> => {
    let pos = start;
    while (pos < buf.length) {
      const el = tagAt(buf, pos, le, (why) => fail(`${what} at byte ${pos}: ${why}`));
      if (el.type === MI_COMPRESSED) {
        let inner: Uint8Array;
        try {
          inner = await inflate(el.data);
        } catch (e) {
          throw fail(`${what} at byte ${pos}: the compressed element does not decompress (${(e as Error).message})`);
        }
        await walk(inner, 0, `the compressed element at byte ${pos}`);
      } else if (el.type === MI_MATRIX) {
        const m = matrix(el.data, le, (why) => fail(`${what} at byte ${pos}: ${why}`));
        if ('data' in m) {
          if (arrays.has(m.name)) throw fail(`variable ${JSON.stringify(m.name)} appears twice`);
          arrays.set(m.name, m);
        } else skipped.push(m);
      } else {
        throw fail(`${what} at byte ${pos}: top-level element of type ${el.type} is not a matrix`);
      }
      pos = el.next;
    }
  };
  await walk(bytes, 128, 'the element');
  return { arrays, skipped };
}

interface Element {
  type: number;
  data: Uint8Array;
  /** offset of the next element */
  next: number;
}

function tagAt(buf: Uint8Array, pos: number, le: boolean, fail: (why: string) => Error): Element {
  if (buf.length - pos < 8) throw fail('the file is truncated (an element tag is cut off)');
  const view = new DataView(buf.buffer, buf.byteOffset + pos, 8);
  const first = view.getUint32(0, le);
  const small = first >>> 16;
  if (small !== 0) {
    if (small > 4) throw fail(`a small element claims ${small} bytes`);
    return { type: first & 0xffff, data: buf.subarray(pos + 4, pos + 4 + small), next: pos + 8 };
  }
  const n = view.getUint32(4, le);
  if (n > buf.length - pos - 8) throw fail(`the file is truncated (an element of ${n} bytes, ${buf.length - pos - 8} left)`);
  const padded = first === MI_COMPRESSED ? n : Math.ceil(n / 8) * 8; // compressed data is not padded
  return { type: first, data: buf.subarray(pos + 8, pos + 8 + n), next: Math.min(buf.length, pos + 8 + padded) };
}

function matrix(buf: Uint8Array, le: boolean, fail: (why: string) => Error): MatArray | { name: string; class: string } {
  let pos = 0;
  const sub = (expected: number[], what: string) => {
    const el = tagAt(buf, pos, le, (why) => fail(`${what}: ${why}`));
    if (!expected.includes(el.type)) throw fail(`${what} has data type ${el.type}`);
    pos = el.next;
    return el;
  };
  const flags = sub([MI_UINT32], 'array flags');
  if (flags.data.length !== 8) throw fail(`array flags of ${flags.data.length} bytes`);
  const flagWord = new DataView(flags.data.buffer, flags.data.byteOffset, 8).getUint32(0, le);
  const code = flagWord & 0xff;
  const dimsEl = sub([MI_INT32], 'dimensions');
  const dims = Array.from({ length: dimsEl.data.length / 4 }, (_, i) => new DataView(dimsEl.data.buffer, dimsEl.data.byteOffset).getInt32(4 * i, le));
  if (dims.length < 2 || dims.some((d) => d < 0)) throw fail(`bad dimensions [${dims.join(', ')}]`);
  const name = ascii.decode(sub([MI_INT8], 'array name').data);
  const cls = CLASSES[code];
  if (!cls || flagWord & FLAG_COMPLEX) return { name, class: cls ? `complex ${cls}` : OTHER_CLASSES[code] ?? `class ${code}` };
  const real = tagAt(buf, pos, le, (why) => fail(`${name}: ${why}`));
  const stored = TYPES[real.type];
  if (!stored) throw fail(`${name}: values of data type ${real.type}`);
  const numel = dims.reduce((a, b) => a * b, 1);
  if (real.data.length !== numel * stored.BYTES_PER_ELEMENT) {
    throw fail(`${name}: [${dims.join(', ')}] needs ${numel} values, the element holds ${real.data.length / stored.BYTES_PER_ELEMENT}`);
  }
  return { name, class: cls, dims, data: convert(real.data, stored, CLASS_ARRAYS[cls], numel, le) };
}

/** Values stored as `from` (file byte order) → an array of the class's type. */
function convert(raw: Uint8Array, from: Ctor, to: Ctor, numel: number, le: boolean): MatArray['data'] {
  const size = from.BYTES_PER_ELEMENT;
  let values: MatArray['data'];
  if (size === 1 || le) {
    const aligned = raw.byteOffset % size === 0 ? raw : raw.slice();
    values = new (from as unknown as { new (b: ArrayBufferLike, o: number, n: number): MatArray['data'] })(aligned.buffer, aligned.byteOffset, numel);
  } else {
    const swapped = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i += size) for (let b = 0; b < size; b++) swapped[i + b] = raw[i + size - 1 - b];
    values = new (from as unknown as { new (b: ArrayBufferLike, o: number, n: number): MatArray['data'] })(swapped.buffer, 0, numel);
  }
  if (from === to) return values;
  const out = new to(numel);
  const bigOut = out instanceof BigInt64Array || out instanceof BigUint64Array;
  for (let i = 0; i < numel; i++) {
    const v = values[i];
    (out as unknown as (number | bigint)[])[i] = bigOut ? BigInt(v) : Number(v);
  }
  return out;
}
