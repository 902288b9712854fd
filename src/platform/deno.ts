// The WebGPU entry point under Deno: Deno's own WebGPU (wgpu, with naga compiling WGSL), exposed as
// navigator.gpu without any flag since Deno 2. The engine core takes the GPU object as a parameter,
// so nothing else is Deno-specific; file access, when wanted, is Deno.readFile (see src/deno.ts).
import { requiringAdapter } from './require-adapter.ts';

const NO_ADAPTER =
  'no WebGPU adapter found under Deno. On a machine without a GPU, install Mesa\'s Vulkan CPU driver ' +
  '(lavapipe, Mesa >= 23; see scripts/install-lavapipe.sh) and check that `vulkaninfo --summary` lists llvmpipe.';

/** navigator.gpu, or a clear error; requestAdapter() throws instead of resolving to null. */
export function denoGpu(): GPU {
  const raw = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!raw) throw new Error('navigator.gpu is missing: this Deno has no WebGPU (Deno ≥ 2 exposes it without a flag)');
  return requiringAdapter(raw, NO_ADAPTER);
}
