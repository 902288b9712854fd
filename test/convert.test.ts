// `resnet50 convert` and `--weights x.pth`, end to end: the CLI as a child process, as a user runs it.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseWeights } from '../src/weights/load.ts';
import { readSafetensors } from '../src/weights/safetensors.ts';
import { npyToTensor, parseNpy } from '../src/tensor/npy.ts';
import { cli, FIXTURES, expectClose, fixture } from './helpers.ts';

const MODEL = join(FIXTURES, 'resnet50_div8');
const PTH = join(FIXTURES, 'pth');
const MODEL_PTH = join(PTH, 'resnet50_div8.pth');
const X2 = join(MODEL, 'input_b2_64x64.npy');
const dir = mkdtempSync(join(tmpdir(), 'resnet50-convert-'));


async function convert(input: string, output: string, ...options: string[]): Promise<string> {
  const r = await cli('convert', input, join(dir, output), ...options);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return join(dir, output);
}

/** The raw bytes of the .npy logits `classify --device cpu` writes for the two-image fixture batch. */
let runs = 0;
async function logits(weights: string): Promise<Buffer> {
  const out = join(dir, `logits${runs++}.npy`);
  const r = await cli('classify', X2, '--weights', weights, '--device', 'cpu', '--out', out);
  expect(r.code, r.stderr).toBe(0);
  return readFileSync(out);
}
const asTensor = (npy: Buffer) => npyToTensor(parseNpy(npy));

const tensorsOf = (path: string) => parseWeights(readFileSync(path), path).tensors;
const hex = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

