// A runtime-neutral self-test of the WebGPU engine against the pure-TypeScript CPU reference (kernels;
// ResNet-50, CLIP RN50 and BiT R50x1 forwards on seeded weights), for the
// runtimes that have no vitest: Deno (test/deno) and the browser (demo/test.html, driven by
// test/browser). It uses only the engine's public entry points (createWebGpuEngine, and the
// kernel-level WebGpuRuntime the Node kernel tests use) and imports nothing from Node, so the same
// cases run on Dawn (Node, Chromium) and on wgpu (Deno).
//
// Each case returns max |gpu − cpu| and max |cpu|; it passes when maxAbs ≤ tol · max |cpu| (f32:
// 1e-4, f16: 1e-2), the tolerance of test/webgpu-kernels.test.ts and test/webgpu-model.test.ts.
import * as ops from '../kernels/cpu/ops.ts';
import { CpuBackend, runCpu } from '../kernels/cpu/backend.ts';
import { createWebGpuEngine, WebGpuRuntime, type LimitOverrides, type Precision, type Sym } from '../kernels/webgpu/engine.ts';
import type { Backend } from '../nn/backend.ts';
import type { EngineOutput } from '../nn/engine.ts';
import { STAGE_NAMES } from '../nn/forward.ts';
import type { FoldedConv, ResNetModel } from '../nn/model.ts';
import type { Network } from '../nn/network.ts';
import { randomBit, randomClip } from '../nn/random-arch.ts';
import { randomFoldedConv, randomInput, randomLinear, randomResNet } from '../nn/random.ts';
import { reducedResNet50, RESNET50 } from '../nn/spec.ts';
import { errorStats } from '../tensor/compare.ts';
import { Tensor } from '../tensor/tensor.ts';

export const TOLERANCE: Readonly<Record<Precision, number>> = { f32: 1e-4, f16: 1e-2 };

export interface CaseResult {
  readonly name: string;
  readonly ok: boolean;
  readonly maxAbs: number;
  readonly maxRel: number;
  readonly maxExpected: number;
  readonly tol: number;
  /** Wall time of the case (GPU side, including the first-use pipeline compilation). */
  readonly ms: number;
  readonly error?: string;
}

export interface ForwardTiming {
  readonly name: string;
  /** First run: plan recording, pipeline compilation, the forward itself. */
  readonly coldMs: number;
  /** Second run of the same shape: the forward pass alone (upload, dispatches, read-back). */
  readonly warmMs: number;
  /** The CPU reference's forward pass. */
  readonly cpuMs: number;
}

export interface SelfTestReport {
  readonly runtime: string;
  readonly adapter: string;
  readonly engine: string;
  readonly ok: boolean;
  readonly results: CaseResult[];
  readonly timings: ForwardTiming[];
  readonly ms: number;
}

export interface SelfTestOptions {
  /** Kernel cases (each conv kind, pools, linear) in f32 with the adapter's default GEMM and the portable one. */
  readonly kernels?: boolean;
  /** Also the kernel cases in f16, when the adapter has shader-f16. */
  readonly f16?: boolean;
  /**
   * Forward passes: the reduced ResNet-50 (every stage), full width at 64×64, and optionally 224×224;
   * CLIP RN50 and BiT R50x1 at width / 16.
   */
  readonly model?: boolean;
  readonly full224?: boolean;
  /** Called with one line per case as it finishes. */
  readonly log?: (line: string) => void;
  /** A name for the runtime in the report. */
  readonly runtime?: string;
}

const now = () => performance.now();

export function formatResult(r: CaseResult): string {
  if (r.error) return `FAIL ${r.name}: ${r.error}`;
  return `${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: max-abs ${r.maxAbs.toExponential(2)}, max-rel ${r.maxRel.toExponential(2)} (tol ${r.tol}) ${r.ms.toFixed(0)} ms`;
}

class Collector {
  readonly results: CaseResult[] = [];
  constructor(private readonly log: (line: string) => void) {}

