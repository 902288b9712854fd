/// <reference types="@webgpu/types" />
// The device side of the WebGPU engine: acquiring a device with the limits the engine needs, turning
// WebGPU's asynchronous errors (validation, out-of-memory, shader compilation, device loss) into
// thrown errors that name the kernel, and compiling each pipeline once.
import {
  chooseConfig,
  gemmDefs,
  isCpuAdapter,
  kernelSource,
  workgroupBytes,
  type ConvPath,
  type GemmKernel,
  type GemmTile,
  type KernelConfig,
  type Precision,
} from './kernels.ts';

export class GpuError extends Error {
  override readonly name = 'GpuError';
}

function adapterName(info: GPUAdapterInfo | undefined): string {
  if (!info) return 'unknown adapter';
  const parts = [info.vendor, info.architecture, info.description || info.device].filter((s) => s);
  return parts.join(' / ') || 'unknown adapter';
}

/** A shader module from WGSL text; compilation errors (with line:column) and validation errors name `key`. */
export async function compileShaderModule(device: GPUDevice, key: string, code: string): Promise<GPUShaderModule> {
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label: key, code });
  const info = await module.getCompilationInfo();
  const scopeError = await device.popErrorScope();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length) {
    const where = errors.map((m) => `  ${m.lineNum}:${m.linePos} ${m.message}`).join('\n');
    throw new GpuError(`kernel ${key}: WGSL compilation failed:\n${where}`);
  }
  if (scopeError) throw new GpuError(`kernel ${key}: shader module: ${scopeError.message}`);
  return module;
}

/** One line per fact: vendor, architecture, description, features, and the limits the engine cares about. */
export async function describeAdapter(gpu: GPU): Promise<string> {
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new GpuError('no WebGPU adapter found');
  const info = adapter.info;
  const l = adapter.limits;
  const mib = (n: number) => `${n} (${(n / 2 ** 20).toFixed(0)} MiB)`;
  const lines = [
    `vendor:        ${info?.vendor || '?'}`,
    `architecture:  ${info?.architecture || '?'}`,
    `device:        ${info?.device || '?'}`,
    `description:   ${info?.description || '?'}`,
    `fallback:      ${(info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter ?? false}`,
    `features:      ${[...adapter.features].sort().join(', ')}`,
    `shader-f16:    ${adapter.features.has('shader-f16') ? 'yes (precision f16 available)' : 'no (precision f16 unavailable)'}`,
    `maxStorageBufferBindingSize:       ${mib(l.maxStorageBufferBindingSize)}`,
    `maxBufferSize:                     ${mib(l.maxBufferSize)}`,
    `maxComputeInvocationsPerWorkgroup: ${l.maxComputeInvocationsPerWorkgroup}`,
    `maxComputeWorkgroupSize:           ${l.maxComputeWorkgroupSizeX} × ${l.maxComputeWorkgroupSizeY} × ${l.maxComputeWorkgroupSizeZ}`,
    `maxComputeWorkgroupsPerDimension:  ${l.maxComputeWorkgroupsPerDimension}`,
    `maxComputeWorkgroupStorageSize:    ${l.maxComputeWorkgroupStorageSize}`,
    `maxStorageBuffersPerShaderStage:   ${l.maxStorageBuffersPerShaderStage}`,
    `minStorageBufferOffsetAlignment:   ${l.minStorageBufferOffsetAlignment}`,
  ];
  const cfg = chooseConfig({ info, maxInvocations: l.maxComputeInvocationsPerWorkgroup, subgroups: adapter.features.has('subgroups') });
  const g = cfg.gemm;
  lines.push(`subgroup size: ${info?.subgroupMinSize ?? '?'}–${info?.subgroupMaxSize ?? '?'}`);
  lines.push(`engine GEMM: ${cfg.gemmKernel}, ${g.tm}×${4 * g.tn4} outputs per invocation, workgroup ${g.wgX}×${g.wgY}`);
  return lines.join('\n');
}

