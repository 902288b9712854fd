// The WebGPU entry point under Node: Dawn through the npm package `webgpu`. The engine core
// (src/kernels/webgpu) never imports this; it takes the GPU object as a parameter, so the same core
// runs in browsers (navigator.gpu) and Deno.
import { create, globals } from 'webgpu';
import { requiringAdapter } from './require-adapter.ts';

let installed = false;
let cached: GPU | null = null;

const NO_ADAPTER =
  'no WebGPU adapter found. On a machine without a GPU, install Mesa\'s Vulkan CPU driver (lavapipe, ' +
  'Mesa >= 23: e.g. `apt-get install mesa-vulkan-drivers`, or the project\'s install script) and check ' +
  'that `vulkaninfo --summary` lists llvmpipe.';

/**
 * navigator.gpu for Node. Installs the WebGPU globals (GPUBufferUsage, GPUMapMode, ...) once. The
 * returned object's requestAdapter() throws a clear error instead of resolving to null when no adapter
 * is found.
 */
export function nodeGpu(): GPU {
  if (cached) return cached;
  if (!installed) {
    Object.assign(globalThis, globals);
    installed = true;
  }
  let raw: GPU;
  try {
    // Timestamps at full resolution: Dawn otherwise rounds them to 2^16 ns (a fingerprinting guard
    // for browsers), which reads kernels under ~0.07 ms as 0 in `resnet50 profile`.
    raw = create(['disable-dawn-features=timestamp_quantization']);
  } catch (e) {
    throw new Error(`cannot start Dawn (npm package 'webgpu'): ${(e as Error).message}. ${NO_ADAPTER}`);
  }
  cached = requiringAdapter(raw, NO_ADAPTER);
  return cached;
}

/** The adapter nodeGpu() gives, or a clear error. */
export async function nodeAdapter(): Promise<GPUAdapter> {
  const adapter = await nodeGpu().requestAdapter();
  if (!adapter) throw new Error(NO_ADAPTER);
  return adapter;
}
