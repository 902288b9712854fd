// `resnet50 embed` and `resnet50 classify`: stream the inputs through the model in batches, report
// files that fail and go on, write the output atomically at the end.
//   .npy    float32 [N, D] (features or logits), with a sidecar <out>.inputs.txt: one input per row
//   .json   {"shape": [N, D], "items": [{"input", "features" | "logits", "top"?}]}
//   .jsonl  one such item per line
import { SingleBar } from 'cli-progress';
import { ResNet50, type Device } from '../api.ts';
import { PRESETS, type Preset } from '../image/preprocess.ts';
import type { Precision } from '../kernels/webgpu/kernels.ts';
import { serializeNpy } from '../tensor/npy.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { CliError, writeAtomic } from './files.ts';
import { parseTuning } from './profile.ts';
import { expandInputs, loadInput, type InputFailure } from './inputs.ts';
import { archiveArch, defaultPreset, loadNetworkArchive, parseArch, readWeightsArchive, resolveWeights } from './weights.ts';
import '../node.ts'; // registers Dawn's WebGPU for ResNet50.fromModel

export interface EmbedOptions {
  weights?: string;
  sha256?: string;
  device: string;
  precision: string;
  preset?: string;
  arch?: string;
  out?: string;
  top: string;
  batch: string;
  quiet?: boolean;
  tuning: string;
}

interface Row {
  readonly input: string;
  readonly values: Float32Array;
}

const OUTPUT = /\.(npy|json|jsonl)$/;

function positiveInteger(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`${flag} must be a positive integer, got '${value}'`);
  return n;
}

function checkOptions(opts: EmbedOptions) {
  if (opts.out && !OUTPUT.test(opts.out)) throw new CliError(`--out must end in .npy, .json or .jsonl, got ${opts.out}`);
  if (opts.preset !== undefined && !(PRESETS as readonly string[]).includes(opts.preset)) {
    throw new CliError(`--preset must be one of ${PRESETS.join(', ')}, got '${opts.preset}'`);
  }
  if (opts.device !== 'webgpu' && opts.device !== 'cpu') throw new CliError(`--device must be webgpu or cpu, got '${opts.device}'`);
  if (opts.precision !== 'f32' && opts.precision !== 'f16') throw new CliError(`--precision must be f32 or f16, got '${opts.precision}'`);
  if (opts.device === 'cpu' && opts.precision !== 'f32') {
    throw new CliError('the cpu device computes in f32 only; drop --precision or use --device webgpu');
  }
  const tuning = parseTuning(opts.tuning);
  return {
    tuning,
    device: opts.device as Device,
    precision: opts.precision as Precision,
    preset: opts.preset as Preset | undefined,
    arch: parseArch(opts.arch),
    top: positiveInteger(opts.top, '--top'),
    batch: positiveInteger(opts.batch, '--batch'),
  };
}

/** Row labels: `file` for one image, `file[i]` for the images of a batch file. */
function labelsOf(path: string, batch: Tensor): string[] {
  const n = batch.shape[0];
  return n === 1 ? [path] : Array.from({ length: n }, (_, i) => `${path}[${i}]`);
}

function rowsOf(t: Tensor, labels: string[]): Row[] {
  const d = t.shape[1];
  return labels.map((input, i) => ({ input, values: t.data.slice(i * d, (i + 1) * d) }));
}

