// The dataset pipeline's rate against the model's own: `npx tsx scripts/measure-dataset-pipeline.ts
// [--device webgpu|cpu] [--batch 8] [--images 32]`. On a full-size seeded ResNet-50 it times
//   1. decode + preprocess alone (CIFAR-sized decoded arrays, and the fixtures' JPEG files), images/s;
//   2. the model alone on preprocessed inputs (warm, batches of --batch), images/s;
//   3. splitFeatures end to end (the bounded pipeline feeding the model), images/s.
// The pipeline is not the bottleneck when 3 ≈ 2 and 1 ≫ 2.
import { parseArgs } from 'node:util';
import { ResNet50 } from '../src/api.ts';
import { splitFeatures } from '../src/cli/dataset-features.ts';
import { loadInput } from '../src/cli/inputs.ts';
import type { LazyModel } from '../src/cli/search.ts';
import '../src/node.ts';
import { rgbImage } from '../src/image/image.ts';
import { preprocess } from '../src/image/preprocess.ts';
import { seededRandom, randomResNet } from '../src/nn/random.ts';
import { RESNET50 } from '../src/nn/spec.ts';
import type { Split } from '../src/datasets/index.ts';

const { values } = parseArgs({ options: { device: { type: 'string', default: 'webgpu' }, batch: { type: 'string', default: '8' }, images: { type: 'string', default: '32' } } });
const batch = Number(values.batch);
const count = Number(values.images);
const rand = seededRandom(1);
const pixels: Split = {
  kind: 'pixels',
  labels: new Int32Array(count),
  image: () => rgbImage(32, 32, Uint8Array.from({ length: 32 * 32 * 3 }, () => Math.floor(rand() * 256))),
};
const rate = (n: number, t0: number) => (n / ((performance.now() - t0) / 1000)).toFixed(1);

let t0 = performance.now();
for (let i = 0; i < count; i++) preprocess(pixels.image(i), 'torchvision');
console.log(`decode+preprocess, CIFAR arrays (32×32 → 224): ${rate(count, t0)} images/s`);
const jpg = 'test/fixtures/images/rgb_q90_400x300.jpg';
t0 = performance.now();
for (let i = 0; i < count; i++) await loadInput(jpg, 'torchvision');
console.log(`decode+preprocess, ${jpg}: ${rate(count, t0)} images/s`);

const model = await ResNet50.fromModel(randomResNet(RESNET50, 7), { device: values.device as 'webgpu' | 'cpu' });
console.log(`model: ${model.device}`);
const inputs = Array.from({ length: batch }, (_, i) => {
  const t = preprocess(pixels.image(i), 'torchvision');
  return t.reshape([1, ...t.shape]);
});
await model.embed(inputs, { batchSize: batch }); // warm up
t0 = performance.now();
const runs = Math.max(1, Math.round(count / batch));
for (let r = 0; r < runs; r++) await model.embed(inputs, { batchSize: batch });
console.log(`model alone, batch ${batch}: ${rate(runs * batch, t0)} images/s`);

const lazy = { get: async () => model } as unknown as LazyModel;
const f = await splitFeatures(pixels, {
  model: lazy, preset: 'torchvision', batch, chunk: 1024, cacheDir: null, settings: {}, root: '', label: 'pipeline', quiet: true, note: () => {},
});
console.log(`pipeline end to end (arrays → features), batch ${batch}: ${f.rate!.toFixed(1)} images/s`);
model.dispose();
