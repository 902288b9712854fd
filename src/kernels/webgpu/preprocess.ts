/// <reference types="@webgpu/types" />
// Image preprocessing on the GPU: resize + crop + ToTensor/Normalize + layout in WGSL
// (shaders/preprocess_*.wgsl), bit-exact with the CPU reference (src/image/preprocess.ts):
//
//   torchvision  preprocess_pil_h (PIL's horizontal pass, crop columns only, 8-bit rounding) →
//   clip, bit    preprocess_pil_v (vertical pass for the crop rows + normalise + layout); the filter
//                (bilinear, or bicubic for clip) is only the coefficient tables the kernels read
//   msvision     preprocess_cv (OpenCV's 2×2 fixed-point blend + normalise + layout, one pass)
//
// The integer arithmetic is the reference's, on the reference's own coefficient tables
// (pilCoefficients / cvCoefficients, sliced to the crop and uploaded). The float step, (v / 255 −
// mean) / std in float32, takes only 768 distinct values (3 channels × 256 levels), so the host
// computes them with the reference's own normalize() and the kernels look them up: the output is
// then equal to preprocess(img, preset) bit for bit on any adapter, whereas WGSL's f32 division is
// only specified to 2.5 ulp.
//
// Output layouts: 'nchw' (float32 [3, 224, 224], the tensor preprocess() returns), 'nhwc4' (float32
// [224, 224, 4], 4th channel 0: the engine's activation layout in f32 mode, what its first conv
// reads), 'nhwc4-f16' (the same as IEEE halves, the engine's f16 storage), 'rgb8' (the resized and
// cropped 8-bit pixels, R | G << 8 | B << 16 per u32: the resize stage alone, for tests).
//
// Use:
//   const pre = await GpuPreprocessor.create(device);
//   const x = await pre.run(img, 'torchvision');          // Tensor [1, 3, 224, 224], = preprocess()
//   // or straight into a buffer the engine binds, inside its own command encoder:
//   const prepared = await pre.prepare(img, 'torchvision'); // uploads the pixels and the tables
//   await pre.encode(encoder, prepared, inputBuffer, { layout: 'nhwc4', offset: i * pre.outputBytes('nhwc4') });
//   device.queue.submit([encoder.finish()]); prepared.destroy();
import { rgbImage, type RgbImage } from '../../image/image.ts';
import { centerCropOffsets, IMAGENET_MEAN, IMAGENET_STD, normalize, PIL_PRESETS, PRESETS, type Preset } from '../../image/preprocess.ts';
import { cvCoefficients } from '../../image/resize-cv.ts';
import { pilCoefficients, shorterSideSize, type PilFilter } from '../../image/resize-pil.ts';
import { Tensor } from '../../tensor/tensor.ts';
import { compileShaderModule, GpuError } from './device.ts';
import { foldGroups } from './kernels.ts';
import { SHADERS } from './shaders.gen.ts';

const USAGE_MAP_READ = 0x01;
const USAGE_COPY_SRC = 0x04;
const USAGE_COPY_DST = 0x08;
const USAGE_UNIFORM = 0x40;
const USAGE_STORAGE = 0x80;
const MAP_READ = 0x01;

