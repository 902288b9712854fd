// One cold start, in its own process (bench/e2e.ts spawns it): load the seeded weights from disk,
// create the engine (adapter, device, weight upload), run once (recording the plan, building every
// pipeline, and lavapipe compiling each at its first dispatch), and print one JSON line with the
// phases in ms. `sinceProcessStartMs` counts from the process's time origin, so it includes Node and
// tsx starting up.
//   npx tsx bench/cold-start.ts --weights W.safetensors [--precision f32] [--batch 1] [--size 224]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const t0 = performance.now();
const { values } = parseArgs({
  options: {
    weights: { type: 'string' },
    precision: { type: 'string', default: 'f32' },
    batch: { type: 'string', default: '1' },
    size: { type: 'string', default: '224' },
  },
});
const { createWebGpuEngine } = await import('../src/kernels/webgpu/engine.ts');
const { nodeGpu } = await import('../src/platform/node-gpu.ts');
const { Tensor } = await import('../src/tensor/tensor.ts');
const { loadResNet } = await import('../src/weights/resnet.ts');
const { readSafetensors } = await import('../src/weights/safetensors.ts');
const { randomInput } = await import('../src/nn/random.ts');
const t1 = performance.now();
const model = loadResNet(readSafetensors(readFileSync(values.weights!), values.weights!));
const t2 = performance.now();
const engine = await createWebGpuEngine(model, nodeGpu(), { precision: values.precision as 'f32' | 'f16' });
const t3 = performance.now();
const n = Number(values.batch);
const size = Number(values.size);
const x = new Tensor([n, 3, size, size], randomInput([n, 3, size, size], 2));
const out = await engine.run(x);
const t4 = performance.now();
if (!out.logits) throw new Error('no logits');
console.log(
  JSON.stringify({
    importMs: t1 - t0,
    loadWeightsMs: t2 - t1,
    createEngineMs: t3 - t2,
    firstRunMs: t4 - t3,
    /** Weights file → first result (what issue 6's cold-start target measures). */
    coldMs: t4 - t1,
    sinceProcessStartMs: t4,
  }),
);
engine.dispose();
process.exit(0);
