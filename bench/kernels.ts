// Kernel bench: every distinct conv shape of ResNet-50 at 224² (and a 1024³ GEMM, run as a 1×1 conv
// over a 32×32 image with 1024 channels), each first validated against the CPU reference
// (src/kernels/cpu/ops.ts) and then timed, through the engine's own recorder and plans. Times are GPU
// time per dispatch from timestamp queries where the adapter has them (else wall-clock of a whole
// run, upload and read-back included, said so). Prints GFLOP/s, GB/s (minimal traffic: input,
// weights, output, plus the column matrix written and read on the im2col path) and the fraction of
// the adapter's peak, measured by a pure-FMA kernel (measurePeak).
//
//   npx tsx bench/kernels.ts [--batch 1] [--precision f32] [--runs 5] [--variants implicit,im2col]
//                            [--only stem,1024] [--no-check] [--json out.json]
//
// Variants (--variants): 'implicit' (the default config: implicit-GEMM convs), 'im2col' (the explicit
// reference path), or a tile 'sg:TMxTN4' / 'gemm:TMxTN4xWGXxWGY' with implicit convs, for tuning.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as ops from '../src/kernels/cpu/ops.ts';
import { WebGpuRuntime, type LimitOverrides, type Precision, type StepTiming } from '../src/kernels/webgpu/engine.ts';
import { GpuContext } from '../src/kernels/webgpu/device.ts';
import { bytesPerElement } from '../src/kernels/webgpu/kernels.ts';
import type { FoldedConv } from '../src/nn/model.ts';
import { randomInput, randomResNet, seededNormal } from '../src/nn/random.ts';
import { outputSize, RESNET50 } from '../src/nn/spec.ts';
import { nodeGpu } from '../src/platform/node-gpu.ts';
import { Tensor } from '../src/tensor/tensor.ts';

export interface ConvShape {
  /** e.g. 'layer1.x.conv2 3×3 64→64 @56²'. */
  readonly name: string;
  readonly cin: number;
  readonly cout: number;
  readonly k: number;
  readonly stride: number;
  readonly pad: number;
  readonly h: number;
  readonly w: number;
  /** How often ResNet-50 runs this shape per forward. */
  readonly count: number;
}

/** The distinct conv shapes of ResNet-50 at size², in network order. */
export function resnet50ConvShapes(size = 224): ConvShape[] {
  const model = randomResNet(RESNET50, 1);
  const shapes = new Map<string, ConvShape>();
  const add = (c: FoldedConv, h: number, where: string) => {
    const key = `${c.inChannels} ${c.outChannels} ${c.kernel} ${c.stride} ${c.padding} ${h}`;
    const prev = shapes.get(key);
    if (prev) {
      shapes.set(key, { ...prev, count: prev.count + 1 });
      return;
    }
    const name = `${where} ${c.kernel}×${c.kernel}/${c.stride} ${c.inChannels}→${c.outChannels} @${h}²`;
    shapes.set(key, { name, cin: c.inChannels, cout: c.outChannels, k: c.kernel, stride: c.stride, pad: c.padding, h, w: h, count: 1 });
  };
  add(model.stem, size, 'stem');
  let h = outputSize(outputSize(size, 7, 2, 3), 3, 2, 1);
  for (const b of model.blocks) {
    const stage = b.name.split('.')[0];
    add(b.reduce, h, `${stage}.conv1`);
    add(b.spatial, h, `${stage}.conv2`);
    const oh = outputSize(h, b.spatial.kernel, b.spatial.stride, b.spatial.padding);
    add(b.expand, oh, `${stage}.conv3`);
    if (b.shortcut) add(b.shortcut, h, `${stage}.downsample`);
    h = oh;
  }
  return [...shapes.values()];
}

/** The 1024³ GEMM as a conv: [n·32·32 = 1024 rows] × [1024 in] × [1024 out]. */
export const GEMM_1024: ConvShape = { name: 'GEMM 1024³ (1×1 conv, 32×32×1024 → 1024)', cin: 1024, cout: 1024, k: 1, stride: 1, pad: 0, h: 32, w: 32, count: 1 };

