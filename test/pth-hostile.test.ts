// The torch.save reader on hostile and broken input: pickles that would run code, files that are
// truncated, corrupt or inconsistent. Each must end in one clear error naming the file, never in a
// crash, a hang or a run command; a seeded fuzz test mutates valid files a few hundred times.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { seededRandom } from '../src/nn/random.ts';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWeights } from '../src/weights/load.ts';
import { loadTorchPickle } from '../src/weights/pth/torch-pickle.ts';
import { readZip } from '../src/formats/zip/zip.ts';
import { FIXTURES } from './helpers.ts';

const PTH = join(FIXTURES, 'pth');
const MARKER: string = JSON.parse(readFileSync(join(PTH, 'expected.json'), 'utf8')).pwned_marker;
const fixtureBytes = (name: string) => new Uint8Array(readFileSync(join(PTH, name)));

/** The error `parse` throws: it must be a plain Error with a one-line message. */
function errorOf(parse: () => unknown): Error {
  try {
    parse();
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).constructor).toBe(Error); // ours, not a RangeError or TypeError from a bad read
    expect((e as Error).message).not.toContain('\n');
    return e as Error;
  }
  throw new Error('expected an error, but the input was accepted');
}

/** Read every tensor: hostile content must fail here at the latest. */
function readAll(bytes: Uint8Array, source: string) {
  const archive = parseWeights(bytes, source);
  return [...archive.tensors.values()].map((t) => ({
    name: t.name, dtype: t.dtype, shape: t.shape, bytes: Buffer.from(t.bytes()).toString('hex'),
    floats: ['F32', 'F16', 'BF16', 'F64'].includes(t.dtype) ? Array.from(t.toFloat32()) : null,
  }));
}

/** A pickle from opcodes, given as byte values and latin-1 strings. */
function pickle(...parts: (number | string)[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => (typeof p === 'number' ? [p] : [...p].map((c) => c.charCodeAt(0)))));
}
const u32 = (n: number) => String.fromCharCode(n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24);
const str = (s: string) => ['X', u32(s.length), s] as const; // BINUNICODE

