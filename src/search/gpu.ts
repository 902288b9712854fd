// Top-k cosine search with the scores computed on the GPU (WebGPU): the index's rows, L2-normalised,
// are uploaded once, in chunks that fit the device's storage-buffer limits; for each group of
// queries a WGSL kernel computes every (row, query) dot product (one invocation each, vec4 loads),
// the scores are read back and the k best kept by the same bounded heap as the CPU's cosineTopK.
// Worth it when the index stays on the GPU for many queries (an embedding service), or for large
// batches of queries; a one-shot search of one query is dominated by the upload.
// Runtime-neutral: takes a GPU (navigator.gpu, or Dawn's under Node) or a GPUDevice.
import { SHADERS } from '../kernels/webgpu/shaders.gen.ts';
import { l2Normalize } from './normalize.ts';
import { TopK, type EmbeddingMatrix, type Neighbour } from './topk.ts';

const WORKGROUP = 64;

/** shaders/cosine_scores.wgsl with its workgroup size. */
const SHADER = `const WG: u32 = ${WORKGROUP}u;\n${SHADERS.cosine_scores}`;

export interface GpuIndexOptions {
  /** The rows already have unit norm (as a search index stores them). */
  normalized?: boolean;
  /** Cap on the rows per chunk (default: what the device's limits allow); for tests. */
  maxChunkRows?: number;
}

interface Chunk {
  readonly first: number;
  readonly rows: number;
  readonly buffer: GPUBuffer;
}

const isDevice = (x: GPU | GPUDevice): x is GPUDevice => typeof (x as GPUDevice).createBuffer === 'function';

export class GpuCosineIndex {
  private disposed = false;

  private constructor(
    private readonly device: GPUDevice,
    private readonly ownsDevice: boolean,
    private readonly pipeline: GPUComputePipeline,
    private readonly chunks: Chunk[],
    readonly rows: number,
    readonly dim: number,
  ) {}

  /** Uploads `index` (a copy, normalised unless `normalized`) to the GPU. */
  static async create(gpu: GPU | GPUDevice, index: EmbeddingMatrix, opts: GpuIndexOptions = {}): Promise<GpuCosineIndex> {
    const { rows, dim } = index;
    if (!Number.isInteger(rows) || !Number.isInteger(dim) || rows < 0 || dim < 1 || index.data.length !== rows * dim) {
      throw new Error(`index: a [${rows}, ${dim}] matrix needs ${rows * dim} values, got ${index.data.length}`);
    }
    let device: GPUDevice;
    let owns = false;
    if (isDevice(gpu)) device = gpu;
    else {
      const adapter = await gpu.requestAdapter();
      if (!adapter) throw new Error('no WebGPU adapter found');
      const l = adapter.limits;
      device = await adapter.requestDevice({
        requiredLimits: { maxStorageBufferBindingSize: l.maxStorageBufferBindingSize, maxBufferSize: l.maxBufferSize },
      });
      owns = true;
    }
    try {
      const module = device.createShaderModule({ code: SHADER });
      const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
      const dim4 = Math.ceil(dim / 4);
      const rowBytes = dim4 * 16;
      const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
      const chunkRows = Math.max(1, Math.min(
        opts.maxChunkRows ?? Infinity,
        Math.floor(limit / rowBytes),
        Math.floor(limit / 4), // one query's scores
        device.limits.maxComputeWorkgroupsPerDimension * WORKGROUP,
      ));
      const unit = opts.normalized ? index.data : l2Normalize(index.data, rows, dim);
      const chunks: Chunk[] = [];
      try {
        for (let first = 0; first < rows; first += chunkRows) {
          const n = Math.min(chunkRows, rows - first);
          const buffer = device.createBuffer({ size: n * rowBytes, usage: GPUBufferUsage.STORAGE, mappedAtCreation: true });
          const view = new Float32Array(buffer.getMappedRange());
          if (dim4 * 4 === dim) view.set(unit.subarray(first * dim, (first + n) * dim));
          else for (let r = 0; r < n; r++) view.set(unit.subarray((first + r) * dim, (first + r + 1) * dim), r * dim4 * 4);
          buffer.unmap();
          chunks.push({ first, rows: n, buffer });
        }
      } catch (e) {
        for (const c of chunks) c.buffer.destroy();
        throw e;
      }
      return new GpuCosineIndex(device, owns, pipeline, chunks, rows, dim);
    } catch (e) {
      if (owns) device.destroy();
      throw e;
    }
  }

