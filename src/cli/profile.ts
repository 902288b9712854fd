// `resnet50 tune` and `resnet50 profile`, on a seeded full-size ResNet-50 (speed does not depend on
// the weights' values, so nothing is downloaded).
//   tune:    per distinct layer shape, every kernel candidate validated against the CPU reference and
//            timed (src/kernels/webgpu/tune.ts); the winners are cached per adapter, precision and
//            batch in $RESNET50_CACHE/tuning; then the default and the tuned plan end to end, side by side.
//   profile: every dispatch of one forward with its GPU time (timestamp queries), FLOPs, bytes and share
//            of the forward; the wall time, and where batch 1 spends it outside the kernels.
import { parseArgs } from 'node:util';
import { createWebGpuEngine, type HostTiming, type StepTiming, type TuneRow, type WebGpuEngine } from '../kernels/webgpu/engine.ts';
import type { Precision } from '../kernels/webgpu/kernels.ts';
import type { TuningMode } from '../kernels/webgpu/tune.ts';
import { randomInput, randomResNet } from '../nn/random.ts';
import { RESNET50 } from '../nn/spec.ts';
import { nodeGpu } from '../platform/node-gpu.ts';
import { nodeTuningStore, tuningCacheDir } from '../platform/node-tuning-cache.ts';
import { Tensor } from '../tensor/tensor.ts';
import { CliError, writeAtomic } from './files.ts';

export const TUNE_USAGE = `usage: resnet50 tune [--batch 1,8,32] [--precision f32,f16] [--size 224] [--runs 5]
  For every distinct conv/fc shape of ResNet-50 at each batch size: the adapter's default kernel and the
  workgroup-memory tiled candidates, each validated once against the CPU reference and timed (median of
  --runs); the fastest valid one per layer is cached for this adapter (vendor, architecture, device,
  driver) in ${'$'}RESNET50_CACHE/tuning (now ${tuningCacheDir()}). Then the default and the tuned plan
  run end to end, alternately, and both medians are printed. Defaults: --batch 1 --precision f32.`;

export const PROFILE_USAGE = `usage: resnet50 profile [--batch 1] [--precision f32] [--size 224] [--runs 5]
                        [--tuning cached|off|tune] [--json FILE]
  Every dispatch of one ResNet-50 forward (seeded weights): kernel, shapes, FLOPs, bytes bound, GPU time
  from timestamp queries (median of --runs; under Node unquantised), % of the forward; then the wall
  time of an ordinary forward and the host-side split (input write, encode + submit, error scopes,
  wait for the read-back, decode): what the forward spends outside the kernels.`;

interface Values {
  batch?: string;
  precision?: string;
  size: string;
  runs: string;
  tuning: string;
  json?: string;
}

/** --tuning cached|off|tune. */
export function parseTuning(value: string): TuningMode {
  if (value !== 'cached' && value !== 'off' && value !== 'tune') throw new CliError(`--tuning must be cached, off or tune, got '${value}'`);
  return value;
}

function ints(s: string, flag: string): number[] {
  const xs = s.split(',').map(Number);
  if (!xs.every((x) => Number.isInteger(x) && x >= 1)) throw new CliError(`${flag}: expected positive integers, got '${s}'`);
  return xs;
}

