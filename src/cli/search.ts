// `resnet50 index` and `resnet50 search`: embed every image of a folder into a search index (a
// safetensors file, format in src/search/format.ts), updated incrementally on later runs, and find
// the indexed images nearest to a query image by cosine similarity. Also the pieces the image-folder
// probe shares: listing a folder's images with sizes and mtimes, hashing the weights, loading the
// model only when something has to be embedded, and embedding a list of files in batches.
import { createHash } from 'node:crypto';
import { readdir, realpath, stat } from 'node:fs/promises';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { ResNet50, type Device } from '../api.ts';
import { PRESETS, type Preset } from '../image/preprocess.ts';
import type { Arch } from '../nn/network.ts';
import type { Precision } from '../kernels/webgpu/kernels.ts';
import {
  cosineTopK,
  decodeSearchIndex,
  GpuCosineIndex,
  encodeSearchIndex,
  l2Normalize,
  NotThisFormatError,
  planReuse,
  sameSettings,
  type FileStamp,
  type SearchIndex,
} from '../search/index.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { parseWeightsAsync } from '../weights/load.ts';
import { CliError, readBytes, writeAtomic } from './files.ts';
import { SHARD_ATTEMPTS } from './index-queue.ts';
import { ANN_THRESHOLD, DEFAULT_NPROBES, DEFAULT_REFINE_FACTOR } from './lance-store.ts';
import { loadInput, type InputFailure } from './inputs.ts';
import { isRemoteWeights } from '../platform/node-weights-cache.ts';
import type { NamedWeights } from '../weights/named.ts';
import { archiveArch, defaultPreset, loadNetworkArchive, parseArch, resolveWeights } from './weights.ts';
import '../node.ts'; // registers Dawn's WebGPU for ResNet50.fromModel

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png'] as const;
const IMAGE_LIST = '.jpg, .jpeg or .png';

/** An image found in a folder: its stamp (path relative to the folder, '/'-separated) and where to open it. */
export interface ImageFile extends FileStamp {
  readonly file: string;
}

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The .jpg/.jpeg/.png files under `root`, depth first in code-point order; dot-files skipped, symlinks followed. */
export async function listImages(root: string): Promise<ImageFile[]> {
  let s;
  try {
    s = await stat(root);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`cannot read folder ${root}: ${code === 'ENOENT' ? 'no such folder' : (e as Error).message}`);
  }
  if (!s.isDirectory()) throw new CliError(`${root}: not a folder`);
  const out: ImageFile[] = [];
  const seen = new Set<string>([await realpath(root)]);
  const walk = async (dir: string, rel: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => !e.name.startsWith('.')).sort(byName);
    for (const e of entries) {
      const file = join(dir, e.name);
      const path = rel ? `${rel}/${e.name}` : e.name;
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        try {
          const t = await stat(file);
          isDir = t.isDirectory();
          isFile = t.isFile();
        } catch {
          continue; // a dangling link
        }
      }
      if (isDir) {
        const real = await realpath(file);
        if (seen.has(real)) continue; // a link back up the tree
        seen.add(real);
        await walk(file, path);
      } else if (isFile && (IMAGE_EXTENSIONS as readonly string[]).includes(extname(e.name).toLowerCase())) {
        const t = await stat(file);
        out.push({ path, file, size: t.size, mtimeMs: t.mtimeMs });
      }
    }
  };
  await walk(root, '');
  return out;
}

export interface WeightsFile {
  readonly path: string;
  /** What the user named: the path, or a weights name or URL (then `path` is the cached copy). */
  readonly source: string;
  readonly named: NamedWeights | null;
  readonly bytes: Uint8Array;
  /** SHA-256 of the bytes, lowercase hex */
  readonly sha256: string;
  /** --arch, else told from the tensor names */
  readonly arch: Arch;
  /** The preset when --preset names none: the named weights', else the architecture's. */
  readonly preset: Preset;
}

/**
 * --weights (a path, URL or name; default msvision), downloaded when needed, read, hashed, and its
 * architecture told from the tensor names (the file is parsed, not loaded) unless `arch` is given.
 */
