// `resnet50 probe`: CLIP's linear probe, with a JSON report and an optional SVG of the λ sweep, on
// precomputed features (.npy) or on image folders (--train/--test in ImageFolder layout with
// --weights: embedded, with a per-folder feature cache, by src/cli/probe-images.ts). Both modes
// produce LabeledFeatures and call the same runLinearProbe.
import { parseArgs } from 'node:util';
import { runLinearProbe, sweepPlotSvg, type LabeledFeatures, type ProbeResult } from '../probe/index.ts';
import { npyToTensor, parseNpy } from '../tensor/npy.ts';
import { CliError, readBytes, writeAtomic } from './files.ts';
import type { ImagesReport } from './probe-images.ts';

export const PROBE_USAGE = `usage:
  resnet50 probe --train-features X.npy --train-labels y.npy --test-features X.npy --test-labels y.npy
                 [--val-split 0.2] [--seed 0] [--lambda L] [--max-iter 1000] [--out report.json] [--plot sweep.svg]
      CLIP's linear probe: multinomial logistic regression (L2 penalty λ, L-BFGS) on [N, D] float32/float16
      features with int64/int32 [N] labels; λ is swept over 1e-6…1e6 on a seeded stratified validation
      split of train (unless --lambda is given), the model refit on all of train and scored on test.
      The objective is Σ cross-entropy + λ/2·‖W‖², i.e. scikit-learn's C = 1/λ.
  resnet50 probe --train <folder> --test <folder> [--weights msvision|<name>|<url>|<file>] [--sha256 HEX] [--preset torchvision|msvision|clip|bit]
                 [--arch torchvision|clip-rn50|bit-r50x1]
                 [--precision f32|f16] [--device webgpu|cpu] [--batch 8] [--no-cache] [--quiet] [same options as above]
      the same probe on images: each folder holds one subfolder per class (torchvision's ImageFolder:
      the class is the subfolder's name, classes sorted, .jpg/.jpeg/.png found recursively). Features
      are cached in <folder>/.resnet50-cache/, keyed by the weights' SHA-256, preset, precision and
      device; a later run embeds only new or changed files. Unreadable images are reported and
      skipped (exit status 1). The report adds "images": folders, classes, weights and settings.
  resnet50 probe --dataset NAME[,NAME…] --root <folder> [--weights msvision|…] [--limit-per-class N] [--table table.md]
                 [--chunk 1024] [--out report.json] [same options as the image folders, but --train/--test/--plot]
      the seed's benchmarks read from their files as distributed, NAME one of cifar10, cifar100, stl10,
      svhn, cub200, flowers102, imagenet (seed = all seven), <folder> holding each as torchvision's
      dataset classes expect their root (or a parent holding them all). CLIP's protocol: official
      splits; λ swept on the official validation split (Flowers-102) or a seeded split of train; refit
      on train (+ val); mean per-class accuracy for Flowers-102, top-1 for the others. Features are
      cached in <dataset>/.resnet50-cache/ chunk by chunk (--chunk rows each); a stopped run resumes.
      --limit-per-class N: only the first N images of each class in each split (a quick subset run,
      reported as such). Prints the seed's table with this run's column (--table writes it). --weights
      may be repeated: one column per weights, each with its own preset (e.g. --weights msvision
      --weights bit-m-r50x1 --weights clip-rn50 --weights torchvision-v2 for all four models); --out
      then holds {"runs": [{weights, preset, datasets, average}, …]}.`;

