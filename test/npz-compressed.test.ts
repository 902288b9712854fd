// An .npz written by np.savez_compressed (every record deflated; scripts/make_compressed_npz.py re-saves
// the BiT stand-in of test/fixtures/arch that way): inflated with DecompressionStream('deflate-raw')
// to the same arrays and the same BiT outputs, through the library and the CLI; the synchronous reader
// says what to use instead; a damaged record is one error naming it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResNet50 } from '../src/node.ts';
import { readZip } from '../src/formats/zip/zip.ts';
import { parseWeights, parseWeightsAsync } from '../src/weights/load.ts';
import { npyToTensor, parseNpy } from '../src/tensor/npy.ts';
import { cli, expectClose, fixture, FIXTURES } from './helpers.ts';

const STORED = join(FIXTURES, 'arch', 'bit_r50x1_div16.npz');
let dir: string;
let compressed: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'resnet50-npz-'));
  compressed = join(dir, 'bit.compressed.npz');
  execFileSync('/usr/bin/python3', [join(import.meta.dirname, '..', 'scripts', 'make_compressed_npz.py'), STORED, compressed]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('np.savez_compressed', () => {
  it('every record is deflated, and inflates to the stored file’s arrays', async () => {
    const bytes = new Uint8Array(readFileSync(compressed));
    expect([...readZip(bytes, 'c.npz').values()].every((e) => e.method === 8)).toBe(true);
    expect(bytes.length).toBeLessThan(readFileSync(STORED).length);
    const a = await parseWeightsAsync(bytes, 'c.npz');
    const b = parseWeights(new Uint8Array(readFileSync(STORED)), 's.npz');
    expect([...a.tensors.keys()].sort()).toEqual([...b.tensors.keys()].sort());
    for (const [name, t] of b.tensors) {
      const u = a.tensors.get(name)!;
      expect([u.dtype, u.shape], name).toEqual([t.dtype, t.shape]);
      expect(Buffer.from(u.bytes()).equals(Buffer.from(t.bytes())), name).toBe(true);
    }
  });

  it('loads as BiT with PyTorch’s outputs (library and CLI)', async () => {
    const model = await ResNet50.load(compressed, { device: 'cpu' });
    expect(model.arch).toBe('bit-r50x1');
    expectClose(await model.embed(fixture('arch/bit_r50x1_div16.input.npy')), fixture('arch/bit_r50x1_div16.features.npy'), 1e-4, 'BiT features (deflated npz)');
    model.dispose();
    const out = join(dir, 'f.npy');
    const r = await cli('embed', join(FIXTURES, 'arch', 'bit_r50x1_div16.input.npy'), '--weights', compressed, '--device', 'cpu', '--quiet', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const got = npyToTensor(parseNpy(readFileSync(out), out), out);
    expectClose(got, fixture('arch/bit_r50x1_div16.features.npy'), 1e-4, 'BiT features (deflated npz, CLI)');
  });

  it('the synchronous reader names the async one; a damaged record is an error naming it', async () => {
    const bytes = new Uint8Array(readFileSync(compressed));
    expect(() => parseWeights(bytes, 'c.npz')).toThrow(/c\.npz: zip entry '.*\.npy' is deflated \(method 8\).*read by the async loaders: ResNet50\.load, loadWeightsAsync\)$/);
    const entry = [...readZip(bytes, 'c.npz').values()].find((e) => e.raw.length > 1000)!;
    const damaged = bytes.slice();
    damaged[entry.raw.byteOffset + (entry.raw.length >> 1)] ^= 0x55;
    await expect(parseWeightsAsync(damaged, 'bad.npz')).rejects.toThrow(new RegExp(`bad\\.npz: corrupt zip: entry '${entry.name}': (its deflate stream does not inflate|inflates to|CRC-32 mismatch)`));
    writeFileSync(join(dir, 'bad.npz'), damaged);
    const r = await cli('embed', join(FIXTURES, 'arch', 'bit_r50x1_div16.input.npy'), '--weights', join(dir, 'bad.npz'), '--device', 'cpu', '--quiet');
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/bad\.npz: corrupt zip: entry /);
  });
});
