// The bench's own logic: ResNet-50's conv shapes and FLOP count, the memory yardstick, variant parsing,
// how child scripts are started, the RESULTS.md renderer and its target verdicts, the `bench` CLI's
// option checks, and one small kernel validated and timed on the real adapter.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { benchScriptArgs, pkgVersion } from '../bench/child.ts';
import { largestActivationBytes, resnet50Flops } from '../bench/e2e.ts';
import { prepareConv, resnet50ConvShapes, summarize, variantLimits } from '../bench/kernels.ts';
import type { SuiteReport } from '../bench/suite.ts';
import { renderResults, targets } from '../bench/write-results.ts';
import { benchCommand } from '../src/cli/bench.ts';
import { WebGpuRuntime } from '../src/kernels/webgpu/engine.ts';
import { nodeGpu } from '../src/platform/node-gpu.ts';

describe('bench: shapes, FLOPs, memory yardstick', () => {
  it('lists the distinct conv shapes of ResNet-50 at 224², 53 convs in all', () => {
    const shapes = resnet50ConvShapes(224);
    expect(shapes.reduce((a, s) => a + s.count, 0)).toBe(53);
    expect(shapes[0]).toMatchObject({ cin: 3, cout: 64, k: 7, stride: 2, pad: 3, h: 224, count: 1 });
    expect(shapes.filter((s) => s.k === 3 && s.stride === 1 && s.cin === 64)[0].count).toBe(3);
    expect(new Set(shapes.map((s) => s.name)).size).toBe(shapes.length);
  });

  it('counts about 8.2 GFLOP per 224² image, and the largest activation is the stem output', () => {
    expect(resnet50Flops(224) / 1e9).toBeCloseTo(8.2, 1);
    expect(largestActivationBytes(1, 224, 'f32')).toBe(112 * 112 * 64 * 4);
    expect(largestActivationBytes(2, 224, 'f16')).toBe(2 * 112 * 112 * 64 * 2);
  });

  it('parses kernel variants', () => {
    expect(variantLimits('im2col')).toEqual({ conv: 'im2col' });
    expect(variantLimits('sg:6x4')).toMatchObject({ gemmKernel: 'gemm_sg', gemm: { tm: 6, tn4: 4, wgX: 8, wgY: 1 } });
    expect(variantLimits('gemm:4x2x8x8').gemm).toEqual({ tm: 4, tn4: 2, wgX: 8, wgY: 8 });
    expect(() => variantLimits('fast')).toThrow(/unknown variant/);
  });
});

const fwd = (precision: 'f32' | 'f16', batch: number, medianMs: number, activations: number) => ({
  precision, batch, size: 224, kernelConfig: 'gemm_sg', firstRunMs: medianMs, runs: 3, medianMs, minMs: medianMs, maxMs: medianMs, spread: 0,
  timesMs: [medianMs], imagesPerS: batch / (medianMs / 1000), gflops: (8.2 * batch) / (medianMs / 1000),
  gpuBytes: { weights: 100 << 20, activations, total: (100 << 20) + activations }, largestActivationBytes: 3 << 20,
});
const cold = (ms: number) => ({ importMs: 1, loadMs: 1, firstRunMs: 1, coldMs: ms, sinceProcessStartMs: ms + 500 });
const peer = (id: string, ms: number) => ({ peer: id, name: id, version: '1', createMs: 1, firstRunMs: 1, coldMs: 2, warm: { runs: 2, medianMs: ms, minMs: ms, maxMs: ms }, check: { maxRel: 1e-6 }, loadavgAtStart: 0 });
const REPORT: SuiteReport = {
  command: 'npx resnet50 bench --peers', date: '2025-01-01T00:00:00Z', node: 'v20', cpu: { model: 'cpu', cores: 2 }, loadavg: { start: [0, 0, 0], end: [0, 0, 0] },
  versions: { webgpu: '0.6.2' }, adapter: 'llvmpipe',
  kernels: [{ adapter: 'llvmpipe', precision: 'f32', peak: { gflops: 40, timer: 'timestamp' }, results: [
    { shape: 'GEMM 1024³', variant: 'implicit', batch: 1, count: 1, m: 1024, k: 1024, n: 1024, gflop: 2.1, kernels: { gemm_sg: 100 }, ms: 100, msMin: 100, gflops: 21, gbps: 0.1, peakFraction: 0.5, check: { maxAbs: 0, maxRel: 1e-7 }, timer: 'timestamp' },
  ] }],
  forward: [fwd('f32', 1, 500, 5 << 20), fwd('f32', 8, 3600, 40 << 20), fwd('f32', 32, 16000, 160 << 20)],
  cold: [{ precision: 'f32', batch: 1, warmCache: cold(1200), warmCacheRuns: [cold(1200)], coldCache: cold(9000) }],
  peers: [{ batch: 1, peers: [peer('ours', 520), peer('tfjs', 3600), peer('ort-web', 2500)] }, { batch: 8, peers: [peer('tfjs', 20000), peer('ort-web', 9000)] }],
};

