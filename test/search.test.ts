// Similarity search: L2 normalisation and blocked top-k cosine search against a brute-force sort,
// the index and cache formats, the incremental plan, and `resnet50 index` / `resnet50 search` end to
// end on photo-like images made on the fly (test/search-images.ts) with the committed small model.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ResNet50 } from '../src/api.ts';
import { loadInput } from '../src/cli/inputs.ts';
import { seededNormal } from '../src/nn/random.ts';
import { nodeGpu } from '../src/platform/node-gpu.ts';
import {
  cosineTopK,
  decodeFeatureCache,
  GpuCosineIndex,
  decodeSearchIndex,
  encodeFeatureCache,
  encodeSearchIndex,
  l2Normalize,
  NotThisFormatError,
  planReuse,
  type SearchIndex,
} from '../src/search/index.ts';
import { loadWeights } from '../src/weights/load.ts';
import { readSafetensors, writeSafetensors } from '../src/weights/safetensors.ts';
import { FIXTURES } from './helpers.ts';
import { writePhoto, writeVariant } from './search-images.ts';

const BIN = join(import.meta.dirname, '..', 'bin', 'resnet50.js');
const WEIGHTS = join(FIXTURES, 'resnet50_div8', 'weights.safetensors');
const WEIGHTS_F16 = join(FIXTURES, 'resnet50_div8', 'weights_f16.safetensors');

async function cli(args: string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { cwd });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

function randomMatrix(rows: number, dim: number, seed: number): Float32Array {
  const normal = seededNormal(seed);
  return Float32Array.from({ length: rows * dim }, normal);
}

/** Brute force: every score in double precision, sorted (score desc, row asc). */
function bruteForce(index: Float32Array, rows: number, query: Float32Array, dim: number, k: number) {
  const norm = (a: Float32Array, o: number) => Math.sqrt(Array.from(a.subarray(o, o + dim)).reduce((s, v) => s + v * v, 0));
  const qn = norm(query, 0);
  const scored = Array.from({ length: rows }, (_, r) => {
    let d = 0;
    for (let j = 0; j < dim; j++) d += index[r * dim + j] * query[j];
    const den = norm(index, r * dim) * qn;
    return { index: r, score: den > 0 ? d / den : 0 };
  });
  return scored.sort((a, b) => b.score - a.score || a.index - b.index).slice(0, k);
}