/** Lower limits than the device's, to exercise batch chunking, column blocks and 2-D dispatch folding in tests. */
export interface LimitOverrides {
  readonly maxStorageBufferBindingSize?: number;
  readonly maxBufferSize?: number;
  readonly maxComputeWorkgroupsPerDimension?: number;
  /** A GEMM kernel and tile other than chooseConfig's (for tuning and tests). */
  readonly gemm?: GemmTile;
  readonly gemmKernel?: GemmKernel;
  /** How non-1×1 convs run (default: chooseConfig's, 'implicit'); 'im2col' is the explicit reference path. */
  readonly conv?: ConvPath;
}

/** A device plus everything needed to compile kernels and check errors. */
export class GpuContext {
  readonly device: GPUDevice;
  readonly adapterName: string;
  /** The adapter runs shaders on the CPU (lavapipe, SwiftShader). */
  readonly cpuAdapter: boolean;
  readonly precision: Precision;
  readonly config: KernelConfig;
  readonly maxBinding: number;
  readonly maxBuffer: number;
  readonly maxGroupsPerDim: number;
  /** maxComputeInvocationsPerWorkgroup and maxComputeWorkgroupStorageSize (bytes) of the device. */
  readonly maxInvocations: number;
  readonly maxWorkgroupStorage: number;
  readonly storageAlign: number;
  readonly uniformAlign: number;
  private readonly pipelines = new Map<string, Promise<GPUComputePipeline>>();
  private enableSubgroups = true;
  private lostInfo: GPUDeviceLostInfo | null = null;
  private readonly uncaptured: string[] = [];
  private destroyed = false;
  private readonly onUncaptured: (ev: Event) => void;

  private constructor(
    device: GPUDevice,
    readonly adapterInfo: GPUAdapterInfo | undefined,
    precision: Precision,
    limits: LimitOverrides,
    /** The engine created the device (and destroys it), rather than running on the caller's. */
    private readonly ownsDevice = true,
  ) {
    const info = adapterInfo;
    this.device = device;
    this.adapterName = adapterName(info);
    this.cpuAdapter = isCpuAdapter(info);
    this.precision = precision;
    const l = device.limits;
    const config = chooseConfig({ info, maxInvocations: l.maxComputeInvocationsPerWorkgroup, subgroups: device.features.has('subgroups') });
    const chosen = limits.gemm ? { ...config, gemmKernel: limits.gemmKernel ?? 'gemm', gemm: limits.gemm } : config;
    this.config = { ...chosen, conv: limits.conv ?? chosen.conv };
    const g = this.config.gemm;
    if (this.config.gemmKernel === 'gemm_sg' && (g.wgX !== 8 || g.wgY !== 1 || g.tn4 % 2 !== 0)) {
      throw new GpuError(`gemm_sg needs an 8×1 workgroup and an even TN4, got ${JSON.stringify(g)}`);
    }
    if (g.wgX * g.wgY > l.maxComputeInvocationsPerWorkgroup) {
      throw new GpuError(`GEMM workgroup ${g.wgX}×${g.wgY} exceeds maxComputeInvocationsPerWorkgroup ${l.maxComputeInvocationsPerWorkgroup}`);
    }
    if (this.config.gemmKernel === 'gemm_wg' && workgroupBytes(g) > l.maxComputeWorkgroupStorageSize) {
      throw new GpuError(`gemm_wg tile ${JSON.stringify(g)} needs ${workgroupBytes(g)} bytes of workgroup memory, over ${l.maxComputeWorkgroupStorageSize}`);
    }
    this.maxInvocations = l.maxComputeInvocationsPerWorkgroup;
    this.maxWorkgroupStorage = l.maxComputeWorkgroupStorageSize;
    this.maxBinding = Math.min(l.maxStorageBufferBindingSize, limits.maxStorageBufferBindingSize ?? Infinity);
    this.maxBuffer = Math.min(l.maxBufferSize, limits.maxBufferSize ?? Infinity);
    this.maxGroupsPerDim = Math.min(l.maxComputeWorkgroupsPerDimension, limits.maxComputeWorkgroupsPerDimension ?? Infinity);
    this.storageAlign = l.minStorageBufferOffsetAlignment;
    this.uniformAlign = l.minUniformBufferOffsetAlignment;
    device.lost.then((info) => {
      if (!this.destroyed) this.lostInfo = info;
    });
    // Everything the engine does runs inside error scopes; anything else still must not be printed
    // by Dawn, and surfaces from the next call instead. (On the caller's device, its errors are the
    // caller's to see too.)
    this.onUncaptured = (ev) => {
      if (ownsDevice) ev.preventDefault();
      this.uncaptured.push((ev as GPUUncapturedErrorEvent).error.message);
    };
    device.addEventListener('uncapturederror', this.onUncaptured);
  }

