// The Deno entry: everything in src/index.ts, with file paths (Deno.readFile, needs --allow-read),
// Deno's WebGPU (navigator.gpu: wgpu) and kernel tuning tables in $RESNET50_CACHE/tuning
// (src/platform/deno-tuning-cache.ts) registered.
//
//   import { ResNet50 } from './src/deno.ts';
//   const model = await ResNet50.load('resnet50.safetensors');
import { setPlatform } from './api.ts';
import { denoGpu } from './platform/deno.ts';
import { denoTuningStore } from './platform/deno-tuning-cache.ts';

declare const Deno: { readFile(path: string): Promise<Uint8Array> };

setPlatform({ readFile: (path) => Deno.readFile(path), gpu: denoGpu, tuningStore: () => denoTuningStore() });

export * from './index.ts';
export { denoGpu } from './platform/deno.ts';