/** Returns the exit status: 1 when some inputs could not be read (the rest are still processed). */
export async function embedCommand(command: 'embed' | 'classify', paths: string[], opts: EmbedOptions): Promise<number> {
  const o = checkOptions(opts);
  const { files, failures } = await expandInputs(paths);
  const report = (f: InputFailure) => {
    failures.push(f);
    process.stderr.write(`resnet50: skipped ${f.message}\n`);
  };
  failures.forEach((f) => process.stderr.write(`resnet50: skipped ${f.message}\n`));
  // A missing weights file, or a failed download, is reported before any GPU work starts; the GPU is
  // then set up while the weights file is read (fromModel takes the model still loading).
  const weights = await resolveWeights(opts.weights, command === 'classify' ? 'classify' : 'embed', { sha256: opts.sha256, quiet: opts.quiet });
  const archive = await readWeightsArchive(weights.path);
  const arch = archiveArch(archive, o.arch);
  const preset = o.preset ?? defaultPreset(weights, arch);
  const modelData = Promise.resolve().then(() => loadNetworkArchive(archive, weights, arch)).then((m) => {
    if (command === 'classify' && m.numClasses === null) throw new CliError(`${weights.source}: this model has no classifier (fc); use 'embed' for its features`);
    return m;
  });
  const model = await ResNet50.fromModel(modelData, { device: o.device, precision: o.precision, tuning: o.tuning });
  const showProgress = !opts.quiet && process.stdout.isTTY === true && process.stderr.isTTY === true;
  const bar = showProgress ? new SingleBar({ format: '{bar} {value}/{total} files | {rate} images/s | {name}', hideCursor: true }) : null;
  bar?.start(files.length, 0, { rate: '-', name: '' });
  const rows: Row[] = [];
  const tops: { index: number; label: string | null; probability: number }[][] = [];
  let images = 0;
  const started = performance.now();
  try {
    // Read files until a batch is full, then run it: memory holds one batch, not the whole input.
    let pending: { batch: Tensor; labels: string[] }[] = [];
    const flush = async () => {
      if (pending.length === 0) return;
      const batches = pending.map((p) => p.batch);
      const labels = pending.flatMap((p) => p.labels);
      pending = [];
      if (command === 'embed') {
        rows.push(...rowsOf(await model.embed(batches, { batchSize: o.batch }), labels));
      } else {
        const result = await model.classify(batches, { batchSize: o.batch, top: o.top });
        rows.push(...rowsOf(result.logits, labels));
        tops.push(...result.top);
      }
      images += labels.length;
    };
    for (const [i, path] of files.entries()) {
      try {
        const batch = await loadInput(path, preset);
        pending.push({ batch, labels: labelsOf(path, batch) });
      } catch (e) {
        if (!(e instanceof CliError)) throw e;
        report({ path, message: e.message });
      }
      if (pending.reduce((n, p) => n + p.batch.shape[0], 0) >= o.batch || i === files.length - 1) await flush();
      const seconds = (performance.now() - started) / 1000;
      bar?.update(i + 1, { rate: images ? (images / seconds).toFixed(2) : '-', name: path });
    }
  } finally {
    bar?.stop();
    model.dispose();
  }
  if (rows.length === 0) throw new CliError('no input could be read');
  const seconds = (performance.now() - started) / 1000;
  if (!opts.quiet) process.stderr.write(`${model.device}: ${images} image(s) in ${seconds.toFixed(2)} s (${(images / seconds).toFixed(2)} images/s)\n`);

  if (command === 'classify') printTop(rows, tops);
  else if (!opts.out) for (const r of rows) console.log(`${r.input}: [${[...r.values.subarray(0, 4)].map((v) => v.toFixed(4)).join(', ')}, …] (${r.values.length}-d)`);
  if (opts.out) await writeOutput(opts.out, rows, command === 'embed' ? 'features' : 'logits', command === 'classify' ? tops : null);
  return failures.length > 0 ? 1 : 0;
}

function printTop(rows: Row[], tops: { index: number; label: string | null; probability: number }[][]): void {
  for (const [i, row] of rows.entries()) {
    console.log(row.input);
    for (const p of tops[i]) {
      console.log(`  ${(100 * p.probability).toFixed(2).padStart(6)}%  ${String(p.index).padStart(4)}  ${p.label ?? `class ${p.index}`}`);
    }
  }
}

async function writeOutput(path: string, rows: Row[], key: string, tops: object[][] | null): Promise<void> {
  const d = rows[0].values.length;
  if (path.endsWith('.npy')) {
    const data = new Float32Array(rows.length * d);
    rows.forEach((r, i) => data.set(r.values, i * d));
    const sidecar = path.replace(/\.npy$/, '.inputs.txt');
    await writeAtomic(sidecar, rows.map((r) => r.input).join('\n') + '\n');
    await writeAtomic(path, serializeNpy({ shape: [rows.length, d], dtype: 'f32', data }));
    return;
  }
  const items = rows.map((r, i) => ({ input: r.input, [key]: Array.from(r.values), ...(tops ? { top: tops[i] } : {}) }));
  const text = path.endsWith('.jsonl')
    ? items.map((item) => JSON.stringify(item)).join('\n') + '\n'
    : JSON.stringify({ shape: [rows.length, d], items }) + '\n';
  await writeAtomic(path, text);
}