  /** A context on the caller's device. */
  private static async onDevice(device: GPUDevice, precision: Precision, limits: LimitOverrides): Promise<GpuContext> {
    const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
    const ctx = new GpuContext(device, info, precision, limits, false);
    if (ctx.config.gemmKernel === 'gemm_sg') await ctx.probeSubgroups();
    return ctx;
  }

  static async create(gpu: GPU | GPUDevice, precision: Precision, limits: LimitOverrides = {}): Promise<GpuContext> {
    if ('createBuffer' in gpu) return GpuContext.onDevice(gpu, precision, limits);
    const adapter = await gpu.requestAdapter();
    if (!adapter) throw new GpuError('no WebGPU adapter found (on a machine without a GPU, install lavapipe)');
    const features: GPUFeatureName[] = [];
    // f16 needs no feature: the kernels store halves and convert with WGSL's core pack2x16float /
    // unpack2x16float, all arithmetic in f32 (the H100 under Dawn has no shader-f16).
    if (adapter.features.has('timestamp-query')) features.push('timestamp-query'); // for profiling
    if (adapter.features.has('subgroups')) features.push('subgroups'); // gemm_sg
    const l = adapter.limits;
    const device = await adapter.requestDevice({
      requiredFeatures: features,
      requiredLimits: {
        maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxBufferSize: l.maxBufferSize,
        minStorageBufferOffsetAlignment: l.minStorageBufferOffsetAlignment,
        minUniformBufferOffsetAlignment: l.minUniformBufferOffsetAlignment,
        maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize, // gemm_wg's bigger tiles
        maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      },
    });
    try {
      const ctx = new GpuContext(device, adapter.info, precision, limits);
      if (ctx.config.gemmKernel === 'gemm_sg') await ctx.probeSubgroups();
      return ctx;
    } catch (e) {
      device.destroy();
      throw e;
    }
  }

  /**
   * gemm_sg needs WGSL subgroup builtins: keep it only if its source compiles here, with
   * `enable subgroups;` (Dawn) or without (wgpu); otherwise fall back to the portable gemm.
   */
  private async probeSubgroups(): Promise<void> {
    const d = this.device;
    for (const enable of [true, false]) {
      d.pushErrorScope('validation');
      const module = d.createShaderModule({ code: kernelSource('gemm_sg', this.precision, gemmDefs(this.config), enable) });
      const info = await module.getCompilationInfo();
      const err = await d.popErrorScope();
      if (!err && !info.messages.some((m) => m.type === 'error')) {
        this.enableSubgroups = enable;
        return;
      }
    }
    (this as { config: KernelConfig }).config = {
      ...chooseConfig({ info: this.adapterInfo, maxInvocations: d.limits.maxComputeInvocationsPerWorkgroup, subgroups: false }),
      conv: this.config.conv,
    };
  }