function seededConv(s: ConvShape, seed: number): FoldedConv {
  const normal = seededNormal(seed);
  const std = Math.sqrt(2 / (s.cin * s.k * s.k));
  return {
    conv: `bench.conv${s.k}x${s.k}s${s.stride}`,
    bn: 'bench.bn',
    inChannels: s.cin,
    outChannels: s.cout,
    kernel: s.k,
    stride: s.stride,
    padding: s.pad,
    weight: Float32Array.from({ length: s.cout * s.cin * s.k * s.k }, () => normal() * std),
    bias: Float32Array.from({ length: s.cout }, () => 0.1 * normal()),
  };
}

export function variantLimits(v: string): LimitOverrides {
  if (v === 'implicit' || v === 'default') return { conv: 'implicit' };
  if (v === 'im2col') return { conv: 'im2col' };
  let m = /^sg:(\d+)x(\d+)$/.exec(v);
  if (m) return { gemmKernel: 'gemm_sg', gemm: { tm: +m[1], tn4: +m[2], wgX: 8, wgY: 1 }, conv: 'implicit' };
  m = /^gemm:(\d+)x(\d+)x(\d+)x(\d+)$/.exec(v);
  if (m) return { gemmKernel: 'gemm', gemm: { tm: +m[1], tn4: +m[2], wgX: +m[3], wgY: +m[4] }, conv: 'implicit' };
  throw new Error(`unknown variant '${v}' (implicit, im2col, sg:TMxTN4, gemm:TMxTN4xWGXxWGY)`);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

/**
 * The adapter's FMA peak: a kernel of independent vec4 FMA chains, no memory traffic but one store
 * per invocation. Timed with timestamp queries if available (else wall-clock around a submit and
 * onSubmittedWorkDone). Returns GFLOP/s (an FMA = 2 FLOPs), best of `runs`.
 */
export async function measurePeak(ctx: GpuContext, runs = 7): Promise<{ gflops: number; timer: 'timestamp' | 'wall'; ms: number }> {
  // CPU adapters: one 8-lane subgroup per workgroup (lavapipe's SIMD width on AVX2) with 2 vec4 chains
  // = 8 independent 8-wide FMA chains per lane group: enough to cover FMA latency without spilling
  // (more chains measured slower there: spills). GPUs: 256-invocation workgroups, enough of them
  // (16M invocations) to fill every multiprocessor many times over.
  const CHAINS = 2;
  const ITERS = 2048;
  const WG = ctx.cpuAdapter ? 8 : 256;
  const GROUPS = ctx.cpuAdapter ? 1024 : 65535;
  const code = `
@group(0) @binding(0) var<storage, read_write> out: array<vec4<f32>>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let s = f32(gid.x) * 1e-7;
  var a = vec4<f32>(s, s + 1e-7, s + 2e-7, s + 3e-7);
  let m = vec4<f32>(0.9999);
${Array.from({ length: CHAINS }, (_, i) => `  var c${i} = a + vec4<f32>(${i}.0);`).join('\n')}
  for (var i = 0u; i < ${ITERS}u; i++) {
${Array.from({ length: CHAINS }, (_, i) => `    c${i} = fma(c${i}, m, a);`).join('\n')}
  }
  // Stored only if it equals a value it never takes: the chains stay live, the buffer stays tiny.
  let sum = ${Array.from({ length: CHAINS }, (_, i) => `c${i}`).join(' + ')};
  if (sum.x == -1234.5) { out[0] = sum; }
}`;
  const d = ctx.device;
  const pipeline = await ctx.compile('fma_peak', code);
  const buf = d.createBuffer({ size: 16, usage: 0x80 });
  const bg = d.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: buf } }] });
  const flops = 2 * 4 * CHAINS * ITERS * WG * GROUPS;
  const ts = d.features.has('timestamp-query');
  const times: number[] = [];
  for (let r = 0; r < runs + 1; r++) {
    const ms = await timeDispatch(d, ts, (pass) => {
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bg);
      pass.dispatchWorkgroups(GROUPS);
    });
    if (r > 0) times.push(ms); // the first includes the LLVM compile
  }
  buf.destroy();
  const best = Math.min(...times);
  return { gflops: flops / (best / 1000) / 1e9, timer: ts ? 'timestamp' : 'wall', ms: best };
}