  /** The k rows nearest to each query by cosine similarity, best first; as cosineTopK. */
  async search(queries: EmbeddingMatrix, k: number): Promise<Neighbour[][]> {
    if (this.disposed) throw new Error('this GPU index was disposed');
    const { dim } = this;
    if (queries.dim !== dim) throw new Error(`the index holds ${dim}-d embeddings, the queries are ${queries.dim}-d`);
    if (queries.data.length !== queries.rows * dim) throw new Error(`queries: a [${queries.rows}, ${dim}] matrix needs ${queries.rows * dim} values, got ${queries.data.length}`);
    if (!Number.isInteger(k) || k < 1) throw new Error(`k must be a positive integer, got ${k}`);
    const kept = Math.min(k, this.rows);
    const heaps = Array.from({ length: queries.rows }, () => new TopK(kept));
    if (kept === 0 || queries.rows === 0) return heaps.map(() => []);
    const device = this.device;
    const dim4 = Math.ceil(dim / 4);
    const unit = l2Normalize(queries.data, queries.rows, dim);
    const maxChunk = Math.max(...this.chunks.map((c) => c.rows));
    const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    const group = Math.max(1, Math.min(queries.rows, device.limits.maxComputeWorkgroupsPerDimension, Math.floor(limit / (maxChunk * 4)), Math.floor(limit / (dim4 * 16))));
    const queryBuffer = device.createBuffer({ size: group * dim4 * 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    const scoreBuffer = device.createBuffer({ size: group * maxChunk * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const readBuffer = device.createBuffer({ size: group * maxChunk * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const paramBuffer = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    try {
      const padded = new Float32Array(group * dim4 * 4);
      for (let q0 = 0; q0 < queries.rows; q0 += group) {
        const nq = Math.min(group, queries.rows - q0);
        padded.fill(0);
        for (let q = 0; q < nq; q++) padded.set(unit.subarray((q0 + q) * dim, (q0 + q + 1) * dim), q * dim4 * 4);
        device.queue.writeBuffer(queryBuffer, 0, padded);
        for (const chunk of this.chunks) {
          device.queue.writeBuffer(paramBuffer, 0, new Uint32Array([chunk.rows, dim4, nq, 0]));
          const bind = device.createBindGroup({
            layout: this.pipeline.getBindGroupLayout(0),
            entries: [
              { binding: 0, resource: { buffer: chunk.buffer } },
              { binding: 1, resource: { buffer: queryBuffer } },
              { binding: 2, resource: { buffer: scoreBuffer } },
              { binding: 3, resource: { buffer: paramBuffer } },
            ],
          });
          const encoder = device.createCommandEncoder();
          const pass = encoder.beginComputePass();
          pass.setPipeline(this.pipeline);
          pass.setBindGroup(0, bind);
          pass.dispatchWorkgroups(Math.ceil(chunk.rows / WORKGROUP), nq);
          pass.end();
          const bytes = nq * chunk.rows * 4;
          encoder.copyBufferToBuffer(scoreBuffer, 0, readBuffer, 0, bytes);
          device.queue.submit([encoder.finish()]);
          await readBuffer.mapAsync(GPUMapMode.READ, 0, bytes);
          const scores = new Float32Array(readBuffer.getMappedRange(0, bytes));
          for (let q = 0; q < nq; q++) {
            const heap = heaps[q0 + q];
            const base = q * chunk.rows;
            for (let r = 0; r < chunk.rows; r++) heap.push(scores[base + r], chunk.first + r);
          }
          readBuffer.unmap();
        }
      }
    } finally {
      for (const b of [queryBuffer, scoreBuffer, readBuffer, paramBuffer]) b.destroy();
    }
    return heaps.map((h) => h.sorted());
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const c of this.chunks) c.buffer.destroy();
    if (this.ownsDevice) this.device.destroy();
  }
}