/** What the kernels compute for one image: a resize, a crop of the resized image, a normalisation. */
export interface PreprocessSpec {
  /** PIL's antialiased resize (two passes) or OpenCV's INTER_LINEAR. */
  readonly resize: 'pil' | 'cv';
  /** PIL's filter (default bilinear). */
  readonly filter?: PilFilter;
  /** The resized size. */
  readonly width: number;
  readonly height: number;
  /** The crop of the resized image: rows top … top + cropHeight − 1, columns left … left + cropWidth − 1. */
  readonly top: number;
  readonly left: number;
  readonly cropWidth: number;
  readonly cropHeight: number;
  /** Output channel c is source channel c ('rgb') or 2 − c ('bgr'), normalised with mean[c], std[c]. */
  readonly order: 'rgb' | 'bgr';
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** The spec `preprocess(img, preset)` follows for a width × height image. */
export function presetSpec(preset: Preset, width: number, height: number): PreprocessSpec {
  if (preset === 'msvision') {
    return {
      resize: 'cv', width: 256, height: 256, top: 16, left: 16, cropWidth: 224, cropHeight: 224, order: 'bgr',
      mean: IMAGENET_MEAN, std: IMAGENET_STD,
    };
  }
  if (Object.hasOwn(PIL_PRESETS, preset)) {
    const { size, filter, mean, std } = PIL_PRESETS[preset];
    const [w, h] = shorterSideSize(width, height, size);
    const [top, left] = centerCropOffsets(h, w, 224, 224);
    return { resize: 'pil', filter, width: w, height: h, top, left, cropWidth: 224, cropHeight: 224, order: 'rgb', mean, std };
  }
  throw new GpuError(`unknown preprocessing preset '${preset}' (known: ${PRESETS.join(', ')})`);
}

/** A resize alone (the whole resized image, 8-bit): what the 'rgb8' layout returns. */
export function resizeSpec(resize: 'pil' | 'cv', width: number, height: number, filter?: PilFilter): PreprocessSpec {
  return {
    resize, ...(filter && { filter }), width, height, top: 0, left: 0, cropWidth: width, cropHeight: height, order: 'rgb',
    mean: IMAGENET_MEAN, std: IMAGENET_STD,
  };
}

export type PreprocessLayout = 'nchw' | 'nhwc4' | 'nhwc4-f16' | 'rgb8';
export const PREPROCESS_LAYOUTS: readonly PreprocessLayout[] = ['nchw', 'nhwc4', 'nhwc4-f16', 'rgb8'];

/** Bytes of one image's output in `layout` (224 × 224: nchw 602,112; nhwc4 802,816; nhwc4-f16 401,408; rgb8 200,704). */
export function preprocessOutputBytes(layout: PreprocessLayout, cropWidth = 224, cropHeight = 224): number {
  const px = cropWidth * cropHeight;
  switch (layout) {
    case 'nchw': return 12 * px;
    case 'nhwc4': return 16 * px;
    case 'nhwc4-f16': return 8 * px;
    case 'rgb8': return 4 * px;
  }
}

// The output-layout part of the generated preamble: OUT (Y's element type) and store_out.
const STORE_OUT: Record<PreprocessLayout, string> = {
  nchw: [
    'alias OUT = f32;',
    'fn store_out(pix: u32, px: vec3<u32>) {',
    '  let v = normalized(px);',
    '  let hw = p.outW * p.outH;',
    '  Y[pix] = v.x;',
    '  Y[hw + pix] = v.y;',
    '  Y[2u * hw + pix] = v.z;',
    '}',
  ].join('\n'),
  nhwc4: 'alias OUT = vec4<f32>;\nfn store_out(pix: u32, px: vec3<u32>) { Y[pix] = vec4<f32>(normalized(px), 0.0); }',
  'nhwc4-f16': [
    'alias OUT = vec2<u32>;',
    'fn store_out(pix: u32, px: vec3<u32>) {',
    '  let v = normalized(px);',
    '  Y[pix] = vec2<u32>(pack2x16float(v.xy), pack2x16float(vec2<f32>(v.z, 0.0)));',
    '}',
  ].join('\n'),
  rgb8: 'alias OUT = u32;\nfn store_out(pix: u32, px: vec3<u32>) { Y[pix] = px.x | (px.y << 8u) | (px.z << 16u); }',
};

/** A preprocess kernel's WGSL: the preamble (WG, and for output kernels OUT + store_out) + the shader. */
export function preprocessSource(kernel: 'preprocess_pil_h' | 'preprocess_pil_v' | 'preprocess_cv', wg: number, layout?: PreprocessLayout): string {
  const body = SHADERS[kernel];
  if (body === undefined) throw new GpuError(`unknown WGSL kernel '${kernel}' (shaders.gen.ts is stale?)`);
  const lines = [`const WG: u32 = ${wg}u;`];
  if (kernel !== 'preprocess_pil_h') {
    if (!layout) throw new GpuError(`kernel ${kernel} needs an output layout`);
    lines.push(STORE_OUT[layout]);
  }
  return `${lines.join('\n')}\n${body}`;
}

const LUT_WORDS = 768;
/** Rows of the intermediate per preprocess_pil_h invocation (ROWS in the shader). */
const PIL_H_ROWS = 4;
const PARAM_WORDS = 12;

/**
 * One axis of a PIL resize, for outputs first … first + n − 1: records [start, count, taps weights],
 * and the source range [lo, hi) they read.
 */
function pilAxis(inSize: number, outSize: number, filter: PilFilter, first: number, n: number): { taps: number; rec: Int32Array; lo: number; hi: number } {
  // A same-size axis is skipped by PIL (and resizePil); an identity table computes the same.
  const c = inSize === outSize
    ? { taps: 1, start: Int32Array.from({ length: outSize }, (_, i) => i), count: new Int32Array(outSize).fill(1), weights: new Int32Array(outSize).fill(1 << 22) }
    : pilCoefficients(inSize, outSize, filter);
  const stride = c.taps + 2;
  const rec = new Int32Array(n * stride);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const o = first + i;
    rec[i * stride] = c.start[o];
    rec[i * stride + 1] = c.count[o];
    rec.set(c.weights.subarray(o * c.taps, (o + 1) * c.taps), i * stride + 2);
    lo = Math.min(lo, c.start[o]);
    hi = Math.max(hi, c.start[o] + c.count[o]);
  }
  return { taps: c.taps, rec, lo, hi };
}

