// The `resnet50` command line: embed, classify, info.
import { parseArgs } from 'node:util';
import { createCpuEngine } from '../kernels/cpu/backend.ts';
import type { Engine } from '../nn/engine.ts';
import { IMAGENET_CLASSES } from '../nn/imagenet-classes.ts';
import type { ResNetModel } from '../nn/model.ts';
import { topK } from '../nn/topk.ts';
import { serializeNpy } from '../tensor/npy.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { CliError, writeAtomic } from './files.ts';
import { convert } from './convert.ts';
import { loadInputs } from './inputs.ts';
import { PRESETS, type Preset } from '../image/preprocess.ts';
import { loadWeightsFile, NO_WEIGHTS_HELP } from './weights.ts';

const USAGE = `usage:
  resnet50 embed <inputs…> --weights <file> [--device webgpu|cpu] [--precision f32|f16] [--out <file.npy|file.json>]
      writes the [N, 2048] pooled features
  resnet50 classify <inputs…> --weights <file> [--top 5] [--device …] [--precision …] [--out <file.npy|file.json>]
      writes the [N, 1000] logits and prints the top-k classes
  resnet50 info
      prints the WebGPU adapter, its features and limits
  resnet50 probe --train-features X.npy --train-labels y.npy --test-features … --test-labels … [--out report.json]
      linear-probe evaluation of embeddings (logistic regression, λ swept as in CLIP); see 'resnet50 probe --help'
  resnet50 convert <in.pth|in.safetensors> <out.safetensors> [--dtype f32|f16] [--fold-bn]
      writes a weights file as safetensors (torchvision names, or with BatchNorm folded into the convs)

inputs: preprocessed float32 NCHW tensors in .npy files, [N, 3, H, W] or [3, H, W] (H, W ≥ 32);
several inputs are concatenated along N in the order given.`;

