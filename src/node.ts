// The Node entry: everything in src/index.ts, with file paths (weights and images) and Dawn's WebGPU
// (npm package `webgpu`) registered.
//
//   import { ResNet50, decodeImageFile } from 'resnet50-webgpu/node';
//   const model = await ResNet50.load('resnet50.pth');
//   const { top } = await model.classify(await decodeImageFile('cat.jpg', 'torchvision'));
import { setPlatform } from './api.ts';
import { readWholeFile } from './platform/node-files.ts';
import { nodeGpu } from './platform/node-gpu.ts';

setPlatform({ readFile: readWholeFile, gpu: nodeGpu });

export * from './index.ts';
export { decodeImageFile } from './cli/decode.ts';