export async function readWeightsFile(
  value: string | undefined,
  opts: { sha256?: string; quiet?: boolean; arch?: string } = {},
): Promise<WeightsFile> {
  const given = parseArch(opts.arch);
  const { path, source, named } = await resolveWeights(value, 'embed', opts);
  const bytes = await readBytes(path, 'weights');
  let arch = given;
  if (arch === undefined) {
    try {
      arch = archiveArch(await parseWeightsAsync(bytes, path), undefined);
    } catch (e) {
      throw new CliError((e as Error).message);
    }
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { path, source, named, bytes, sha256, arch, preset: defaultPreset({ named }, arch) };
}

/** The model, loaded on first use: a run that finds everything cached never loads the weights. */
export class LazyModel {
  private model: ResNet50 | null = null;

  constructor(
    private readonly weights: WeightsFile,
    readonly device: Device,
    readonly precision: Precision,
  ) {}

  async get(): Promise<ResNet50> {
    if (!this.model) {
      let archive;
      try {
        archive = await parseWeightsAsync(this.weights.bytes, this.weights.path);
      } catch (e) {
        throw new CliError((e as Error).message);
      }
      const network = loadNetworkArchive(archive, this.weights, this.weights.arch);
      this.model = await ResNet50.fromModel(network, { device: this.device, precision: this.precision, preset: this.weights.preset });
    }
    return this.model;
  }

  dispose(): void {
    this.model?.dispose();
    this.model = null;
  }
}

export interface EmbedFilesOptions {
  readonly model: LazyModel;
  readonly preset: Preset;
  readonly batch: number;
  readonly quiet?: boolean;
  /** prefixes the progress bar and the timing line, e.g. 'train' */
  readonly label?: string;
  /** prefixes the lines reporting skipped files, e.g. 'resnet50 index' */
  readonly command: string;
  /** collect failures without reporting them (the caller does) */
  readonly silentFailures?: boolean;
}

export interface EmbedFilesResult {
  /** the features of each file, null for a file that could not be read */
  readonly rows: (Float32Array | null)[];
  readonly failures: InputFailure[];
  /** images run through the model */
  readonly embedded: number;
}

/**
 * Embeds image files in batches of `batch` (one batch in memory at a time), with a progress bar when
 * stdout and stderr are terminals and not `quiet`. A file that cannot be decoded is reported on
 * stderr and skipped; the model is loaded only once some file decodes.
 */
export async function embedFiles(files: readonly { file: string }[], o: EmbedFilesOptions): Promise<EmbedFilesResult> {
  const rows: (Float32Array | null)[] = files.map(() => null);
  const failures: InputFailure[] = [];
  if (files.length === 0) return { rows, failures, embedded: 0 };
  const prefix = o.label ? `${o.label}: ` : '';
  const showProgress = !o.quiet && process.stdout.isTTY === true && process.stderr.isTTY === true;
  const bar = showProgress ? new SingleBar({ format: `${prefix}{bar} {value}/{total} files | {rate} images/s | {name}`, hideCursor: true }) : null;
  bar?.start(files.length, 0, { rate: '-', name: '' });
  let embedded = 0;
  let model: ResNet50 | null = null;
  const started = performance.now();
  try {
    let pending: { batch: Tensor; row: number }[] = [];
    const flush = async () => {
      if (pending.length === 0) return;
      const group = pending;
      pending = [];
      const features = await model!.embed(group.map((p) => p.batch), { batchSize: o.batch });
      const d = features.shape[1];
      group.forEach((p, i) => (rows[p.row] = features.data.slice(i * d, (i + 1) * d)));
      embedded += group.length;
    };
    for (const [i, { file }] of files.entries()) {
      let batch: Tensor | null = null;
      try {
        batch = await loadInput(file, o.preset);
      } catch (e) {
        if (!(e instanceof CliError)) throw e;
        failures.push({ path: file, message: e.message });
        if (!o.silentFailures) process.stderr.write(`${o.command}: skipped ${e.message}\n`);
      }
      if (batch) {
        model ??= await o.model.get();
        pending.push({ batch, row: i });
      }
      if (pending.length >= o.batch || i === files.length - 1) await flush();
      const seconds = (performance.now() - started) / 1000;
      bar?.update(i + 1, { rate: embedded ? (embedded / seconds).toFixed(2) : '-', name: file });
    }
  } finally {
    bar?.stop();
  }
  if (!o.quiet && model && embedded > 0) {
    const seconds = (performance.now() - started) / 1000;
    process.stderr.write(`${prefix}${model.device}: ${embedded} image(s) in ${seconds.toFixed(2)} s (${(embedded / seconds).toFixed(2)} images/s)\n`);
  }
  return { rows, failures, embedded };
}

// ---------------------------------------------------------------------------------------------
// option checks shared with the image-folder probe

export function positiveInteger(value: string, flag: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 1) throw new CliError(`${flag} must be a positive integer, got '${value}'`);
  return n;
}

