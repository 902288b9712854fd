// The zip container torch.save writes (PyTorch ≥ 1.6), read in place: no copies, no decompression
// (deflated entries, as np.savez_compressed writes them, are inflated by inflate.ts).
//
//   [local header 'PK\3\4', name, extra][entry bytes] …   one record per entry
//   [central directory header 'PK\1\2', name, extra, comment] …   one per entry: the authority
//   [ZIP64 end record 'PK\6\6'][ZIP64 locator 'PK\6\7']   optional, for > 65,535 entries or > 4 GiB
//   [end of central directory 'PK\5\6', comment]
//
// torch.save (through miniz) stores every entry uncompressed, pads each local header's extra field
// so the entry's bytes start at a multiple of 64, leaves the CRC and sizes in the local header zero
// (a data descriptor after the bytes repeats them) and always writes the ZIP64 records. So sizes,
// CRCs and offsets come from the central directory; 0xFFFF / 0xFFFFFFFF there means "see ZIP64"
// (the end record, or extra field 0x0001 of the entry). Every offset is checked against the file.
import { quote } from '../quote.ts';

export interface ZipEntry {
  readonly name: string;
  /** The stored bytes, a view into the file, after checking their CRC-32 (once). */
  read(): Uint8Array;
  /** 0 stored, 8 deflated (src/formats/zip/inflate.ts reads those), or another method. */
  readonly method: number;
  /** The entry's bytes as they lie in the file (compressed when method ≠ 0). */
  readonly raw: Uint8Array;
  /** The uncompressed size and CRC-32 the central directory declares. */
  readonly size: number;
  readonly crc: number;
}

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_RECORD = 0x06054b50;
const ZIP64_END_RECORD = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EXTRA = 0x0001;
const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;
const END_RECORD_SIZE = 22;
const MAX_COMMENT = 0xffff;

/** The entries of a zip by name; read() reads stored (uncompressed) entries, inflateEntries() deflated ones. */
export function readZip(bytes: Uint8Array, source: string): Map<string, ZipEntry> {
  const corrupt = (why: string) => new Error(`${source}: corrupt zip: ${why}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number) => view.getUint16(at, true);
  const u32 = (at: number) => view.getUint32(at, true);
  const u64 = (at: number) => {
    const value = view.getBigUint64(at, true);
    if (value > BigInt(bytes.length)) throw corrupt(`a ZIP64 field at byte ${at} (${value}) exceeds the file size`);
    return Number(value);
  };

  const end = findEndRecord(bytes, u32, u16);
  if (end < 0) throw corrupt('no end-of-central-directory record (the file is truncated or not a zip)');
  let entryCount = u16(end + 10);
  let directorySize = u32(end + 12);
  let directoryOffset = u32(end + 16);
  let directoryLimit = end; // the directory must end before the records that locate it
  if (u16(end + 4) !== 0 || u16(end + 6) !== 0) throw corrupt('multi-disk zips are not supported');

  const locator = end - 20;
  if (locator >= 0 && u32(locator) === ZIP64_LOCATOR) {
    const record = u64(locator + 8);
    if (record + 56 > locator || u32(record) !== ZIP64_END_RECORD) {
      throw corrupt(`the ZIP64 locator points to byte ${record}, where there is no ZIP64 end record`);
    }
    if (u32(record + 16) !== 0 || u32(record + 20) !== 0) throw corrupt('multi-disk zips are not supported');
    entryCount = u64(record + 32);
    directorySize = u64(record + 40);
    directoryOffset = u64(record + 48);
    directoryLimit = record;
  } else if (entryCount === U16_MAX || directorySize === U32_MAX || directoryOffset === U32_MAX) {
    throw corrupt('the end record defers to ZIP64 records that are missing');
  }
  const directoryEnd = directoryOffset + directorySize;
  if (directoryEnd > directoryLimit) {
    throw corrupt(`the central directory [${directoryOffset}, ${directoryEnd}) runs past byte ${directoryLimit}`);
  }

  const entries = new Map<string, ZipEntry>();
  const names = new TextDecoder('utf-8', { fatal: true });
  let at = directoryOffset;
  for (let i = 0; i < entryCount; i++) {
    if (at + 46 > directoryEnd || u32(at) !== CENTRAL_HEADER) throw corrupt(`central directory entry ${i} at byte ${at} is missing or damaged`);
    const nameLength = u16(at + 28);
    const extraLength = u16(at + 30);
    const next = at + 46 + nameLength + extraLength + u16(at + 32);
    if (next > directoryEnd) throw corrupt(`central directory entry ${i} runs past the directory's end`);
    const rawName = bytes.subarray(at + 46, at + 46 + nameLength);
    let name: string;
    try {
      name = names.decode(rawName);
    } catch {
      throw corrupt(`central directory entry ${i} has a name that is not UTF-8`);
    }
    const fail = (why: string) => corrupt(`entry ${quote(name)}: ${why}`);
    if (entries.has(name)) throw fail('appears twice');
    const encrypted = (u16(at + 8) & 1) === 1;
    const method = u16(at + 10);

    // ZIP64: the extra field holds, in this order, each of these whose 32-bit field is 0xFFFFFFFF.
    let size = u32(at + 24);
    let compressedSize = u32(at + 20);
    let localOffset = u32(at + 42);
    if (size === U32_MAX || compressedSize === U32_MAX || localOffset === U32_MAX) {
      const field = zip64Field(view, at + 46 + nameLength, extraLength);
      if (field < 0) throw fail('has 0xFFFFFFFF sizes but no ZIP64 extra field');
      const fieldEnd = field + 4 + u16(field + 2);
      let cursor = field + 4;
      const take = () => {
        if (cursor + 8 > fieldEnd) throw fail('has a ZIP64 extra field that is too short');
        cursor += 8;
        return u64(cursor - 8);
      };
      if (size === U32_MAX) size = take();
      if (compressedSize === U32_MAX) compressedSize = take();
      if (localOffset === U32_MAX) localOffset = take();
    }
    if (method === 0 && compressedSize !== size) throw fail(`stored size ${compressedSize} differs from its size ${size}`);

    if (localOffset + 30 > directoryOffset || u32(localOffset) !== LOCAL_HEADER) {
      throw fail(`has no local header at byte ${localOffset}`);
    }
    const localNameLength = u16(localOffset + 26);
    const dataStart = localOffset + 30 + localNameLength + u16(localOffset + 28);
    if (!sameBytes(bytes.subarray(localOffset + 30, localOffset + 30 + localNameLength), rawName)) {
      throw fail('its local header names a different entry');
    }
    if (dataStart + compressedSize > directoryOffset) {
      throw fail(`its ${compressedSize} bytes at byte ${dataStart} run into the central directory (byte ${directoryOffset}): truncated?`);
    }
    const data = bytes.subarray(dataStart, dataStart + compressedSize);
    const expectedCrc = u32(at + 16);
    let checked = false;
    entries.set(name, {
      name,
      method,
      raw: data,
      size,
      crc: expectedCrc,
      read() {
        // Entries that cannot be read in place fail only when read: a TorchScript archive compresses
        // its code/ entries, yet its data.pkl is stored and says more about what the file is.
        const unreadable = (why: string) => new Error(`${source}: zip entry ${quote(name)} ${why}`);
        if (encrypted) throw unreadable('is encrypted');
        if (method === 8) {
          throw unreadable('is deflated (method 8): torch.save stores entries uncompressed — was the file re-zipped? (an .npz with deflated records is read by the async loaders: ResNet50.load, loadWeightsAsync)');
        }
        if (method !== 0) throw unreadable(`is compressed (method ${method}); torch.save stores entries uncompressed — was the file re-zipped?`);
        if (!checked && crc32(data) !== expectedCrc) throw fail('CRC-32 mismatch: its bytes are damaged');
        checked = true;
        return data;
      },
    });
    at = next;
  }
  if (at !== directoryEnd) throw corrupt(`the central directory declares ${directorySize} bytes but its ${entryCount} entries use ${at - directoryOffset}`);
  return entries;
}