describe('bench: child scripts', () => {
  it('starts a bench script through tsx from the sources (the device bundle has its own entry)', () => {
    for (const name of ['peers/run', 'peers/run-one', 'cold-start'] as const) {
      const args = benchScriptArgs(name);
      expect(args.slice(0, 2)).toEqual(['--import', import.meta.resolve('tsx')]);
      expect(existsSync(args[2])).toBe(true);
    }
    expect(pkgVersion('webgpu')).toMatch(/^\d+\.\d+\.\d+/);
    expect(pkgVersion('no-such-package')).toBe('?');
  });
});

describe('bench: RESULTS.md', () => {
  it('judges every target from the report', () => {
    const t = targets(REPORT);
    const by = (re: RegExp) => t.find((x) => re.test(x.name))!;
    expect(by(/batch-1 latency/).met).toBe(true); // 2500 / 500 = 5×
    expect(by(/batch-8 throughput/).met).toBe(false); // 9000 / 3600 = 2.5×
    expect(by(/FLOP rate/).value).toBe('18.2 GFLOP/s (batch 8) vs 21.0: 87%'); // the best batch
    expect(by(/cold start/).met).toBe(false); // 1200 / 500 = 2.4×
    expect(by(/GPU memory/).met).toBe(true); // 5 MiB ≤ 2 × 3 MiB
  });

  it('renders the tables, the command and the peers with ratios to ours', () => {
    const md = renderResults(REPORT);
    expect(md).toContain('`npx resnet50 bench --peers`');
    expect(md).toContain('GENERATED by bench/write-results.ts');
    expect(md).toMatch(/\| tfjs \| 1 \| .* \| 6\.92× \|/); // 3600 / 520 (ours in the peer harness)
    expect(md).toContain('Peers run up to batch 8 only');
    expect(md).not.toContain('busy');
  });

  it('rejects bad options, prints its usage', async () => {
    expect(await benchCommand(['--precision', 'f64'])).toBe(1);
    expect(await benchCommand(['--batch', '0'])).toBe(1);
    expect(await benchCommand(['--variants', 'gemm:4x1x16x16,fast', '--no-cold'])).toBe(1); // refused before any run
    expect(await benchCommand(['--help'])).toBe(0);
  });
});

describe('bench: a kernel on the adapter', () => {
  it('validates a conv against the CPU reference, then times it', async () => {
    const rt = await WebGpuRuntime.create(nodeGpu(), 'f32');
    try {
      const s = { name: 'small 3×3', cin: 13, cout: 21, k: 3, stride: 2, pad: 1, h: 15, w: 15, count: 1 };
      const p = await prepareConv(rt, 'implicit', s, { batch: 3, check: true });
      const r = summarize(p, [await p.time(), await p.time()], 100);
      expect(r.check!.maxRel).toBeLessThan(1e-4);
      expect(r.m).toBe(3 * 8 * 8);
      expect(r.ms).toBeGreaterThan(0);
      expect(r.gflops).toBeGreaterThan(0);
    } finally {
      rt.dispose();
    }
  }, 60_000);
});
