// Warm ResNet-50 forward time on the WebGPU engine (seeded weights; the numbers do not depend on them).
//   npx tsx bench/forward.ts [--batch 1] [--size 224] [--precision f32,f16] [--runs 5] [--profile]
// --profile adds GPU time per kernel (timestamp queries, one pass per dispatch) and the slowest dispatches.
import { parseArgs } from 'node:util';
import { createWebGpuEngine } from '../src/kernels/webgpu/engine.ts';
import { randomInput, randomResNet } from '../src/nn/random.ts';
import { RESNET50 } from '../src/nn/spec.ts';
import { nodeGpu } from '../src/platform/node-gpu.ts';
import { Tensor } from '../src/tensor/tensor.ts';
import { warmRuns } from './warm-runs.ts';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '1' },
    size: { type: 'string', default: '224' },
    precision: { type: 'string', default: 'f32,f16' },
    runs: { type: 'string', default: '5' },
    profile: { type: 'boolean', default: false },
  },
});
const batch = Number(values.batch);
const size = Number(values.size);
const runs = Math.max(3, Number(values.runs));
const gpu = nodeGpu();
const adapter = await gpu.requestAdapter();
const info = adapter!.info;
console.log(`adapter: ${info.vendor} / ${info.architecture} / ${info.description || info.device}`);
const model = randomResNet(RESNET50, 1);
const x = new Tensor([batch, 3, size, size], randomInput([batch, 3, size, size], 2));
for (const precision of values.precision!.split(',') as ('f32' | 'f16')[]) {
  const engine = await createWebGpuEngine(model, gpu, { precision });
  console.log(`${precision}: ${engine.kernelConfig}`);
  const { firstMs: first, medianMs: median, minMs, maxMs } = await warmRuns(() => engine.run(x), runs);
  const bytes = await engine.gpuBytes();
  console.log(
    `batch ${batch}, ${size}×${size}, ${precision}: median ${median.toFixed(0)} ms over ${runs} warm runs ` +
      `(min ${minMs.toFixed(0)}, max ${maxMs.toFixed(0)}; first run ${first.toFixed(0)} ms; ` +
      `${((8.2e9 * batch * (size / 224) ** 2) / (median / 1000) / 1e9).toFixed(1)} GFLOP/s); ` +
      `GPU bytes ${(bytes.total / 2 ** 20).toFixed(1)} MiB (weights ${(bytes.weights / 2 ** 20).toFixed(1)}, activations ${(bytes.activations / 2 ** 20).toFixed(1)})`,
  );
  if (values.profile) {
    const steps = await engine.profile(x);
    const byKernel = new Map<string, number>();
    for (const s of steps) byKernel.set(s.kernel.split('<')[0], (byKernel.get(s.kernel.split('<')[0]) ?? 0) + s.ms);
    const total = steps.reduce((a, s) => a + s.ms, 0);
    console.log(`  GPU time ${total.toFixed(0)} ms in ${steps.length} dispatches: ${[...byKernel].map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}`);
    for (const s of [...steps].sort((a, b) => b.ms - a.ms).slice(0, 5)) console.log(`    ${s.label}: ${s.ms.toFixed(1)} ms`);
  }
  engine.dispose();
}