function cvAxis(inSize: number, outSize: number, clampEdges: boolean, first: number, n: number): Int32Array {
  const c = cvCoefficients(inSize, outSize, clampEdges);
  const rec = new Int32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const o = first + i;
    rec.set([c.first[o], c.second[o], c.weights[2 * o], c.weights[2 * o + 1]], i * 4);
  }
  return rec;
}

/** The normalisation table: lut[256·c + v] = output channel c for level v, by the reference's normalize(). */
function normalizationTable(spec: PreprocessSpec): Float32Array {
  const levels = new Uint8Array(256 * 3);
  for (let v = 0; v < 256; v++) levels.fill(v, 3 * v, 3 * v + 3);
  // Every source channel holds v, so channel c of the result is c's normalisation of level v.
  return normalize(rgbImage(256, 1, levels), spec.order, spec.mean, spec.std).data;
}

interface Tables {
  readonly words: Int32Array; // the TBL buffer's contents
  readonly params: Uint32Array;
  readonly rows: number; // PIL: rows of the intermediate (0 for cv)
}

function buildTables(spec: PreprocessSpec, srcW: number, srcH: number): Tables {
  const { width, height, top, left, cropWidth: cw, cropHeight: ch } = spec;
  const lut = normalizationTable(spec);
  let x: Int32Array;
  let y: Int32Array;
  let tapsX = 0;
  let tapsY = 0;
  let rows = 0;
  let row0 = 0;
  if (spec.resize === 'pil') {
    const filter = spec.filter ?? 'bilinear';
    const ax = pilAxis(srcW, width, filter, left, cw);
    const ay = pilAxis(srcH, height, filter, top, ch);
    // The horizontal pass computes only the source rows the crop's rows read: row0 … row0 + rows − 1;
    // the vertical records address those rows from 0.
    row0 = ay.lo;
    rows = ay.hi - ay.lo;
    for (let i = 0; i < ch; i++) ay.rec[i * (ay.taps + 2)] -= row0;
    x = ax.rec;
    y = ay.rec;
    tapsX = ax.taps;
    tapsY = ay.taps;
  } else {
    x = cvAxis(srcW, width, true, left, cw);
    y = cvAxis(srcH, height, false, top, ch);
  }
  const offX = LUT_WORDS;
  const offY = offX + x.length;
  const words = new Int32Array(offY + y.length);
  words.set(new Int32Array(lut.buffer, lut.byteOffset, LUT_WORDS), 0);
  words.set(x, offX);
  words.set(y, offY);
  const params = Uint32Array.of(srcW, srcH, cw, ch, rows, row0, tapsX, tapsY, offX, offY, spec.order === 'bgr' ? 1 : 0, 0);
  return { words, params, rows };
}

function checkSpec(spec: PreprocessSpec, srcW: number, srcH: number): void {
  const ints = [spec.width, spec.height, spec.cropWidth, spec.cropHeight];
  if (!ints.every((v) => Number.isInteger(v) && v >= 1) || !Number.isInteger(spec.top) || !Number.isInteger(spec.left)) {
    throw new GpuError(`invalid preprocessing spec ${JSON.stringify(spec)}`);
  }
  if (spec.top < 0 || spec.left < 0 || spec.top + spec.cropHeight > spec.height || spec.left + spec.cropWidth > spec.width) {
    throw new GpuError(`crop ${spec.cropWidth}×${spec.cropHeight} at (${spec.left}, ${spec.top}) does not fit a ${spec.width}×${spec.height} image`);
  }
  if (!Number.isInteger(srcW) || !Number.isInteger(srcH) || srcW < 1 || srcH < 1) throw new GpuError(`invalid image size ${srcW}×${srcH}`);
  if (spec.mean.length !== 3 || spec.std.length !== 3) throw new GpuError('mean and std need 3 values');
  if (spec.filter !== undefined && spec.filter !== 'bilinear' && spec.filter !== 'bicubic') {
    throw new GpuError(`unknown PIL filter '${spec.filter}' (known: bilinear, bicubic)`);
  }
}

