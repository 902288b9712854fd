// Hugging Face's safetensors format, read without copying the file and written byte-compatible
// with the reference (Rust/Python) implementation. Layout:
//   8 bytes    N, the header length, u64 little-endian (at most 100,000,000)
//   N bytes    UTF-8 JSON: {"<name>": {"dtype": "F32", "shape": [64, 3, 7, 7], "data_offsets": [begin, end]}, ...}
//              plus an optional "__metadata__": {string: string}; writers pad it with spaces to a
//              multiple of 8 so the data starts 8-aligned
//   the rest   the data section: each tensor's bytes, little-endian and row-major, at [begin, end)
//              counted from the section's first byte; the tensors cover it exactly, without holes
// Host byte order is assumed little-endian (as it is on every platform Node, Deno and browsers run on).
import type { TensorArchive, TensorEntry } from './archive.ts';
import { numel, shapeString } from '../tensor/tensor.ts';
import { decodeToFloat32 } from './decode.ts';

const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';

const BYTES_PER_ELEMENT = new Map<string, number>([
  ['BOOL', 1], ['U8', 1], ['I8', 1], ['F8_E5M2', 1], ['F8_E4M3', 1],
  ['I16', 2], ['U16', 2], ['F16', 2], ['BF16', 2],
  ['I32', 4], ['U32', 4], ['F32', 4],
  ['F64', 8], ['I64', 8], ['U64', 8],
]);

interface ByteRange {
  name: string;
  begin: number;
  end: number;
}

