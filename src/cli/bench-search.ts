// `resnet50 bench search`: the LanceDB vector index (IVF-PQ, cosine, with refine) against exact
// search, on clustered synthetic unit vectors (seeded: `clusters` random centres, each row a centre
// plus Gaussian noise of the centre's norm, normalised; queries drawn the same way, not in the
// table). Per row count: the build time and query latency (p50/p99, one query at a time) of the
// flat CPU scan (cosineTopK), the flat GPU scan (GpuCosineIndex), LanceDB's exact scan and LanceDB
// through its vector index, and recall@k of each against the exact top k.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { seededNormal } from '../nn/random.ts';
import { cosineTopK, GpuCosineIndex, l2Normalize, type EmbeddingMatrix } from '../search/index.ts';
import { CliError } from './files.ts';
import { DEFAULT_NPROBES, DEFAULT_REFINE_FACTOR, LanceStore } from './lance-store.ts';
import { positiveInteger } from './search.ts';

export const BENCH_SEARCH_USAGE = `usage: resnet50 bench search [--rows 100000,1000000] [--dim 2048] [--queries 200] [--k 10]
                            [--clusters 1000] [--nprobes ${DEFAULT_NPROBES}] [--refine-factor ${DEFAULT_REFINE_FACTOR}]
                            [--flat-queries 20] [--no-gpu] [--dir <tmp>] [--json FILE]
  builds the LanceDB IVF-PQ index on clustered synthetic vectors and prints recall@k against the exact
  result, query latency (p50/p99) and build time, next to the flat CPU and GPU scans and LanceDB's
  exact scan (those timed on the first --flat-queries queries; the ground truth is the exact scan of
  all of them, on the GPU unless --no-gpu)`;

interface Line {
  rows: number;
  method: string;
  buildSeconds: number | null;
  recall: number | null;
  p50Ms: number;
  p99Ms: number;
  timedQueries: number;
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};

/** `rows` clustered unit vectors (row i in cluster i mod clusters). */
function clustered(centres: Float32Array, clusters: number, rows: number, dim: number, seed: number): Float32Array {
  const normal = seededNormal(seed);
  const out = new Float32Array(rows * dim);
  const scale = 1 / Math.sqrt(dim); // noise of norm ≈ 1, as the centres'
  for (let r = 0; r < rows; r++) {
    const c = (r % clusters) * dim;
    for (let j = 0; j < dim; j++) out[r * dim + j] = centres[c + j] + scale * normal();
  }
  return l2Normalize(out, rows, dim);
}

async function timed<T>(f: () => Promise<T> | T): Promise<{ value: T; ms: number }> {
  const t = performance.now();
  const value = await f();
  return { value, ms: performance.now() - t };
}

const recallOf = (got: number[][], truth: number[][], k: number) => got.reduce((s, g, q) => s + g.filter((i) => truth[q].includes(i)).length, 0) / (got.length * k);

