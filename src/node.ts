// The Node entry: everything in src/index.ts, with file paths (weights and images) and Dawn's WebGPU
// (npm package `webgpu`) registered.
//
//   import { ResNet50, decodeImageFile } from 'resnet50-webgpu/node';
//   const model = await ResNet50.load('torchvision-v2');   // or a path, or an http(s) URL
//   const { top } = await model.classify(await decodeImageFile('cat.jpg', 'torchvision'));
import { setPlatform } from './api.ts';
import { readWholeFile } from './platform/node-files.ts';
import { nodeGpu } from './platform/node-gpu.ts';
import { fetchWeights } from './platform/node-weights-cache.ts';
import { nodeTuningStore } from './platform/node-tuning-cache.ts';

setPlatform({
  readFile: readWholeFile,
  gpu: nodeGpu,
  // Names and URLs: downloaded once into $RESNET50_CACHE (src/platform/node-weights-cache.ts).
  fetchWeights: async (source, opts) => {
    const cached = await fetchWeights(source, opts);
    return { bytes: await readWholeFile(cached.path), name: cached.path };
  },
  // Kernel tuning tables in $RESNET50_CACHE/tuning (src/platform/node-tuning-cache.ts).
  tuningStore: () => nodeTuningStore(),
});

export * from './index.ts';
export { decodeImageFile } from './cli/decode.ts';
export { fetchWeights, weightsCacheDir, type CachedWeights, type FetchWeightsOptions } from './platform/node-weights-cache.ts';