  push(r: CaseResult): void {
    this.results.push(r);
    this.log(formatResult(r));
  }

  compare(name: string, actual: Tensor, expected: Tensor, tol: number, ms: number): void {
    const sameShape = actual.shape.length === expected.shape.length && actual.shape.every((d, i) => d === expected.shape[i]);
    if (!sameShape) {
      this.push({ name, ok: false, maxAbs: NaN, maxRel: NaN, maxExpected: NaN, tol, ms, error: `shape [${actual.shape}] ≠ [${expected.shape}]` });
      return;
    }
    const s = errorStats(actual.data, expected.data);
    this.push({ name, ok: s.maxAbs <= tol * s.maxExpected, ...s, tol, ms });
  }

  /** Runs `body`; an exception becomes a failed case instead of stopping the suite. */
  async guard(name: string, body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (e) {
      this.push({ name, ok: false, maxAbs: NaN, maxRel: NaN, maxExpected: NaN, tol: 0, ms: 0, error: String((e as Error)?.stack ?? e) });
    }
  }
}

function input(shape: number[], seed: number): Tensor {
  return new Tensor(shape, randomInput(shape, seed));
}

/** A conv with its fused epilogue on the CPU reference backend. */
const cpuConv = (x: Tensor, c: FoldedConv, relu: boolean, residual?: Tensor): Tensor => new CpuBackend().conv2d(x, c, { relu, residual });

type Program = (b: Backend<Sym>, x: Sym) => Sym;

/** Every (kernel, stride, padding) ResNet-50 uses. */
const CONVS: [number, number, number][] = [[1, 1, 0], [1, 2, 0], [3, 1, 1], [3, 2, 1], [7, 2, 3]];

async function kernelCases(gpu: GPU, precision: Precision, variant: { name: string; limits: LimitOverrides }, c: Collector): Promise<string> {
  const rt = await WebGpuRuntime.create(gpu, precision, variant.limits);
  const cfg = rt.ctx.config;
  const tag = `${precision} ${cfg.gemmKernel}`;
  const tol = TOLERANCE[precision];
  const run = async (key: string, x: Tensor, program: Program): Promise<[Tensor, number]> => {
    const t0 = now();
    const out = await rt.run(key, x, (b, v) => new Map([['y', program(b, v)]]));
    return [out.get('y')!, now() - t0];
  };
  try {
    await c.guard(`${tag} nchw_to_nhwc`, async () => {
      const x = input([3, 6, 4, 9], 1);
      const [y, ms] = await run('identity', x, (_b, v) => v);
      c.compare(`${tag} nchw_to_nhwc [3,6,4,9]`, y, x, precision === 'f32' ? 0 : 1e-3, ms);
    });
    for (const [k, s, p] of CONVS) {
      for (const n of [1, 3]) {
        const key = `conv${k}×${k}/${s} pad ${p} n${n}`;
        await c.guard(`${tag} ${key}`, async () => {
          const [cin, cout, h, w] = k === 7 ? [3, 19, 23, 17] : [13, 37, 11, 9];
          const x = input([n, cin, h, w], 10 + k + s);
          const conv = randomFoldedConv(cin, cout, k, s, p, 100 + k * 10 + s);
          const shortcut = randomFoldedConv(cin, cout, 1, s, 0, 200 + k * 10 + s);
          const [plain, ms] = await run(`${key} plain`, x, (b, v) => b.conv2d(v, conv, { relu: false }));
          c.compare(`${tag} ${key}`, plain, cpuConv(x, conv, false), tol, ms);
          const [res, ms2] = await run(`${key} residual relu`, x, (b, v) => {
            const r = b.conv2d(v, shortcut, { relu: false });
            const y = b.conv2d(v, conv, { relu: true, residual: r });
            b.release(r);
            return y;
          });
          c.compare(`${tag} ${key} +residual +ReLU`, res, cpuConv(x, conv, true, cpuConv(x, shortcut, false)), tol, ms2);
        });
      }
    }
    await c.guard(`${tag} maxpool`, async () => {
      for (const shape of [[1, 5, 9, 7], [3, 8, 10, 13]]) {
        const x = input(shape, 3);
        const [y, ms] = await run(`maxpool`, x, (b, v) => b.maxPool(v));
        c.compare(`${tag} maxpool 3×3/2 [${shape}]`, y, ops.maxPool2d(x), precision === 'f32' ? 0 : 1e-3, ms);
      }
    });
    await c.guard(`${tag} avgpool`, async () => {
      for (const shape of [[1, 7, 5, 3], [3, 37, 7, 7]]) {
        const x = input(shape, 4);
        const [y, ms] = await run('avgpool', x, (b, v) => b.globalAvgPool(v));
        const want = ops.globalAvgPool(x);
        c.compare(`${tag} global avgpool [${shape}]`, y.reshape(want.shape), want, tol, ms);
      }
    });
    await c.guard(`${tag} linear`, async () => {
      for (const [n, cin, cout] of [[1, 37, 23], [3, 50, 1000]]) {
        const x = input([n, cin, 3, 5], 5);
        const fc = randomLinear(cin, cout, 6);
        const [y, ms] = await run(`linear ${cin} ${cout}`, x, (b, v) => {
          const p = b.globalAvgPool(v);
          const l = b.linear(p, fc);
          b.release(p);
          return l;
        });
        const want = ops.linear(ops.globalAvgPool(x), fc);
        c.compare(`${tag} avgpool+linear n${n} ${cin}→${cout}`, y.reshape(want.shape), want, tol, ms);
      }
    });
  } finally {
    rt.dispose();
  }
  return `${cfg.gemmKernel} ${JSON.stringify(cfg.gemm)}`;
}

