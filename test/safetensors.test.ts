import { describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../src/weights/safetensors.ts';
import { f32ToF16Bits } from '../src/tensor/tensor.ts';

/** A file from header text and data: the header length is the text's unless `declaredLength` says otherwise. */
function assemble(headerText: string, data: Uint8Array | number = 0, declaredLength?: number): Uint8Array {
  const header = new TextEncoder().encode(headerText);
  const dataBytes = typeof data === 'number' ? new Uint8Array(data) : data;
  const file = new Uint8Array(8 + header.length + dataBytes.length);
  new DataView(file.buffer).setBigUint64(0, BigInt(declaredLength ?? header.length), true);
  file.set(header, 8);
  file.set(dataBytes, 8 + header.length);
  return file;
}

/** One header entry's JSON text. */
function entry(name: string, dtype: string, shape: unknown, offsets: unknown): string {
  return `${JSON.stringify(name)}:${JSON.stringify({ dtype, shape, data_offsets: offsets })}`;
}

function bytesOf(array: Float32Array | Float64Array | Uint16Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

function headerOf(file: Uint8Array): { length: number; text: string } {
  const length = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  return { length, text: new TextDecoder().decode(file.subarray(8, 8 + length)) };
}

describe('safetensors round trip', () => {
  const weights = new Float32Array([1, -2.5, 3.25, 0, 1e-3, 65504]);
  const half = f32ToF16Bits(new Float32Array([0.5, -1, 2048, 0.099975586]));
  const brain = new Uint16Array([0x3f80, 0xc020, 0x0000, 0x4049]); // 1, -2.5, 0, 3.140625
  const counter = new BigInt64Array([12345678901n]);
  const file = writeSafetensors(
    [
      { name: 'fc.weight', dtype: 'F32', shape: [2, 3], data: weights },
      { name: 'bn.num_batches_tracked', dtype: 'I64', shape: [], data: counter },
      { name: 'half', dtype: 'F16', shape: [4], data: half },
      { name: 'brain', dtype: 'BF16', shape: [2, 2], data: brain },
      { name: 'empty', dtype: 'F32', shape: [0, 3], data: new Float32Array(0) },
    ],
    { format: 'pt', note: 'round trip' },
  );
  const archive = readSafetensors(file, 'roundtrip.safetensors');

  it('keeps names, dtypes, shapes, values and metadata', () => {
    expect(archive.source).toBe('roundtrip.safetensors');
    expect(archive.metadata).toEqual({ format: 'pt', note: 'round trip' });
    expect([...archive.tensors.keys()].sort()).toEqual(['bn.num_batches_tracked', 'brain', 'empty', 'fc.weight', 'half']);
    const fc = archive.tensors.get('fc.weight')!;
    expect([fc.dtype, fc.shape]).toEqual(['F32', [2, 3]]);
    expect(fc.toFloat32()).toEqual(weights);
    expect(archive.tensors.get('half')!.toFloat32()).toEqual(new Float32Array([0.5, -1, 2048, 0.099975586]));
    expect(archive.tensors.get('brain')!.toFloat32()).toEqual(new Float32Array([1, -2.5, 0, 3.140625]));
    expect(archive.tensors.get('empty')!.shape).toEqual([0, 3]);
    expect(archive.tensors.get('empty')!.toFloat32()).toHaveLength(0);
    const counterEntry = archive.tensors.get('bn.num_batches_tracked')!;
    expect([counterEntry.dtype, counterEntry.shape]).toEqual(['I64', []]);
  });

  it('writes a space-padded header, largest elements first then by name, with the data back to back', () => {
    const { length, text } = headerOf(file);
    expect(length % 8).toBe(0);
    expect(text).toMatch(/^\{"__metadata__":\{"format":"pt","note":"round trip"\},"bn\.num_batches_tracked":.*\} *$/);
    const names = Object.keys(JSON.parse(text)).slice(1);
    expect(names).toEqual(['bn.num_batches_tracked', 'empty', 'fc.weight', 'brain', 'half']);
    const offsets = JSON.parse(text)['bn.num_batches_tracked'].data_offsets;
    const stored = file.slice(8 + length + offsets[0], 8 + length + offsets[1]);
    expect(new BigInt64Array(stored.buffer)).toEqual(counter);
  });

  it('refuses to decode an I64 tensor as f32, naming it', () => {
    expect(() => archive.tensors.get('bn.num_batches_tracked')!.toFloat32()).toThrow(
      "roundtrip.safetensors: tensor 'bn.num_batches_tracked': I64 values cannot be read as f32",
    );
  });

  it('returns an aligned F32 tensor as a view of the file, not a copy', () => {
    const values = archive.tensors.get('fc.weight')!.toFloat32();
    expect(values.buffer).toBe(file.buffer);
  });

  it('matches the reference writer byte for byte', () => {
    // Expected bytes from the Rust crate's own serialisation tests (test_serialization, test_empty).
    const data = new Float32Array([0, 1, 2, 3, 4, 5]);
    const header = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    expect(writeSafetensors([{ name: 'attn.0', dtype: 'F32', shape: [1, 2, 3], data }])).toEqual(assemble(header, bytesOf(data)));
    expect(writeSafetensors([])).toEqual(assemble('{}      '));
    expect(writeSafetensors([], { framework: 'pt' })).toEqual(assemble('{"__metadata__":{"framework":"pt"}}     '));
  });

  it('reads an empty archive with empty metadata', () => {
    const empty = readSafetensors(writeSafetensors([]));
    expect(empty.tensors.size).toBe(0);
    expect(empty.metadata).toEqual({});
    expect(empty.source).toBe('<memory>');
  });
});

describe('safetensors decoding', () => {
  it('decodes F32 and F16 data that is not aligned in the file', () => {
    const f32 = new Float32Array([1.5, -7, 1e20]);
    const f16 = f32ToF16Bits(new Float32Array([0.25, -3]));
    // A 3-byte unpadded header suffix puts the data at an odd address.
    const header = `{${entry('a', 'F32', [3], [0, 12])},${entry('b', 'F16', [2], [12, 16])}}`;
    const padded = header + ' '.repeat(header.length % 2 === 0 ? 1 : 0);
    const file = assemble(padded, new Uint8Array([...bytesOf(f32), ...bytesOf(f16)]));
    expect((8 + padded.length) % 2).toBe(1);
    const archive = readSafetensors(file);
    const a = archive.tensors.get('a')!.toFloat32();
    expect(a).toEqual(f32);
    expect(a.buffer).not.toBe(file.buffer);
    expect(archive.tensors.get('b')!.toFloat32()).toEqual(new Float32Array([0.25, -3]));
  });

  it('converts F64 to f32', () => {
    const f64 = new Float64Array([1.5, -2.25, 0.1, 1e300]);
    const file = assemble(`{${entry('x', 'F64', [2, 2], [0, 32])}}`.padEnd(64, ' '), bytesOf(f64));
    expect(readSafetensors(file).tensors.get('x')!.toFloat32()).toEqual(new Float32Array([1.5, -2.25, 0.1, Infinity]));
  });

  it('refuses to decode F8 values', () => {
    const file = assemble(`{${entry('q', 'F8_E4M3', [4], [0, 4])}}`, 4);
    expect(() => readSafetensors(file, 'q.safetensors').tensors.get('q')!.toFloat32()).toThrow(
      "q.safetensors: tensor 'q': F8_E4M3 values cannot be read as f32",
    );
  });
});

describe('safetensors validation', () => {
  const w = (offsets: [number, number] = [0, 16]) => entry('w', 'F32', [4], offsets);
  const lengthOnly = (n: number) => assemble('', 0, n);
  const cases: [string, Uint8Array, RegExp | string][] = [
    ['too short', new Uint8Array(5), 'file of 5 bytes is too short'],
    ['header length over 100 MB', lengthOnly(100_000_001), 'header length 100000001 exceeds the limit'],
    ['header length past the end', assemble('{}', 0, 1000), 'header length 1000 runs past the end of the file (2 bytes'],
    ['invalid UTF-8', assemble('{"\xff": 1}').map((b) => (b === 0xc3 ? 0xff : b)), 'header is not valid UTF-8'], // ÿ is C3 BF
    ['not JSON', assemble('{"w": '), 'header is not valid JSON'],
    ['a JSON array', assemble('[1, 2]'), 'header is not a JSON object: it starts with "[1, 2]"'],
    ['leading whitespace', assemble(' {}'), 'header is not a JSON object'],
    ['a duplicate name', assemble(`{${w()},${w()}}`, 16), "'w' appears twice in the header"],
    ['an entry that is not an object', assemble('{"w": 3}'), "tensor 'w': entry is not an object"],
    ['an unknown dtype', assemble(`{${entry('w', 'F128', [4], [0, 16])}}`, 16), `tensor 'w': unknown dtype "F128"`],
    ['a missing dtype', assemble('{"w": {"shape": [], "data_offsets": [0, 0]}}'), "tensor 'w': unknown dtype undefined"],
    ['a negative dimension', assemble(`{${entry('w', 'F32', [-1, 4], [0, 16])}}`, 16), "tensor 'w': shape [-1,4] is not"],
    ['a fractional dimension', assemble(`{${entry('w', 'F32', [1.5], [0, 16])}}`, 16), "tensor 'w': shape [1.5] is not"],
    ['a shape that is not a list', assemble(`{${entry('w', 'F32', 4, [0, 16])}}`, 16), "tensor 'w': shape 4 is not"],
    ['one offset', assemble(`{${entry('w', 'F32', [4], [16])}}`, 16), "tensor 'w': data_offsets [16] is not a pair"],
    ['offsets reversed', assemble(`{${w([16, 0])}}`, 16), "tensor 'w': data_offsets [16, 0) end before they begin"],
    [
      'a size mismatch',
      assemble(`{${entry('layer1.0.conv1.weight', 'F32', [4, 8], [0, 100])}}`, 100),
      "bad.safetensors: tensor 'layer1.0.conv1.weight': data_offsets [0, 100) hold 100 bytes but F32 [4, 8] needs 128",
    ],
    ['an absurd size', assemble(`{${entry('w', 'F64', [2 ** 40, 2 ** 20], [0, 8])}}`, 8), "tensor 'w': F64 [1099511627776, 1048576] is too large"],
    [
      'overlapping tensors',
      assemble(`{${entry('a', 'F32', [4], [0, 16])},${entry('b', 'F32', [4], [8, 24])}}`, 24),
      "tensor 'b' [8, 24) overlaps tensor 'a' [0, 16)",
    ],
    [
      'a hole between tensors',
      assemble(`{${entry('a', 'F32', [4], [0, 16])},${entry('b', 'F32', [4], [20, 36])}}`, 36),
      "hole of 4 bytes between tensor 'a' (ends at byte 16) and tensor 'b' (begins at byte 20)",
    ],
    ['a hole at the start', assemble(`{${w([4, 20])}}`, 20), "tensor 'w' begins at byte 4, leaving a hole"],
    ['data running past the file', assemble(`{${w()}}`, 8), "tensor 'w' ends at byte 16 but the data section holds only 8 bytes"],
    ['trailing bytes', assemble(`{${w()}}`, 20), "4 trailing bytes after the last tensor 'w'"],
    ['data but no tensors', assemble('{}', 8), '8 trailing bytes after the header'],
    ['a non-string metadata value', assemble('{"__metadata__": {"epoch": 3}}'), "__metadata__ entry 'epoch' is 3, not a string"],
    ['metadata that is not an object', assemble('{"__metadata__": ["pt"]}'), '__metadata__ is not an object of strings'],
  ];
  it.each(cases)('rejects %s', (_, file, message) => {
    expect(() => readSafetensors(file, 'bad.safetensors')).toThrow(message);
    expect(() => readSafetensors(file, 'bad.safetensors')).toThrow(/^bad\.safetensors: /);
  });

  it('treats escaped and plain spellings of a name as the same name', () => {
    const file = assemble(`{${w()},"\\u0077":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, 16);
    expect(() => readSafetensors(file)).toThrow("'w' appears twice");
  });

  it('does not mistake nested keys or string values for duplicate names', () => {
    const file = assemble(`{"__metadata__":{"w":"w","x":"{\\"w\\":1,"},${w()}}`, 16);
    expect(readSafetensors(file).metadata).toEqual({ w: 'w', x: '{"w":1,' });
    expect(() => readSafetensors(assemble('{"w": "x", "x": 3}'))).toThrow("tensor 'w': entry is not an object");
  });
});

describe('safetensors writer validation', () => {
  it('rejects data that does not match the shape, repeated names and mismatched array types', () => {
    const data = new Float32Array(4);
    expect(() => writeSafetensors([{ name: 'w', dtype: 'F32', shape: [2, 3], data }])).toThrow(
      "tensor 'w': shape [2, 3] needs 6 elements, data has 4",
    );
    expect(() =>
      writeSafetensors([
        { name: 'w', dtype: 'F32', shape: [4], data },
        { name: 'w', dtype: 'F32', shape: [4], data },
      ]),
    ).toThrow("tensor 'w': the name is used twice");
    expect(() => writeSafetensors([{ name: 'w', dtype: 'F16', shape: [4], data }])).toThrow('F16 data must be a Uint16Array');
    expect(() => writeSafetensors([{ name: '__metadata__', dtype: 'F32', shape: [4], data }])).toThrow('reserved');
  });
});