describe('hostile checkpoints', () => {
  beforeAll(() => rmSync(MARKER, { force: true }));
  afterAll(() => expect(existsSync(MARKER), `${MARKER} exists: something ran`).toBe(false));

  it.each([
    ['hostile_os_system.pth', /^hostile_os_system\.pth: 'hostile_os_system\/data\.pkl': refusing global 'posix\.system': .*nothing in it is ever imported or run$/],
    ['hostile_os_system_protocol4.pth', /: refusing global 'posix\.system'/], // through STACK_GLOBAL
    ['hostile_eval.pth', /: refusing global '__builtin__\.eval'/], // protocol 2 spells builtins __builtin__
    ['hostile_legacy.pth', /^hostile_legacy\.pth: object pickle: refusing global 'posix\.system'/],
    ['whole_model.pth', /refusing global 'torch\.nn\.modules\.container\.Sequential'.*save model\.state_dict\(\) instead\)$/],
    ['numpy_array.pth', /refusing global 'numpy\.core\.multiarray\._reconstruct'/],
  ])('%s is refused, naming the global', (name, message) => {
    expect(errorOf(() => readAll(fixtureBytes(name), name)).message).toMatch(message);
  });

  it.each([
    ['os\nsystem\n', 'os.system'],
    ['builtins\neval\n', 'builtins.eval'],
    ['builtins\nexec\n', 'builtins.exec'],
    ['subprocess\nPopen\n', 'subprocess.Popen'],
    ['torch\nload\n', 'torch.load'],
    ['torch._utils\n_rebuild_device_tensor_from_numpy\n', 'torch._utils._rebuild_device_tensor_from_numpy'],
  ])('GLOBAL %j is refused as %s', (global, qualified) => {
    const bytes = pickle(0x80, 2, 'c', global, ...str('touch x'), 0x85, 'R', '.');
    expect(errorOf(() => loadTorchPickle(bytes, 0, 'test.pkl')).message).toContain(`test.pkl: refusing global '${qualified}'`);
  });

  it.each([
    ['STACK_GLOBAL', pickle(0x80, 4, 0x8c, 5, 'posix', 0x8c, 6, 'system', 0x93, '.'), /refusing global 'posix\.system'/],
    ['INST (protocol 0 instantiation)', pickle('i', 'os\nsystem\n', '.'), /byte 0: unsupported pickle opcode 0x69 \('i'\)/],
    ['OBJ', pickle('(', 'o', '.'), /unsupported pickle opcode 0x6f \('o'\)/],
    ['NEWOBJ', pickle(0x80, 2, 'c', 'collections\nOrderedDict\n', ')', 0x81, '.'), /byte 28: NEWOBJ of collections\.OrderedDict, which is not an allowed class/],
    ['REDUCE of a storage class', pickle('c', 'torch\nFloatStorage\n', ')', 'R', '.'), /REDUCE calls a StorageType, which is not an allowed callable/],
    ['REDUCE of a string', pickle(...str('os.system'), ')', 'R', '.'), /REDUCE calls a str/],
    ['REDUCE with a list of arguments', pickle('c', 'collections\nOrderedDict\n', ']', 'R', '.'), /arguments for collections\.OrderedDict are a list, not a tuple/],
    ['an unknown persistent id', pickle('N', 'Q', '.'), /unsupported persistent id \(None\)/],
    ['a storage key with a newline', pickle('(', ...str('storage'), 'c', 'torch\nFloatStorage\n', ...str('a\nb'), ...str('cpu'), 'J', u32(-1), 't', 'Q', '.'),
      /: storage 'a\\u000ab' has -1 elements$/],
    ['BUILD of a list', pickle(']', '}', 'b', '.'), /BUILD of a list from a dict is not supported/],
    ['a truncated string', pickle(0x80, 2, 'X', u32(100), 'abc'), /byte 2: the pickle is truncated/],
    ['a missing STOP', pickle(0x80, 2, 'N'), /byte 3: the pickle is truncated/],
    ['stack underflow', pickle('R'), /byte 0: stack underflow/],
    ['popping below a MARK', pickle('N', '(', 's', '.'), /stack underflow/],
    ['two values at STOP', pickle('N', 'N', '.'), /STOP with 2 values and 0 open MARKs/],
    ['an unknown memo entry', pickle('h', 5, '.'), /memo entry 5 was never stored/],
    ['a protocol from the future', pickle(0x80, 6, 'N', '.'), /pickle protocol 6 is newer than 5/],
    ['invalid UTF-8', pickle(0x8c, 2, 0xc3, 0x28, '.'), /a string is not valid UTF-8/],
    ['a GLOBAL cut short', pickle('c', 'os'), /byte 0: the pickle is truncated/],
    ['a GLOBAL without a newline', pickle('c', 'x'.repeat(600), '\n'), /GLOBAL without a newline in the next 512 bytes/],
  ])('a pickle with %s fails cleanly', (_, bytes, message) => {
    expect(errorOf(() => loadTorchPickle(bytes, 0, 'test.pkl')).message).toMatch(message);
  });

  const tensorPickle = (storageNumel: number, offset: number, size: number[], stride: number[]) =>
    pickle(
      'c', 'torch._utils\n_rebuild_tensor_v2\n', '(',
      '(', ...str('storage'), 'c', 'torch\nFloatStorage\n', ...str('0'), ...str('cpu'), 'K', storageNumel, 't', 'Q',
      'K', offset, '(', ...size.flatMap((d) => ['K', d]), 't', '(', ...stride.flatMap((d) => ['K', d]), 't', 0x89, '}', 't', 'R', '.',
    );

  it.each([
    ['a view past the end of its storage', tensorPickle(4, 2, [3], [1]), /\(offset 2, size \[3\], stride \[1\]\) reaches past the storage's 4 elements/],
    ['strides past the end of its storage', tensorPickle(6, 0, [2, 3], [4, 1]), /reaches past the storage's 6 elements/],
    ['an expanded view', tensorPickle(3, 0, [4, 3], [0, 1]), /has 12 elements, more than its storage's 3/],
    ['strides of the wrong rank', tensorPickle(6, 0, [2, 3], [3]), /strides that do not match its 2 dimensions/],
  ])('a tensor with %s is refused', (_, bytes, message) => {
    expect(errorOf(() => loadTorchPickle(bytes, 0, 'test.pkl')).message).toMatch(message);
  });

  it('accepts a tensor that exactly fills its storage, through any strides', () => {
    const { value } = loadTorchPickle(tensorPickle(6, 0, [3, 2], [1, 3]), 0, 'test.pkl');
    expect(value).toMatchObject({ offset: 0, shape: [3, 2], stride: [1, 3] });
  });
});

describe('broken checkpoints', () => {
  const dtypes = fixtureBytes('dtypes.pth');
  /** Where a zip entry's bytes start in the file. */
  const offsetOf = (file: Uint8Array, entry: string) => readZip(file, 'x').get(entry)!.read().byteOffset - file.byteOffset;
  const patched = (file: Uint8Array, at: number, ...values: number[]) => {
    const copy = file.slice();
    copy.set(values, at);
    return copy;
  };

  it.each([
    ['missing_storage.pth', /^missing_storage\.pth: storage '3' is missing: there is no record 'dtypes\/data\/3'$/],
    ['storage_size_mismatch.pth', /^storage_size_mismatch\.pth: storage '0' holds 28 bytes, but a FloatStorage of 6 elements needs 24$/],
    ['deflated.pth', /^deflated\.pth: zip entry 'dtypes\/data\.pkl' is deflated \(method 8\): torch\.save stores entries uncompressed — was the file re-zipped\?/],
    ['expanded_view.pth', /has 12 elements, more than its storage's 3 \(an expanded view\? save \.clone\(\) instead\)$/],
  ])('%s fails with a clear error', (name, message) => {
    expect(errorOf(() => readAll(fixtureBytes(name), name)).message).toMatch(message);
  });

  it('truncated zips fail at any length', () => {
    for (const length of [0, 3, 4, 30, 100, dtypes.length >> 1, dtypes.length - 23, dtypes.length - 22, dtypes.length - 1]) {
      expect(errorOf(() => readAll(dtypes.subarray(0, length), 'cut.pth')).message, `length ${length}`).toMatch(
        length < 4 ? /^cut\.pth: neither a PyTorch checkpoint nor safetensors/ : /^cut\.pth: corrupt zip: no end-of-central-directory record \(the file is truncated or not a zip\)$/,
      );
    }
  });

  it('a corrupt central directory fails', () => {
    const directory = Buffer.from(dtypes).indexOf('PK\x01\x02', 0, 'latin1');
    expect(errorOf(() => readAll(patched(dtypes, directory, 0x50, 0x4b, 0, 0), 'cd.pth')).message).toMatch(
      /^cd\.pth: corrupt zip: central directory entry 0 at byte \d+ is missing or damaged$/,
    );
    // A local header offset that points elsewhere:
    expect(errorOf(() => readAll(patched(dtypes, directory + 42, 1, 0, 0, 0), 'cd.pth')).message).toMatch(
      /^cd\.pth: corrupt zip: entry 'dtypes\/data\.pkl': has no local header at byte 1$/,
    );
    // A size that runs into the directory:
    expect(errorOf(() => readAll(patched(dtypes, directory + 20, 0xff, 0xff, 0, 0, 0xff, 0xff, 0, 0), 'cd.pth')).message).toMatch(
      /run into the central directory .*truncated\?$/,
    );
  });

  it('damaged bytes fail their CRC-32 check', () => {
    const data0 = offsetOf(dtypes, 'dtypes/data/0');
    expect(errorOf(() => readAll(patched(dtypes, data0 + 5, dtypes[data0 + 5] ^ 1), 'crc.pth')).message).toBe(
      "crc.pth: corrupt zip: entry 'dtypes/data/0': CRC-32 mismatch: its bytes are damaged",
    );
    const pkl = offsetOf(dtypes, 'dtypes/data.pkl');
    expect(errorOf(() => readAll(patched(dtypes, pkl + 40, 0x21), 'crc.pth')).message).toMatch(/'dtypes\/data\.pkl': CRC-32 mismatch/);
  });

  it('legacy files that are cut short or padded fail', () => {
    const legacy = fixtureBytes('dtypes_legacy.pth');
    expect(errorOf(() => readAll(legacy.subarray(0, legacy.length - 1), 'old.pth')).message).toMatch(
      /^old\.pth: legacy torch\.save file: (truncated before storage '\d+'|storage '\d+' of \d+ elements runs past the end of the file)$/,
    );
    expect(errorOf(() => readAll(legacy.subarray(0, 200), 'old.pth')).message).toMatch(/^old\.pth: (sys_info|object pickle): byte \d+: the pickle is truncated$/);
    const padded = new Uint8Array(legacy.length + 3);
    padded.set(legacy);
    expect(errorOf(() => readAll(padded, 'old.pth')).message).toBe('old.pth: legacy torch.save file: 3 bytes after the last storage');
  });

  it('tar-format and unknown files get a clear error', () => {
    const tar = new Uint8Array(1024);
    tar.set(Buffer.from('ustar'), 257);
    expect(errorOf(() => parseWeights(tar, 'ancient.pth')).message).toBe(
      'ancient.pth: a tar-format checkpoint (PyTorch 0.3 or older) is not supported; re-save it with a recent PyTorch: torch.save(torch.load(old), new)',
    );
    expect(errorOf(() => parseWeights(Buffer.from('hello, world'), 'hello.txt')).message).toBe(
      'hello.txt: neither a PyTorch checkpoint nor safetensors (unrecognised first bytes)',
    );
  });
});

describe('fuzz: mutated checkpoints give a clean error or the right tensors', () => {
  const ITEMSIZE: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

  function mutate(file: Uint8Array, next: () => number): Uint8Array {
    const at = Math.floor(next() * file.length);
    const copy = file.slice();
    switch (Math.floor(next() * 5)) {
      case 0: // flip bits in a few bytes
        for (let i = 0, n = 1 + Math.floor(next() * 4); i < n; i++) copy[Math.floor(next() * copy.length)] ^= 1 << Math.floor(next() * 8);
        return copy;
      case 1: // a boundary value over four bytes
        copy.set(new Uint8Array(new Uint32Array([[0, 1, 0x7fffffff, 0xffffffff, file.length][Math.floor(next() * 5)]]).buffer).subarray(0, Math.min(4, file.length - at)), at);
        return copy;
      case 2: // truncate
        return file.subarray(0, at);
      case 3: // insert random bytes
        return Uint8Array.from([...file.subarray(0, at), ...Array.from({ length: 1 + Math.floor(next() * 16) }, () => Math.floor(next() * 256)), ...file.subarray(at)]);
      default: // delete a range
        return Uint8Array.from([...file.subarray(0, at), ...file.subarray(at + 1 + Math.floor(next() * 16))]);
    }
  }

  it.each([
    ['dtypes.pth', 1],
    ['views.pth', 2],
    ['dtypes_zip64.pth', 3],
    ['views_big_endian.pth', 4],
    ['checkpoint_dataparallel.pth', 5],
    ['dtypes_legacy.pth', 6],
    ['views_legacy.pth', 7],
  ])('%s, 60 mutations (seed %i)', (name, seed) => {
    const file = fixtureBytes(name);
    const original = readAll(file, 'fuzz');
    const legacy = name.includes('legacy');
    const next = seededRandom(seed);
    const started = performance.now();
    const outcomes = { errors: 0, same: 0, other: 0 };
    for (let i = 0; i < 60; i++) {
      const mutated = mutate(file, next);
      let result: ReturnType<typeof readAll>;
      try {
        result = readAll(mutated, 'fuzz');
      } catch (e) {
        expect((e as Error).constructor, `mutation ${i}: ${(e as Error).stack}`).toBe(Error);
        expect((e as Error).message).toMatch(/^fuzz: [^\n]+$/);
        outcomes.errors++;
        continue;
      }
      if (JSON.stringify(result) === JSON.stringify(original)) {
        outcomes.same++;
      } else {
        // Zip entries are CRC-checked, so a zip reads back unchanged or not at all; the legacy format
        // has no checksum, so a flipped data byte changes a value, but never the sizes.
        expect(legacy, `mutation ${i} changed the tensors of a zip checkpoint`).toBe(true);
        for (const t of result) expect(t.bytes.length / 2).toBe(t.shape.reduce((n, d) => n * d, 1) * ITEMSIZE[t.dtype]);
        outcomes.other++;
      }
    }
    expect(outcomes.errors).toBeGreaterThan(20);
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});
