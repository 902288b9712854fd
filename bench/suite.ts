// The whole bench as one run (what `npx resnet50 bench` runs), on seeded weights with no download:
//   1. the adapter's FMA peak and the 1024³ GEMM through our GEMM kernel (validated first), and with
//      --kernels every distinct ResNet-50 conv shape, implicit GEMM vs the explicit im2col path;
//      --variants adds tile variants (gemm:TMxTN4xWGXxWGY, sg:TMxTN4) beside them, for tuning;
//   2. end-to-end warm latency per batch size and precision (bench/e2e.ts), then at f32 per --variants
//      variant and --variant-batch batch size;
//   3. cold start in a new process, the shader cache warm and cold, per precision;
//   4. with --peers, bench/peers/run.ts (ONNX Runtime Node CPU, ours, TF.js WebGPU, ONNX Runtime Web
//      WebGPU, each in its own process, logits checked against the CPU reference) per --peer-batch.
// Results go to stdout and, with --json FILE, to a machine-readable report that bench/write-results.ts
// turns into bench/RESULTS.md.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Precision } from '../src/kernels/webgpu/engine.ts';
import { benchScriptArgs, bundleBuilt, pkgVersion, ROOT } from './child.ts';
import { benchColdStart, benchForward, describeCold, describeForward, type ColdStartResult, type ForwardResult } from './e2e.ts';
import { GEMM_1024, resnet50ConvShapes, runKernelBench, variantLimits, type KernelBenchReport } from './kernels.ts';

export interface SuiteOptions {
  batches: number[];
  precisions: Precision[];
  runs: number;
  size: number;
  kernels: boolean;
  /** Extra kernel variants (bench/kernels.ts) for the kernel bench and the f32 end-to-end runs. */
  variants: string[];
  variantBatches: number[];
  cold: boolean;
  peers: boolean;
  peerBatches: number[];
  peerRuns: number;
  peerList: string;
  command: string;
}

export interface SuiteReport {
  command: string;
  date: string;
  node: string;
  cpu: { model: string | undefined; cores: number };
  loadavg: { start: number[]; end?: number[] };
  versions: Record<string, string>;
  adapter: string;
  kernels: KernelBenchReport[];
  forward: ForwardResult[];
  /** End to end at f32 per --variants variant (absent without --variants). */
  variantForward?: (ForwardResult & { variant: string })[];
  cold: ColdStartResult[];
  /** bench/peers/run.ts reports, one per batch size. */
  peers: unknown[];
  /** What failed (the suite goes on past a failure, then exits with status 1). */
  errors?: string[];
}

function runPeers(batch: number, o: SuiteOptions, log: (s: string) => void): Promise<unknown> {
  const json = join(tmpdir(), `peers-${process.pid}-${batch}.json`);
  rmSync(json, { force: true });
  const args = [
    ...benchScriptArgs('peers/run'),
    '--peers', o.peerList, '--batch', String(batch), '--size', String(o.size), '--runs', String(o.peerRuns), '--json', json,
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (c: Buffer) => log(c.toString().trimEnd()));
    child.stderr.on('data', (c: Buffer) => {
      const t = c.toString().trimEnd();
      if (!/artificially reduced/.test(t)) log(t);
    });
    child.on('close', (code) => {
      const report = existsSync(json) ? JSON.parse(readFileSync(json, 'utf8')) : { batch, error: `peers exited with ${code}` };
      rmSync(json, { force: true });
      resolve(report);
    });
  });
}

export async function runSuite(o: SuiteOptions, json: string | undefined, log: (s: string) => void = console.log): Promise<SuiteReport> {
  for (const v of o.variants) variantLimits(v); // refuse a bad variant before anything runs
  const report: SuiteReport = {
    command: o.command,
    date: new Date().toISOString(),
    node: process.version,
    cpu: { model: cpus()[0]?.model, cores: availableParallelism() },
    loadavg: { start: loadavg() },
    versions: {
      webgpu: pkgVersion('webgpu'),
      'onnxruntime-web': pkgVersion('onnxruntime-web'),
      'onnxruntime-node': pkgVersion('onnxruntime-node'),
      '@tensorflow/tfjs-core': pkgVersion('@tensorflow/tfjs-core'),
      '@tensorflow/tfjs-backend-webgpu': pkgVersion('@tensorflow/tfjs-backend-webgpu'),
      ...(bundleBuilt ? { 'device bundle': bundleBuilt } : {}),
    },
    adapter: '',
    kernels: [],
    forward: [],
    cold: [],
    peers: [],
  };
  const save = () => {
    if (json) writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  };
  log(`command: ${o.command}`);
  log(`node ${process.version}; ${report.cpu.model} × ${report.cpu.cores}; load average ${report.loadavg.start.map((l) => l.toFixed(2)).join(' ')}`);
  const t0 = performance.now();
  const section = (title: string) => log(`\n== ${title} == (${((performance.now() - t0) / 1000).toFixed(1)} s in)`);
  /** One measurement; a failure is logged and recorded in report.errors, and the suite goes on. */
  const attempt = async (what: string, step: () => Promise<void>) => {
    try {
      await step();
    } catch (e) {
      (report.errors ??= []).push(`${what}: ${(e as Error).message}`);
      log(`ERROR in ${what}: ${(e as Error).message}`);
    }
    save();
  };
  for (const precision of o.precisions) {
    section(`kernels, ${precision}`);
    const shapes = o.kernels ? [...resnet50ConvShapes(o.size), GEMM_1024] : [GEMM_1024];
    const variants = ['implicit', 'im2col', ...o.variants];
    await attempt(`kernels ${precision}`, async () => {
      const k = await runKernelBench({ precision, batch: 1, runs: Math.max(3, o.runs), variants, shapes, check: true, log });
      report.kernels.push(k);
      report.adapter = k.adapter;
      for (const e of k.errors ?? []) (report.errors ??= []).push(`kernels ${precision} ${e.variant} ${e.shape}: ${e.error}`);
    });
  }
  for (const precision of o.precisions) {
    section(`end to end, ${precision}`);
    for (const batch of o.batches) {
      await attempt(`end to end ${precision} batch ${batch}`, async () => {
        const r = await benchForward({ precision, batch, size: o.size, runs: o.runs });
        report.forward.push(r);
        log(describeForward(r));
      });
    }
  }
  if (o.variants.length) {
    section('end to end per kernel variant, f32');
    report.variantForward = [];
    for (const variant of o.variants) {
      for (const batch of o.variantBatches) {
        await attempt(`end to end ${variant} batch ${batch}`, async () => {
          const r = await benchForward({ precision: 'f32', batch, size: o.size, runs: o.runs, limits: variantLimits(variant) });
          report.variantForward!.push({ ...r, variant });
          log(`${variant}: ${describeForward(r)}`);
        });
      }
    }
  }
  if (o.cold) {
    for (const precision of o.precisions) {
      section(`cold start, ${precision}`);
      await attempt(`cold start ${precision}`, async () => {
        const c = await benchColdStart({ precision, batch: 1, size: o.size, runs: 3 });
        report.cold.push(c);
        log(describeCold(c));
      });
    }
  }
  if (o.peers) {
    for (const batch of o.peerBatches) {
      section(`peers, batch ${batch}`);
      report.peers.push(await runPeers(batch, o, log));
      save();
    }
  }
  report.loadavg.end = loadavg();
  save();
  log(`\nsuite done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (json) log(`\nwrote ${json}; make the table with: npx tsx bench/write-results.ts ${json}`);
  if (report.errors?.length) throw new Error(`${report.errors.length} failed:\n  ${report.errors.join('\n  ')}`);
  return report;
}
