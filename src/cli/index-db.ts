// `resnet50 index DIR --db PATH` and `resnet50 search … --db PATH`: the search index in a LanceDB
// database (lance-store.ts), embedded in this process or by workers through a BullMQ queue
// (index-queue.ts), searched exactly or through the vector index.
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { decodeSearchIndex, planReuse, sameSettings, type FileStamp, type SearchIndex } from '../search/index.ts';
import { embedIntoStore, type ImageFailure } from './db-embed.ts';
import { CliError, readBytes } from './files.ts';
import { runOnQueue, shardFiles, type ShardJob } from './index-queue.ts';
import { ANN_THRESHOLD, LanceStore, type StoreRow, type StoreSettings } from './lance-store.ts';
import { checkRedis, parseRedisUrl } from './redis.ts';
import { WriteLocks } from './write-lock.ts';
import {
  checkDevice,
  checkPreset,
  EMBEDDING_OPTIONS,
  embedQueries,
  LazyModel,
  listImages,
  positiveInteger,
  printResults,
  readWeightsFile,
  recordedWeights,
  relativePosix,
  SEARCH_USAGE,
  type ImageFile,
} from './search.ts';
import { isRemoteWeights } from '../platform/node-weights-cache.ts';

const INDEX_DB_OPTIONS = {
  db: { type: 'string' },
  import: { type: 'string' },
  'ann-threshold': { type: 'string', default: String(ANN_THRESHOLD) },
  queue: { type: 'string' },
  'shard-size': { type: 'string', default: '256' },
  detach: { type: 'boolean' },
  ...EMBEDDING_OPTIONS,
} as const;