/** GPU ms of one compute pass (timestamp queries), or wall-clock ms to onSubmittedWorkDone. */
async function timeDispatch(d: GPUDevice, ts: boolean, body: (pass: GPUComputePassEncoder) => void): Promise<number> {
  const enc = d.createCommandEncoder();
  if (!ts) {
    const pass = enc.beginComputePass();
    body(pass);
    pass.end();
    const t = performance.now();
    d.queue.submit([enc.finish()]);
    await d.queue.onSubmittedWorkDone();
    return performance.now() - t;
  }
  const set = d.createQuerySet({ type: 'timestamp', count: 2 });
  const resolve = d.createBuffer({ size: 16, usage: 0x200 | 0x04 });
  const read = d.createBuffer({ size: 16, usage: 0x01 | 0x08 });
  const pass = enc.beginComputePass({ timestampWrites: { querySet: set, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } });
  body(pass);
  pass.end();
  enc.resolveQuerySet(set, 0, 2, resolve, 0);
  enc.copyBufferToBuffer(resolve, 0, read, 0, 16);
  d.queue.submit([enc.finish()]);
  await read.mapAsync(0x01);
  const t = new BigInt64Array(read.getMappedRange());
  const ms = Number(t[1] - t[0]) / 1e6;
  read.unmap();
  read.destroy();
  resolve.destroy();
  set.destroy();
  return ms;
}

export interface KernelResult {
  shape: string;
  variant: string;
  batch: number;
  count: number;
  m: number;
  k: number;
  n: number;
  gflop: number;
  /** Per-dispatch GPU ms (kernel name → median ms), and their sum. */
  kernels: Record<string, number>;
  ms: number;
  msMin: number;
  gflops: number;
  gbps: number;
  peakFraction: number | null;
  check: { maxAbs: number; maxRel: number } | null;
  timer: 'timestamp' | 'wall';
}

type Program = Parameters<WebGpuRuntime['run']>[2];

/** A conv shape set up on a runtime, validated against the CPU reference, ready to time. */
export interface PreparedConv {
  readonly variant: string;
  readonly shape: ConvShape;
  readonly check: KernelResult['check'];
  /** One timed run: GPU ms per kernel (timestamp queries) or the wall-clock ms of the run. */
  time(): Promise<{ total: number; per: Record<string, number> }>;
  readonly rt: WebGpuRuntime;
  readonly batch: number;
}

/** Sets a conv shape up on a runtime and validates it against the CPU reference (cpuCache: shared by variants). */
export async function prepareConv(
  rt: WebGpuRuntime,
  variant: string,
  s: ConvShape,
  o: { batch: number; check: boolean; tol?: number; cpuCache?: Map<string, Tensor> },
): Promise<PreparedConv> {
  const conv = seededConv(s, 1000 + s.cin + s.cout + s.k + s.h);
  const shape = [o.batch, s.cin, s.h, s.w];
  const x = new Tensor(shape, randomInput(shape, 7));
  const key = `bench ${s.name}`;
  const program: Program = (b, v) => new Map([['y', b.conv2d(v, conv, { relu: true })]]);
  const out = (await rt.run(key, x, program)).get('y')!;
  let check: KernelResult['check'] = null;
  if (o.check) {
    const ck = `${s.name} ${o.batch}`;
    let want = o.cpuCache?.get(ck);
    if (!want) {
      want = ops.relu(ops.conv2d(x, conv.weight, conv.bias, { outChannels: s.cout, kernel: s.k, stride: s.stride, padding: s.pad }));
      o.cpuCache?.set(ck, want);
    }
    let maxAbs = 0;
    let scale = 0;
    for (let i = 0; i < want.data.length; i++) {
      const dlt = Math.abs(out.data[i] - want.data[i]);
      maxAbs = Number.isNaN(dlt) ? Infinity : Math.max(maxAbs, dlt);
      scale = Math.max(scale, Math.abs(want.data[i]));
    }
    check = { maxAbs, maxRel: maxAbs / scale };
    const tol = o.tol ?? (rt.ctx.precision === 'f16' ? 1e-2 : 1e-4);
    if (!(check.maxRel <= tol)) throw new Error(`${s.name} (${variant}): max-rel ${check.maxRel} over ${tol} against the CPU reference`);
  }
  const ts = rt.ctx.device.features.has('timestamp-query');
  return {
    variant, shape: s, check, rt, batch: o.batch,
    async time() {
      const per: Record<string, number> = {};
      if (!ts) {
        const t = performance.now();
        await rt.run(key, x, program);
        return { total: performance.now() - t, per };
      }
      const steps: StepTiming[] = [];
      await rt.run(key, x, program, { profile: steps });
      let total = 0;
      for (const st of steps) {
        if (st.label.startsWith('input')) continue;
        const kname = st.kernel.split('<')[0];
        per[kname] = (per[kname] ?? 0) + st.ms;
        total += st.ms;
      }
      return { total, per };
    },
  };
}

