// One cold start, in its own process (bench/e2e.ts spawns it): what a user's program does, through the
// library API (src/node.ts): ResNet50.load(file) (reads the weights while it acquires the device and
// compiles every pipeline, then packs the weights straight into GPU memory), then one classify (the
// plan recorded and built, and lavapipe compiling each pipeline at its first dispatch unless its
// shader cache has it). Prints one JSON line with the phases in ms. `sinceProcessStartMs` counts from
// the process's time origin, so it includes Node and tsx starting up.
//   npx tsx bench/cold-start.ts --weights W.safetensors [--precision f32] [--batch 1] [--size 224]
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
const { ResNet50 } = await import('../src/node.ts');
const { Tensor } = await import('../src/tensor/tensor.ts');
const { randomInput } = await import('../src/nn/random.ts');
const t1 = performance.now();
const model = await ResNet50.load(values.weights!, { device: 'webgpu', precision: values.precision as 'f32' | 'f16' });
const t2 = performance.now();
const n = Number(values.batch);
const size = Number(values.size);
const x = new Tensor([n, 3, size, size], randomInput([n, 3, size, size], 2));
const { logits } = await model.classify(x, { batchSize: n });
const t3 = performance.now();
if (logits.shape[0] !== n) throw new Error(`expected ${n} rows of logits, got ${logits.shape[0]}`);
console.log(
  JSON.stringify({
    importMs: t1 - t0,
    /** ResNet50.load: weights file → engine ready (reading overlaps device and pipeline setup). */
    loadMs: t2 - t1,
    firstRunMs: t3 - t2,
    /** Weights file → first result (what issue 6's cold-start target measures). */
    coldMs: t3 - t1,
    sinceProcessStartMs: t3,
  }),
);
model.dispose();
process.exit(0);