/**
 * One image (its pixels) and one spec (its tables) on the GPU, ready for encode(). Owned by the
 * caller: destroy() it once the work using it has been submitted. write() puts another image of the
 * same size in it (queue.writeBuffer: ordered after work already submitted, before work submitted
 * later; so do not encode the same PreparedImage twice into one submission with a write between).
 */
export class PreparedImage {
  /** @internal */
  constructor(
    readonly spec: PreprocessSpec,
    readonly width: number,
    readonly height: number,
    /** @internal */ readonly pixels: GPUBuffer,
    /** @internal */ readonly table: GPUBuffer,
    /** @internal */ readonly uniforms: GPUBuffer,
    /** @internal */ readonly intermediate: GPUBuffer | null,
    /** @internal */ readonly rows: number,
    private readonly device: GPUDevice,
  ) {}

  private destroyed = false;

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  /** Writes the pixels of another image of the same size. */
  write(img: RgbImage): void {
    if (this.destroyed) throw new GpuError('PreparedImage.write: destroyed');
    if (img.width !== this.width || img.height !== this.height) {
      throw new GpuError(`PreparedImage.write: a ${this.width}×${this.height} image was prepared, got ${img.width}×${img.height}`);
    }
    if (img.data.length !== img.width * img.height * 3) {
      throw new GpuError(`PreparedImage.write: a ${img.width}×${img.height} RGB image needs ${img.width * img.height * 3} bytes, got ${img.data.length}`);
    }
    writePixels(this.device.queue, this.pixels, img.data);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const b of [this.pixels, this.table, this.uniforms, this.intermediate]) b?.destroy();
  }
}

/** queue.writeBuffer of RGB bytes, padded to a whole number of words. */
function writePixels(queue: GPUQueue, buffer: GPUBuffer, data: Uint8Array): void {
  const whole = data.length & ~3;
  if (whole) queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, whole);
  if (whole < data.length) {
    const tail = new Uint8Array(4);
    tail.set(data.subarray(whole));
    queue.writeBuffer(buffer, whole, tail, 0, 4);
  }
}

export interface EncodeOptions {
  /** Default 'nchw'. */
  readonly layout?: PreprocessLayout;
  /** Byte offset into the target: a multiple of minStorageBufferOffsetAlignment (256). Default 0. */
  readonly offset?: number;
}

interface RunSlot {
  readonly prepared: PreparedImage;
  readonly outputs: Map<PreprocessLayout, { out: GPUBuffer; readback: GPUBuffer; groups: GPUBindGroup[] }>;
}

type KernelName = 'preprocess_pil_h' | 'preprocess_pil_v' | 'preprocess_cv';

/**
 * The preprocessing kernels on one device. Pipelines are compiled on first use of a layout and
 * cached; run() keeps the buffers of the last `maxCached` (image size, spec) pairs and reuses them.
 * Errors are GpuErrors naming the kernel (WebGPU error scopes around each step).
 */
export class GpuPreprocessor {
  private readonly pipelines = new Map<string, Promise<GPUComputePipeline>>();
  private readonly slots = new Map<string, RunSlot>();
  private queue: Promise<unknown> = Promise.resolve();
  private lostInfo: GPUDeviceLostInfo | null = null;
  private disposed = false;
  /** run()'s cache of per-size buffers (least recently used evicted). */
  maxCached = 4;

  private constructor(readonly device: GPUDevice, readonly workgroupSize: number) {
    device.lost.then((info) => {
      this.lostInfo = info;
    });
  }

