// The WebGPU engine core. It imports no Node modules and not the `webgpu` package: callers pass a GPU
// (navigator.gpu in browsers and Deno, nodeGpu() from src/platform/node-gpu.ts under Node).
export { createWebGpuEngine, WebGpuRuntime, type HostTiming, type StepTiming, type WebGpuEngine, type Sym } from './executor.ts';
export type { TuneRow, TuningMode, TuningStore, TuningTable } from './tune.ts';
export { describeAdapter, GpuError, type LimitOverrides } from './device.ts';
export type { Precision } from './kernels.ts';
