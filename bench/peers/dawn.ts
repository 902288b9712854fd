// Browser-style WebGPU globals for libraries written for browsers (TF.js, ONNX Runtime Web), on Dawn
// from the npm package `webgpu`: the GPU* constructors and enums (GPUBufferUsage, GPUMapMode, ...) on
// globalThis, and navigator.gpu. Node 20 has no global `navigator`; Node ≥ 21 has one without `gpu`.
// Each library calls navigator.gpu.requestAdapter() itself; the adapters it got are recorded so the
// bench can name the adapter each peer really ran on.
import { create, globals } from 'webgpu';
import { describeAdapterInfo } from './common.ts';

let installed: { gpu: GPU; adapters: GPUAdapter[] } | null = null;

export function installDawnGlobals(): { gpu: GPU; adapters: GPUAdapter[] } {
  if (installed) return installed;
  Object.assign(globalThis, globals);
  const raw = create([]);
  const adapters: GPUAdapter[] = [];
  const gpu: GPU = {
    __brand: 'GPU',
    async requestAdapter(options?: GPURequestAdapterOptions): Promise<GPUAdapter | null> {
      const adapter = await raw.requestAdapter(options);
      if (adapter) adapters.push(adapter);
      return adapter;
    },
    getPreferredCanvasFormat: () => raw.getPreferredCanvasFormat(),
    get wgslLanguageFeatures() {
      return raw.wgslLanguageFeatures;
    },
  };
  const g = globalThis as { navigator?: object };
  if (g.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  } else {
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  }
  installed = { gpu, adapters };
  return installed;
}

/** The adapter a library asked for last (after it has created its device). */
export function lastAdapter(): string | undefined {
  const a = installed?.adapters.at(-1);
  return a ? describeAdapterInfo(a.info) : undefined;
}

/**
 * Dawn's Node binding (webgpu 0.6.2) crashes the process (SIGSEGV, no message) when
 * GPUQueue.writeBuffer is given a view of a SharedArrayBuffer. ONNX Runtime Web's WebGPU build runs on a
 * threaded WASM whose memory is shared, and uploads every weight and input straight from that memory,
 * so its writes are copied into an ordinary ArrayBuffer first. Other callers are untouched.
 */
export function copySharedArrayBufferWrites(): void {
  const proto = (globalThis as unknown as { GPUQueue: { prototype: GPUQueue } }).GPUQueue.prototype;
  const marked = proto as GPUQueue & { __sharedWritesCopied?: boolean };
  if (marked.__sharedWritesCopied) return;
  const original = proto.writeBuffer;
  proto.writeBuffer = function writeBuffer(
    this: GPUQueue,
    buffer: GPUBuffer,
    bufferOffset: GPUSize64,
    data: BufferSource | SharedArrayBuffer,
    dataOffset?: GPUSize64,
    size?: GPUSize64,
  ): undefined {
    const shared =
      data instanceof SharedArrayBuffer || (ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer);
    if (!shared) return original.call(this, buffer, bufferOffset, data as BufferSource, dataOffset, size);
    // Offsets and size count elements for typed arrays, bytes otherwise (the WebGPU spec's rule).
    const view = ArrayBuffer.isView(data) ? data : new Uint8Array(data);
    const unit = 'BYTES_PER_ELEMENT' in view ? (view as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT : 1;
    const first = dataOffset ?? 0;
    const count = size ?? view.byteLength / unit - first;
    const copy = new Uint8Array(view.buffer, view.byteOffset + first * unit, count * unit).slice();
    return original.call(this, buffer, bufferOffset, copy);
  };
  marked.__sharedWritesCopied = true;
}