  /**
   * Workgroup size: 64 invocations on CPU adapters (lavapipe, SwiftShader: one workgroup per core,
   * vectorised), 256 elsewhere, capped by the device; override with `workgroupSize`. `layouts`:
   * pipelines to compile now rather than on first use.
   */
  static async create(
    device: GPUDevice,
    opts: { workgroupSize?: number; layouts?: readonly PreprocessLayout[] } = {},
  ): Promise<GpuPreprocessor> {
    const info = (device as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
    const text = `${info?.vendor ?? ''} ${info?.architecture ?? ''} ${info?.description ?? ''} ${info?.device ?? ''}`.toLowerCase();
    const cpu = !info || /llvmpipe|lavapipe|swiftshader|software|cpu/.test(text);
    const wg = opts.workgroupSize ?? Math.min(cpu ? 64 : 256, device.limits.maxComputeInvocationsPerWorkgroup);
    if (!Number.isInteger(wg) || wg < 1 || wg > device.limits.maxComputeInvocationsPerWorkgroup || wg > device.limits.maxComputeWorkgroupSizeX) {
      throw new GpuError(`preprocess workgroup size ${wg} is not supported by the device`);
    }
    const pre = new GpuPreprocessor(device, wg);
    for (const layout of opts.layouts ?? []) {
      for (const k of ['preprocess_pil_h', 'preprocess_pil_v', 'preprocess_cv'] as const) await pre.pipeline(k, layout);
    }
    return pre;
  }

  /** Bytes of one 224 × 224 output in `layout` (what encode() writes at its offset). */
  outputBytes(layout: PreprocessLayout = 'nchw', spec?: PreprocessSpec): number {
    return preprocessOutputBytes(layout, spec?.cropWidth ?? 224, spec?.cropHeight ?? 224);
  }

  private check(what: string): void {
    if (this.disposed) throw new GpuError(`${what}: the preprocessor was disposed`);
    if (this.lostInfo) throw new GpuError(`${what}: GPU device lost (${this.lostInfo.reason}): ${this.lostInfo.message}`);
  }

  /** Pushes validation, out-of-memory and internal scopes; the returned function pops them and throws naming `what`. */
  private scope(what: string): () => Promise<void> {
    const d = this.device;
    d.pushErrorScope('internal');
    d.pushErrorScope('out-of-memory');
    d.pushErrorScope('validation');
    return async () => {
      const popped = await Promise.all([d.popErrorScope(), d.popErrorScope(), d.popErrorScope()]);
      const kinds = ['validation', 'out-of-memory', 'internal'];
      const errors = popped.flatMap((e, i) => (e ? [`${kinds[i]} error: ${e.message}`] : []));
      if (errors.length) throw new GpuError(`${what}: ${errors.join('\n')}`);
    };
  }

  private async scoped<R>(what: string, body: () => R): Promise<R> {
    const pop = this.scope(what);
    let result: R;
    try {
      result = body();
    } catch (e) {
      await pop().catch(() => {});
      throw e instanceof GpuError ? e : new GpuError(`${what}: ${(e as Error).message ?? String(e)}`);
    }
    await pop();
    return result;
  }

  private kernels(spec: PreprocessSpec): KernelName[] {
    return spec.resize === 'pil' ? ['preprocess_pil_h', 'preprocess_pil_v'] : ['preprocess_cv'];
  }

  /** The pipeline of a kernel for an output layout, compiled once. */
  private pipeline(kernel: KernelName, layout: PreprocessLayout): Promise<GPUComputePipeline> {
    const key = kernel === 'preprocess_pil_h' ? `${kernel}<WG=${this.workgroupSize}>` : `${kernel}<${layout}, WG=${this.workgroupSize}>`;
    let p = this.pipelines.get(key);
    if (!p) {
      p = this.compile(key, preprocessSource(kernel, this.workgroupSize, layout));
      this.pipelines.set(key, p);
      p.catch(() => this.pipelines.delete(key));
    }
    return p;
  }

  private async compile(key: string, code: string): Promise<GPUComputePipeline> {
    const d = this.device;
    const module = await compileShaderModule(d, key, code);
    const pop = this.scope(`kernel ${key}: pipeline`);
    let pipeline: GPUComputePipeline | null = null;
    let failure: unknown = null;
    try {
      pipeline = await d.createComputePipelineAsync({ label: key, layout: 'auto', compute: { module, entryPoint: 'main' } });
    } catch (e) {
      failure = e;
    }
    await pop();
    if (!pipeline) throw new GpuError(`kernel ${key}: pipeline creation failed: ${(failure as Error)?.message ?? failure}`);
    return pipeline;
  }

  private resolve(img: { width: number; height: number }, what: Preset | PreprocessSpec): PreprocessSpec {
    const spec = typeof what === 'string' ? presetSpec(what, img.width, img.height) : what;
    checkSpec(spec, img.width, img.height);
    return spec;
  }

  private bufferSize(what: string, bytes: number, binding: boolean): number {
    const size = Math.max(16, Math.ceil(bytes / 4) * 4);
    const l = this.device.limits;
    if (size > l.maxBufferSize || (binding && size > l.maxStorageBufferBindingSize)) {
      throw new GpuError(`${what}: ${size} bytes exceed the device's limits (maxBufferSize ${l.maxBufferSize}, maxStorageBufferBindingSize ${l.maxStorageBufferBindingSize})`);
    }
    return size;
  }

  /**
   * Uploads an image's pixels and the tables of a preset (or spec) for its size. The result is the
   * caller's: pass it to encode(), destroy() it after submitting.
   */
  async prepare(img: RgbImage, preset: Preset | PreprocessSpec): Promise<PreparedImage> {
    const what = `preprocess ${img.width}×${img.height}: preparing`;
    this.check(what);
    const spec = this.resolve(img, preset);
    const prepared = await this.allocate(spec, img.width, img.height, what);
    try {
      await this.scoped(`${what}: uploading the pixels`, () => prepared.write(img));
    } catch (e) {
      prepared.destroy();
      throw e;
    }
    return prepared;
  }

  private async allocate(spec: PreprocessSpec, w: number, h: number, what: string): Promise<PreparedImage> {
    const t = buildTables(spec, w, h);
    const d = this.device;
    const created: GPUBuffer[] = [];
    const make = (label: string, bytes: number, usage: number, init?: ArrayBufferView) => {
      const size = this.bufferSize(`${what}: ${label}`, bytes, true);
      const b = d.createBuffer({ label, size, usage, mappedAtCreation: !!init });
      created.push(b);
      if (init) {
        new Uint8Array(b.getMappedRange()).set(new Uint8Array(init.buffer, init.byteOffset, init.byteLength));
        b.unmap();
      }
      return b;
    };
    try {
      return await this.scoped(`${what}: creating buffers`, () => {
        const pixels = make(`preprocess pixels ${w}×${h}`, w * h * 3, USAGE_STORAGE | USAGE_COPY_DST);
        const table = make(`preprocess tables ${spec.resize} ${w}×${h}`, t.words.byteLength, USAGE_STORAGE, t.words);
        const uniforms = make(`preprocess params ${spec.resize} ${w}×${h}`, PARAM_WORDS * 4, USAGE_UNIFORM, t.params);
        const inter = spec.resize === 'pil' ? make(`preprocess_pil_h rows ${w}×${h}`, t.rows * spec.cropWidth * 4, USAGE_STORAGE) : null;
        return new PreparedImage(spec, w, h, pixels, table, uniforms, inter, t.rows, d);
      });
    } catch (e) {
      for (const b of created) b.destroy();
      throw e;
    }
  }

  private bindGroups(pipes: GPUComputePipeline[], img: PreparedImage, target: GPUBuffer, offset: number, bytes: number): GPUBindGroup[] {
    const d = this.device;
    const common = [
      { binding: 0, resource: { buffer: img.uniforms } },
      { binding: 1, resource: { buffer: img.table } },
    ];
    const out = { buffer: target, offset, size: bytes };
    if (img.spec.resize === 'pil') {
      const [h, v] = pipes;
      return [
        d.createBindGroup({ label: 'preprocess_pil_h', layout: h.getBindGroupLayout(0), entries: [
          ...common, { binding: 2, resource: { buffer: img.pixels } }, { binding: 3, resource: { buffer: img.intermediate! } },
        ] }),
        d.createBindGroup({ label: 'preprocess_pil_v', layout: v.getBindGroupLayout(0), entries: [
          ...common, { binding: 2, resource: { buffer: img.intermediate! } }, { binding: 3, resource: out },
        ] }),
      ];
    }
    const [c] = pipes;
    return [d.createBindGroup({ label: 'preprocess_cv', layout: c.getBindGroupLayout(0), entries: [
      ...common, { binding: 2, resource: { buffer: img.pixels } }, { binding: 3, resource: out },
    ] })];
  }

  /** Workgroups (x, y) of each kernel's dispatch. */
  private dispatches(img: PreparedImage): [number, number][] {
    const s = img.spec;
    const out = s.cropWidth * s.cropHeight;
    const counts = s.resize === 'pil' ? [Math.ceil(img.rows / PIL_H_ROWS) * s.cropWidth, out] : [out];
    return counts.map((n) => foldGroups(Math.ceil(n / this.workgroupSize), this.device.limits.maxComputeWorkgroupsPerDimension));
  }

  private record(enc: GPUCommandEncoder, kernel: string, pipeline: GPUComputePipeline, group: GPUBindGroup, [x, y]: [number, number]): void {
    const pass = enc.beginComputePass({ label: kernel });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(x, y);
    pass.end();
  }

  /**
   * Records the preprocessing of `img` into `encoder`, writing its output in `layout` to `target` at
   * byte `offset` (target needs STORAGE usage). Nothing is submitted: validation errors surface
   * from the caller's encoder.finish() and name the kernel's pass ('preprocess_pil_h' …).
   */
  async encode(encoder: GPUCommandEncoder, img: PreparedImage, target: GPUBuffer, opts: EncodeOptions = {}): Promise<void> {
    const layout = opts.layout ?? 'nchw';
    const offset = opts.offset ?? 0;
    const what = `preprocess ${img.width}×${img.height} → ${layout}`;
    this.check(what);
    if (img.isDestroyed) throw new GpuError(`${what}: the PreparedImage was destroyed`);
    if (!PREPROCESS_LAYOUTS.includes(layout)) throw new GpuError(`unknown layout '${layout}' (known: ${PREPROCESS_LAYOUTS.join(', ')})`);
    const bytes = this.outputBytes(layout, img.spec);
    const align = this.device.limits.minStorageBufferOffsetAlignment;
    if (!Number.isInteger(offset) || offset < 0 || offset % align !== 0) throw new GpuError(`${what}: offset ${offset} is not a multiple of ${align}`);
    if (offset + bytes > target.size) throw new GpuError(`${what}: needs ${bytes} bytes at offset ${offset}, the target holds ${target.size}`);
    if (!(target.usage & USAGE_STORAGE)) throw new GpuError(`${what}: the target buffer lacks STORAGE usage`);
    const kernels = this.kernels(img.spec);
    const pipes = await Promise.all(kernels.map((k) => this.pipeline(k, layout)));
    const groups = this.bindGroups(pipes, img, target, offset, bytes);
    const sizes = this.dispatches(img);
    kernels.forEach((k, i) => this.record(encoder, k, pipes[i], groups[i], sizes[i]));
  }

  /** run()'s cached buffers for an image size and spec. */
  private async slot(spec: PreprocessSpec, w: number, h: number, what: string): Promise<RunSlot> {
    const key = `${JSON.stringify(spec)} ${w}×${h}`;
    let s = this.slots.get(key);
    if (s) {
      this.slots.delete(key); // most recently used goes last
    } else {
      s = { prepared: await this.allocate(spec, w, h, what), outputs: new Map() };
      while (this.slots.size >= this.maxCached) {
        const [oldest, old] = this.slots.entries().next().value as [string, RunSlot];
        this.slots.delete(oldest);
        destroySlot(old); // safe: runs are serialised and awaited
      }
    }
    this.slots.set(key, s);
    return s;
  }

  /**
   * Preprocesses one image and reads the output back: the raw bytes of `layout` (nchw / nhwc4: f32;
   * nhwc4-f16: halves; rgb8: one u32 per pixel). Runs are serialised; buffers are reused per size.
   */
  runBytes(img: RgbImage, preset: Preset | PreprocessSpec, layout: PreprocessLayout = 'nchw'): Promise<Uint8Array> {
    const job = this.queue.then(() => this.runNow(img, preset, layout));
    this.queue = job.catch(() => {});
    return job;
  }

  private async runNow(img: RgbImage, preset: Preset | PreprocessSpec, layout: PreprocessLayout): Promise<Uint8Array> {
    const name = typeof preset === 'string' ? preset : `${preset.resize} ${preset.width}×${preset.height}`;
    const what = `preprocess (${name}) ${img.width}×${img.height} → ${layout}`;
    this.check(what);
    if (!PREPROCESS_LAYOUTS.includes(layout)) throw new GpuError(`unknown layout '${layout}' (known: ${PREPROCESS_LAYOUTS.join(', ')})`);
    if (img.data.length !== img.width * img.height * 3) throw new GpuError(`${what}: needs ${img.width * img.height * 3} bytes of RGB, got ${img.data.length}`);
    const spec = this.resolve(img, preset);
    const d = this.device;
    const kernels = this.kernels(spec);
    const pipes = await Promise.all(kernels.map((k) => this.pipeline(k, layout)));
    const slot = await this.slot(spec, img.width, img.height, what);
    const bytes = this.outputBytes(layout, spec);
    let io = slot.outputs.get(layout);
    if (!io) {
      io = await this.scoped(`${what}: creating output buffers`, () => {
        const size = this.bufferSize(`${what}: output`, bytes, true);
        const out = d.createBuffer({ label: `preprocess output ${layout}`, size, usage: USAGE_STORAGE | USAGE_COPY_SRC });
        const readback = d.createBuffer({ label: `preprocess read-back ${layout}`, size, usage: USAGE_MAP_READ | USAGE_COPY_DST });
        return { out, readback, groups: this.bindGroups(pipes, slot.prepared, out, 0, bytes) };
      });
      slot.outputs.set(layout, io);
    }
    const { out, readback, groups } = io;
    const sizes = this.dispatches(slot.prepared);
    // One scope per step, so an error names its kernel; popped together after the submit.
    const checks: Promise<void>[] = [];
    let pop = this.scope(`${what}: uploading the pixels`);
    slot.prepared.write(img);
    checks.push(pop());
    const buffers: GPUCommandBuffer[] = [];
    kernels.forEach((k, i) => {
      pop = this.scope(`${what}: kernel ${k}`);
      const enc = d.createCommandEncoder({ label: k });
      this.record(enc, k, pipes[i], groups[i], sizes[i]);
      buffers.push(enc.finish());
      checks.push(pop());
    });
    pop = this.scope(`${what}: read-back copy`);
    const enc = d.createCommandEncoder({ label: 'preprocess read-back' });
    enc.copyBufferToBuffer(out, 0, readback, 0, out.size);
    buffers.push(enc.finish());
    checks.push(pop());
    pop = this.scope(`${what}: submitting ${kernels.join(' → ')}`);
    d.queue.submit(buffers);
    checks.push(pop());
    await Promise.all(checks);
    try {
      await readback.mapAsync(MAP_READ);
    } catch (e) {
      throw new GpuError(`${what}: reading back failed (kernels ${kernels.join(', ')}): ${(e as Error).message}`);
    }
    try {
      return new Uint8Array(readback.getMappedRange().slice(0, bytes));
    } finally {
      readback.unmap();
    }
  }

  /**
   * The model input for one image, = preprocess(img, preset) bit for bit: 'nchw' → Tensor
   * [1, 3, 224, 224]; 'nhwc4' → Tensor [1, 224, 224, 4] (4th channel 0).
   */
  async run(img: RgbImage, preset: Preset | PreprocessSpec, layout: 'nchw' | 'nhwc4' = 'nchw'): Promise<Tensor> {
    const spec = this.resolve(img, preset);
    const bytes = await this.runBytes(img, preset, layout);
    const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    const { cropHeight: h, cropWidth: w } = spec;
    return new Tensor(layout === 'nchw' ? [1, 3, h, w] : [1, h, w, 4], data);
  }

  /** The resize stage alone: the whole resized image, by the same kernels ('rgb8' layout); `filter` for 'pil'. */
  async resize(img: RgbImage, method: 'pil' | 'cv', width: number, height: number, filter?: PilFilter): Promise<RgbImage> {
    const bytes = await this.runBytes(img, resizeSpec(method, width, height, filter), 'rgb8');
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, width * height);
    const out = new Uint8Array(width * height * 3);
    for (let i = 0; i < words.length; i++) {
      const v = words[i];
      out[3 * i] = v & 255;
      out[3 * i + 1] = (v >>> 8) & 255;
      out[3 * i + 2] = (v >>> 16) & 255;
    }
    return rgbImage(width, height, out);
  }

  /** Frees run()'s buffers (PreparedImages stay the caller's). The device is not destroyed. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.slots.values()) destroySlot(s);
    this.slots.clear();
    this.pipelines.clear();
  }
}

function destroySlot(s: RunSlot): void {
  s.prepared.destroy();
  for (const o of s.outputs.values()) {
    o.out.destroy();
    o.readback.destroy();
  }
}