const OPTIONS = {
  'train-features': { type: 'string' },
  'train-labels': { type: 'string' },
  'test-features': { type: 'string' },
  'test-labels': { type: 'string' },
  'val-split': { type: 'string', default: '0.2' },
  seed: { type: 'string', default: '0' },
  lambda: { type: 'string' },
  'max-iter': { type: 'string', default: '1000' },
  out: { type: 'string' },
  plot: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  // the image-folder mode
  train: { type: 'string' },
  test: { type: 'string' },
  weights: { type: 'string', multiple: true },
  sha256: { type: 'string' },
  preset: { type: 'string' },
  arch: { type: 'string' },
  precision: { type: 'string', default: 'f32' },
  device: { type: 'string', default: 'webgpu' },
  batch: { type: 'string', default: '8' },
  'no-cache': { type: 'boolean' },
  // the benchmark mode
  dataset: { type: 'string' },
  root: { type: 'string' },
  'limit-per-class': { type: 'string' },
  table: { type: 'string' },
  chunk: { type: 'string', default: '1024' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Features [N, D] (float32 or float16, widened to float32). */
export async function readFeatures(path: string): Promise<LabeledFeatures['features']> {
  let t;
  try {
    t = npyToTensor(parseNpy(await readBytes(path, 'features'), path), path);
  } catch (e) {
    throw e instanceof CliError ? e : new CliError((e as Error).message);
  }
  if (t.shape.length !== 2) throw new CliError(`${path}: expected a feature matrix [N, D], got [${t.shape.join(', ')}]`);
  return { data: t.data as Float32Array, rows: t.shape[0], dim: t.shape[1] };
}

/** Labels [N] (or [N, 1]), int64 or int32. */
export async function readLabels(path: string): Promise<number[]> {
  let a;
  try {
    a = parseNpy(await readBytes(path, 'labels'), path);
  } catch (e) {
    throw e instanceof CliError ? e : new CliError((e as Error).message);
  }
  if (a.dtype !== 'i64' && a.dtype !== 'i32') throw new CliError(`${path}: labels must be int64 or int32, got ${a.dtype}`);
  if (!(a.shape.length === 1 || (a.shape.length === 2 && a.shape[1] === 1))) {
    throw new CliError(`${path}: expected labels [N], got [${a.shape.join(', ')}]`);
  }
  if (a.dtype === 'i32') return Array.from(a.data as Int32Array);
  return Array.from(a.data as BigInt64Array, (v) => {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw new CliError(`${path}: label ${v} is too large`);
    return Number(v);
  });
}

function number(text: string, flag: string, ok: (v: number) => boolean, what: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || !ok(v)) throw new CliError(`--${flag} must be ${what}, got '${text}'`);
  return v;
}

function summary(r: ProbeResult): string {
  const rep = r.report;
  const lines = [
    `classes ${rep.classes}, ${rep.dim}-d features, ${rep.train_samples} train / ${rep.test_samples} test samples`,
    `λ = ${rep.lambda.toExponential(3)} (C = ${rep.C.toExponential(3)}, ${rep.lambda_source === 'sweep' ? `chosen on ${rep.val_samples} validation samples, val top-1 ${rep.best_val_top1_accuracy!.toFixed(2)}%` : 'given'})`,
    `test top-1 ${rep.test_top1_accuracy.toFixed(2)}%` +
      (rep.test_top5_accuracy !== undefined ? `, top-5 ${rep.test_top5_accuracy.toFixed(2)}%` : '') +
      `, mean per-class ${rep.test_mean_per_class_accuracy.toFixed(2)}%`,
  ];
  if (!rep.fit.converged) lines.push(`warning: the final fit stopped after ${rep.fit.iterations} iterations without converging (${rep.fit.stop_reason})`);
  return lines.join('\n');
}

/** Runs `resnet50 probe <argv…>` (argv after the command name); returns the exit status. */
export async function probeCommand(argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    if (values.help) {
      console.log(PROBE_USAGE);
      return 0;
    }
    if (positionals.length) throw new CliError(`unexpected argument '${positionals[0]}'\n${PROBE_USAGE}`);
    const featureFlags = ['train-features', 'train-labels', 'test-features', 'test-labels'] as const;
    const datasetMode = values.dataset !== undefined;
    if (datasetMode) {
      const mixed = [...featureFlags, 'train', 'test', 'plot'].filter((k) => values[k as keyof typeof values] !== undefined);
      if (mixed.length) throw new CliError(`--dataset (benchmarks) and ${mixed.map((k) => `--${k}`).join(', ')} cannot be mixed`);
    } else {
      const only = (['root', 'limit-per-class', 'table'] as const).filter((k) => values[k] !== undefined);
      if (only.length) throw new CliError(`${only.map((k) => `--${k}`).join(', ')} only go with --dataset`);
    }
    const imageMode = values.train !== undefined || values.test !== undefined || values.weights !== undefined;
    if (imageMode && !datasetMode) {
      const mixed = featureFlags.filter((k) => values[k] !== undefined);
      if (mixed.length) throw new CliError(`--train/--test/--weights (image folders) and ${mixed.map((k) => `--${k}`).join(', ')} (features) cannot be mixed`);
    } else if (!datasetMode) {
      const missing = featureFlags.filter((k) => values[k] === undefined);
      if (missing.length) throw new CliError(`missing ${missing.map((k) => `--${k}`).join(', ')} (or --train/--test/--weights for image folders)\n${PROBE_USAGE}`);
    }
    const valSplit = number(values['val-split'], 'val-split', (v) => v > 0 && v < 1, 'a fraction between 0 and 1');
    const seed = number(values.seed, 'seed', (v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32, 'an integer in [0, 2^32)');
    const maxIter = number(values['max-iter'], 'max-iter', (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
    const lambda = values.lambda === undefined ? undefined : number(values.lambda, 'lambda', (v) => v > 0, 'a positive number');
    if (values.out !== undefined && !values.out.endsWith('.json')) throw new CliError(`--out must end in .json, got ${values.out}`);
    if (values.plot !== undefined) {
      if (!values.plot.endsWith('.svg')) throw new CliError(`--plot must end in .svg, got ${values.plot}`);
      if (lambda !== undefined) throw new CliError('--plot draws the λ sweep, which --lambda skips');
    }
    const weights = values.weights ?? [];
    if (datasetMode) {
      const { probeDatasets } = await import('./probe-datasets.ts');
      return await probeDatasets({ ...values, weights, seed, valSplit, maxIter, lambda });
    }
    if (weights.length > 1) throw new CliError('--weights is given once for image folders (several go with --dataset: one table column each)');

    let train: LabeledFeatures;
    let test: LabeledFeatures;
    let labelNames: string[] | undefined;
    let images: ImagesReport | undefined;
    let failed = false;
    if (imageMode) {
      const { imageFolderFeatures } = await import('./probe-images.ts');
      const r = await imageFolderFeatures({ ...values, weights: weights[0] });
      ({ train, test, labelNames, images } = r);
      failed = r.failures.length > 0;
    } else {
      train = { features: await readFeatures(values['train-features']!), labels: await readLabels(values['train-labels']!) };
      test = { features: await readFeatures(values['test-features']!), labels: await readLabels(values['test-labels']!) };
    }
    let result: ProbeResult;
    try {
      result = runLinearProbe(train, test, {
        valSplit,
        seed,
        lambda,
        fit: { maxIter },
        labelNames,
        onProgress: values.quiet ? undefined : (line) => process.stderr.write(line + '\n'),
      });
    } catch (e) {
      throw new CliError((e as Error).message);
    }
    console.log(summary(result));
    const report = images ? { ...result.report, images } : result.report;
    if (values.out !== undefined) await writeAtomic(values.out, JSON.stringify(report, null, 2) + '\n');
    if (values.plot !== undefined && result.sweep) {
      const svg = sweepPlotSvg(
        result.sweep.points.map((p) => ({ lambda: p.lambda, accuracy: 100 * p.valTop1 })),
        { chosen: result.report.lambda },
      );
      await writeAtomic(values.plot, svg);
    }
    return failed ? 1 : 0;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const known = e instanceof CliError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`resnet50 probe: ${known ? message : `${(e as Error).name ?? 'error'}: ${message}`}\n`);
    return 1;
  }
}
