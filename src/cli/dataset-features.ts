// Features of a benchmark split, at ImageNet's scale: samples are decoded and preprocessed in a
// bounded pipeline (at most `depth` prepared inputs held, one batch on the model at a time while the
// next is prepared), and the features go to an on-disk cache chunk by chunk, so a run stopped at any
// point resumes at the first chunk it had not finished. The cache of a split is a folder
//   <dataset root>/.resnet50-cache/<dataset>-<split>-<key>/
//     manifest.json       {format, version, rows, chunk, dim, fingerprint, settings}
//     chunk-000000.f32    float32 little-endian [rows of the chunk, dim], written atomically
// keyed like the image-folder mode's (weights SHA-256, preset, precision, device), plus the
// subset (--limit-per-class); `fingerprint` (SHA-256 of the split's labels and its pixels, or its
// file names: an image file changed in place under the same name is not noticed) must match, else
// the folder is started afresh.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Split } from '../datasets/index.ts';
import { preprocess, type Preset } from '../image/preprocess.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { CliError, writeAtomic } from './files.ts';
import { loadInput } from './inputs.ts';
import type { LazyModel } from './search.ts';

export const CACHE_DIR = '.resnet50-cache';
const FORMAT = 'resnet50-dataset-features';

export interface SplitFeaturesOptions {
  model: LazyModel;
  preset: Preset;
  batch: number;
  /** rows per cache chunk */
  chunk: number;
  /** the cache folder of this split, or null for none */
  cacheDir: string | null;
  /** settings recorded in the manifest (weights SHA-256, preset, …) */
  settings: Record<string, string | number | null>;
  /** the split's root, for file samples */
  root: string;
  /** e.g. 'cifar10 train' */
  label: string;
  quiet: boolean;
  note: (line: string) => void;
}

export interface SplitFeatures {
  features: Float32Array;
  dim: number;
  /** rows run through the model now, and rows read from the cache */
  embedded: number;
  cached: number;
  /** images/s of this run's pipeline (decode + preprocess + model), null when nothing was embedded */
  rate: number | null;
}

/** SHA-256 of the labels and the pixels (decoded arrays) or the file names (image files). */
function fingerprint(split: Split): string {
  const h = createHash('sha256');
  h.update(new Uint8Array(split.labels.buffer, split.labels.byteOffset, split.labels.byteLength));
  if (split.kind === 'files') h.update(split.files.join('\n'));
  else for (let i = 0; i < split.labels.length; i++) h.update(split.image(i).data);
  return h.digest('hex');
}

const chunkName = (k: number) => `chunk-${String(k).padStart(6, '0')}.f32`;

interface Manifest {
  format: string;
  version: number;
  rows: number;
  chunk: number;
  dim: number | null;
  fingerprint: string;
  settings: Record<string, string | number | null>;
}

