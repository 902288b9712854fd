// The image-folder mode of `resnet50 probe`: --train and --test are folders laid out as torchvision's
// ImageFolder (one subfolder per class, the class being the subfolder's name; classes in sorted
// order; .jpg/.jpeg/.png found recursively inside each class folder). Each folder's features are
// computed in batches and cached in <dir>/.resnet50-cache/<key>.safetensors (format in
// src/search/format.ts), keyed by the weights file's SHA-256, the preset, the precision and the
// device; a later run embeds only the files that are new or changed (by size and mtime) and, when
// nothing is, does not even load the model.
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Device } from '../api.ts';
import type { Preset } from '../image/preprocess.ts';
import type { Precision } from '../kernels/webgpu/kernels.ts';
import type { LabeledFeatures } from '../probe/index.ts';
import { decodeFeatureCache, encodeFeatureCache, planReuse, sameSettings, type FeatureCache } from '../search/index.ts';
import { CliError, readBytes, writeAtomic } from './files.ts';
import type { InputFailure } from './inputs.ts';
import {
  checkDevice,
  checkPreset,
  embedFiles,
  LazyModel,
  listImages,
  positiveInteger,
  readWeightsFile,
  type ImageFile,
  type WeightsFile,
} from './search.ts';

export const CACHE_DIR = '.resnet50-cache';

export interface ProbeImageOptions {
  train?: string;
  test?: string;
  weights?: string;
  sha256?: string;
  preset?: string;
  arch?: string;
  precision: string;
  device: string;
  batch: string;
  quiet?: boolean;
  'no-cache'?: boolean;
}

/** What the image-folder mode adds to the report, under "images". */
export interface ImagesReport {
  train: string;
  test: string;
  classes: string[];
  weights: string;
  weights_sha256: string;
  preset: Preset;
  precision: Precision;
  device: Device;
  train_images: number;
  test_images: number;
  skipped: { path: string; message: string }[];
}

export interface ImageFolderFeatures {
  train: LabeledFeatures;
  test: LabeledFeatures;
  /** display name of each label value */
  labelNames: string[];
  images: ImagesReport;
  failures: InputFailure[];
}

interface Dataset {
  readonly dir: string;
  /** class folder names with images, sorted */
  readonly classes: string[];
  /** images inside class folders, with the index of their class */
  readonly files: (ImageFile & { label: number })[];
}

const IMAGES = '.jpg, .jpeg or .png';

/** Every image under a --train or --test folder. */
async function scanFolder(dir: string, what: string): Promise<ImageFile[]> {
  try {
    return await listImages(dir);
  } catch (e) {
    throw e instanceof CliError ? new CliError(`${e.message} (image-folder mode: --${what} is a folder with one subfolder per class)`) : e;
  }
}

