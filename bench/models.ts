// Warm forward time of the seed table's four models on one WebGPU adapter, in one run: torchvision's
// ResNet-50 (with its 1000-class head), the Microsoft Vision Model (the same network, no head), OpenAI
// CLIP RN50's image tower and Google BiT-M R50x1 (with its 21,843-class head). Full-size seeded
// weights in each architecture's published tensor names and layouts, read by the same loaders as the
// real files (the timings do not depend on the values). BiT-M's head (179 MB of f32 weights, over a
// 128 MiB maxStorageBufferBindingSize) runs in column blocks; a model an adapter cannot hold is listed
// with the reason. --models picks models by a case-insensitive substring of their names (default all).
//   npx tsx bench/models.ts [--batch 1,8] [--precision f32] [--runs 5] [--models bit-m] [--json bench/results/models.json]
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createWebGpuEngine, type WebGpuEngine } from '../src/kernels/webgpu/engine.ts';
import type { Network } from '../src/nn/network.ts';
import { randomInput, randomResNet } from '../src/nn/random.ts';
import { CLIP_RN50, randomBit, randomClip } from '../src/nn/random-arch.ts';
import { RESNET50 } from '../src/nn/spec.ts';
import { nodeGpu } from '../src/platform/node-gpu.ts';
import { Tensor } from '../src/tensor/tensor.ts';
import type { ResNetModel } from '../src/nn/model.ts';
import { warmRuns, type WarmTimes } from './warm-runs.ts';

const MODELS: { name: string; build: () => ResNetModel | Network }[] = [
  { name: 'torchvision ResNet-50 (1000-class head)', build: () => randomResNet(RESNET50, 1) },
  { name: 'Microsoft Vision ResNet-50 (no head)', build: () => randomResNet({ ...RESNET50, numClasses: null }, 1) },
  { name: 'CLIP RN50 image tower', build: () => randomClip(CLIP_RN50, 1) },
  { name: 'BiT-M R50x1 (21,843-class head)', build: () => randomBit(64, 21843, 1) },
  { name: 'BiT-M R50x1 pre-logits (no head)', build: () => randomBit(64, null, 1) },
];

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '1,8' },
    precision: { type: 'string', default: 'f32' },
    runs: { type: 'string', default: '5' },
    json: { type: 'string' },
    models: { type: 'string' },
  },
});
const batches = values.batch!.split(',').map(Number);
const precisions = values.precision!.split(',') as ('f32' | 'f16')[];
const runs = Math.max(3, Number(values.runs));
const gpu = nodeGpu();
const info = (await gpu.requestAdapter())!.info;
const adapter = `${info.vendor} / ${info.architecture} / ${info.description || info.device}`;
console.log(`adapter: ${adapter}`);

const rows: ({ model: string; precision: string; batch: number; imagesPerSecond: number } & WarmTimes)[] = [];
const skipped: { model: string; precision: string; reason: string }[] = [];
console.log('| model | precision | batch | median ms | min–max ms | images/s | first run ms |');
console.log('|---|---|---:|---:|---:|---:|---:|');
const picked = MODELS.filter((m) => !values.models || m.name.toLowerCase().includes(values.models.toLowerCase()));
for (const m of picked) {
  const network = m.build();
  for (const precision of precisions) {
    let engine: WebGpuEngine;
    try {
      engine = await createWebGpuEngine(network, gpu, { precision });
    } catch (e) {
      skipped.push({ model: m.name, precision, reason: (e as Error).message });
      console.log(`| ${m.name} | ${precision} | – | not run: ${(e as Error).message} | | | |`);
      continue;
    }
    for (const batch of batches) {
      const x = new Tensor([batch, 3, 224, 224], randomInput([batch, 3, 224, 224], 2));
      const r = await warmRuns(() => engine.run(x), runs);
      const row = { model: m.name, precision, batch, ...r, imagesPerSecond: (1000 * batch) / r.medianMs };
      rows.push(row);
      console.log(`| ${m.name} | ${precision} | ${batch} | ${r.medianMs.toFixed(0)} | ${r.minMs.toFixed(0)}–${r.maxMs.toFixed(0)} | ${row.imagesPerSecond.toFixed(2)} | ${r.firstMs.toFixed(0)} |`);
    }
    engine.dispose();
  }
}
if (values.json) {
  const command = `npx tsx bench/models.ts ${process.argv.slice(2).join(' ')}`.trim();
  const versionOf = (pkg: string) => JSON.parse(readFileSync(new URL(`../node_modules/${pkg}/package.json`, import.meta.url), 'utf8')).version as string;
  const versions = { node: process.version, webgpu: versionOf('webgpu'), mesa: info.description };
  writeFileSync(values.json, `${JSON.stringify({ command, date: new Date().toISOString(), adapter, versions, runs, rows, skipped }, null, 2)}\n`);
}
