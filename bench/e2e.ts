// End-to-end ResNet-50 bench on the WebGPU engine, seeded weights (no download):
//   - warm latency per batch size: a fresh engine per (precision, batch), one first run, then --runs
//     timed runs (median, min, max, spread = (max − min) / median); each run includes the NCHW upload
//     and the read-back, as a user sees it; GFLOP/s at 8.18 GFLOP per 224² image; GPU bytes
//     (weights + activations of that one plan) beside the largest single activation;
//   - cold start in a new process (bench/cold-start.ts: weights file → first result), with the driver's
//     shader cache warm (one discarded start first) and, beside it, cold: an empty temporary folder as
//     Mesa's cache (MESA_SHADER_CACHE_DIR) and as NVIDIA's (__GL_SHADER_DISK_CACHE_PATH, which its
//     Vulkan driver uses too).
//   npx tsx bench/e2e.ts [--batch 1,8,32] [--precision f32,f16] [--runs 5] [--size 224] [--no-cold]
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createWebGpuEngine, type LimitOverrides, type Precision } from '../src/kernels/webgpu/engine.ts';
import { bytesPerElement } from '../src/kernels/webgpu/kernels.ts';
import { randomInput, randomResNet } from '../src/nn/random.ts';
import { outputSize, RESNET50 } from '../src/nn/spec.ts';
import { nodeGpu } from '../src/platform/node-gpu.ts';
import { Tensor } from '../src/tensor/tensor.ts';
import { benchScriptArgs, ROOT } from './child.ts';
import { resnet50ConvShapes } from './kernels.ts';
import { ensureArtifacts, WEIGHTS_SEED } from './peers/common.ts';

/** Multiply-adds ×2 of ResNet-50's convs and fc for one size² image. */
export function resnet50Flops(size = 224): number {
  let f = 0;
  for (const s of resnet50ConvShapes(size)) {
    const oh = outputSize(s.h, s.k, s.stride, s.pad);
    f += s.count * 2 * oh * oh * s.cin * s.k * s.k * s.cout;
  }
  return f + 2 * 2048 * 1000;
}

/** Bytes of the largest single activation (a conv output or the network input) at batch n. */
export function largestActivationBytes(n: number, size: number, precision: Precision): number {
  const eb = bytesPerElement(precision);
  let best = n * size * size * 4 * eb;
  for (const s of resnet50ConvShapes(size)) {
    const oh = outputSize(s.h, s.k, s.stride, s.pad);
    best = Math.max(best, n * oh * oh * 4 * Math.ceil(s.cout / 4) * eb);
  }
  return best;
}

export interface ForwardResult {
  precision: Precision;
  batch: number;
  size: number;
  kernelConfig: string;
  firstRunMs: number;
  runs: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  spread: number;
  timesMs: number[];
  imagesPerS: number;
  gflops: number;
  gpuBytes: { weights: number; activations: number; total: number };
  largestActivationBytes: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

export async function benchForward(o: {
  precision: Precision;
  batch: number;
  size: number;
  runs: number;
  limits?: LimitOverrides;
}): Promise<ForwardResult> {
  const model = randomResNet(RESNET50, WEIGHTS_SEED);
  const shape = [o.batch, 3, o.size, o.size];
  const x = new Tensor(shape, randomInput(shape, 2));
  const engine = await createWebGpuEngine(model, nodeGpu(), { precision: o.precision, limits: o.limits });
  try {
    let t = performance.now();
    await engine.run(x);
    const firstRunMs = performance.now() - t;
    const timesMs: number[] = [];
    for (let i = 0; i < o.runs; i++) {
      t = performance.now();
      await engine.run(x);
      timesMs.push(performance.now() - t);
    }
    const medianMs = median(timesMs);
    const minMs = Math.min(...timesMs);
    const maxMs = Math.max(...timesMs);
    return {
      precision: o.precision,
      batch: o.batch,
      size: o.size,
      kernelConfig: engine.kernelConfig,
      firstRunMs,
      runs: o.runs,
      medianMs,
      minMs,
      maxMs,
      spread: (maxMs - minMs) / medianMs,
      timesMs,
      imagesPerS: o.batch / (medianMs / 1000),
      gflops: (resnet50Flops(o.size) * o.batch) / (medianMs / 1000) / 1e9,
      gpuBytes: await engine.gpuBytes(),
      largestActivationBytes: largestActivationBytes(o.batch, o.size, o.precision),
    };
  } finally {
    engine.dispose();
  }
}

export interface ColdStart {
  importMs: number;
  /** ResNet50.load: weights file → engine ready. */
  loadMs: number;
  firstRunMs: number;
  coldMs: number;
  sinceProcessStartMs: number;
}

/** One cold start in a new process; cacheDir is the shader cache folder (Mesa's and NVIDIA's). */
export function coldStartOnce(o: { precision: Precision; batch: number; size: number; cacheDir?: string }): Promise<ColdStart> {
  const weights = ensureArtifacts(WEIGHTS_SEED, { onnx: false }).weights;
  const env = { ...process.env };
  if (o.cacheDir) {
    env.MESA_SHADER_CACHE_DIR = o.cacheDir;
    env.__GL_SHADER_DISK_CACHE_PATH = o.cacheDir;
  }
  const args = [
    ...benchScriptArgs('cold-start'),
    '--weights', weights, '--precision', o.precision, '--batch', String(o.batch), '--size', String(o.size),
  ];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: ROOT, env, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (err || !line) reject(new Error(`cold start failed: ${err?.message ?? 'no result'}\n${stderr.slice(-2000)}`));
      else resolve(JSON.parse(line) as ColdStart);
    });
  });
}