/** The result of timing runs of a prepared conv. */
export function summarize(p: PreparedConv, runs: { total: number; per: Record<string, number> }[], peak: number | null): KernelResult {
  const s = p.shape;
  const rt = p.rt;
  const oh = outputSize(s.h, s.k, s.stride, s.pad);
  const ow = outputSize(s.w, s.k, s.stride, s.pad);
  const m = p.batch * oh * ow;
  const kk = s.cin * s.k * s.k;
  const gflop = (2 * m * kk * s.cout) / 1e9;
  const eb = bytesPerElement(rt.ctx.precision);
  const c4 = (c: number) => 4 * Math.ceil(c / 4);
  let bytes = (p.batch * s.h * s.w * c4(s.cin) + s.k * s.k * c4(s.cin) * c4(s.cout) + m * c4(s.cout)) * eb;
  if (rt.ctx.config.conv === 'im2col' && !(s.k === 1 && s.stride === 1 && s.pad === 0)) bytes += 2 * m * s.k * s.k * c4(s.cin) * eb;
  const totals = runs.map((r) => r.total);
  const ms = median(totals);
  const gflops = gflop / (ms / 1000);
  const kernels: Record<string, number> = {};
  for (const k of Object.keys(runs[0]?.per ?? {})) kernels[k] = median(runs.map((r) => r.per[k] ?? 0));
  return {
    shape: s.name, variant: p.variant, batch: p.batch, count: s.count, m, k: kk, n: s.cout, gflop, kernels, ms, msMin: Math.min(...totals), gflops,
    gbps: bytes / (ms / 1000) / 1e9, peakFraction: peak ? gflops / peak : null, check: p.check,
    timer: rt.ctx.device.features.has('timestamp-query') ? 'timestamp' : 'wall',
  };
}

/** A variant that failed on a shape (or could not create its runtime: shape '(runtime)'). */
export interface KernelError {
  shape: string;
  variant: string;
  error: string;
}

export interface KernelBenchReport {
  adapter: string;
  precision: Precision;
  peak: { gflops: number; timer: string };
  results: KernelResult[];
  errors?: KernelError[];
}