const SEARCH_DB_OPTIONS = {
  db: { type: 'string' },
  k: { type: 'string', default: '10' },
  exact: { type: 'boolean' },
  nprobes: { type: 'string' },
  'refine-factor': { type: 'string' },
  weights: { type: 'string' },
  device: { type: 'string', default: 'webgpu' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Rows written per LanceDB commit when embedding in this process */
const CHUNK = 256;

const isUri = (db: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(db);
/** The database as every process must open it: a URI as given, a local path made absolute. */
const dbLocation = (db: string) => (isUri(db) ? db : resolve(db));
/** Where recorded paths are relative to: the folder holding a local database; none (absolute) for a URI. */
const baseOf = (db: string) => (isUri(db) ? null : dirname(resolve(db)));
const recordPath = (db: string, path: string) => {
  const base = baseOf(db);
  return base === null ? resolve(path) : relativePosix(base, resolve(path));
};
const resolveRecorded = (db: string, path: string) => resolve(baseOf(db) ?? '/', path);

/** A safetensors index to import, refused (before anything is written) unless it has this run's folder and settings. */
async function readImport(file: string, folder: string, settings: { weightsSha256: string; preset: string; precision: string }): Promise<SearchIndex> {
  let ix;
  try {
    ix = decodeSearchIndex(await readBytes(file, 'index'), file);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  if (!sameSettings(ix, settings)) throw new CliError(`--import ${file}: built with other settings (weights, preset or precision) than this run; it cannot be imported`);
  if (resolve(dirname(resolve(file)), ix.root) !== resolve(folder)) throw new CliError(`--import ${file}: indexes another folder (${ix.root})`);
  return ix;
}

/** The rows of the imported index whose files are unchanged. */
function importRows(ix: SearchIndex, todo: readonly ImageFile[]): StoreRow[] {
  const { source } = planReuse(ix.files, todo);
  return todo.flatMap((f, i) => {
    const j = source[i];
    if (j < 0) return [];
    return [{ path: f.path, size: f.size, mtimeMs: f.mtimeMs, vector: ix.embeddings.slice(j * ix.dim, (j + 1) * ix.dim) }];
  });
}

function progressBar(total: number, quiet: boolean): { update(done: number, failed: number): void; stop(): void } {
  const on = !quiet && process.stdout.isTTY === true && process.stderr.isTTY === true;
  const bar = on ? new SingleBar({ format: 'resnet50 index: {bar} {value}/{total} images | {rate} images/s | {failed} failed', hideCursor: true }) : null;
  const started = performance.now();
  bar?.start(total, 0, { rate: '-', failed: 0 });
  return {
    update: (done, failed) => bar?.update(done, { rate: ((done - failed) / ((performance.now() - started) / 1000)).toFixed(2), failed }),
    stop: () => bar?.stop(),
  };
}

export async function indexDbCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: INDEX_DB_OPTIONS, allowPositionals: true, strict: true });
  if (values.help) {
    console.log(SEARCH_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new CliError(`index takes one folder, got ${positionals.length}\n${SEARCH_USAGE}`);
  const db = values.db!;
  if (values.preset !== undefined) checkPreset(values.preset);
  const { device, precision } = checkDevice(values.device, values.precision);
  const batch = positiveInteger(values.batch, '--batch');
  const annThreshold = positiveInteger(values['ann-threshold'], '--ann-threshold');
  const shardSize = positiveInteger(values['shard-size'], '--shard-size');
  const target = values.queue === undefined ? null : parseRedisUrl(values.queue);
  if (values.detach && !target) throw new CliError('--detach goes with --queue');
  const folder = positionals[0];
  const quiet = values.quiet === true;
  if (target) await checkRedis(target); // before anything is read or written

  const files = await listImages(folder);
  if (files.length === 0) throw new CliError(`${folder}: no .jpg, .jpeg or .png images in this folder`);
  // with a queue, this run's writes (removals, imports) take the workers' write lock too
  const locks = target ? await WriteLocks.connect(target) : null;
  const store = await LanceStore.open(dbLocation(db), locks ? { guard: locks.guard(dbLocation(db)) } : {});
  try {
    const weights = await readWeightsFile(values.weights, { sha256: values.sha256, quiet, arch: values.arch });
    const preset = checkPreset(values.preset ?? weights.preset);
    const remote = isRemoteWeights(weights.source);
    const settings: StoreSettings = {
      weightsSha256: weights.sha256,
      weightsPath: remote ? weights.source : recordPath(db, weights.path),
      preset,
      precision,
      root: recordPath(db, folder),
      device,
    };
    const toImport = values.import === undefined ? null : await readImport(values.import, folder, settings);
    const previous = await store.settings();
    if (previous && (!sameSettings(previous, settings) || resolveRecorded(db, previous.root) !== resolve(folder))) {
      const what = !sameSettings(previous, settings) ? 'other settings (weights, preset or precision)' : `another folder (${previous.root})`;
      if (!quiet) process.stderr.write(`resnet50 index: ${db} was built with ${what}; embedding every image again\n`);
      await store.clear();
    }
    const stamps = await store.stamps();
    const reuse = planReuse(stamps, files);
    const present = new Set(files.map((f) => f.path));
    const removed = stamps.filter((s) => !present.has(s.path)).map((s) => s.path);
    await store.delete(removed);
    let todo = files.filter((_, i) => reuse.source[i] < 0);
    const unchanged = reuse.unchanged;
    let imported = 0;
    if (toImport) {
      const rows = importRows(toImport, todo);
      for (let i = 0; i < rows.length; i += CHUNK) await store.upsert(rows.slice(i, i + CHUNK));
      const done = new Set(rows.map((r) => r.path));
      todo = todo.filter((f) => !done.has(f.path));
      imported = rows.length;
    }
    await store.writeSettings(previous?.device && todo.length === 0 ? { ...settings, device: previous.device } : settings);

    let embedded = 0;
    let failures: ImageFailure[] = [];
    const started = performance.now();
    if (target && todo.length > 0) {
      const stamp = ({ path, size, mtimeMs }: FileStamp) => ({ path, size, mtimeMs });
      const shards: ShardJob[] = shardFiles(todo, shardSize).map((part) => ({
        db: dbLocation(db),
        root: resolve(folder),
        files: part.map(stamp),
        weights: { source: remote ? weights.source : resolve(weights.path), sha256: weights.sha256, arch: weights.arch },
        preset,
        precision,
        batch,
      }));
      const run = await runOnQueue(target, shards, { detach: values.detach === true, quiet });
      if (!run) return 0;
      ({ embedded, failures } = run);
    } else if (todo.length > 0) {
      const model = new LazyModel(weights, device, precision);
      const bar = progressBar(todo.length, quiet);
      try {
        ({ embedded, failures } = await embedIntoStore(store, todo, { model, preset, batch, chunk: CHUNK, onChunk: (done, failed) => bar.update(done, failed) }));
      } finally {
        bar.stop();
        model.dispose();
      }
    }
    if (!quiet && embedded > 0) {
      const seconds = (performance.now() - started) / 1000;
      process.stderr.write(`resnet50 index: ${embedded} image(s) embedded in ${seconds.toFixed(2)} s (${(embedded / seconds).toFixed(2)} images/s)\n`);
    }
    for (const f of failures) process.stderr.write(`resnet50 index: skipped ${f.reason}\n`);

    const duplicates = await store.dedupe(); // on the table's latest version: the workers' rows included
    const ann = await store.maintainIndex(annThreshold);
    const count = await store.count();
    if (count === 0) throw new CliError('no image could be read');
    const skipped = failures.length ? `, ${failures.length} skipped` : '';
    const dupNote = duplicates ? `, ${duplicates} duplicate row(s) of concurrent writers removed` : '';
    const annNote = ann === 'built' ? '; vector index built' : ann === 'updated' ? '; vector index updated' : '';
    console.log(`${db}: ${count} image(s), ${await store.dim()}-d (${embedded} embedded, ${imported} imported, ${unchanged} unchanged, ${removed.length} removed${skipped}${dupNote})${annNote}`);
    return failures.length ? 1 : 0;
  } finally {
    store.close();
    locks?.close();
  }
}

export async function searchDbCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: SEARCH_DB_OPTIONS, allowPositionals: true, strict: true });
  if (values.help) {
    console.log(SEARCH_USAGE);
    return 0;
  }
  if (positionals.length === 0) throw new CliError(`no query image given\n${SEARCH_USAGE}`);
  const db = values.db!;
  const k = positiveInteger(values.k, '--k');
  const nprobes = values.nprobes === undefined ? undefined : positiveInteger(values.nprobes, '--nprobes');
  const refineFactor = values['refine-factor'] === undefined ? undefined : positiveInteger(values['refine-factor'], '--refine-factor');
  const store = await LanceStore.open(dbLocation(db));
  try {
    const settings = await store.settings();
    const dim = await store.dim();
    if (!settings || dim === null) throw new CliError(`${db}: no index here (make one with resnet50 index <folder> --db ${db})`);
    const preset = checkPreset(settings.preset);
    if (settings.precision === 'f16' && values.device === 'cpu') throw new CliError(`${db} was built with precision f16, which the cpu device cannot compute; use --device webgpu`);
    const { device, precision } = checkDevice(values.device, settings.precision);
    const weights = await recordedWeights(values.weights, settings, baseOf(db) ?? '/', db);
    const { queries, failures } = await embedQueries(positionals, new LazyModel(weights, device, precision), preset);
    if (queries[0].row.length !== dim) throw new CliError(`the model gives ${queries[0].row.length}-d embeddings but ${db} holds ${dim}-d ones`);
    const list = [];
    for (const q of queries) list.push({ query: q.file, results: await store.search(q.row, k, { exact: values.exact, nprobes, refineFactor }) });
    printResults(list, resolveRecorded(db, settings.root), values.json === true);
    return failures.length ? 1 : 0;
  } finally {
    store.close();
  }
}