  /** Throws if the device was lost or an error escaped the error scopes. */
  check(what: string): void {
    if (this.destroyed) throw new GpuError(`${what}: the engine was disposed`);
    if (this.lostInfo) throw new GpuError(`${what}: GPU device lost (${this.lostInfo.reason}): ${this.lostInfo.message}`);
    if (this.uncaptured.length) {
      const msgs = this.uncaptured.splice(0);
      throw new GpuError(`${what}: WebGPU error: ${msgs.join('\n')}`);
    }
  }

  lost(): GPUDeviceLostInfo | null {
    return this.lostInfo;
  }

  /**
   * Runs `body` inside validation, out-of-memory and internal error scopes; throws a GpuError naming
   * `what` if any of them caught an error.
   */
  async scoped<R>(what: string, body: () => R): Promise<Awaited<R>> {
    const d = this.device;
    d.pushErrorScope('internal');
    d.pushErrorScope('out-of-memory');
    d.pushErrorScope('validation');
    let result: Awaited<R>;
    let thrown: unknown = null;
    try {
      result = await body();
    } catch (e) {
      thrown = e;
    }
    // Scopes pop in reverse order of their push: validation, out-of-memory, internal.
    const popped = await Promise.all([d.popErrorScope(), d.popErrorScope(), d.popErrorScope()]);
    const kinds = ['validation', 'out-of-memory', 'internal'];
    const errors = popped.flatMap((e, i) => (e ? [`${kinds[i]} error: ${e.message}`] : []));
    if (errors.length) throw new GpuError(`${what}: ${errors.join('\n')}`);
    if (thrown) {
      if (thrown instanceof GpuError) throw thrown;
      throw new GpuError(`${what}: ${(thrown as Error).message ?? String(thrown)}`);
    }
    return result!;
  }

  /** The compute pipeline for a kernel with these constants, compiled once and cached. */
  pipeline(kernel: string, defs: Readonly<Record<string, number>>): Promise<GPUComputePipeline> {
    const key = `${kernel}<${this.precision}>${Object.entries(defs).map(([k, v]) => `${k}=${v}`).join(',')}`;
    let p = this.pipelines.get(key);
    if (!p) {
      p = this.compile(key, kernelSource(kernel, this.precision, defs, this.enableSubgroups));
      this.pipelines.set(key, p);
      p.catch(() => this.pipelines.delete(key));
    }
    return p;
  }

  /** Compiles WGSL text into a pipeline (entry point main); errors name `key`. */
  async compile(key: string, code: string): Promise<GPUComputePipeline> {
    const d = this.device;
    const module = await compileShaderModule(d, key, code);
    return this.scoped(`kernel ${key}: pipeline`, async () => {
      try {
        return await d.createComputePipelineAsync({ label: key, layout: 'auto', compute: { module, entryPoint: 'main' } });
      } catch (e) {
        throw new GpuError(`kernel ${key}: pipeline creation failed: ${(e as Error).message}`);
      }
    });
  }

  /** A buffer filled from `data` at creation (mappedAtCreation), sized up to a multiple of 4 bytes. */
  upload(label: string, data: ArrayBufferView, usage: number): GPUBuffer {
    return this.createFilled(label, data.byteLength, usage, (mapped) =>
      new Uint8Array(mapped).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)),
    );
  }

  /**
   * A buffer of `bytes` (rounded up to a multiple of 4) whose contents `fill` writes into its mapped,
   * zero-initialised memory at creation: data produced straight into GPU-visible memory, no copy.
   */
  createFilled(label: string, bytes: number, usage: number, fill: (mapped: ArrayBuffer) => void): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 4) * 4);
    if (size > this.maxBuffer) throw new GpuError(`${label}: ${size} bytes exceed maxBufferSize ${this.maxBuffer}`);
    const buf = this.device.createBuffer({ label, size, usage, mappedAtCreation: true });
    try {
      fill(buf.getMappedRange());
    } finally {
      buf.unmap();
    }
    return buf;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.device.removeEventListener('uncapturederror', this.onUncaptured);
    if (this.ownsDevice) this.device.destroy();
  }
}
