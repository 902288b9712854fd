// The torch.save reader on files PyTorch wrote (test/fixtures/pth, from scripts/make_pth_fixtures.py):
// every tensor of every valid file read back bit for bit, views and shared storages included.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseWeights } from '../src/weights/load.ts';
import { f16BitsToF32 } from '../src/tensor/tensor.ts';
import { FIXTURES } from './helpers.ts';

const PTH = join(FIXTURES, 'pth');

interface ExpectedTensor {
  dtype: string;
  shape: number[];
  hex: string;
}
const expected: { files: Record<string, Record<string, ExpectedTensor>> } = JSON.parse(readFileSync(join(PTH, 'expected.json'), 'utf8'));

const open = (name: string, dir = PTH) => parseWeights(readFileSync(join(dir, name)), name);
const hex = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
const bitsOf = (values: Float32Array) => Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));

/** The f32 values of row-major little-endian bytes, decoded without the reader; null for integer dtypes. */
function floatsOf(bytes: Uint8Array, dtype: string): Float32Array | null {
  const buffer = new Uint8Array(bytes).buffer;
  switch (dtype) {
    case 'F32':
      return new Float32Array(buffer);
    case 'F64':
      return Float32Array.from(new Float64Array(buffer));
    case 'F16':
      return f16BitsToF32(new Uint16Array(buffer));
    case 'BF16':
      return new Float32Array(Uint32Array.from(new Uint16Array(buffer), (b) => b << 16).buffer);
    default:
      return null;
  }
}

describe.each(Object.keys(expected.files))('%s', (name) => {
  it('holds every tensor PyTorch saved, in order, bit for bit', () => {
    const archive = open(name);
    const want = expected.files[name];
    expect([...archive.tensors.keys()]).toEqual(Object.keys(want));
    for (const [key, tensor] of Object.entries(want)) {
      const entry = archive.tensors.get(key)!;
      expect([entry.dtype, entry.shape], key).toEqual([tensor.dtype, tensor.shape]);
      expect(hex(entry.bytes()), key).toBe(tensor.hex);
      const floats = floatsOf(Buffer.from(tensor.hex, 'hex'), tensor.dtype);
      if (floats) expect(bitsOf(entry.toFloat32()), key).toEqual(bitsOf(floats));
      else expect(() => entry.toFloat32()).toThrow(`${name}: tensor '${key}': ${tensor.dtype} values cannot be read as f32`);
    }
  });
});

describe('torch.save reader', () => {
  it('covers every format and layout the fixtures were made for', () => {
    expect(Object.keys(expected.files).sort()).toEqual([
      'checkpoint_dataparallel.pth', 'checkpoint_model_key.pth', 'dtypes.pth', 'dtypes_legacy.pth', 'dtypes_protocol4.pth',
      'dtypes_zip64.pth', 'views.pth', 'views_big_endian.pth', 'views_legacy.pth',
    ]);
    expect(Object.keys(expected.files['checkpoint_dataparallel.pth'])[0]).toBe('module.conv1.weight');
  });

  it('reads the reduced ResNet-50 exactly as its safetensors fixture holds it', () => {
    const pth = open('resnet50_div8.pth');
    const safetensors = open('weights.safetensors', join(FIXTURES, 'resnet50_div8'));
    expect([...pth.tensors.keys()]).toEqual([...safetensors.tensors.keys()]);
    for (const [name, entry] of safetensors.tensors) {
      const ours = pth.tensors.get(name)!;
      expect([ours.dtype, ours.shape], name).toEqual([entry.dtype, entry.shape]);
      expect(hex(ours.bytes()), name).toBe(hex(entry.bytes()));
    }
  });

  it('hands out contiguous F32 tensors as views of the file, and copies only strided views', () => {
    const file = readFileSync(join(PTH, 'resnet50_div8.pth'));
    const weight = parseWeights(file, 'resnet50_div8.pth').tensors.get('layer3.2.conv2.weight')!.toFloat32();
    expect(weight.buffer).toBe(file.buffer);
    expect(weight.length).toBe(32 * 32 * 3 * 3);

    const viewsFile = readFileSync(join(PTH, 'views.pth'));
    const views = parseWeights(viewsFile, 'views.pth').tensors;
    expect(views.get('row')!.toFloat32().buffer).toBe(viewsFile.buffer); // offset 12, contiguous
    expect(views.get('sliced')!.toFloat32().buffer).not.toBe(viewsFile.buffer); // strides (6, 2): gathered
  });

  it('reads two tensors that share a storage from the same bytes', () => {
    const views = open('views.pth').tensors;
    const a = views.get('shared_a')!.bytes();
    const b = views.get('shared_b')!.bytes();
    expect(a.buffer).toBe(b.buffer);
    expect(b.byteOffset - a.byteOffset).toBe(4 * 4);
  });

  it('copies unaligned F32 storages (the legacy format does not align them) instead of failing', () => {
    const file = readFileSync(join(PTH, 'views_legacy.pth'));
    const base = parseWeights(file, 'views_legacy.pth').tensors.get('base')!;
    expect(base.bytes().byteOffset % 4).not.toBe(0);
    expect(hex(new Uint8Array(base.toFloat32().buffer))).toBe(expected.files['views.pth'].base.hex);
  });
});