export interface ColdStartResult {
  precision: Precision;
  batch: number;
  /** The shader cache as a rerun finds it (one discarded start before); median of `runs`. */
  warmCache: ColdStart;
  warmCacheRuns: ColdStart[];
  /** An empty shader cache folder (Mesa's and NVIDIA's): a first launch on a new machine. */
  coldCache: ColdStart;
}

export async function benchColdStart(o: { precision: Precision; batch: number; size: number; runs: number }): Promise<ColdStartResult> {
  const empty = mkdtempSync(join(tmpdir(), 'mesa-cold-'));
  let coldCache: ColdStart;
  try {
    coldCache = await coldStartOnce({ ...o, cacheDir: empty });
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
  await coldStartOnce(o); // fills the default cache with whatever it lacked
  const warmCacheRuns: ColdStart[] = [];
  for (let i = 0; i < Math.max(1, o.runs); i++) warmCacheRuns.push(await coldStartOnce(o));
  const byCold = [...warmCacheRuns].sort((a, b) => a.coldMs - b.coldMs);
  return { precision: o.precision, batch: o.batch, warmCache: byCold[(byCold.length - 1) >> 1], warmCacheRuns, coldCache };
}

export const fmtMs = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
export const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

export function describeForward(r: ForwardResult): string {
  return (
    `${r.precision} batch ${r.batch}, ${r.size}²: median ${fmtMs(r.medianMs)} (min ${fmtMs(r.minMs)}, max ${fmtMs(r.maxMs)}, ` +
    `spread ${(100 * r.spread).toFixed(0)}%, ${r.runs} runs; first ${fmtMs(r.firstRunMs)}); ${r.imagesPerS.toFixed(2)} img/s, ` +
    `${r.gflops.toFixed(1)} GFLOP/s; GPU ${mib(r.gpuBytes.total)} = weights ${mib(r.gpuBytes.weights)} + activations ` +
    `${mib(r.gpuBytes.activations)} (largest activation ${mib(r.largestActivationBytes)})`
  );
}

export function describeCold(c: ColdStartResult): string {
  const d = (s: ColdStart) =>
    `${fmtMs(s.coldMs)} (load ${fmtMs(s.loadMs)}, first run ${fmtMs(s.firstRunMs)}; ` +
    `${fmtMs(s.sinceProcessStartMs)} since process start)`;
  return `${c.precision} batch ${c.batch} cold start: shader cache warm ${d(c.warmCache)}; cache cold ${d(c.coldCache)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      batch: { type: 'string', default: '1,8,32' },
      precision: { type: 'string', default: 'f32,f16' },
      runs: { type: 'string', default: '5' },
      size: { type: 'string', default: '224' },
      'no-cold': { type: 'boolean', default: false },
    },
  });
  const size = Number(values.size);
  for (const precision of values.precision!.split(',') as Precision[]) {
    for (const batch of values.batch!.split(',').map(Number)) {
      console.log(describeForward(await benchForward({ precision, batch, size, runs: Number(values.runs) })));
    }
    if (!values['no-cold']) console.log(describeCold(await benchColdStart({ precision, batch: 1, size, runs: 3 })));
  }
  process.exit(0);
}
