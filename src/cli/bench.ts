// `resnet50 bench`: the benchmark suite (bench/suite.ts) on seeded weights, no download.
import { parseArgs } from 'node:util';
import type { Precision } from '../kernels/webgpu/engine.ts';

export const BENCH_USAGE = `usage: resnet50 bench [--batch 1,8,32] [--runs 5] [--precision f32,f16] [--size 224]
                     [--kernels] [--variants gemm:4x1x16x16,...] [--variant-batch 8] [--no-cold]
                     [--peers] [--peer-batch 1,8] [--peer-runs 3] [--peer-list ort-node,ours,tfjs,ort-web]
                     [--json FILE]
  FMA peak, the 1024³ GEMM (and with --kernels every ResNet-50 conv shape, implicit GEMM vs im2col),
  warm end-to-end latency per batch (median over --runs), GPU memory, cold start in a new process with
  the shader cache warm and cold; --variants adds kernel tile variants (gemm:TMxTN4xWGXxWGY, sg:TMxTN4)
  to the kernel bench and runs end to end at f32 with each, at --variant-batch; --peers adds TF.js WebGPU, ONNX Runtime Web WebGPU and ONNX Runtime
  Node CPU on the same seeded weights (bench/peers). --json FILE writes the report that
  'npx tsx bench/write-results.ts FILE' turns into bench/RESULTS.md.`;

function list(s: string, what: string): number[] {
  const xs = s.split(',').map(Number);
  for (const x of xs) if (!Number.isInteger(x) || x < 1) throw new Error(`--${what}: expected positive integers, got '${s}'`);
  return xs;
}

/**
 * bench/ is part of a source checkout, not of the npm package, and is TypeScript: it is loaded
 * through tsx (a devDependency), from the sources and from a build in a checkout alike.
 */
async function loadSuite(): Promise<{ runSuite(opts: object, json?: string): Promise<unknown> }> {
  const suite = new URL('../../bench/suite.ts', import.meta.url);
  const tsx = 'tsx/esm/api';
  try {
    (await import(tsx) as { register(): void }).register();
    return await import(suite.href);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND') throw e;
    throw new Error('the benchmark suite runs from a source checkout (bench/ is not in the npm package): clone the repository, npm ci, then npx resnet50 bench');
  }
}

export async function benchCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        batch: { type: 'string', default: '1,8,32' },
        runs: { type: 'string', default: '5' },
        precision: { type: 'string', default: 'f32,f16' },
        size: { type: 'string', default: '224' },
        kernels: { type: 'boolean', default: false },
        variants: { type: 'string', default: '' },
        'variant-batch': { type: 'string', default: '8' },
        'no-cold': { type: 'boolean', default: false },
        peers: { type: 'boolean', default: false },
        'peer-batch': { type: 'string', default: '1,8' },
        'peer-runs': { type: 'string', default: '3' },
        'peer-list': { type: 'string', default: 'ort-node,ours,tfjs,ort-web' },
        json: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
    if (values.help) {
      console.log(BENCH_USAGE);
      return 0;
    }
    const precisions = values.precision.split(',') as Precision[];
    for (const p of precisions) if (p !== 'f32' && p !== 'f16') throw new Error(`--precision: f32 or f16, got '${p}'`);
    const { runSuite } = await loadSuite();
    await runSuite(
      {
        batches: list(values.batch, 'batch'),
        precisions,
        runs: list(values.runs, 'runs')[0],
        size: list(values.size, 'size')[0],
        kernels: values.kernels,
        variants: values.variants.split(',').filter((v) => v),
        variantBatches: list(values['variant-batch'], 'variant-batch'),
        cold: !values['no-cold'],
        peers: values.peers,
        peerBatches: list(values['peer-batch'], 'peer-batch'),
        peerRuns: list(values['peer-runs'], 'peer-runs')[0],
        peerList: values['peer-list'],
        command: `npx resnet50 bench ${argv.join(' ')}`.trim(),
      },
      values.json,
    );
    return 0;
  } catch (e) {
    console.error(`resnet50 bench: ${(e as Error).message}`);
    return 1;
  }
}
