// `resnet50 probe --dataset NAME[,NAME…] --root DIR`: the seed's benchmarks read from their files as
// distributed (src/datasets), embedded through the bounded pipeline and chunked cache of
// dataset-features.ts, and probed as CLIP did: the official train/test splits; λ swept on the
// official validation split where there is one (Flowers-102), else on a seeded split of train; refit
// on train (+ val); scored with CLIP's metric for the dataset. Prints (and with --table writes) the
// seed's table with this run's column.
import { join } from 'node:path';
import type { Device } from '../api.ts';
import { openDataset, parseDatasetNames, type Dataset, type DatasetName, type Split } from '../datasets/index.ts';
import { seedTable } from '../datasets/seed-table.ts';
import type { Preset } from '../image/preprocess.ts';
import type { Precision } from '../kernels/webgpu/kernels.ts';
import { runLinearProbe, type ProbeReport } from '../probe/index.ts';
import { CACHE_DIR, splitFeatures } from './dataset-features.ts';
import { nodeDatasetFiles } from './dataset-files.ts';
import { CliError, writeAtomic } from './files.ts';
import type { ProbeImageOptions } from './probe-images.ts';
import { checkDevice, checkPreset, LazyModel, positiveInteger, readWeightsFile, type WeightsFile } from './search.ts';

/** The image-folder mode's model options, and the benchmark mode's own. */
export interface ProbeDatasetOptions extends Omit<ProbeImageOptions, 'train' | 'test' | 'weights'> {
  /** One table column per weights (none: the default weights). */
  weights: readonly string[];
  dataset?: string;
  root?: string;
  chunk: string;
  'limit-per-class'?: string;
  out?: string;
  table?: string;
  seed: number;
  valSplit: number;
  maxIter: number;
  lambda?: number;
}

export interface DatasetReport {
  dataset: DatasetName;
  metric: 'top1_accuracy' | 'mean_per_class_accuracy';
  /** percent, by `metric` */
  score: number;
  train: number;
  val: number | null;
  test: number;
  classes: number;
  validation: string;
  lambda: number;
  C: number;
  limit_per_class: number | null;
  root: string;
  format: string;
  weights: string;
  weights_sha256: string;
  preset: Preset;
  precision: Precision;
  device: Device;
  probe: ProbeReport;
}

/** The first `limit` samples of each class, in order. */
function limitPerClass(split: Split, limit: number): Split {
  const seen = new Map<number, number>();
  const keep: number[] = [];
  split.labels.forEach((c, i) => {
    const n = seen.get(c) ?? 0;
    if (n < limit) keep.push(i);
    seen.set(c, n + 1);
  });
  const labels = Int32Array.from(keep, (i) => split.labels[i]);
  return split.kind === 'files'
    ? { kind: 'files', labels, files: keep.map((i) => split.files[i]) }
    : { kind: 'pixels', labels, image: (i) => split.image(keep[i]) };
}

const cacheKey = (w: WeightsFile, preset: string, precision: string, device: string, limit: number | null) =>
  `${w.sha256.slice(0, 16)}-${preset}-${precision}-${device}${limit === null ? '' : `-limit${limit}`}`;

async function probeOne(
  ds: Dataset,
  o: { weights: WeightsFile; model: LazyModel; preset: Preset; precision: Precision; device: Device; batch: number; chunk: number; limit: number | null; cache: boolean; opts: ProbeDatasetOptions },
  note: (line: string) => void,
): Promise<DatasetReport> {
  const splits: [string, Split][] = [['train', ds.train], ...(ds.val ? [['val', ds.val] as [string, Split]] : []), ['test', ds.test]];
  const features = new Map<string, { data: Float32Array; rows: number; dim: number; labels: Int32Array }>();
  for (const [name, full] of splits) {
    const split = o.limit === null ? full : limitPerClass(full, o.limit);
    const key = cacheKey(o.weights, o.preset, o.precision, o.device, o.limit);
    const f = await splitFeatures(split, {
      model: o.model, preset: o.preset, batch: o.batch, chunk: o.chunk,
      cacheDir: o.cache ? join(ds.root, CACHE_DIR, `${ds.name}-${name}-${key}`) : null,
      settings: { weights_sha256: o.weights.sha256, preset: o.preset, precision: o.precision, device: o.device, limit_per_class: o.limit },
      root: ds.root, label: `${ds.name} ${name}`, quiet: o.opts.quiet === true, note,
    });
    if (!o.opts.quiet) {
      process.stderr.write(`${ds.name} ${name}: ${split.labels.length} images (${f.embedded} embedded${f.rate !== null ? ` at ${f.rate.toFixed(2)} images/s` : ''}, ${f.cached} from cache)\n`);
    }
    features.set(name, { data: f.features, rows: split.labels.length, dim: f.dim, labels: split.labels });
  }
  const train = features.get('train')!;
  const val = features.get('val');
  const test = features.get('test')!;
  // the official validation split: train and val side by side, the sweep told which rows are which
  const fit = val
    ? {
      features: { data: concat(train.data, val.data), rows: train.rows + val.rows, dim: train.dim },
      labels: concat(train.labels, val.labels),
      split: { train: Int32Array.from({ length: train.rows }, (_, i) => i), val: Int32Array.from({ length: val.rows }, (_, i) => train.rows + i) },
    }
    : { features: { data: train.data, rows: train.rows, dim: train.dim }, labels: train.labels, split: undefined };
  let probe: ProbeReport;
  try {
    probe = runLinearProbe({ features: fit.features, labels: fit.labels }, { features: { data: test.data, rows: test.rows, dim: test.dim }, labels: test.labels }, {
      valSplit: o.opts.valSplit, seed: o.opts.seed, lambda: o.opts.lambda, fit: { maxIter: o.opts.maxIter }, split: fit.split,
      labelNames: ds.classes,
      onProgress: o.opts.quiet ? undefined : (line) => process.stderr.write(`${ds.name}: ${line}\n`),
    }).report;
  } catch (e) {
    throw new CliError(`${ds.name}: ${(e as Error).message}`);
  }
  const score = ds.metric === 'mean_per_class_accuracy' ? probe.test_mean_per_class_accuracy : probe.test_top1_accuracy;
  return {
    dataset: ds.name,
    metric: ds.metric,
    score,
    train: train.rows,
    val: val?.rows ?? null,
    test: test.rows,
    classes: probe.classes,
    validation: o.opts.lambda !== undefined ? 'none (λ given)' : val ? 'official validation split' : `seeded stratified split of train (${o.opts.valSplit}, seed ${o.opts.seed})`,
    lambda: probe.lambda,
    C: probe.C,
    limit_per_class: o.limit,
    root: ds.root,
    format: ds.format,
    weights: o.weights.source,
    weights_sha256: o.weights.sha256,
    preset: o.preset,
    precision: o.precision,
    device: o.device,
    probe,
  };
}