const OPTIONS = {
  weights: { type: 'string' },
  device: { type: 'string', default: 'webgpu' },
  precision: { type: 'string', default: 'f32' },
  out: { type: 'string' },
  top: { type: 'string', default: '5' },
  preset: { type: 'string', default: 'torchvision' },
  dtype: { type: 'string' },
  'fold-bn': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Options = { weights?: string; device: string; precision: string; out?: string; top: string; preset: string };

async function createEngine(model: ResNetModel, device: string, precision: string): Promise<Engine> {
  if (precision !== 'f32' && precision !== 'f16') throw new CliError(`--precision must be f32 or f16, got '${precision}'`);
  if (device === 'cpu') {
    if (precision !== 'f32') throw new CliError('the cpu device computes in f32 only; drop --precision or use --device webgpu');
    return createCpuEngine(model);
  }
  if (device === 'webgpu') {
    const { nodeGpu } = await import('../platform/node-gpu.ts');
    const { createWebGpuEngine } = await import('../kernels/webgpu/engine.ts');
    return createWebGpuEngine(model, nodeGpu(), { precision });
  }
  throw new CliError(`--device must be webgpu or cpu, got '${device}'`);
}

function rows(t: Tensor): number[][] {
  const [n, d] = t.shape;
  return Array.from({ length: n }, (_, i) => Array.from(t.data.subarray(i * d, (i + 1) * d)));
}

/** The output file: .npy holds the float32 matrix; .json the inputs with their rows. */
async function writeOutput(path: string, matrix: Tensor, inputs: string[], key: string, extra?: object[]): Promise<void> {
  if (path.endsWith('.npy')) {
    await writeAtomic(path, serializeNpy({ shape: [...matrix.shape], dtype: 'f32', data: matrix.data }));
  } else if (path.endsWith('.json')) {
    const items = rows(matrix).map((row, i) => ({ input: inputs[i], [key]: row, ...(extra?.[i] ?? {}) }));
    await writeAtomic(path, JSON.stringify({ shape: matrix.shape, items }) + '\n');
  } else {
    throw new CliError(`--out must end in .npy or .json, got ${path}`);
  }
}

/** Returns the exit status: 1 when some inputs could not be read (the rest are still processed). */
async function run(command: 'embed' | 'classify', inputPaths: string[], opts: Options): Promise<number> {
  if (!opts.weights) throw new CliError(NO_WEIGHTS_HELP);
  if (opts.out && !/\.(npy|json)$/.test(opts.out)) throw new CliError(`--out must end in .npy or .json, got ${opts.out}`);
  const top = Number(opts.top);
  if (!Number.isInteger(top) || top < 1) throw new CliError(`--top must be a positive integer, got '${opts.top}'`);
  if (!(PRESETS as readonly string[]).includes(opts.preset)) {
    throw new CliError(`--preset must be one of ${PRESETS.join(', ')}, got '${opts.preset}'`);
  }
  const { inputs, failures, batch } = await loadInputs(inputPaths, opts.preset as Preset);
  for (const f of failures) process.stderr.write(`resnet50: skipped ${f.message}\n`);
  const model = await loadWeightsFile(opts.weights);
  if (command === 'classify' && !model.fc) {
    throw new CliError(`${opts.weights}: this model has no classifier (fc); use 'embed' for its features`);
  }
  // Row labels: one per image, `file` for a single image and `file[i]` within a batch file.
  const labels = inputs.flatMap((i) =>
    i.batch.shape[0] === 1 ? [i.path] : Array.from({ length: i.batch.shape[0] }, (_, k) => `${i.path}[${k}]`),
  );
  const engine = await createEngine(model, opts.device, opts.precision);
  try {
    const started = performance.now();
    const out = await engine.run(batch);
    const ms = performance.now() - started;
    process.stderr.write(`${engine.device}: ${labels.length} image(s) ${batch.shape[2]}×${batch.shape[3]} in ${ms.toFixed(0)} ms\n`);
    if (command === 'embed') {
      if (opts.out) await writeOutput(opts.out, out.features, labels, 'features');
      else for (const [i, row] of rows(out.features).entries()) console.log(`${labels[i]}: [${row.slice(0, 4).map((v) => v.toFixed(4)).join(', ')}, …] (${row.length}-d)`);
      return failures.length ? 1 : 0;
    }
    const logits = out.logits!;
    const classes = logits.shape[1];
    const names = classes === IMAGENET_CLASSES.length ? IMAGENET_CLASSES : null;
    const predictions = rows(logits).map((row) => topK(Float32Array.from(row), Math.min(top, classes)));
    for (const [i, preds] of predictions.entries()) {
      console.log(labels[i]);
      for (const p of preds) {
        console.log(`  ${(100 * p.probability).toFixed(2).padStart(6)}%  ${String(p.index).padStart(4)}  ${names ? names[p.index] : `class ${p.index}`}`);
      }
    }
    if (opts.out) {
      const topJson = predictions.map((preds) => ({
        top: preds.map((p) => ({ index: p.index, label: names?.[p.index] ?? null, probability: p.probability })),
      }));
      await writeOutput(opts.out, logits, labels, 'logits', topJson);
    }
    return failures.length ? 1 : 0;
  } finally {
    engine.dispose();
  }
}

async function info(): Promise<void> {
  const { nodeGpu } = await import('../platform/node-gpu.ts');
  const { describeAdapter } = await import('../kernels/webgpu/engine.ts');
  console.log(await describeAdapter(nodeGpu()));
}

/** Runs the CLI; returns the exit status. Errors become one line on stderr, no stack trace. */
export async function main(argv: string[]): Promise<number> {
  // probe has its own options; hand it the rest of the line untouched.
  if (argv[0] === 'probe') return (await import('./probe.ts')).probeCommand(argv.slice(1));
  try {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    const [command, ...rest] = positionals;
    if (values.help || command === undefined || command === 'help') {
      console.log(USAGE);
      return command === undefined && !values.help ? 2 : 0;
    }
    if (command === 'embed' || command === 'classify') return await run(command, rest, values as Options);
    else if (command === 'info') await info();
    else if (command === 'convert') await convert(rest, values);
    else throw new CliError(`unknown command '${command}'\n${USAGE}`);
    return 0;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const known = e instanceof CliError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`resnet50: ${known ? message : `${(e as Error).name ?? 'error'}: ${message}`}\n`);
    return 1;
  }
}