function compareOutputs(c: Collector, what: string, gpu: EngineOutput, cpu: EngineOutput, tol: number, ms: number): void {
  for (const [name, t] of cpu.stages) {
    const g = gpu.stages.get(name);
    if (!g) c.push({ name: `${what} ${name}`, ok: false, maxAbs: NaN, maxRel: NaN, maxExpected: NaN, tol, ms, error: 'stage missing' });
    else c.compare(`${what} ${name}`, g, t, tol, ms);
  }
  c.compare(`${what} features`, gpu.features, cpu.features, tol, ms);
  if (cpu.logits) {
    if (!gpu.logits) c.push({ name: `${what} logits`, ok: false, maxAbs: NaN, maxRel: NaN, maxExpected: NaN, tol, ms, error: 'no logits' });
    else c.compare(`${what} logits`, gpu.logits, cpu.logits, tol, ms);
  }
}

async function modelCase(
  gpu: GPU,
  c: Collector,
  timings: ForwardTiming[],
  name: string,
  model: ResNetModel | Network,
  shape: [number, number, number, number],
  seed: number,
  allStages: boolean,
): Promise<void> {
  await c.guard(name, async () => {
    const engine = await createWebGpuEngine(model, gpu, { precision: 'f32' });
    try {
      const x = input(shape, seed);
      const keep = new Set(allStages ? STAGE_NAMES : []);
      let t0 = now();
      const cpu = runCpu(model, x, keep);
      const cpuMs = now() - t0;
      t0 = now();
      const first = await engine.run(x, keep);
      const coldMs = now() - t0;
      t0 = now();
      const second = await engine.run(x, keep);
      const warmMs = now() - t0;
      timings.push({ name, coldMs, warmMs, cpuMs });
      compareOutputs(c, name, second, cpu, TOLERANCE.f32, warmMs);
      const same = first.features.data.every((v, i) => v === second.features.data[i]);
      c.push({ name: `${name}: a second run repeats the first exactly`, ok: same, maxAbs: same ? 0 : NaN, maxRel: same ? 0 : NaN, maxExpected: 0, tol: 0, ms: warmMs });
    } finally {
      engine.dispose();
    }
  });
}