export function checkPreset(value: string): Preset {
  if (!(PRESETS as readonly string[]).includes(value)) throw new CliError(`--preset must be one of ${PRESETS.join(', ')}, got '${value}'`);
  return value as Preset;
}

export function checkDevice(device: string, precision: string): { device: Device; precision: Precision } {
  if (device !== 'webgpu' && device !== 'cpu') throw new CliError(`--device must be webgpu or cpu, got '${device}'`);
  if (precision !== 'f32' && precision !== 'f16') throw new CliError(`--precision must be f32 or f16, got '${precision}'`);
  if (device === 'cpu' && precision !== 'f32') throw new CliError('the cpu device computes in f32 only; drop --precision f16 or use --device webgpu');
  return { device, precision };
}

/** A path relative to `from`, '/'-separated ('.' for the same folder). */
export function relativePosix(from: string, to: string): string {
  return relative(from, to).split(sep).join('/') || '.';
}

// ---------------------------------------------------------------------------------------------
// index

export const SEARCH_USAGE = `usage:
  resnet50 index <folder> --weights <file> --out <index.safetensors> [--preset torchvision|msvision|clip|bit] [--arch …]
                 [--batch 8] [--device webgpu|cpu] [--precision f32|f16] [--quiet]
      embeds every .jpg/.jpeg/.png under <folder> (L2-normalised) into a search index; run again on
      the same --out, it embeds only new or changed files (by size and mtime) and drops deleted ones
  resnet50 search <image…> --index <index.safetensors> [--k 10] [--weights <file>] [--device webgpu|cpu]
                  [--search-on auto|cpu|gpu] [--json] [--quiet]
      prints the k indexed images nearest to each query by cosine similarity, with their scores;
      the query is embedded with the index's weights (its recorded path unless --weights is given;
      a weights file with another SHA-256 is refused), preset and precision. The scores are computed
      on the CPU (blocked dot products), or on the GPU (a WGSL kernel) with --search-on gpu, or with
      auto (the default) when --device is webgpu and rows × dim × queries ≥ 2^26.
      --json: one JSON object per query: {"query", "results": [{"path", "file", "score"}]}

  resnet50 index <folder> --db <path|uri> [--import <index.safetensors>] [--ann-threshold ${ANN_THRESHOLD}]
                 [--queue redis://[user:pass@]host:port [--shard-size 256] [--detach]] [same options as above]
      the index in a LanceDB database (table images: path, size, mtime_ms, vector; table settings):
      incremental as above, rows upserted by path; --import takes the rows of a safetensors index of
      the same folder and settings without embedding them again. From --ann-threshold rows on, an
      IVF-PQ vector index (cosine) is built, and updated by later runs. --queue: the files to embed are
      split into shards of --shard-size files, queued on Redis (BullMQ) for 'resnet50 worker'
      processes on any machine that reads <folder> and the database; progress until the last shard
      is done, then the vector index is built or updated; with --detach, it exits once the shards
      are queued (run index again when the workers are done, for the vector index)
  resnet50 search <image…> --db <path|uri> [--k 10] [--exact] [--nprobes ${DEFAULT_NPROBES}] [--refine-factor ${DEFAULT_REFINE_FACTOR}]
                  [--weights <file>] [--device webgpu|cpu] [--json] [--quiet]
      as above, from the database: through the vector index when there is one (the nprobes nearest
      partitions, then exact scores of the best k × refine-factor candidates), or every row with --exact
  resnet50 worker --queue redis://… [--concurrency 1] [--exit-when-idle] [--lock-seconds 30]
                  [--device webgpu|cpu]
      takes shards from the queue and writes their rows; a shard whose worker died is taken up again
      once its lock (--lock-seconds) has expired; a shard is tried ${SHARD_ATTEMPTS} times at most`;