/** Peak, then each shape under each variant (one runtime per variant). */
export async function runKernelBench(o: {
  precision: Precision;
  batch: number;
  runs: number;
  variants: string[];
  shapes: ConvShape[];
  check: boolean;
  log?: (s: string) => void;
}): Promise<KernelBenchReport> {
  const log = o.log ?? console.log;
  const gpu = nodeGpu();
  const ctx = await GpuContext.create(gpu, o.precision);
  const peak = await measurePeak(ctx);
  const adapter = ctx.adapterName;
  ctx.destroy();
  log(`adapter: ${adapter}; precision ${o.precision}; FMA peak ${peak.gflops.toFixed(1)} GFLOP/s (${peak.timer})`);
  log(['shape'.padEnd(44), 'variant'.padEnd(10), 'ms'.padStart(8), 'GFLOP/s'.padStart(8), 'GB/s'.padStart(6), 'peak'.padStart(5), 'max-rel'.padStart(8), '  kernels'].join(' '));
  // One runtime per variant; per shape the variants' runs alternate (A B A B …), so load changes on a
  // shared machine hit every variant alike.
  // A variant that fails (its runtime, or a shape off the CPU reference) is logged and recorded in
  // `errors`, and the others go on: a tile sweep on a new adapter must not stop at its first failure.
  const results: KernelResult[] = [];
  const errors: KernelError[] = [];
  const failed = (shape: string, variant: string, e: unknown) => {
    errors.push({ shape, variant, error: (e as Error).message });
    log(`${shape.padEnd(44)} ${variant.padEnd(10)} ERROR ${(e as Error).message}`);
  };
  const rts: { variant: string; rt: WebGpuRuntime }[] = [];
  try {
    for (const variant of o.variants) {
      try {
        const rt = await WebGpuRuntime.create(gpu, o.precision, variantLimits(variant));
        rt.maxPlans = 1;
        rts.push({ variant, rt });
      } catch (e) {
        failed('(runtime)', variant, e);
      }
    }
    const cpuCache = new Map<string, Tensor>();
    for (const s of o.shapes) {
      const prepared: PreparedConv[] = [];
      for (const { variant, rt } of rts) {
        try {
          prepared.push(await prepareConv(rt, variant, s, { batch: o.batch, check: o.check, cpuCache }));
        } catch (e) {
          failed(s.name, variant, e);
        }
      }
      cpuCache.clear();
      const runs: { total: number; per: Record<string, number> }[][] = prepared.map(() => []);
      for (let r = 0; r < o.runs; r++) for (const [i, p] of prepared.entries()) runs[i].push(await p.time());
      for (const [i, p] of prepared.entries()) {
        const r = summarize(p, runs[i], peak.gflops);
        results.push(r);
        log(
          [
            s.name.padEnd(44),
            p.variant.padEnd(10),
            r.ms.toFixed(2).padStart(8),
            r.gflops.toFixed(1).padStart(8),
            r.gbps.toFixed(2).padStart(6),
            `${(100 * (r.peakFraction ?? 0)).toFixed(0)}%`.padStart(5),
            (r.check ? r.check.maxRel.toExponential(1) : '—').padStart(8),
            ` ${Object.entries(r.kernels).map(([k, t]) => `${k} ${t.toFixed(2)}`).join(', ')}`,
          ].join(' '),
        );
      }
    }
  } finally {
    for (const { rt } of rts) rt.dispose();
  }
  return { adapter, precision: o.precision, peak, results, errors };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      batch: { type: 'string', default: '1' },
      precision: { type: 'string', default: 'f32' },
      runs: { type: 'string', default: '5' },
      variants: { type: 'string', default: 'implicit,im2col' },
      only: { type: 'string' },
      size: { type: 'string', default: '224' },
      'no-check': { type: 'boolean', default: false },
      json: { type: 'string' },
    },
  });
  let shapes = [...resnet50ConvShapes(Number(values.size)), GEMM_1024];
  if (values.only) {
    const words = values.only.split(',');
    shapes = shapes.filter((s) => words.some((w) => s.name.includes(w)));
  }
  const report = await runKernelBench({
    precision: values.precision as Precision,
    batch: Number(values.batch),
    runs: Number(values.runs),
    variants: values.variants!.split(','),
    shapes,
    check: !values['no-check'],
  });
  // Per-forward totals, weighting each shape by how often ResNet-50 runs it.
  for (const v of new Set(report.results.map((r) => r.variant))) {
    const rs = report.results.filter((r) => r.variant === v && !r.shape.startsWith('GEMM'));
    const ms = rs.reduce((a, r) => a + r.ms * r.count, 0);
    const gflop = rs.reduce((a, r) => a + r.gflop * r.count, 0);
    if (rs.length) console.log(`${v}: all convs of one forward ${ms.toFixed(0)} ms GPU, ${(gflop / (ms / 1000)).toFixed(1)} GFLOP/s`);
  }
  if (values.json) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
  process.exit(report.errors?.length ? 1 : 0);
}