/** Describes the adapter `gpu` gives: vendor / architecture / description. */
export async function adapterLabel(gpu: GPU): Promise<string> {
  const adapter = await gpu.requestAdapter();
  if (!adapter) return 'no adapter';
  const i = adapter.info;
  const parts = [i?.vendor, i?.architecture, i?.description || i?.device].filter((s) => s);
  const features = ['shader-f16', 'subgroups', 'timestamp-query'].filter((f) => adapter.features.has(f as GPUFeatureName));
  return `${parts.join(' / ') || 'unknown'} [${features.join(', ') || 'no optional features'}; ${adapter.limits.maxComputeInvocationsPerWorkgroup} invocations/workgroup]`;
}

/**
 * The kernel cases and the seeded ResNet-50 forward passes, GPU against CPU. Never throws for a failed
 * case (each is reported); throws only when there is no adapter at all.
 */
export async function runSelfTest(gpu: GPU, opts: SelfTestOptions = {}): Promise<SelfTestReport> {
  const t0 = now();
  const log = opts.log ?? (() => {});
  const c = new Collector(log);
  const adapter = await adapterLabel(gpu);
  log(`adapter: ${adapter}`);
  const engines: string[] = [];
  const timings: ForwardTiming[] = [];
  if (opts.kernels ?? true) {
    const variants = [
      { name: 'default', limits: {} },
      { name: 'portable', limits: { gemmKernel: 'gemm', gemm: { tm: 8, tn4: 2, wgX: 8, wgY: 8 } } as LimitOverrides },
    ];
    const precisions: Precision[] = ['f32'];
    if (opts.f16) {
      const a = await gpu.requestAdapter();
      if (a?.features.has('shader-f16')) precisions.push('f16');
      else log('f16 kernel cases skipped: the adapter has no shader-f16');
    }
    for (const precision of precisions) {
      for (const v of variants) {
        await c.guard(`kernels ${precision} ${v.name}`, async () => {
          const cfg = await kernelCases(gpu, precision, v, c);
          if (v.name === 'default' && precision === 'f32') engines.push(cfg);
        });
      }
    }
  }
  if (opts.model ?? true) {
    await modelCase(gpu, c, timings, 'reduced ResNet-50 (/8, 10 classes) 1×3×45×37', randomResNet(reducedResNet50(8, 10), 11), [1, 3, 45, 37], 13, true);
    await modelCase(gpu, c, timings, 'reduced ResNet-50 (/8, 10 classes) 3×3×33×50', randomResNet(reducedResNet50(8, 10), 11), [3, 3, 33, 50], 15, true);
    const full = randomResNet(RESNET50, 7);
    await modelCase(gpu, c, timings, 'ResNet-50 (seed 7) 1×3×64×64', full, [1, 3, 64, 64], 21, true);
    if (opts.full224) await modelCase(gpu, c, timings, 'ResNet-50 (seed 7) 1×3×224×224', full, [1, 3, 224, 224], 30, false);
    // The seed table's other two architectures at width / 16: CLIP's attention pool on a 3×3 grid, BiT's GroupNorms.
    await modelCase(gpu, c, timings, 'CLIP RN50 (/16, 3×3 grid) 2×3×96×96', randomClip({ width: 4, grid: 3, outputDim: 64 }, 31), [2, 3, 96, 96], 33, true);
    await modelCase(gpu, c, timings, 'BiT R50x1 (/16, 10 classes) 2×3×61×47', randomBit(4, 10, 41), [2, 3, 61, 47], 43, true);
  }
  for (const t of timings) log(`forward ${t.name}: GPU cold ${t.coldMs.toFixed(0)} ms, warm ${t.warmMs.toFixed(0)} ms; CPU reference ${t.cpuMs.toFixed(0)} ms`);
  const ok = c.results.length > 0 && c.results.every((r) => r.ok);
  return { runtime: opts.runtime ?? 'unknown', adapter, engine: engines.join('; '), ok, results: c.results, timings, ms: now() - t0 };
}