describe('--weights x.pth and resnet50 convert', () => {
  it('classify through a .pth gives the logits of its safetensors twin and of its converted file, bit for bit', async () => {
    const converted = await convert(MODEL_PTH, 'model.safetensors');
    const [fromPth, fromFixture, fromConverted] = await Promise.all([logits(MODEL_PTH), logits(join(MODEL, 'weights.safetensors')), logits(converted)]);
    expect(fromPth.equals(fromFixture)).toBe(true);
    expect(fromPth.equals(fromConverted)).toBe(true);
    expectClose(asTensor(fromPth), fixture('resnet50_div8/input_b2_64x64.logits.npy'), 1e-5, 'logits');
  });

  it('convert keeps torchvision names and exact values, in a file the reference safetensors reader accepts', async () => {
    const r = await cli('convert', MODEL_PTH, join(dir, 'exact.safetensors'));
    expect(r.stdout).toMatch(new RegExp(`^${join(dir, 'exact.safetensors')}: 320 tensors \\(F32\\), \\d+ bytes\n$`));
    const file = readFileSync(join(dir, 'exact.safetensors'));
    const archive = readSafetensors(file, 'exact.safetensors'); // validated as the Rust reference does
    expect(archive.metadata).toEqual({ format: 'pt' });
    expect(Number(file.readBigUint64LE(0)) % 8).toBe(0); // the data section starts 8-aligned
    const ours = tensorsOf(join(dir, 'exact.safetensors'));
    const original = tensorsOf(join(MODEL, 'weights.safetensors'));
    expect([...ours.keys()].sort()).toEqual([...original.keys()].sort());
    for (const [name, entry] of original) {
      expect([ours.get(name)!.dtype, ours.get(name)!.shape], name).toEqual([entry.dtype, entry.shape]);
      expect(hex(ours.get(name)!.bytes()), name).toBe(hex(entry.bytes()));
    }
  });

  it('convert unwraps a training checkpoint and strips DataParallel prefixes', async () => {
    const ours = tensorsOf(await convert(join(PTH, 'checkpoint_dataparallel.pth'), 'checkpoint.safetensors'));
    const saved = tensorsOf(join(PTH, 'checkpoint_dataparallel.pth'));
    expect([...ours.keys()].sort()).toEqual([...saved.keys()].map((k) => k.replace(/^module\./, '')).sort());
    for (const [name, entry] of saved) expect(hex(ours.get(name.replace(/^module\./, ''))!.bytes()), name).toBe(hex(entry.bytes()));
    expect(ours.get('bn1.num_batches_tracked')!.dtype).toBe('I64');
  });

  it('--dtype f16 rounds as PyTorch does: the tensors of weights_f16.safetensors, and its logits', async () => {
    const half = await convert(MODEL_PTH, 'half.safetensors', '--dtype', 'f16');
    const ours = tensorsOf(half);
    for (const [name, entry] of tensorsOf(join(MODEL, 'weights_f16.safetensors'))) {
      expect([ours.get(name)!.dtype, hex(ours.get(name)!.bytes())], name).toEqual([entry.dtype, hex(entry.bytes())]);
    }
    const [fromHalf, fromFixture] = await Promise.all([logits(half), logits(join(MODEL, 'weights_f16.safetensors'))]);
    expect(fromHalf.equals(fromFixture)).toBe(true);
    expectClose(asTensor(fromHalf), fixture('resnet50_div8/input_b2_64x64.f16weights.logits.npy'), 1e-5, 'f16 logits');
  });

  it('--fold-bn writes <conv>.weight and <conv>.bias, no BatchNorm, and classifies bit-identically', async () => {
    const folded = await convert(MODEL_PTH, 'folded.safetensors', '--fold-bn');
    const names = [...tensorsOf(folded).keys()];
    expect(names).toHaveLength(53 * 2 + 2); // 53 convs, fc
    expect(names).toEqual(expect.arrayContaining(['conv1.weight', 'conv1.bias', 'layer2.0.downsample.0.bias', 'fc.weight', 'fc.bias']));
    expect(names.filter((n) => /bn|num_batches|downsample\.1/.test(n))).toEqual([]);
    expect((await logits(folded)).equals(await logits(MODEL_PTH))).toBe(true);
    // A folded file is already folded: converting it again changes nothing.
    const again = await convert(folded, 'folded-again.safetensors', '--fold-bn');
    expect(readFileSync(again).equals(readFileSync(folded))).toBe(true);
  });

  it('--fold-bn --dtype f16 loads and stays close to PyTorch', async () => {
    const folded = await convert(MODEL_PTH, 'folded-half.safetensors', '--fold-bn', '--dtype', 'f16');
    expect(tensorsOf(folded).get('conv1.bias')!.dtype).toBe('F16');
    // Rounding the folded weights to f16 costs about as much as rounding the unfolded ones (5.6e-4 here).
    expectClose(asTensor(await logits(folded)), fixture('resnet50_div8/input_b2_64x64.logits.npy'), 2e-3, 'folded f16 logits');
  });

  it('errors are one line with exit status 1, and leave no or the old output', async () => {
    const out = join(dir, 'keep.safetensors');
    writeFileSync(out, 'precious');
    const never = join(dir, 'never.safetensors');
    const cases: [string[], RegExp][] = [
      [['convert', join(PTH, 'hostile_os_system.pth'), never], /'hostile_os_system\/data\.pkl': refusing global 'posix\.system'/],
      [['convert', MODEL_PTH], /^resnet50: convert takes an input and an output file: resnet50 convert <in\.pth\|in\.safetensors>/],
      [['convert', MODEL_PTH, out, '--dtype', 'bf16'], /^resnet50: --dtype must be f32 or f16, got 'bf16'$/],
      [['convert', join(PTH, 'dtypes.pth'), out], /dtypes\.pth: tensor 'i32' is I32; only floating-point and I64 tensors can be converted$/],
      [['convert', join(PTH, 'checkpoint_dataparallel.pth'), out, '--fold-bn'], /checkpoint_dataparallel\.pth: not a ResNet-50 state dict \(/],
      [['convert', join(dir, 'nope.pth'), out], /^resnet50: cannot read weights .*nope\.pth: no such file$/],
      [['classify', X2, '--weights', join(PTH, 'hostile_eval.pth'), '--device', 'cpu'], /refusing global '__builtin__\.eval'/],
      [['classify', X2, '--weights', join(PTH, 'whole_model.pth'), '--device', 'cpu'], /save model\.state_dict\(\) instead\)$/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr.trimEnd(), args.join(' ')).toMatch(message);
      expect(r.stderr.trimEnd().split('\n'), args.join(' ')).toHaveLength(1);
    }
    expect(readFileSync(out, 'utf8')).toBe('precious');
    expect(existsSync(never)).toBe(false);
  });
});