/** Parse and validate a whole safetensors file. `source` (the file name) starts every error message. */
export function readSafetensors(bytes: Uint8Array, source = '<memory>'): TensorArchive {
  const invalid = (why: string) => new Error(`${source}: ${why}`);

  if (bytes.length < 8) throw invalid(`file of ${bytes.length} bytes is too short to hold the 8-byte header length`);
  const declaredLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (declaredLength > BigInt(MAX_HEADER_BYTES)) {
    throw invalid(`header length ${declaredLength} exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
  }
  const headerLength = Number(declaredLength);
  if (headerLength > bytes.length - 8) {
    throw invalid(`header length ${headerLength} runs past the end of the file (${bytes.length - 8} bytes follow it)`);
  }

  let text: string;
  try {
    // ignoreBOM keeps a byte-order mark in the text, so it fails the '{' check as it does in Rust.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    throw invalid('header is not valid UTF-8');
  }
  if (!text.startsWith('{')) throw invalid(`header is not a JSON object: it starts with ${JSON.stringify(text.slice(0, 16))}`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(text); // starts with '{', so a successful parse is an object
  } catch (error) {
    throw invalid(`header is not valid JSON (${(error as Error).message})`);
  }
  const repeated = repeatedTopLevelKey(text);
  if (repeated !== undefined) throw invalid(`'${repeated}' appears twice in the header`);

  const dataStart = 8 + headerLength;
  const tensors = new Map<string, TensorEntry>();
  const ranges: ByteRange[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      metadata = checkMetadata(info, invalid);
      continue;
    }
    const { dtype, shape, begin, end } = checkTensorInfo(info, (why) => invalid(`tensor '${name}': ${why}`));
    ranges.push({ name, begin, end });
    const raw = bytes.subarray(dataStart + begin, dataStart + end);
    const label = `${source}: tensor '${name}'`;
    tensors.set(name, { name, dtype, shape, toFloat32: () => decodeToFloat32(raw, dtype, label), bytes: () => raw });
  }
  checkLayout(ranges, bytes.length - dataStart, invalid);
  return { source, tensors, metadata };
}

/** JSON.parse silently keeps the last of repeated keys; scan the (valid JSON) text for a repeated top-level key. */
function repeatedTopLevelKey(json: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  let expectingKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let close = i + 1;
      while (json[close] !== '"') close += json[close] === '\\' ? 2 : 1;
      if (depth === 1 && expectingKey) {
        const key: string = JSON.parse(json.slice(i, close + 1));
        if (seen.has(key)) return key;
        seen.add(key);
        expectingKey = false;
      }
      i = close;
    } else if (c === '{' || c === '[') {
      depth++;
      expectingKey = depth === 1;
    } else if (c === '}' || c === ']') {
      depth--;
    } else if (c === ',' && depth === 1) {
      expectingKey = true;
    }
  }
  return undefined;
}

function checkMetadata(value: unknown, invalid: (why: string) => Error): Record<string, string> {
  if (!isPlainObject(value)) throw invalid(`${METADATA_KEY} is not an object of strings`);
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string') {
      throw invalid(`${METADATA_KEY} entry '${key}' is ${JSON.stringify(entry)}, not a string`);
    }
  }
  return Object.freeze(value as Record<string, string>);
}

function checkTensorInfo(info: unknown, invalid: (why: string) => Error) {
  if (!isPlainObject(info)) throw invalid('entry is not an object with dtype, shape and data_offsets');
  const { dtype, shape, data_offsets: offsets } = info;
  if (typeof dtype !== 'string' || !BYTES_PER_ELEMENT.has(dtype)) {
    throw invalid(`unknown dtype ${JSON.stringify(dtype)} (known: ${[...BYTES_PER_ELEMENT.keys()].join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) {
    throw invalid(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger)) {
    throw invalid(`data_offsets ${JSON.stringify(offsets)} is not a pair of non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) throw invalid(`data_offsets [${begin}, ${end}) end before they begin`);
  const needed = numel(shape) * BYTES_PER_ELEMENT.get(dtype)!;
  if (!Number.isSafeInteger(needed)) throw invalid(`${dtype} ${shapeString(shape)} is too large`);
  if (end - begin !== needed) {
    throw invalid(`data_offsets [${begin}, ${end}) hold ${end - begin} bytes but ${dtype} ${shapeString(shape)} needs ${needed}`);
  }
  return { dtype, shape: Object.freeze(shape as number[]), begin, end };
}

/** The tensors must tile the data section exactly: from byte 0, back to back, to its last byte. */
function checkLayout(ranges: ByteRange[], dataLength: number, invalid: (why: string) => Error): void {
  ranges.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let previous: ByteRange | undefined;
  for (const range of ranges) {
    const expectedBegin = previous?.end ?? 0;
    if (range.begin > expectedBegin) {
      throw invalid(
        previous === undefined
          ? `tensor '${range.name}' begins at byte ${range.begin}, leaving a hole at the start of the data section`
          : `hole of ${range.begin - expectedBegin} bytes between tensor '${previous.name}' (ends at byte ${expectedBegin}) and tensor '${range.name}' (begins at byte ${range.begin})`,
      );
    }
    if (range.begin < expectedBegin) {
      throw invalid(
        `tensor '${range.name}' [${range.begin}, ${range.end}) overlaps tensor '${previous!.name}' [${previous!.begin}, ${previous!.end})`,
      );
    }
    previous = range;
  }
  const end = previous?.end ?? 0;
  if (end > dataLength) {
    throw invalid(`tensor '${previous!.name}' ends at byte ${end} but the data section holds only ${dataLength} bytes`);
  }
  if (end < dataLength) {
    const last = previous === undefined ? 'the header' : `the last tensor '${previous.name}'`;
    throw invalid(`${dataLength - end} trailing bytes after ${last}`);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonNegativeInteger(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

export interface TensorToWrite {
  name: string;
  /** F16 and BF16 data are raw bit patterns. */
  dtype: 'F32' | 'F16' | 'BF16' | 'I64';
  shape: readonly number[];
  data: Float32Array | Uint16Array | BigInt64Array;
}

const ARRAY_TYPE = { F32: Float32Array, F16: Uint16Array, BF16: Uint16Array, I64: BigInt64Array };

/**
 * Serialise tensors and optional string metadata as a safetensors file. Like the reference writer,
 * tensors are stored by element size (largest first), then by name, so every tensor is aligned to
 * its element size.
 */
export function writeSafetensors(tensors: ReadonlyArray<TensorToWrite>, metadata?: Record<string, string>): Uint8Array {
  const byName = (a: TensorToWrite, b: TensorToWrite) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const sorted = [...tensors].sort((a, b) => b.data.BYTES_PER_ELEMENT - a.data.BYTES_PER_ELEMENT || byName(a, b));
  const seen = new Set<string>();
  const headerEntries = metadata === undefined ? [] : [`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(metadata)}`];
  let dataLength = 0;
  for (const { name, dtype, shape, data } of sorted) {
    const invalid = (why: string) => new Error(`writeSafetensors: tensor '${name}': ${why}`);
    if (name === METADATA_KEY) throw invalid(`the name ${METADATA_KEY} is reserved for the metadata`);
    if (seen.has(name)) throw invalid('the name is used twice');
    seen.add(name);
    if (!(data instanceof ARRAY_TYPE[dtype])) throw invalid(`${dtype} data must be a ${ARRAY_TYPE[dtype].name}`);
    if (!shape.every(isNonNegativeInteger)) throw invalid(`invalid shape ${shapeString(shape)}`);
    if (data.length !== numel(shape)) {
      throw invalid(`shape ${shapeString(shape)} needs ${numel(shape)} elements, data has ${data.length}`);
    }
    const info = { dtype, shape, data_offsets: [dataLength, dataLength + data.byteLength] };
    headerEntries.push(`${JSON.stringify(name)}:${JSON.stringify(info)}`);
    dataLength += data.byteLength;
  }

  const header = new TextEncoder().encode(`{${headerEntries.join(',')}}`);
  const paddedLength = Math.ceil(header.length / 8) * 8;
  const file = new Uint8Array(8 + paddedLength + dataLength);
  new DataView(file.buffer).setBigUint64(0, BigInt(paddedLength), true);
  file.set(header, 8);
  file.fill(0x20, 8 + header.length, 8 + paddedLength); // spaces
  let at = 8 + paddedLength;
  for (const { data } of sorted) {
    file.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    at += data.byteLength;
  }
  return file;
}