/** A folder's classes and images, ImageFolder style; notes what is ignored. */
async function readDataset(dir: string, all: ImageFile[], what: string, note: (line: string) => void): Promise<Dataset> {
  const loose = all.filter((f) => !f.path.includes('/'));
  if (loose.length) note(`${what}: ${loose.length} image(s) directly in ${dir} are in no class folder; ignored`);
  const inClasses = all.filter((f) => f.path.includes('/'));
  const classes = [...new Set(inClasses.map((f) => f.path.slice(0, f.path.indexOf('/'))))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (classes.length === 0) throw new CliError(`${dir}: no class folders with ${IMAGES} images (expected one subfolder per class, e.g. ${dir}/cat/1.jpg)`);
  const folders = (await readdir(dir, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'));
  for (const e of folders) {
    const isDir = e.isDirectory() || (e.isSymbolicLink() && (await stat(join(dir, e.name)).then((s) => s.isDirectory(), () => false)));
    if (isDir && !classes.includes(e.name)) note(`${what}: ${join(dir, e.name)} holds no ${IMAGES} images; no class made of it`);
  }
  const index = new Map(classes.map((c, i) => [c, i]));
  const files = inClasses.map((f) => ({ ...f, label: index.get(f.path.slice(0, f.path.indexOf('/')))! }));
  return { dir, classes, files };
}

interface CachedFeatures {
  /** [n, dim] features of the readable files, in dataset order */
  features: Float32Array;
  dim: number;
  /** the dataset's files that were read, in order */
  files: Dataset['files'];
  failures: InputFailure[];
}

const cacheKey = (w: WeightsFile, preset: string, precision: string, device: string) => `${w.sha256.slice(0, 16)}-${preset}-${precision}-${device}`;

async function readCache(path: string, note: (line: string) => void): Promise<FeatureCache | null> {
  let bytes: Uint8Array;
  try {
    bytes = await readBytes(path, 'cache');
  } catch {
    return null;
  }
  try {
    return decodeFeatureCache(bytes, path);
  } catch (e) {
    note(`ignoring the feature cache ${(e as Error).message}`);
    return null;
  }
}

/** The dataset's features: from its cache where the files are unchanged, embedded otherwise; the cache updated. */
async function datasetFeatures(
  ds: Dataset,
  what: string,
  o: { weights: WeightsFile; model: LazyModel; preset: Preset; precision: Precision; device: Device; batch: number; quiet: boolean; cache: boolean },
  note: (line: string) => void,
): Promise<CachedFeatures> {
  const settings = { weightsSha256: o.weights.sha256, preset: o.preset, precision: o.precision };
  const cacheFile = join(ds.dir, CACHE_DIR, `${cacheKey(o.weights, o.preset, o.precision, o.device)}.safetensors`);
  let cached = o.cache ? await readCache(cacheFile, note) : null;
  if (cached && !(sameSettings(cached, settings) && cached.device === o.device)) cached = null;
  const plan = planReuse(cached?.files ?? null, ds.files);
  const todo = ds.files.flatMap((f, i) => (plan.source[i] < 0 ? [{ file: f.file, at: i }] : []));
  const run = await embedFiles(todo, { model: o.model, preset: o.preset, batch: o.batch, quiet: o.quiet, label: what, command: 'resnet50 probe' });
  const fresh = new Map<number, Float32Array>();
  todo.forEach((t, j) => run.rows[j] && fresh.set(t.at, run.rows[j]!));
  const dim = cached?.dim ?? fresh.values().next().value?.length;
  if (dim === undefined) throw new CliError(`${what}: no image in ${ds.dir} could be read`);
  const files: Dataset['files'] = [];
  const from: number[] = []; // the cache row each kept file came from (-1: embedded now)
  const rows: Float32Array[] = [];
  ds.files.forEach((f, i) => {
    const j = plan.source[i];
    const row = j >= 0 ? cached!.features.subarray(j * dim, (j + 1) * dim) : fresh.get(i);
    if (!row) return;
    if (row.length !== dim) throw new CliError(`${what}: the model gives ${row.length}-d features, the cache ${cacheFile} holds ${dim}-d`);
    files.push(f);
    from.push(j);
    rows.push(row);
  });
  if (files.length === 0) throw new CliError(`${what}: no image in ${ds.dir} could be read`);
  const features = new Float32Array(files.length * dim);
  rows.forEach((r, i) => features.set(r, i * dim));

  const upToDate = cached !== null && run.embedded === 0 && files.length === cached.files.length && from.every((j, i) => j === i);
  if (o.cache && !upToDate) {
    try {
      await mkdir(join(ds.dir, CACHE_DIR), { recursive: true });
      const cache: FeatureCache = {
        features,
        dim,
        files: files.map(({ path, size, mtimeMs }) => ({ path, size, mtimeMs })),
        labels: files.map((f) => f.label),
        classes: ds.classes,
        ...settings,
        device: o.device,
      };
      await writeAtomic(cacheFile, encodeFeatureCache(cache));
    } catch (e) {
      note(`${what}: cannot write the feature cache (${(e as Error).message}); going on without it`);
    }
  }
  if (!o.quiet) {
    const removed = plan.removed;
    const skipped = run.failures.length ? `, ${run.failures.length} skipped` : '';
    process.stderr.write(
      `${what}: ${files.length} image(s) in ${ds.classes.length} classes (${run.embedded} embedded, ${plan.unchanged} from cache${removed ? `, ${removed} dropped from it` : ''}${skipped})` +
        (o.cache ? `; cache ${cacheFile}${upToDate ? ' (unchanged)' : ''}` : '') + '\n',
    );
  }
  return { features, dim, files, failures: run.failures };
}

/** Embeds (or reads from the caches) the --train and --test folders, labels by class name. */
export async function imageFolderFeatures(opts: ProbeImageOptions): Promise<ImageFolderFeatures> {
  const missing = (['train', 'test'] as const).filter((k) => opts[k] === undefined);
  if (missing.length) throw new CliError(`the image-folder mode needs ${missing.map((k) => `--${k} <folder>`).join(' and ')}`);
  if (opts.preset !== undefined) checkPreset(opts.preset);
  const { device, precision } = checkDevice(opts.device, opts.precision);
  const batch = positiveInteger(opts.batch, '--batch');
  const quiet = opts.quiet === true;
  const note = (line: string) => {
    if (!quiet) process.stderr.write(`resnet50 probe: ${line}\n`);
  };

  const trainFiles = await scanFolder(opts.train!, 'train');
  const testFiles = await scanFolder(opts.test!, 'test');
  const weights = await readWeightsFile(opts.weights, { sha256: opts.sha256, quiet, arch: opts.arch });
  const preset = checkPreset(opts.preset ?? weights.preset);
  const trainSet = await readDataset(opts.train!, trainFiles, 'train', note);
  const testSet = await readDataset(opts.test!, testFiles, 'test', note);
  const model = new LazyModel(weights, device, precision);
  const o = { weights, model, preset, precision, device, batch, quiet, cache: opts['no-cache'] !== true };
  let train: CachedFeatures;
  let test: CachedFeatures;
  try {
    train = await datasetFeatures(trainSet, 'train', o, note);
    test = await datasetFeatures(testSet, 'test', o, note);
  } finally {
    model.dispose();
  }
  if (train.dim !== test.dim) throw new CliError(`train features are ${train.dim}-d, test features ${test.dim}-d`);

  // Labels by class name: train's classes first (sorted), then test-only classes (sorted), which the
  // probe reports as unseen.
  const names = [...trainSet.classes, ...testSet.classes.filter((c) => !trainSet.classes.includes(c))];
  const id = new Map(names.map((n, i) => [n, i]));
  const labelsOf = (set: Dataset, files: Dataset['files']) => files.map((f) => id.get(set.classes[f.label])!);
  const failures = [...train.failures, ...test.failures];
  return {
    train: { features: { data: train.features, rows: train.files.length, dim: train.dim }, labels: labelsOf(trainSet, train.files) },
    test: { features: { data: test.features, rows: test.files.length, dim: test.dim }, labels: labelsOf(testSet, test.files) },
    labelNames: names,
    images: {
      train: opts.train!,
      test: opts.test!,
      classes: names,
      weights: weights.source,
      weights_sha256: weights.sha256,
      preset,
      precision,
      device,
      train_images: train.files.length,
      test_images: test.files.length,
      skipped: [...new Map(failures.map((f) => [f.path, { path: f.path, message: f.message }])).values()],
    },
    failures,
  };
}
