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
import { randomInput, randomResNet, seededTensors } from '../src/nn/random.ts';
import { RESNET50 } from '../src/nn/spec.ts';
import { nodeGpu } from '../src/platform/node-gpu.ts';
import { Tensor } from '../src/tensor/tensor.ts';
import { loadBit } from '../src/weights/bit.ts';
import { loadClip } from '../src/weights/clip.ts';
import type { ResNetModel } from '../src/nn/model.ts';
import { warmRuns, type WarmTimes } from './warm-runs.ts';

const DEPTHS = [3, 4, 6, 3];
/** CLIP RN50's image tower as `visual.*` in its state dict's names (CLIP's model.py, ModifiedResNet). */
function clipRn50(seed: number): Network {
  const t = seededTensors(seed);
  const conv = (name: string, bn: string, cin: number, cout: number, k: number) => {
    t.weight(`visual.${name}.weight`, [cout, cin, k, k], cin * k * k);
    t.scale(`visual.${bn}.weight`, cout);
    t.normal(`visual.${bn}.bias`, [cout], 0.1);
    t.normal(`visual.${bn}.running_mean`, [cout], 0.1);
    t.variance(`visual.${bn}.running_var`, cout);
  };
  conv('conv1', 'bn1', 3, 32, 3);
  conv('conv2', 'bn2', 32, 32, 3);
  conv('conv3', 'bn3', 32, 64, 3);
  let inplanes = 64;
  DEPTHS.forEach((depth, s) => {
    const planes = 64 * 2 ** s;
    for (let b = 0; b < depth; b++) {
      const n = `layer${s + 1}.${b}`;
      conv(`${n}.conv1`, `${n}.bn1`, inplanes, planes, 1);
      conv(`${n}.conv2`, `${n}.bn2`, planes, planes, 3);
      conv(`${n}.conv3`, `${n}.bn3`, planes, 4 * planes, 1);
      if (b === 0) conv(`${n}.downsample.0`, `${n}.downsample.1`, inplanes, 4 * planes, 1);
      inplanes = 4 * planes;
    }
  });
  t.normal('visual.attnpool.positional_embedding', [50, 2048], 0.1);
  for (const p of ['q_proj', 'k_proj', 'v_proj']) {
    t.weight(`visual.attnpool.${p}.weight`, [2048, 2048], 2048);
    t.normal(`visual.attnpool.${p}.bias`, [2048], 0.1);
  }
  t.weight('visual.attnpool.c_proj.weight', [1024, 2048], 2048);
  t.normal('visual.attnpool.c_proj.bias', [1024], 0.1);
  return loadClip(t.archive(`<CLIP RN50, seed ${seed}>`).tensors, `<CLIP RN50, seed ${seed}>`);
}

/** BiT-M R50x1 in the names and HWIO layout of Google's BiT-M-R50x1.npz. */
function bitMR50x1(seed: number, head: boolean): Network {
  const t = seededTensors(seed);
  const kernel = (name: string, k: number, cin: number, cout: number) => t.weight(`${name}/standardized_conv2d/kernel`, [k, k, cin, cout], k * k * cin);
  const norm = (name: string, c: number) => {
    t.scale(`${name}/group_norm/gamma`, c);
    t.normal(`${name}/group_norm/beta`, [c], 0.1);
  };
  kernel('resnet/root_block', 7, 3, 64);
  let cin = 64;
  DEPTHS.forEach((depth, b) => {
    const cmid = 64 * 2 ** b;
    for (let u = 1; u <= depth; u++) {
      const n = `resnet/block${b + 1}/unit${String(u).padStart(2, '0')}`;
      norm(`${n}/a`, cin);
      kernel(`${n}/a`, 1, cin, cmid);
      norm(`${n}/b`, cmid);
      kernel(`${n}/b`, 3, cmid, cmid);
      norm(`${n}/c`, cmid);
      kernel(`${n}/c`, 1, cmid, 4 * cmid);
      if (u === 1) kernel(`${n}/a/proj`, 1, cin, 4 * cmid);
      cin = 4 * cmid;
    }
  });
  t.scale('resnet/group_norm/gamma', cin);
  t.normal('resnet/group_norm/beta', [cin], 0.1);
  if (head) {
    t.weight('resnet/head/conv2d/kernel', [1, 1, cin, 21843], cin);
    t.normal('resnet/head/conv2d/bias', [21843], 0.1);
  }
  return loadBit(t.archive(`<BiT-M R50x1, seed ${seed}>`).tensors, `<BiT-M R50x1, seed ${seed}>`);
}

const MODELS: { name: string; build: () => ResNetModel | Network }[] = [
  { name: 'torchvision ResNet-50 (1000-class head)', build: () => randomResNet(RESNET50, 1) },
  { name: 'Microsoft Vision ResNet-50 (no head)', build: () => randomResNet({ ...RESNET50, numClasses: null }, 1) },
  { name: 'CLIP RN50 image tower', build: () => clipRn50(1) },
  { name: 'BiT-M R50x1 (21,843-class head)', build: () => bitMR50x1(1, true) },
  { name: 'BiT-M R50x1 pre-logits (no head)', build: () => bitMR50x1(1, false) },
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