async function benchRows(rows: number, o: { dim: number; queries: number; k: number; clusters: number; nprobes: number; refineFactor: number; flatQueries: number; gpu: boolean; dir: string }): Promise<Line[]> {
  const { dim, k } = o;
  const say = (s: string) => process.stderr.write(`bench search [${rows} rows]: ${s}\n`);
  const centres = l2Normalize(Float32Array.from({ length: o.clusters * dim }, seededNormal(1)), o.clusters, dim);
  say('generating vectors');
  const data = clustered(centres, o.clusters, rows, dim, 2);
  const query = clustered(centres, o.clusters, o.queries, dim, 3);
  const q = (i: number) => query.subarray(i * dim, (i + 1) * dim);
  const matrix: EmbeddingMatrix = { data, rows, dim };
  const lines: Line[] = [];
  const flatN = Math.min(o.flatQueries, o.queries);

  // ground truth and the flat GPU scan
  let truth: number[][];
  const gpuIndex = o.gpu ? await timed(async () => GpuCosineIndex.create((await import('../platform/node-gpu.ts')).nodeGpu(), matrix, { normalized: true })) : null;
  if (gpuIndex) {
    say('exact top-k on the GPU');
    truth = (await gpuIndex.value.search({ data: query, rows: o.queries, dim }, k)).map((l) => l.map((n) => n.index));
    const ms: number[] = [];
    for (let i = 0; i < flatN; i++) ms.push((await timed(() => gpuIndex.value.search({ data: q(i), rows: 1, dim }, k))).ms);
    lines.push({ rows, method: 'flat GPU scan (GpuCosineIndex)', buildSeconds: gpuIndex.ms / 1000, recall: 1, p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99), timedQueries: flatN });
    gpuIndex.value.dispose();
  } else {
    say('exact top-k on the CPU');
    truth = cosineTopK(matrix, { data: query, rows: o.queries, dim }, k, { normalized: true }).map((l) => l.map((n) => n.index));
  }
  say('flat CPU scan');
  const cpuMs: number[] = [];
  for (let i = 0; i < flatN; i++) cpuMs.push((await timed(() => cosineTopK(matrix, { data: q(i), rows: 1, dim }, k, { normalized: true }))).ms);
  lines.push({ rows, method: 'flat CPU scan (cosineTopK)', buildSeconds: null, recall: 1, p50Ms: percentile(cpuMs, 50), p99Ms: percentile(cpuMs, 99), timedQueries: flatN });

  const dbDir = mkdtempSync(join(o.dir, 'bench-search-'));
  const store = await LanceStore.open(join(dbDir, 'db'));
  try {
    say('writing the LanceDB table');
    const load = await timed(async () => {
      for (let start = 0; start < rows; start += 16384) {
        const n = Math.min(16384, rows - start);
        await store.append(Array.from({ length: n }, (_, i) => ({ path: String(start + i), size: 0, mtimeMs: 0, vector: data.subarray((start + i) * dim, (start + i + 1) * dim) })));
      }
    });
    const search = async (n: number, exact: boolean) => {
      const ms: number[] = [];
      const got: number[][] = [];
      for (let i = 0; i < n; i++) {
        const r = await timed(() => store.search(q(i), k, { exact, nprobes: o.nprobes, refineFactor: o.refineFactor }));
        ms.push(r.ms);
        got.push(r.value.map((h) => Number(h.path)));
      }
      return { ms, got };
    };
    say('LanceDB exact scan');
    const exact = await search(flatN, true);
    lines.push({ rows, method: 'LanceDB exact scan', buildSeconds: load.ms / 1000, recall: recallOf(exact.got, truth.slice(0, flatN), k), p50Ms: percentile(exact.ms, 50), p99Ms: percentile(exact.ms, 99), timedQueries: flatN });
    say('building the IVF-PQ index');
    const build = await timed(() => store.maintainIndex(1));
    say('LanceDB IVF-PQ search');
    const ann = await search(o.queries, false);
    lines.push({
      rows,
      method: `LanceDB IVF-PQ (nprobes ${o.nprobes}, refine ${o.refineFactor})`,
      buildSeconds: build.ms / 1000,
      recall: recallOf(ann.got, truth, k),
      p50Ms: percentile(ann.ms, 50),
      p99Ms: percentile(ann.ms, 99),
      timedQueries: o.queries,
    });
  } finally {
    store.close();
    rmSync(dbDir, { recursive: true, force: true });
  }
  return lines;
}

export async function benchSearchCommand(argv: string[]): Promise<number> {
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        rows: { type: 'string', default: '100000,1000000' },
        dim: { type: 'string', default: '2048' },
        queries: { type: 'string', default: '200' },
        k: { type: 'string', default: '10' },
        clusters: { type: 'string', default: '1000' },
        nprobes: { type: 'string', default: String(DEFAULT_NPROBES) },
        'refine-factor': { type: 'string', default: String(DEFAULT_REFINE_FACTOR) },
        'flat-queries': { type: 'string', default: '20' },
        'no-gpu': { type: 'boolean' },
        dir: { type: 'string', default: tmpdir() },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      console.log(BENCH_SEARCH_USAGE);
      return 0;
    }
    const rowCounts = values.rows.split(',').map((r) => positiveInteger(r, '--rows'));
    const o = {
      dim: positiveInteger(values.dim, '--dim'),
      queries: positiveInteger(values.queries, '--queries'),
      k: positiveInteger(values.k, '--k'),
      clusters: positiveInteger(values.clusters, '--clusters'),
      nprobes: positiveInteger(values.nprobes, '--nprobes'),
      refineFactor: positiveInteger(values['refine-factor'], '--refine-factor'),
      flatQueries: positiveInteger(values['flat-queries'], '--flat-queries'),
      gpu: !values['no-gpu'],
      dir: values.dir,
    };
    const lines: Line[] = [];
    console.log(`npx resnet50 bench search ${argv.join(' ')}`.trim());
    console.log(`| rows | method | build s | recall@${o.k} | p50 ms | p99 ms | queries timed |`);
    console.log('|---:|---|---:|---:|---:|---:|---:|');
    for (const rows of rowCounts) {
      for (const l of await benchRows(rows, o)) {
        lines.push(l);
        console.log(`| ${l.rows} | ${l.method} | ${l.buildSeconds === null ? '-' : l.buildSeconds.toFixed(1)} | ${l.recall === null ? '-' : l.recall.toFixed(3)} | ${l.p50Ms.toFixed(1)} | ${l.p99Ms.toFixed(1)} | ${l.timedQueries} |`);
      }
    }
    if (values.json) writeFileSync(values.json, `${JSON.stringify({ command: `npx resnet50 bench search ${argv.join(' ')}`.trim(), ...o, lines }, null, 2)}\n`);
    return 0;
  } catch (e) {
    const known = e instanceof CliError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`resnet50 bench search: ${known ? (e as Error).message : `${(e as Error).name}: ${(e as Error).message}`}\n`);
    return 1;
  }
}