/** The options of index with --out and with --db alike: the weights and how to embed. */
export const EMBEDDING_OPTIONS = {
  weights: { type: 'string' },
  preset: { type: 'string' },
  arch: { type: 'string' },
  sha256: { type: 'string' },
  batch: { type: 'string', default: '8' },
  device: { type: 'string', default: 'webgpu' },
  precision: { type: 'string', default: 'f32' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const;

const INDEX_OPTIONS = { out: { type: 'string' }, ...EMBEDDING_OPTIONS } as const;

const SEARCH_OPTIONS = {
  index: { type: 'string' },
  k: { type: 'string', default: '10' },
  weights: { type: 'string' },
  device: { type: 'string', default: 'webgpu' },
  'search-on': { type: 'string', default: 'auto' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The index file at `path`, or null when there is none; refuses a file that is not an index. */
async function readExistingIndex(path: string): Promise<SearchIndex | null> {
  let s;
  try {
    s = await stat(path);
  } catch {
    return null;
  }
  if (s.isDirectory()) throw new CliError(`--out ${path} is a folder`);
  const bytes = await readBytes(path, 'index');
  try {
    return decodeSearchIndex(bytes, path);
  } catch (e) {
    if (e instanceof NotThisFormatError) throw new CliError(`${path} exists and is not a resnet50 search index; refusing to overwrite it`);
    throw new CliError(`${(e as Error).message}; delete it to build a new index`);
  }
}

async function indexCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: INDEX_OPTIONS, allowPositionals: true, strict: true });
  if (values.help) {
    console.log(SEARCH_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new CliError(`index takes one folder, got ${positionals.length}\n${SEARCH_USAGE}`);
  if (!values.out) throw new CliError('missing --out <index file>, e.g. --out photos.index.safetensors');
  if (values.preset !== undefined) checkPreset(values.preset);
  const { device, precision } = checkDevice(values.device, values.precision);
  const batch = positiveInteger(values.batch, '--batch');
  const folder = positionals[0];
  const out = values.out;
  const outDir = dirname(resolve(out));

  const files = await listImages(folder);
  if (files.length === 0) throw new CliError(`${folder}: no ${IMAGE_LIST} images in this folder`);
  const previous = await readExistingIndex(out);
  const weights = await readWeightsFile(values.weights, { sha256: values.sha256, quiet: values.quiet, arch: values.arch });
  const preset = checkPreset(values.preset ?? weights.preset);
  const settings = { weightsSha256: weights.sha256, preset, precision };
  let reusable = previous;
  if (previous && !sameSettings(previous, settings)) {
    const what = previous.weightsSha256 !== weights.sha256 ? 'other weights' : previous.preset !== preset ? `preset ${previous.preset}` : `precision ${previous.precision}`;
    if (!values.quiet) process.stderr.write(`resnet50 index: ${out} was built with ${what}; embedding every image again\n`);
    reusable = null;
  } else if (previous && resolve(outDir, previous.root) !== resolve(folder)) {
    if (!values.quiet) process.stderr.write(`resnet50 index: ${out} indexes another folder (${previous.root}); embedding every image again\n`);
    reusable = null;
  }
  const plan = planReuse(reusable?.files ?? null, files);
  const todo = files.flatMap((f, i) => (plan.source[i] < 0 ? [{ file: f.file, at: i }] : []));
  const model = new LazyModel(weights, device, precision);
  let run: EmbedFilesResult;
  try {
    run = await embedFiles(todo, { model, preset, batch, quiet: values.quiet, command: 'resnet50 index' });
  } finally {
    model.dispose();
  }
  const fresh = new Map<number, Float32Array>();
  todo.forEach((t, j) => run.rows[j] && fresh.set(t.at, run.rows[j]!));
  const dim = reusable?.dim ?? fresh.values().next().value?.length;
  if (dim === undefined) throw new CliError('no image could be read');
  const kept: ImageFile[] = [];
  const from: number[] = []; // the previous row each kept file came from (-1: embedded now)
  const parts: Float32Array[] = [];
  files.forEach((f, i) => {
    const j = plan.source[i];
    const raw = j >= 0 ? reusable!.embeddings.subarray(j * dim, (j + 1) * dim) : fresh.get(i);
    if (!raw) return;
    if (raw.length !== dim) throw new CliError(`the model gives ${raw.length}-d embeddings, the index holds ${dim}-d`);
    kept.push(f);
    from.push(j);
    parts.push(j >= 0 ? raw : l2Normalize(raw, 1, dim)); // reused rows are kept bit for bit
  });
  if (kept.length === 0) throw new CliError('no image could be read');
  const embeddings = new Float32Array(kept.length * dim);
  parts.forEach((row, i) => embeddings.set(row, i * dim));

  const present = new Set(files.map((f) => f.path));
  const removed = previous ? previous.files.filter((f) => !present.has(f.path)).length : 0;
  const unchanged = plan.unchanged;
  const root = relativePosix(outDir, resolve(folder));
  // A name or URL is recorded as such (search fetches it from the cache), a path relative to the index.
  const weightsPath = isRemoteWeights(weights.source) ? weights.source : relativePosix(outDir, resolve(weights.path));
  const sameRows = previous !== null && reusable !== null && run.embedded === 0 && kept.length === previous.files.length &&
    from.every((j, i) => j === i) && previous.root === root && previous.weightsPath === weightsPath;
  if (!sameRows) {
    const index: SearchIndex = {
      embeddings,
      dim,
      files: kept.map(({ path, size, mtimeMs }) => ({ path, size, mtimeMs })),
      root,
      weightsSha256: weights.sha256,
      weightsPath,
      preset,
      precision,
      device: run.embedded > 0 ? device : previous?.device ?? device,
    };
    await writeAtomic(out, encodeSearchIndex(index));
  }
  const skipped = run.failures.length ? `, ${run.failures.length} skipped` : '';
  console.log(`${out}: ${kept.length} image(s), ${dim}-d (${run.embedded} embedded, ${unchanged} unchanged, ${removed} removed${skipped})${sameRows ? '; up to date' : ''}`);
  return run.failures.length ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// search

/** rows × dim × queries from which `--search-on auto` computes the scores on the GPU (with --device webgpu) */
const GPU_SEARCH_THRESHOLD = 2 ** 26;

function shortHash(h: string): string {
  return `${h.slice(0, 12)}…`;
}

async function searchCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: SEARCH_OPTIONS, allowPositionals: true, strict: true });
  if (values.help) {
    console.log(SEARCH_USAGE);
    return 0;
  }
  if (positionals.length === 0) throw new CliError(`no query image given\n${SEARCH_USAGE}`);
  if (!values.index) throw new CliError('missing --index <index file> (made by resnet50 index)');
  const k = positiveInteger(values.k, '--k');
  const searchOn = values['search-on'];
  if (searchOn !== 'auto' && searchOn !== 'cpu' && searchOn !== 'gpu') throw new CliError(`--search-on must be auto, cpu or gpu, got '${searchOn}'`);
  const indexPath = values.index;
  const bytes = await readBytes(indexPath, 'index');
  let index: SearchIndex;
  try {
    index = decodeSearchIndex(bytes, indexPath);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const indexDir = dirname(resolve(indexPath));
  const preset = checkPreset(index.preset);
  if (index.precision === 'f16' && values.device === 'cpu') {
    throw new CliError(`${indexPath} was built with precision f16, which the cpu device cannot compute; use --device webgpu`);
  }
  const { device, precision } = checkDevice(values.device, index.precision);

  const weights = await recordedWeights(values.weights, index, indexDir, indexPath);

  const { queries, failures } = await embedQueries(positionals, new LazyModel(weights, device, precision), preset);
  const dim = queries[0].row.length;
  if (dim !== index.dim) throw new CliError(`the model gives ${dim}-d embeddings but ${indexPath} holds ${index.dim}-d ones`);
  const q = new Float32Array(queries.length * dim);
  queries.forEach((x, i) => q.set(x.row, i * dim));
  const matrix = { data: index.embeddings, rows: index.files.length, dim };
  const queryMatrix = { data: q, rows: queries.length, dim };
  const onGpu = searchOn === 'gpu' || (searchOn === 'auto' && device === 'webgpu' && matrix.rows * dim * queries.length >= GPU_SEARCH_THRESHOLD);
  let results;
  if (onGpu) {
    const { nodeGpu } = await import('../platform/node-gpu.ts');
    const started = performance.now();
    const gpuIndex = await GpuCosineIndex.create(nodeGpu(), matrix, { normalized: true });
    try {
      results = await gpuIndex.search(queryMatrix, k);
    } finally {
      gpuIndex.dispose();
    }
    if (!values.quiet) process.stderr.write(`resnet50 search: scores of ${queries.length} quer${queries.length === 1 ? 'y' : 'ies'} × ${matrix.rows} images computed on the GPU in ${((performance.now() - started) / 1000).toFixed(2)} s\n`);
  } else {
    results = cosineTopK(matrix, queryMatrix, k, { normalized: true });
  }

  const root = resolve(indexDir, index.root);
  const shown = (p: string) => {
    const abs = resolve(root, ...p.split('/'));
    const rel = relative(process.cwd(), abs);
    return rel.startsWith('..') ? abs : rel;
  };
  printResults(queries.map((x, i) => ({ query: x.file, results: results[i].map((n) => ({ path: index.files[n.index].path, score: n.score })) })), resolve(indexDir, index.root), values.json === true);
  return failures.length ? 1 : 0;
}

/**
 * The weights an index was built with: `given` (--weights) or else the recorded path (relative to
 * `baseDir`) or name; refused unless its SHA-256 is the recorded one. `what` names the index.
 */
export async function recordedWeights(given: string | undefined, recorded: { weightsPath: string; weightsSha256: string }, baseDir: string, what: string): Promise<WeightsFile> {
  let weightsPath = given;
  let weights: WeightsFile;
  if (weightsPath === undefined) {
    weightsPath = isRemoteWeights(recorded.weightsPath) ? recorded.weightsPath : relativePosix(process.cwd(), resolve(baseDir, recorded.weightsPath));
    try {
      weights = await readWeightsFile(weightsPath);
    } catch (e) {
      throw new CliError(`${(e as Error).message} (the weights ${what} was built with); pass --weights <file>`);
    }
  } else {
    weights = await readWeightsFile(weightsPath);
  }
  if (weights.sha256 !== recorded.weightsSha256) {
    throw new CliError(
      `${weightsPath}: not the weights ${what} was built with (SHA-256 ${shortHash(weights.sha256)}, the index's is ${shortHash(recorded.weightsSha256)}, ${recorded.weightsPath}); pass those weights or rebuild the index`,
    );
  }
  return weights;
}

/** Embeds the query images; fails when none can be read (with the one reason when there is one query). */
export async function embedQueries(files: readonly string[], model: LazyModel, preset: Preset): Promise<{ queries: { file: string; row: Float32Array }[]; failures: InputFailure[] }> {
  let run: EmbedFilesResult;
  try {
    run = await embedFiles(files.map((file) => ({ file })), { model, preset, batch: 8, quiet: true, command: 'resnet50 search', silentFailures: files.length === 1 });
  } finally {
    model.dispose();
  }
  const queries = files.flatMap((file, i) => (run.rows[i] ? [{ file, row: run.rows[i]! }] : []));
  if (queries.length === 0) throw new CliError(files.length === 1 ? run.failures[0].message : 'no query image could be read');
  return { queries, failures: run.failures };
}

/** Prints each query's neighbours (paths relative to `root`), as text or one JSON object per query. */
export function printResults(list: readonly { query: string; results: readonly { path: string; score: number }[] }[], root: string, json: boolean): void {
  const shown = (p: string) => {
    const abs = resolve(root, ...p.split('/'));
    const rel = relative(process.cwd(), abs);
    return rel.startsWith('..') ? abs : rel;
  };
  for (const { query, results } of list) {
    const items = results.map((n) => ({ path: n.path, file: shown(n.path), score: n.score }));
    if (json) {
      console.log(JSON.stringify({ query, results: items }));
    } else {
      console.log(query);
      items.forEach((it, r) => console.log(`${String(r + 1).padStart(4)}  ${it.score.toFixed(4)}  ${it.file}`));
    }
  }
}

/** Runs `resnet50 index|search <argv…>`; returns the exit status. Errors are one line on stderr. */
export async function searchMain(command: 'index' | 'search', argv: string[]): Promise<number> {
  try {
    if (argv.some((a) => a === '--db' || a.startsWith('--db='))) {
      const db = await import('./index-db.ts');
      return command === 'index' ? await db.indexDbCommand(argv) : await db.searchDbCommand(argv);
    }
    return command === 'index' ? await indexCommand(argv) : await searchCommand(argv);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const known = e instanceof CliError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`resnet50 ${command}: ${known ? message : `${(e as Error).name ?? 'error'}: ${message}`}\n`);
    return 1;
  }
}