/** The end record is the last 'PK\5\6' whose comment reaches exactly to the end of the file; -1 if none. */
function findEndRecord(bytes: Uint8Array, u32: (at: number) => number, u16: (at: number) => number): number {
  const lowest = Math.max(0, bytes.length - END_RECORD_SIZE - MAX_COMMENT);
  for (let at = bytes.length - END_RECORD_SIZE; at >= lowest; at--) {
    if (u32(at) === END_RECORD && at + END_RECORD_SIZE + u16(at + 20) === bytes.length) return at;
  }
  return -1;
}

/** The byte where extra field 0x0001 starts within [start, start + length), or -1. */
function zip64Field(view: DataView, start: number, length: number): number {
  for (let at = start; at + 4 <= start + length; at += 4 + view.getUint16(at + 2, true)) {
    if (view.getUint16(at, true) === ZIP64_EXTRA) return at + 4 + view.getUint16(at + 2, true) <= start + length ? at : -1;
  }
  return -1;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

let crcTables: Uint32Array[] | null = null;

/** CRC-32 (ISO-HDLC, as zip uses), eight bytes per step ("slicing by 8"). */
export function crc32(data: Uint8Array): number {
  const t = (crcTables ??= makeCrcTables());
  const [t0, t1, t2, t3, t4, t5, t6, t7] = t;
  let crc = 0xffffffff;
  let i = 0;
  for (const end = data.length - 8; i <= end; i += 8) {
    const lo = crc ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
    crc =
      t7[lo & 0xff] ^ t6[(lo >>> 8) & 0xff] ^ t5[(lo >>> 16) & 0xff] ^ t4[lo >>> 24] ^
      t3[data[i + 4]] ^ t2[data[i + 5]] ^ t1[data[i + 6]] ^ t0[data[i + 7]];
  }
  for (; i < data.length; i++) crc = t0[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function makeCrcTables(): Uint32Array[] {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    tables[0][n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) tables[k][n] = tables[0][tables[k - 1][n] & 0xff] ^ (tables[k - 1][n] >>> 8);
  }
  return tables;
}