function precisions(s: string): Precision[] {
  const ps = s.split(',');
  for (const p of ps) if (p !== 'f32' && p !== 'f16') throw new CliError(`--precision: f32 or f16, got '${p}'`);
  return ps as Precision[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (v: number | null) => (v === null ? '—' : v < 10 ? v.toFixed(3) : v.toFixed(1));

function engineFor(precision: Precision, tuning: TuningMode): Promise<WebGpuEngine> {
  return createWebGpuEngine(randomResNet(RESNET50, 1), nodeGpu(), {
    precision, tuning, tuningStore: nodeTuningStore(), onNotice: (m) => process.stderr.write(`resnet50: ${m}\n`),
  });
}

function input(batch: number, size: number): Tensor {
  return new Tensor([batch, 3, size, size], randomInput([batch, 3, size, size], 2));
}

async function wallMs(engine: WebGpuEngine, x: Tensor): Promise<number> {
  const t0 = performance.now();
  await engine.run(x);
  return performance.now() - t0;
}

function printRow(r: TuneRow): void {
  const cells = r.results.map((c) => `${c.choice} ${c.ms === null ? `failed (${c.error})` : `${ms(c.ms)} ms`}`);
  const gain = r.defaultMs && r.winnerMs ? `${(r.defaultMs / r.winnerMs).toFixed(2)}×` : '—';
  console.log(`${r.layer} ×${r.count}  [${r.gemm.m}×${r.gemm.k}]·[${r.gemm.k}×${r.gemm.n}]  winner ${r.winner} (${gain} vs default)\n    ${cells.join('; ')}`);
}

async function tune(values: Values): Promise<void> {
  const size = ints(values.size, '--size')[0];
  const runs = ints(values.runs, '--runs')[0];
  for (const precision of precisions(values.precision ?? 'f32')) {
    for (const batch of ints(values.batch ?? '1', '--batch')) {
      const x = input(batch, size);
      const base = await engineFor(precision, 'off');
      try {
        console.log(`tuning ${precision} batch ${batch} ${size}×${size} on ${base.device}`);
        const { table, rows } = await base.tune(x, { runs, onRow: printRow });
        const layers = rows.reduce((a, r) => a + r.count, 0);
        const changed = rows.filter((r) => r.winner !== r.results[0].choice).length;
        console.log(`${rows.length} distinct shapes (${layers} layers); ${changed} not on the default kernel; table saved for ${table.adapter.vendor} ${table.adapter.architecture} ${table.adapter.description} in ${tuningCacheDir()}`);
        const tuned = await engineFor(precision, 'cached');
        try {
          const times: Record<'default' | 'tuned', number[]> = { default: [], tuned: [] };
          await wallMs(base, x);
          await wallMs(tuned, x);
          for (let r = 0; r < runs; r++) {
            times.default.push(await wallMs(base, x));
            times.tuned.push(await wallMs(tuned, x));
          }
          console.log(`end to end, alternating, median of ${runs}: default ${ms(median(times.default))} ms, tuned ${ms(median(times.tuned))} ms`);
        } finally {
          tuned.dispose();
        }
      } finally {
        base.dispose();
      }
    }
  }
}

async function profile(values: Values): Promise<void> {
  const batch = ints(values.batch ?? '1', '--batch')[0];
  const size = ints(values.size, '--size')[0];
  const runs = ints(values.runs, '--runs')[0];
  const precision = precisions(values.precision ?? 'f32')[0];
  const engine = await engineFor(precision, parseTuning(values.tuning));
  try {
    const x = input(batch, size);
    await engine.run(x);
    const walls: number[] = [];
    for (let r = 0; r < runs; r++) walls.push(await wallMs(engine, x));
    const profiles: StepTiming[][] = [];
    for (let r = 0; r < runs; r++) profiles.push(await engine.profile(x));
    const hosts: HostTiming[] = [];
    for (let r = 0; r < runs; r++) hosts.push(await engine.hostTiming(x));
    const steps = profiles[0].map((s, i) => ({ ...s, ms: median(profiles.map((p) => p[i].ms)) }));
    const gpu = steps.reduce((a, s) => a + s.ms, 0);
    const wall = median(walls);
    console.log(`profile: ResNet-50 (seeded weights) ${precision} batch ${batch} ${size}×${size} on ${engine.device}, median of ${runs}`);
    console.log(['#', 'dispatch', 'kernel', 'shape', 'GFLOP', 'MiB bound', 'GPU ms', '% fwd', 'GFLOP/s'].join('\t'));
    steps.forEach((s, i) => {
      console.log([
        i, s.label, s.kernel, s.shape, (s.flops / 1e9).toFixed(3), (s.bytes / 2 ** 20).toFixed(2), ms(s.ms),
        `${((100 * s.ms) / gpu).toFixed(1)}%`, s.flops && s.ms > 0 ? (s.flops / s.ms / 1e6).toFixed(1) : '—',
      ].join('\t'));
    });
    const flops = steps.reduce((a, s) => a + s.flops, 0);
    const h = (k: keyof HostTiming) => median(hosts.map((t) => t[k]));
    console.log(`kernels: ${steps.length} dispatches, ${ms(gpu)} ms GPU (sum of timestamps, one pass each), ${(flops / 1e9).toFixed(2)} GFLOP, ${(flops / gpu / 1e6).toFixed(1)} GFLOP/s`);
    console.log(`forward wall time ${ms(wall)} ms; outside the kernels ${ms(Math.max(0, wall - gpu))} ms (${((100 * Math.max(0, wall - gpu)) / wall).toFixed(1)}%)`);
    console.log(`host split (median): write ${ms(h('write'))} ms, encode+submit ${ms(h('encodeSubmit'))} ms, error scopes ${ms(h('errorScopes'))} ms, ` +
      `wait for read-back ${ms(h('wait'))} ms, decode ${ms(h('decode'))} ms; total ${ms(h('total'))} ms`);
    if (values.json) {
      const report = { precision, batch, size, runs, device: engine.device, wallMs: wall, gpuMs: gpu, host: hosts, steps };
      await writeAtomic(values.json, JSON.stringify(report, null, 1) + '\n');
    }
  } finally {
    engine.dispose();
  }
}

export async function profileMain(command: 'tune' | 'profile', argv: string[]): Promise<number> {
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        batch: { type: 'string' },
        precision: { type: 'string' },
        size: { type: 'string', default: '224' },
        runs: { type: 'string', default: '5' },
        tuning: { type: 'string', default: 'cached' },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      console.log(command === 'tune' ? TUNE_USAGE : PROFILE_USAGE);
      return 0;
    }
    if (command === 'tune') await tune(values);
    else await profile(values);
    return 0;
  } catch (e) {
    process.stderr.write(`resnet50 ${command}: ${(e as Error).message}\n`);
    return 1;
  }
}