/** The manifest if it describes this split under these settings; otherwise the folder is cleared. */
async function openCache(dir: string, want: Omit<Manifest, 'dim'>, note: (line: string) => void): Promise<number | null> {
  let m: Manifest | null = null;
  try {
    m = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  } catch {
    m = null;
  }
  const same = m !== null && m.format === FORMAT && m.version === want.version && m.rows === want.rows && m.chunk === want.chunk &&
    m.fingerprint === want.fingerprint && JSON.stringify(m.settings) === JSON.stringify(want.settings);
  if (same) return m!.dim;
  if (m !== null) note(`the feature cache ${dir} is for other data or settings; starting it afresh`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeAtomic(join(dir, 'manifest.json'), JSON.stringify({ ...want, dim: null }, null, 1) + '\n');
  return null;
}

/** Chunk k from the cache, or null when it is missing or not the right size. */
async function readChunk(dir: string, k: number, rows: number, dim: number): Promise<Float32Array | null> {
  const path = join(dir, chunkName(k));
  try {
    if ((await stat(path)).size !== rows * dim * 4) return null;
    const b = await readFile(path);
    return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  } catch {
    return null;
  }
}

/** Sample i as a model input [1, 3, 224, 224]: decoded pixels or an image file, the same preprocessing. */
async function prepare(split: Split, i: number, root: string, preset: Preset): Promise<Tensor> {
  if (split.kind === 'files') return loadInput(join(root, split.files[i]), preset);
  const t = preprocess(split.image(i), preset);
  await new Promise((r) => setImmediate(r)); // let the model's pending work finish meanwhile
  return t.reshape([1, ...t.shape]);
}

/** Inputs for rows [from, to), at most `depth` prepared ahead of the consumer. */
async function* pipeline(split: Split, from: number, to: number, depth: number, root: string, preset: Preset): AsyncGenerator<Tensor> {
  const queue: Promise<Tensor>[] = [];
  let next = from;
  const refill = () => {
    while (queue.length < depth && next < to) {
      const p = prepare(split, next++, root, preset);
      p.catch(() => {}); // awaited in order below; a rejection is reported there
      queue.push(p);
    }
  };
  refill();
  while (queue.length) {
    const t = await queue.shift()!;
    refill();
    yield t;
  }
}

function progressLine(label: string, done: number, total: number, embedded: number, seconds: number): string {
  const rate = embedded / seconds;
  const left = rate > 0 ? (total - done) / rate : NaN;
  const eta = !Number.isFinite(left) ? '-' : left >= 3600 ? `${(left / 3600).toFixed(1)} h` : left >= 60 ? `${(left / 60).toFixed(1)} min` : `${left.toFixed(0)} s`;
  return `${label}: ${done}/${total} images, ${rate.toFixed(2)} images/s, ${eta} left`;
}

/** The split's features [n, dim]: cached chunks reused, the others embedded and cached as they finish. */
export async function splitFeatures(split: Split, o: SplitFeaturesOptions): Promise<SplitFeatures> {
  const n = split.labels.length;
  if (n === 0) throw new CliError(`${o.label}: no samples`);
  const chunks = Math.ceil(n / o.chunk);
  const want = { format: FORMAT, version: 1, rows: n, chunk: o.chunk, fingerprint: fingerprint(split), settings: o.settings };
  let dim: number | null = null;
  let cacheDir = o.cacheDir;
  if (cacheDir) {
    try {
      dim = await openCache(cacheDir, want, o.note);
    } catch (e) {
      o.note(`${o.label}: cannot use the feature cache ${cacheDir} (${(e as Error).message}); going on without it`);
      cacheDir = null;
    }
  }
  let recordedDim = dim;
  // one [n, dim] array, filled chunk by chunk (no second copy of the split's features)
  let features: Float32Array | null = null;
  const done = new Uint8Array(chunks);
  const place = (k: number, rows: Float32Array) => {
    features ??= new Float32Array(n * dim!);
    features.set(rows, k * o.chunk * dim!);
    done[k] = 1;
  };
  let cached = 0;
  if (cacheDir && dim !== null) {
    for (let k = 0; k < chunks; k++) {
      const rows = await readChunk(cacheDir, k, Math.min(o.chunk, n - k * o.chunk), dim);
      if (rows) {
        place(k, rows);
        cached += rows.length / dim;
      }
    }
  }
  const total = n;
  let finished = cached;
  let embedded = 0;
  const started = performance.now();
  const tty = !o.quiet && process.stderr.isTTY === true;
  let lastLine = started;
  const report = (force: boolean) => {
    if (o.quiet || embedded === 0) return;
    const now = performance.now();
    if (!force && now - lastLine < (tty ? 500 : 10_000)) return;
    lastLine = now;
    const line = progressLine(o.label, finished, total, embedded, (now - started) / 1000);
    process.stderr.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
  };
  for (let k = 0; k < chunks; k++) {
    if (done[k]) continue;
    const from = k * o.chunk;
    const to = Math.min(n, from + o.chunk);
    const model = await o.model.get();
    let rows: Float32Array | null = null;
    let filled = 0;
    let inflight: Promise<void> = Promise.resolve();
    let batch: Tensor[] = [];
    const run = (inputs: Tensor[]) =>
      model.embed(inputs, { batchSize: o.batch }).then((f) => {
        const d = f.shape[1];
        if (dim !== null && d !== dim) throw new CliError(`${o.label}: the model gives ${d}-d features, the cache ${cacheDir} holds ${dim}-d`);
        dim = d;
        rows ??= new Float32Array((to - from) * d);
        rows.set(f.data, filled * d);
        filled += inputs.length;
        embedded += inputs.length;
        finished += inputs.length;
        report(false);
      });
    for await (const t of pipeline(split, from, to, 2 * o.batch, o.root, o.preset)) {
      batch.push(t);
      if (batch.length === o.batch) {
        await inflight; // one batch on the model while the next is prepared
        inflight = run(batch);
        inflight.catch(() => {}); // awaited before the next batch; a rejection is reported there
        batch = [];
      }
    }
    await inflight;
    if (batch.length) await run(batch);
    place(k, rows!);
    if (cacheDir) {
      try {
        if (recordedDim !== dim) {
          await writeAtomic(join(cacheDir, 'manifest.json'), JSON.stringify({ ...want, dim }, null, 1) + '\n');
          recordedDim = dim;
        }
        await writeAtomic(join(cacheDir, chunkName(k)), new Uint8Array(rows!.buffer, rows!.byteOffset, rows!.byteLength));
      } catch (e) {
        o.note(`${o.label}: cannot write the feature cache (${(e as Error).message}); going on without it`);
        cacheDir = null;
      }
    }
  }
  report(true);
  if (tty && embedded > 0) process.stderr.write('\n');
  const seconds = (performance.now() - started) / 1000;
  return { features: features!, dim: dim!, embedded, cached, rate: embedded ? embedded / seconds : null };
}