describe('search core', () => {
  it('src/search imports nothing but its own files and the core (no Node modules, no packages)', () => {
    const dirPath = join(import.meta.dirname, '..', 'src', 'search');
    for (const f of readdirSync(dirPath)) {
      const code = readFileSync(join(dirPath, f), 'utf8');
      for (const m of code.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
        expect(m[1], `${f} imports ${m[1]}`).toMatch(/^\.\/|^\.\.\/(weights|tensor)\/|^\.\.\/kernels\/webgpu\/shaders\.gen\.ts$/);
      }
      expect(code, f).not.toMatch(/\bprocess\.|\bBuffer\b|require\(/);
    }
  });

  it('l2Normalize gives unit rows, leaves zero rows, works in place', () => {
    const x = randomMatrix(5, 7, 1);
    x.fill(0, 14, 21); // row 2 is zero
    const y = l2Normalize(x, 5, 7);
    for (let r = 0; r < 5; r++) {
      const n = Math.hypot(...y.subarray(r * 7, r * 7 + 7));
      expect(n).toBeCloseTo(r === 2 ? 0 : 1, 6);
    }
    expect(y[0] / x[0]).toBeCloseTo(y[1] / x[1], 6);
    const z = l2Normalize(x, 5, 7, x);
    expect(z).toBe(x);
    expect(Array.from(z)).toEqual(Array.from(y));
    expect(() => l2Normalize(x, 4, 7)).toThrow(/\[4, 7\] matrix needs 28 values, got 35/);
  });

  it('cosineTopK matches a brute-force sort for any tiling, caps k, breaks ties by row', () => {
    const rows = 301;
    const dim = 37;
    const index = randomMatrix(rows, dim, 2);
    const queries = randomMatrix(11, dim, 3);
    for (const [blockRows, blockQueries] of [[1, 1], [7, 3], [64, 8], [1000, 100]]) {
      for (const k of [1, 5, 50]) {
        const got = cosineTopK({ data: index, rows, dim }, { data: queries, rows: 11, dim }, k, { blockRows, blockQueries });
        got.forEach((list, q) => {
          const want = bruteForce(index, rows, queries.subarray(q * dim, (q + 1) * dim), dim, k);
          expect(list.map((n) => n.index)).toEqual(want.map((n) => n.index));
          list.forEach((n, i) => expect(n.score).toBeCloseTo(want[i].score, 6));
        });
      }
    }
    // normalized: the same ranking on unit rows
    const unit = l2Normalize(index, rows, dim);
    const a = cosineTopK({ data: unit, rows, dim }, { data: queries.subarray(0, dim), rows: 1, dim }, 10, { normalized: true })[0];
    const b = cosineTopK({ data: index, rows, dim }, { data: queries.subarray(0, dim), rows: 1, dim }, 10)[0];
    expect(a.map((n) => n.index)).toEqual(b.map((n) => n.index));
    // k above N; ties (duplicate rows) in row order; a zero query scores 0 everywhere
    const dup = new Float32Array([1, 0, 0, 1, 1, 0, 2, 0]);
    const r = cosineTopK({ data: dup, rows: 4, dim: 2 }, { data: new Float32Array([3, 0, 0, 0]), rows: 2, dim: 2 }, 10);
    expect(r[0].map((n) => n.index)).toEqual([0, 2, 3, 1]);
    expect(r[0].map((n) => n.score)).toEqual([1, 1, 1, 0]);
    expect(r[1].map((n) => [n.index, n.score])).toEqual([[0, 0], [1, 0], [2, 0], [3, 0]]);
    expect(() => cosineTopK({ data: dup, rows: 4, dim: 2 }, { data: new Float32Array(3), rows: 1, dim: 3 }, 1)).toThrow(/2-d embeddings, the queries are 3-d/);
    expect(() => cosineTopK({ data: dup, rows: 4, dim: 2 }, { data: new Float32Array(2), rows: 1, dim: 2 }, 0)).toThrow(/k must be a positive integer/);
  });

  it('GpuCosineIndex (WGSL scores, chunked index) agrees with cosineTopK', async () => {
    for (const [rows, dim, maxChunkRows] of [[1000, 37, 128], [333, 64, undefined], [5, 3, 2]] as const) {
      const index = randomMatrix(rows, dim, 10 + dim);
      const queries = randomMatrix(13, dim, 20 + dim);
      queries.fill(0, 0, dim); // a zero query scores 0 everywhere
      const gpu = await GpuCosineIndex.create(nodeGpu(), { data: index, rows, dim }, { maxChunkRows });
      const k = 9;
      const got = await gpu.search({ data: queries, rows: 13, dim }, k);
      const again = await gpu.search({ data: queries.subarray(dim, 3 * dim), rows: 2, dim }, 5000);
      gpu.dispose();
      const want = cosineTopK({ data: index, rows, dim }, { data: queries, rows: 13, dim }, k);
      got.forEach((list, q) => {
        expect(list).toHaveLength(Math.min(k, rows));
        const all = bruteForce(index, rows, queries.subarray(q * dim, (q + 1) * dim), dim, rows);
        const exact = new Map(all.map((n) => [n.index, n.score]));
        // each returned score is that row's score, and the ranking is the CPU's up to f32 rounding
        list.forEach((n, i) => {
          expect(Math.abs(n.score - exact.get(n.index)!)).toBeLessThan(1e-5);
          expect(Math.abs(n.score - want[q][i].score)).toBeLessThan(1e-5);
        });
        if (q === 0) expect(list.map((n) => n.score)).toEqual(list.map(() => 0));
      });
      expect(again[0]).toHaveLength(rows);
      expect(again[0].map((n) => n.index).sort((a, b) => a - b)).toEqual(Array.from({ length: rows }, (_, i) => i));
    }
  });

  it('planReuse reuses unchanged files and counts added, changed and removed ones', () => {
    const prev = [
      { path: 'a.jpg', size: 1, mtimeMs: 10 },
      { path: 'b.jpg', size: 2, mtimeMs: 20 },
      { path: 'c.jpg', size: 3, mtimeMs: 30 },
    ];
    const now = [
      { path: 'a.jpg', size: 1, mtimeMs: 10 },
      { path: 'b.jpg', size: 2, mtimeMs: 21 },
      { path: 'd/e.jpg', size: 5, mtimeMs: 50 },
    ];
    const p = planReuse(prev, now);
    expect(Array.from(p.source)).toEqual([0, -1, -1]);
    expect([p.added, p.changed, p.unchanged, p.removed]).toEqual([1, 1, 1, 1]);
    expect(Array.from(planReuse(null, now).source)).toEqual([-1, -1, -1]);
  });

  it('the index and cache formats round-trip through safetensors and refuse other files', () => {
    const files = [
      { path: 'x/a.jpg', size: 123, mtimeMs: 1712345678901.25 },
      { path: 'é b.png', size: 4, mtimeMs: 0 },
    ];
    const ix: SearchIndex = {
      embeddings: l2Normalize(randomMatrix(2, 3, 4), 2, 3),
      dim: 3,
      files,
      root: '../photos',
      weightsSha256: 'ab'.repeat(32),
      weightsPath: 'w.safetensors',
      preset: 'msvision',
      precision: 'f16',
      device: 'webgpu',
    };
    const bytes = encodeSearchIndex(ix);
    const back = decodeSearchIndex(bytes, 'ix');
    expect({ ...back, embeddings: Array.from(back.embeddings) }).toEqual({ ...ix, embeddings: Array.from(ix.embeddings) });
    // plain safetensors: an F32 [N, D] tensor and string metadata
    const raw = readSafetensors(bytes, 'ix');
    expect(raw.tensors.get('embeddings')!.shape).toEqual([2, 3]);
    expect(raw.metadata.format).toBe('resnet50-search-index');
    expect(JSON.parse(raw.metadata.files)[0]).toEqual({ path: 'x/a.jpg', size: 123, mtime_ms: 1712345678901.25 });

    const cache = { features: randomMatrix(2, 3, 5), dim: 3, files, labels: [1, 0], classes: ['a', 'b'], weightsSha256: 'cd'.repeat(32), preset: 'torchvision', precision: 'f32', device: 'cpu' };
    const c = decodeFeatureCache(encodeFeatureCache(cache), 'cache');
    expect({ ...c, features: Array.from(c.features) }).toEqual({ ...cache, features: Array.from(cache.features) });

    expect(() => decodeSearchIndex(readFileSync(WEIGHTS), 'w')).toThrow(NotThisFormatError);
    expect(() => decodeSearchIndex(new Uint8Array(3), 'junk')).toThrow(NotThisFormatError);
    expect(() => decodeFeatureCache(bytes, 'ix')).toThrow(/not a resnet50 feature cache/);
    const bad = (meta: Record<string, string>, rows = 2) =>
      writeSafetensors([{ name: 'embeddings', dtype: 'F32', shape: [rows, 3], data: new Float32Array(rows * 3) }], { ...raw.metadata, ...meta });
    expect(() => decodeSearchIndex(bad({ version: '2' }), 'ix')).toThrow(/ix: invalid resnet50 search index: version "2" is not supported/);
    expect(() => decodeSearchIndex(bad({}, 3), 'ix')).toThrow(/'embeddings' has 3 rows but "files" lists 2/);
    expect(() => decodeSearchIndex(bad({ files: '[{"path": 1}]' }, 1), 'ix')).toThrow(/files\[0\] is not/);
    expect(() => decodeSearchIndex(bad({ weights_sha256: 'xyz' }), 'ix')).toThrow(/weights_sha256 is not a SHA-256/);
  });
});

describe('resnet50 index and search', () => {
  const dir = mkdtempSync(join(tmpdir(), 'resnet50-search-'));
  const photos = join(dir, 'photos');
  const out = join(dir, 'photos.index.safetensors');
  const names = ['beach.jpg', 'city.png', 'forest.jpg', 'nested/dog.jpg', 'nested/deeper/sky.jpg', 'night.jpg', 'field.png', 'sunset.jpg'];

  beforeAll(async () => {
    const kinds = ['warm', 'cool', 'leafy', 'any'] as const;
    for (const [i, name] of names.entries()) await writePhoto(join(photos, name), 100 + i, kinds[i % 4]);
    // near-duplicates of dog.jpg: downscaled, and re-encoded at a low quality
    await writeVariant(join(photos, 'nested/dog.jpg'), join(photos, 'copies/dog_small.jpg'), 0.6, 90);
    await writeVariant(join(photos, 'nested/dog.jpg'), join(photos, 'copies/dog_q40.jpg'), 1, 40);
    writeFileSync(join(photos, 'notes.txt'), 'not an image');
  });

  let first: SearchIndex;

  it('index embeds every image, L2-normalised, with paths, stamps and the weights hash', async () => {
    const r = await cli(['index', photos, '--weights', WEIGHTS, '--out', out, '--device', 'cpu', '--batch', '4']);
    expect(r.stderr).toMatch(/cpu: 10 image\(s\) in/);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`${out}: 10 image(s), 256-d (10 embedded, 0 unchanged, 0 removed)`);
    first = decodeSearchIndex(readFileSync(out), out);
    expect(first.files.map((f) => f.path)).toEqual([
      'beach.jpg', 'city.png', 'copies/dog_q40.jpg', 'copies/dog_small.jpg', 'field.png', 'forest.jpg',
      'nested/deeper/sky.jpg', 'nested/dog.jpg', 'night.jpg', 'sunset.jpg',
    ]);
    const st = statSync(join(photos, 'beach.jpg'));
    expect(first.files[0]).toEqual({ path: 'beach.jpg', size: st.size, mtimeMs: st.mtimeMs });
    expect(first.weightsSha256).toBe(createHash('sha256').update(readFileSync(WEIGHTS)).digest('hex'));
    expect([first.root, first.weightsPath, first.preset, first.precision, first.device]).toEqual(['photos', relative(dir, WEIGHTS), 'torchvision', 'f32', 'cpu']);
    for (let i = 0; i < 10; i++) expect(Math.hypot(...first.embeddings.subarray(i * 256, (i + 1) * 256))).toBeCloseTo(1, 5);
    // the rows are the model's features, normalised
    const model = await ResNet50.fromModel(loadWeights(readFileSync(WEIGHTS), 'w'), { device: 'cpu' });
    const f = (await model.embed(await loadInput(join(photos, 'nested/deeper/sky.jpg')))).data;
    model.dispose();
    const want = l2Normalize(f, 1, 256);
    const got = first.embeddings.subarray(6 * 256, 7 * 256);
    for (let j = 0; j < 256; j++) expect(got[j]).toBeCloseTo(want[j], 6);
  });

  it('search ranks an image first with score ≈ 1, then its resized and re-encoded copies', async () => {
    const r = await cli(['search', join(photos, 'nested/dog.jpg'), '--index', out, '--device', 'cpu', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.query).toBe(join(photos, 'nested/dog.jpg'));
    expect(res.results).toHaveLength(10);
    expect(res.results[0].path).toBe('nested/dog.jpg');
    expect(res.results[0].score).toBeGreaterThan(0.99999);
    expect(res.results[0].score).toBeLessThan(1.00001);
    expect(res.results.slice(1, 3).map((x: { path: string }) => x.path).sort()).toEqual(['copies/dog_q40.jpg', 'copies/dog_small.jpg']);
    expect(res.results[2].score).toBeGreaterThan(res.results[3].score);
    const rel = relative(process.cwd(), join(photos, 'nested/dog.jpg'));
    expect(res.results[0].file).toBe(rel.startsWith('..') ? join(photos, 'nested/dog.jpg') : rel); // as given from cwd, or absolute
    for (let i = 1; i < 10; i++) expect(res.results[i].score).toBeLessThanOrEqual(res.results[i - 1].score);

    // every image is its own nearest neighbour; text output; --k; the weights found from the index's
    // recorded path (relative to the index) when run from another folder
    const queries = names.map((n) => join(photos, n));
    const t = await cli(['search', ...queries, '--index', out, '--device', 'cpu', '--k', '3'], tmpdir());
    expect(t.code).toBe(0);
    const blocks = t.stdout.trim().split(/\n(?=\/)/);
    expect(blocks).toHaveLength(names.length);
    blocks.forEach((b, i) => {
      const lines = b.split('\n');
      expect(lines[0]).toBe(queries[i]);
      expect(lines).toHaveLength(4);
      expect(lines[1]).toMatch(/^ {3}1 {2}1\.0000 {2}/);
      expect(lines[1].endsWith(relative(tmpdir(), queries[i]))).toBe(true);
    });
  });

  it('search on webgpu against the cpu-built index finds the same image with score ≈ 1', async () => {
    const r = await cli(['search', join(photos, 'forest.jpg'), '--index', out, '--device', 'webgpu', '--json', '--k', '2']);
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.results[0].path).toBe('forest.jpg');
    expect(Math.abs(res.results[0].score - 1)).toBeLessThan(1e-4);
  });

  it('search --search-on gpu computes the scores with the WGSL kernel: the same neighbours', async () => {
    const q = join(photos, 'beach.jpg');
    const cpu = JSON.parse((await cli(['search', q, '--index', out, '--device', 'cpu', '--json'])).stdout);
    const r = await cli(['search', q, '--index', out, '--device', 'cpu', '--json', '--search-on', 'gpu']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^resnet50 search: scores of 1 query × 10 images computed on the GPU in [\d.]+ s$/m);
    const gpu = JSON.parse(r.stdout);
    expect(gpu.results.map((x: { path: string }) => x.path)).toEqual(cpu.results.map((x: { path: string }) => x.path));
    gpu.results.forEach((x: { score: number }, i: number) => expect(Math.abs(x.score - cpu.results[i].score)).toBeLessThan(1e-5));
  });

  it('index again: up to date without rewriting; then embeds only the new and the changed file', async () => {
    const mtime = statSync(out).mtimeMs;
    const same = await cli(['index', photos, '--weights', WEIGHTS, '--out', out, '--device', 'cpu']);
    expect(same.code).toBe(0);
    expect(same.stdout.trim()).toBe(`${out}: 10 image(s), 256-d (0 embedded, 10 unchanged, 0 removed); up to date`);
    expect(same.stderr).not.toMatch(/image\(s\) in/); // the model was not even loaded
    expect(statSync(out).mtimeMs).toBe(mtime);

    await writePhoto(join(photos, 'nested/new.jpg'), 999, 'cool'); // new
    await writePhoto(join(photos, 'city.png'), 555, 'warm'); // changed content…
    utimesSync(join(photos, 'city.png'), new Date(), new Date(Date.now() + 5000)); // …and mtime
    rmSync(join(photos, 'night.jpg')); // deleted
    const r = await cli(['index', photos, '--weights', WEIGHTS, '--out', out, '--device', 'cpu']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`${out}: 10 image(s), 256-d (2 embedded, 8 unchanged, 1 removed)`);
    expect(r.stderr).toMatch(/cpu: 2 image\(s\) in/);
    const next = decodeSearchIndex(readFileSync(out), out);
    const paths = next.files.map((f) => f.path);
    expect(paths).not.toContain('night.jpg');
    expect(paths).toContain('nested/new.jpg');
    const row = (ix: SearchIndex, p: string) => Array.from(ix.embeddings.subarray(ix.files.findIndex((f) => f.path === p) * 256).subarray(0, 256));
    expect(row(next, 'beach.jpg')).toEqual(row(first, 'beach.jpg')); // reused bit for bit
    expect(row(next, 'city.png')).not.toEqual(row(first, 'city.png'));
    // the same as indexing from scratch
    const fresh = join(dir, 'fresh.safetensors');
    expect((await cli(['index', photos, '--weights', WEIGHTS, '--out', fresh, '--device', 'cpu', '--quiet'])).code).toBe(0);
    const scratch = decodeSearchIndex(readFileSync(fresh), fresh);
    expect(scratch.files).toEqual(next.files);
    for (let i = 0; i < scratch.embeddings.length; i++) expect(Math.abs(scratch.embeddings[i] - next.embeddings[i])).toBeLessThan(1e-6);

    // another preset: every image again
    const ms = await cli(['index', photos, '--weights', WEIGHTS, '--out', fresh, '--device', 'cpu', '--preset', 'msvision']);
    expect(ms.stderr).toContain(`${fresh} was built with preset torchvision; embedding every image again`);
    expect(ms.stdout).toContain('(10 embedded, 0 unchanged, 0 removed)');
  });

  it('an unreadable image is reported and skipped (exit status 1), the rest indexed', async () => {
    const d = join(dir, 'some');
    await writePhoto(join(d, 'a.jpg'), 1);
    await writePhoto(join(d, 'c.png'), 2);
    writeFileSync(join(d, 'b.jpg'), 'not a jpeg');
    const ix = join(dir, 'some.safetensors');
    const r = await cli(['index', d, '--weights', WEIGHTS, '--out', ix, '--device', 'cpu']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`resnet50 index: skipped ${join(d, 'b.jpg')}: cannot decode image:`);
    expect(r.stdout.trim()).toBe(`${ix}: 2 image(s), 256-d (2 embedded, 0 unchanged, 0 removed, 1 skipped)`);
    expect(decodeSearchIndex(readFileSync(ix), ix).files.map((f) => f.path)).toEqual(['a.jpg', 'c.png']);
  });

  it('errors are one line: missing index, other weights, empty folder, not an index', async () => {
    const oneLine = (r: { code: number; stdout: string; stderr: string }, pattern: RegExp) => {
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(pattern);
    };
    const q = join(photos, 'beach.jpg');
    oneLine(await cli(['search', q, '--index', join(dir, 'nope.safetensors')]), /^resnet50 search: cannot read index .*nope\.safetensors: no such file$/m);
    oneLine(
      await cli(['search', q, '--index', out, '--weights', WEIGHTS_F16, '--device', 'cpu']),
      /^resnet50 search: .*weights_f16\.safetensors: not the weights .*photos\.index\.safetensors was built with \(SHA-256 [0-9a-f]{12}…, the index's is [0-9a-f]{12}…, .*weights\.safetensors\); pass those weights or rebuild the index$/m,
    );
    const empty = join(dir, 'empty');
    mkdirSync(join(empty, 'sub'), { recursive: true });
    writeFileSync(join(empty, 'sub', 'x.txt'), '');
    oneLine(await cli(['index', empty, '--weights', WEIGHTS, '--out', join(dir, 'e.safetensors')]), /^resnet50 index: .*empty: no \.jpg, \.jpeg or \.png images in this folder$/m);
    oneLine(await cli(['index', join(dir, 'missing'), '--weights', WEIGHTS, '--out', join(dir, 'e.safetensors')]), /^resnet50 index: cannot read folder .*missing: no such folder$/m);
    const w = join(dir, 'w.safetensors');
    copyFileSync(WEIGHTS, w);
    oneLine(await cli(['index', photos, '--weights', WEIGHTS, '--out', w, '--device', 'cpu']), /^resnet50 index: .*w\.safetensors exists and is not a resnet50 search index; refusing to overwrite it$/m);
    expect(readFileSync(w).equals(readFileSync(WEIGHTS))).toBe(true);
    oneLine(await cli(['search', q, '--index', w]), /^resnet50 search: .*w\.safetensors: not a resnet50 search index/m);
    oneLine(await cli(['index', photos, '--weights', WEIGHTS]), /^resnet50 index: missing --out <index file>/m);
    oneLine(await cli(['search', join(dir, 'nope.jpg'), '--index', out, '--device', 'cpu']), /^resnet50 search: cannot read input .*nope\.jpg: no such file$/m);
    oneLine(await cli(['search', q, '--index', out, '--k', '0']), /^resnet50 search: --k must be a positive integer, got '0'$/m);
    // the index's recorded weights are gone
    const moved = join(dir, 'moved');
    mkdirSync(moved);
    copyFileSync(out, join(moved, 'photos.index.safetensors'));
    oneLine(await cli(['search', q, '--index', join(moved, 'photos.index.safetensors'), '--device', 'cpu']), /^resnet50 search: cannot read weights .*: no such file \(the weights .* was built with\); pass --weights <file>$/m);
  });
});