function concat<T extends Float32Array | Int32Array>(a: T, b: T): T {
  const out = new (a.constructor as { new (n: number): T })(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Runs the dataset mode; returns the exit status (errors are thrown as CliError). */
export async function probeDatasets(opts: ProbeDatasetOptions): Promise<number> {
  if (opts.root === undefined) throw new CliError('--dataset needs --root <folder> (where the datasets were downloaded)');
  let names: DatasetName[];
  try {
    names = parseDatasetNames(opts.dataset!);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  if (opts.preset !== undefined) checkPreset(opts.preset);
  if (opts.table !== undefined && !opts.table.endsWith('.md')) throw new CliError(`--table must end in .md, got ${opts.table}`);
  const { device, precision } = checkDevice(opts.device, opts.precision);
  const batch = positiveInteger(opts.batch, '--batch');
  const chunk = positiveInteger(opts.chunk, '--chunk');
  const limit = opts['limit-per-class'] === undefined ? null : positiveInteger(opts['limit-per-class'], '--limit-per-class');
  const quiet = opts.quiet === true;
  const note = (line: string) => {
    if (!quiet) process.stderr.write(`resnet50 probe: ${line}\n`);
  };
  // every dataset is read (and so checked) before any model work starts
  const datasets: Dataset[] = [];
  for (const name of names) {
    try {
      datasets.push(await openDataset(name, nodeDatasetFiles, opts.root));
    } catch (e) {
      throw e instanceof CliError ? e : new CliError((e as Error).message);
    }
  }
  if (opts.weights.length > 1 && (opts.sha256 !== undefined || opts.arch !== undefined)) {
    throw new CliError('--sha256 and --arch apply to one --weights; give them with a single --weights');
  }
  const runs: { weights: WeightsFile; preset: Preset; reports: DatasetReport[]; average: number }[] = [];
  for (const source of opts.weights.length ? opts.weights : [undefined]) {
    const weights = await readWeightsFile(source, { sha256: opts.sha256, quiet, arch: opts.arch });
    const preset = checkPreset(opts.preset ?? weights.preset);
    const model = new LazyModel(weights, device, precision);
    const reports: DatasetReport[] = [];
    try {
      for (const ds of datasets) {
        const r = await probeOne(ds, { weights, model, preset, precision, device, batch, chunk, limit, cache: opts['no-cache'] !== true, opts }, note);
        const who = opts.weights.length > 1 ? ` [${weights.source}]` : '';
        console.log(`${ds.name}${who}: ${r.metric === 'top1_accuracy' ? 'top-1' : 'mean per-class'} ${r.score.toFixed(2)}% (${r.train} train${r.val !== null ? ` / ${r.val} val` : ''} / ${r.test} test, ${r.classes} classes, λ = ${r.lambda.toExponential(3)})`);
        reports.push(r);
      }
    } finally {
      model.dispose();
    }
    runs.push({ weights, preset, reports, average: reports.reduce((s, r) => s + r.score, 0) / reports.length });
  }
  const limited = limit !== null ? `, ≤ ${limit} per class` : '';
  const table = seedTable(runs.map((r) => ({ title: `this run (${r.weights.source}, ${r.preset}${limited})`, rows: r.reports })));
  console.log(`\n${table}`);
  if (opts.out !== undefined) {
    const one = (r: (typeof runs)[number]) => (r.reports.length === 1 ? r.reports[0] : { datasets: r.reports, average: r.average });
    const report = runs.length === 1 ? one(runs[0]) : { runs: runs.map((r) => ({ weights: r.weights.source, preset: r.preset, ...one(r) })) };
    await writeAtomic(opts.out, JSON.stringify(report, null, 2) + '\n');
  }
  if (opts.table !== undefined) await writeAtomic(opts.table, table);
  return 0;
}
