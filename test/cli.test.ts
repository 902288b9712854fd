// The `resnet50` command end to end, as a user runs it (a child process through bin/resnet50.js).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseNpy, npyToTensor, serializeNpy } from '../src/tensor/npy.ts';
import { cli, FIXTURES, expectClose, fixture } from './helpers.ts';

const MODEL = join(FIXTURES, 'resnet50_div8');
const WEIGHTS = join(MODEL, 'weights.safetensors');
const X2 = join(MODEL, 'input_b2_64x64.npy');


const readOut = (path: string) => npyToTensor(parseNpy(readFileSync(path), path));

describe('resnet50 CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'resnet50-cli-'));

  it('classify --device cpu writes logits matching PyTorch and prints the top-k', async () => {
    const out = join(dir, 'logits.npy');
    const r = await cli('classify', X2, '--weights', WEIGHTS, '--device', 'cpu', '--top', '3', '--out', out);
    expect(r.stderr).toMatch(/cpu: 2 image\(s\) in [\d.]+ s/);
    expect(r.code).toBe(0);
    expectClose(readOut(out), fixture('resnet50_div8/input_b2_64x64.logits.npy'), 1e-5, 'logits');
    expect(r.stdout.split('\n').filter((l) => /%\s+\d+\s+class \d+/.test(l)).length).toBe(6);
    expect(r.stdout).toContain(`${X2}[0]`);
  });

  it('embed keeps input order across files, batches and image sizes, and writes JSON and JSONL', async () => {
    const one = join(dir, 'one.npy');
    const x2 = fixture('resnet50_div8/input_b2_64x64.npy');
    writeFileSync(one, serializeNpy({ shape: [3, 64, 64], dtype: 'f32', data: x2.data.slice(3 * 64 * 64) }));
    const x1 = join(MODEL, 'input_b1_45x61.npy');
    const out = join(dir, 'features.json');
    const r = await cli('embed', one, X2, x1, '--weights', WEIGHTS, '--device', 'cpu', '--batch', '2', '--out', out);
    expect(r.code).toBe(0);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(json.shape).toEqual([4, 256]);
    expect(json.items.map((i: { input: string }) => i.input)).toEqual([one, `${X2}[0]`, `${X2}[1]`, x1]);
    const f2 = fixture('resnet50_div8/input_b2_64x64.features.npy').data;
    const f1 = fixture('resnet50_div8/input_b1_45x61.features.npy').data;
    const want = [f2.subarray(256), f2.subarray(0, 256), f2.subarray(256), f1];
    json.items.forEach((item: { features: number[] }, i: number) => {
      for (let k = 0; k < 256; k++) expect(Math.abs(item.features[k] - want[i][k])).toBeLessThan(1e-4);
    });
    const lines = join(dir, 'features.jsonl');
    expect((await cli('embed', one, x1, '--weights', WEIGHTS, '--device', 'cpu', '--out', lines, '--quiet')).code).toBe(0);
    const items = readFileSync(lines, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(items.map((i) => i.input)).toEqual([one, x1]);
    expect(items[1].features).toEqual(json.items[3].features);
  });

  it('.npy output has a sidecar listing the inputs in row order', async () => {
    const out = join(dir, 'emb-sidecar.npy');
    expect((await cli('embed', X2, '--weights', WEIGHTS, '--device', 'cpu', '--out', out)).code).toBe(0);
    expect(readOut(out).shape).toEqual([2, 256]);
    expect(readFileSync(join(dir, 'emb-sidecar.inputs.txt'), 'utf8')).toBe(`${X2}[0]\n${X2}[1]\n`);
  });

  it('skips an unreadable file, processes the rest and exits 1', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'resnet50-cli-folder-'));
    writeFileSync(join(folder, 'a.npy'), readFileSync(X2));
    writeFileSync(join(folder, 'b.png'), 'not a png');
    const out = join(dir, 'partial.json');
    const r = await cli('classify', folder, '--weights', WEIGHTS, '--device', 'cpu', '--out', out);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/skipped .*b\.png: cannot decode image/);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(json.items.map((i: { input: string }) => i.input)).toEqual([`${join(folder, 'a.npy')}[0]`, `${join(folder, 'a.npy')}[1]`]);
    expect(json.items[0].top).toHaveLength(5);
  });

  it('runs on WebGPU by default, matching PyTorch, in f32 and f16', async () => {
    for (const [precision, tol] of [['f32', 1e-4], ['f16', 1e-2]] as const) {
      const out = join(dir, `gpu-${precision}.npy`);
      const r = await cli('classify', X2, '--weights', WEIGHTS, '--precision', precision, '--out', out);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`webgpu \\(.*, ${precision}\\): 2 image`));
      expectClose(readOut(out), fixture('resnet50_div8/input_b2_64x64.logits.npy'), tol, `logits ${precision}`);
    }
  });

  it('embeds with an fc-less module.-prefixed model; classify refuses it', async () => {
    const nofc = join(MODEL, 'weights_nofc.safetensors');
    const out = join(dir, 'emb.npy');
    expect((await cli('embed', X2, '--weights', nofc, '--device', 'cpu', '--out', out)).code).toBe(0);
    expect(readOut(out).shape).toEqual([2, 256]);
    const r = await cli('classify', X2, '--weights', nofc, '--device', 'cpu');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/has no classifier \(fc\); use 'embed'/);
  });

  it('errors are one line, non-zero, without a stack trace, and leave existing output intact', async () => {
    const out = join(dir, 'keep.npy');
    writeFileSync(out, 'precious');
    const bad = join(dir, 'bad.safetensors');
    writeFileSync(bad, Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{"a"')]));
    const wrongShape = join(dir, 'wrong.npy');
    writeFileSync(wrongShape, serializeNpy({ shape: [1, 4, 40, 40], dtype: 'f32', data: new Float32Array(6400) }));
    const cases: [string[], RegExp][] = [
      [['embed', join(dir, 'nope.npy'), '--weights', WEIGHTS], /cannot read input .*nope\.npy: no such file/],
      [['embed', X2, '--weights', join(dir, 'nope.safetensors')], /cannot read weights .*nope\.safetensors: no such file/],
      [['embed', X2, '--weights', bad, '--device', 'cpu', '--out', out], /bad\.safetensors: /],
      [['embed', wrongShape, '--weights', WEIGHTS, '--device', 'cpu', '--out', out], /wrong\.npy: expected a preprocessed NCHW tensor \[N, 3, H, W\]/],
      [['embed', X2, '--weights', WEIGHTS, '--device', 'tpu'], /--device must be webgpu or cpu, got 'tpu'/],
      [['embed', X2, '--weights', WEIGHTS, '--out', join(dir, 'x.csv')], /--out must end in \.npy, \.json or \.jsonl/],
      [['embed', X2, '--weights', WEIGHTS, '--bogus'], /Unknown option '--bogus'/],
      [['frobnicate'], /unknown command 'frobnicate'/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr, args.join(' ')).not.toMatch(/\n\s+at /);
    }
    expect(readFileSync(out, 'utf8')).toBe('precious');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(existsSync(join(dir, 'x.csv'))).toBe(false);
  });

  it('inputs smaller than 32×32 are refused', async () => {
    const small = join(dir, 'small.npy');
    writeFileSync(small, serializeNpy({ shape: [1, 3, 31, 40], dtype: 'f32', data: new Float32Array(3 * 31 * 40) }));
    const r = await cli('embed', small, '--weights', WEIGHTS, '--device', 'cpu');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/at least 32×32, got 31×40/);
  });
});
