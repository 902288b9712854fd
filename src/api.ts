// The library API: load a ResNet-50 once, then embed or classify images or preprocessed tensors.
// Runtime-neutral (no Node imports): weights come as bytes or a URL; a runtime entry such as
// src/node.ts adds file paths and the GPU through `setPlatform`.
//
//   const model = await ResNet50.load(weights, { device: 'webgpu', precision: 'f32' });
//   const features = await model.embed(images, { preset: 'msvision' });      // Tensor [N, 2048]
//   const { top } = await model.classify(images, { top: 5 });                // labels per image
//   model.dispose();
import { createCpuEngine } from './kernels/cpu/backend.ts';
import { createWebGpuEngine, type TuningMode, type TuningStore } from './kernels/webgpu/engine.ts';
import { indexedDbTuningStore } from './kernels/webgpu/tuning-idb.ts';
import type { Precision } from './kernels/webgpu/kernels.ts';
import type { Engine } from './nn/engine.ts';
import { IMAGENET_CLASSES } from './nn/imagenet-classes.ts';
import type { ResNetModel } from './nn/model.ts';
import { asNetwork } from './nn/arch/resnet.ts';
import type { Arch, Network } from './nn/network.ts';
import { topK } from './nn/topk.ts';
import { preprocess, type Preset } from './image/preprocess.ts';
import type { RgbImage } from './image/image.ts';
import { concatBatch } from './tensor/layout.ts';
import { Tensor } from './tensor/tensor.ts';
import { ARCH_PRESETS, loadWeightsAsync } from './weights/load.ts';
import { isHttpUrl, namedWeights, type NamedWeights } from './weights/named.ts';
import { fetchWeightsWeb } from './weights/web-cache.ts';

export type Device = 'webgpu' | 'cpu';

/** What a runtime provides beyond the web platform: reading local files, a default GPU, a weights cache. */
export interface Platform {
  readFile?(path: string): Promise<Uint8Array>;
  gpu?(): GPU;
  /** A weights name or http(s) URL → its verified bytes (default: fetch + the Cache API, src/weights/web-cache.ts). */
  fetchWeights?(source: string, opts: FetchOptions): Promise<{ bytes: Uint8Array; name: string }>;
  /** Where kernel tuning tables live (default: IndexedDB where there is one). */
  tuningStore?(): TuningStore | undefined;
}

export interface FetchOptions {
  /** The SHA-256 the file must have; names carry their own. */
  sha256?: string;
  /** Download progress in bytes (total null when the server announces no length). */
  onProgress?: (p: { loaded: number; total: number | null }) => void;
}

let platform: Platform = {};

/** Called by a runtime entry (src/node.ts) to register file access and its WebGPU implementation. */
export function setPlatform(p: Platform): void {
  platform = { ...platform, ...p };
}

/**
 * Weights: a file's bytes; a name ('torchvision-v1', 'torchvision-v2', 'msvision', 'clip-rn50', 'bit-m-r50x1': downloaded once,
 * verified and cached); an http(s) URL (the same); or a path (where the runtime can read files).
 */
export type WeightsSource = Uint8Array | ArrayBuffer | URL | string;

export interface LoadOptions extends FetchOptions {
  /** 'webgpu' (default) or 'cpu' (the pure-TypeScript reference: exact, slow). */
  device?: Device;
  /** 'f32' (default) or 'f16' (weights and activations stored in f16, arithmetic in f32; no WebGPU feature needed). */
  precision?: Precision;
  /** The WebGPU implementation; defaults to the runtime's (navigator.gpu, or Dawn under Node). */
  gpu?: GPU;
  /** Run on this device (the application's own) instead of requesting one; dispose() leaves it alive. */
  gpuDevice?: GPUDevice;
  /** Notices while loading, such as the keys a checkpoint holds beyond ResNet-50 (default console.warn). */
  onNotice?: (message: string) => void;
  /**
   * Per-layer GEMM kernels tuned on this adapter (`resnet50 tune`): 'cached' (default) a stored table for
   * the batch size when there is one, else the built-in default; 'off' the default; 'tune' tunes a batch
   * size without a table at its first run and stores the table.
   */
  tuning?: TuningMode;
  /** The architecture, instead of telling it from the tensor names: 'torchvision', 'clip-rn50' or 'bit-r50x1'. */
  arch?: Arch;
}

/** An image (decoded RGB, preprocessed by a preset) or an already preprocessed tensor [3,H,W] / [N,3,H,W]. */
export type ModelInput = RgbImage | Tensor;

export interface InputOptions {
  /**
   * How images are preprocessed: 'torchvision', 'msvision', 'clip' or 'bit'; default the named weights'
   * preset, else the architecture's (torchvision, clip, bit). Tensors are used as given.
   */
  preset?: Preset;
  /** Images per forward pass (default 8). */
  batchSize?: number;
}

export interface Prediction {
  readonly index: number;
  /** ImageNet class name when the model has 1000 classes, else null. */
  readonly label: string | null;
  readonly probability: number;
}

export interface Classification {
  /** [N, numClasses] */
  readonly logits: Tensor;
  /** The k most likely classes of each input. */
  readonly top: Prediction[][];
}

interface ReadWeights {
  readonly bytes: Uint8Array;
  readonly name: string;
  readonly named: NamedWeights | null;
}

async function readWeights(source: WeightsSource, opts: FetchOptions): Promise<ReadWeights> {
  if (source instanceof Uint8Array) return { bytes: source, name: '<bytes>', named: null };
  if (source instanceof ArrayBuffer) return { bytes: new Uint8Array(source), name: '<bytes>', named: null };
  const text = source instanceof URL ? source.href : source;
  const named = namedWeights(text);
  if (named || isHttpUrl(text)) {
    const fetched = platform.fetchWeights
      ? await platform.fetchWeights(text, opts)
      : { ...(await fetchWeightsWeb(text, opts)), name: named ? `${named.name} (${named.url})` : text };
    return { bytes: fetched.bytes, name: fetched.name, named };
  }
  const url = source instanceof URL ? source : /^(data|blob|file):/i.test(source) ? new URL(source) : null;
  if (url && url.protocol !== 'file:') {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${response.statusText}`);
    return { bytes: new Uint8Array(await response.arrayBuffer()), name: url.href, named: null };
  }
  const path = url ? decodeURIComponent(url.pathname) : (source as string);
  if (!platform.readFile) throw new Error(`${path}: this runtime cannot read files; pass the weights as bytes, a URL or a name`);
  return { bytes: await platform.readFile(path), name: path, named: null };
}

function asBatch(input: ModelInput, preset: Preset): Tensor {
  if (input instanceof Tensor) return input.shape.length === 3 ? input.reshape([1, ...input.shape]) : input;
  return preprocess(input, preset).reshape([1, 3, 224, 224]);
}

export class ResNet50 {
  private disposed = false;

  private constructor(
    private readonly engine: Engine,
    /** The loaded network (BatchNorm folded, BiT's weights standardised). */
    readonly model: Network,
    /** The preset images get when embed/classify name none: the named weights', else the architecture's. */
    readonly preset: Preset,
  ) {}

  static async load(weights: WeightsSource, opts: LoadOptions = {}): Promise<ResNet50> {
    // The GPU device and pipelines are set up while the file is still being read (or downloaded).
    const read = readWeights(weights, opts);
    const onNotice = opts.onNotice ?? ((m: string) => console.warn(m));
    const model = read.then(({ bytes, name, named }) =>
      loadWeightsAsync(bytes, name, { ignoreExtraKeys: named?.ignoreExtraKeys, onNotice, arch: opts.arch }));
    const preset = read.then((r) => r.named?.preset, () => undefined);
    return ResNet50.fromModel(model, { ...opts, preset });
  }

  /** Wrap an already loaded model (e.g. seeded random weights from src/nn/random.ts), or one still loading. */
  static async fromModel(
    model: ResNetModel | Network | Promise<ResNetModel | Network>,
    opts: LoadOptions & { preset?: Preset | Promise<Preset | undefined> } = {},
  ): Promise<ResNet50> {
    const network = Promise.resolve(model).then(asNetwork);
    return ResNet50.fromNetwork(network, opts);
  }

  private static async fromNetwork(model: Promise<Network>, opts: LoadOptions & { preset?: Preset | Promise<Preset | undefined> }): Promise<ResNet50> {
    const device = opts.device ?? 'webgpu';
    const precision = opts.precision ?? 'f32';
    const preset = async () => (await opts.preset) ?? ARCH_PRESETS[(await model).arch];
    if (device === 'cpu') {
      if (precision !== 'f32') throw new Error('the cpu device computes in f32 only');
      const loaded = await model;
      return new ResNet50(createCpuEngine(loaded), loaded, await preset());
    }
    const gpuOpts = {
      precision,
      tuning: opts.tuning,
      tuningStore: platform.tuningStore ? platform.tuningStore() : indexedDbTuningStore(),
      onNotice: opts.onNotice,
    };
    if (device === 'webgpu' && opts.gpuDevice) {
      const engine = await createWebGpuEngine(model, opts.gpuDevice, gpuOpts);
      return new ResNet50(engine, await model, await preset());
    }
    const gpu = device === 'webgpu' ? (opts.gpu ?? platform.gpu?.() ?? (globalThis.navigator as Navigator | undefined)?.gpu) : undefined;
    if (device !== 'webgpu' || !gpu) {
      await Promise.resolve(model).catch(() => {}); // the option's error is the one to report
      if (device !== 'webgpu') throw new Error(`device must be 'webgpu' or 'cpu', got '${device}'`);
      throw new Error('WebGPU is not available in this runtime (no navigator.gpu); use device: "cpu"');
    }
    const engine = await createWebGpuEngine(model, gpu, gpuOpts);
    return new ResNet50(engine, await model, await preset());
  }

  /** Names the device, e.g. 'cpu' or 'webgpu (llvmpipe …, f32)'. */
  get device(): string {
    return this.engine.device;
  }

  get featureDim(): number {
    return this.model.featureDim;
  }

  get numClasses(): number | null {
    return this.model.numClasses;
  }

  /** The architecture: 'torchvision' (ResNet-50 v1.5), 'clip-rn50' or 'bit-r50x1'. */
  get arch(): Arch {
    return this.model.arch;
  }

  /** The embeddings [N, featureDim] (ResNet-50 and BiT: 2048-d pooled features; CLIP: its 1024-d image embedding), in input order. */
  async embed(inputs: ModelInput | readonly ModelInput[], opts: InputOptions = {}): Promise<Tensor> {
    return (await this.forward(inputs, opts, 'features'));
  }

  /** Logits [N, numClasses] and the top-k classes of each input (k = 5 by default). */
  async classify(inputs: ModelInput | readonly ModelInput[], opts: InputOptions & { top?: number } = {}): Promise<Classification> {
    if (this.model.numClasses === null) throw new Error('this model has no classifier; use embed()');
    const logits = await this.forward(inputs, opts, 'logits');
    const classes = logits.shape[1];
    const names = classes === IMAGENET_CLASSES.length ? IMAGENET_CLASSES : null;
    const k = Math.min(opts.top ?? 5, classes);
    const top = Array.from({ length: logits.shape[0] }, (_, i) =>
      topK(logits.data.subarray(i * classes, (i + 1) * classes), k).map((p) => ({
        index: p.index,
        label: names?.[p.index] ?? null,
        probability: p.probability,
      })),
    );
    return { logits, top };
  }

  private async forward(inputs: ModelInput | readonly ModelInput[], opts: InputOptions, what: 'features' | 'logits'): Promise<Tensor> {
    if (this.disposed) throw new Error('this model was disposed');
    const list = Array.isArray(inputs) ? (inputs as readonly ModelInput[]) : [inputs as ModelInput];
    if (list.length === 0) throw new Error('no inputs');
    const batchSize = opts.batchSize ?? 8;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${batchSize}`);
    const batches = list.map((x) => asBatch(x, opts.preset ?? this.preset));
    const results: Tensor[] = [];
    // Consecutive inputs of one size share a forward pass, up to batchSize images.
    for (let i = 0; i < batches.length; ) {
      const group = [batches[i]];
      let images = batches[i].shape[0];
      for (i++; i < batches.length && images + batches[i].shape[0] <= batchSize && sameSize(batches[i], group[0]); i++) {
        group.push(batches[i]);
        images += batches[i].shape[0];
      }
      const out = await this.engine.run(concatBatch(group));
      results.push(what === 'features' ? out.features : out.logits!);
    }
    return concatBatch(results);
  }

  /** Frees the GPU buffers; the model cannot be used afterwards. */
  dispose(): void {
    this.disposed = true;
    this.engine.dispose();
  }
}

function sameSize(a: Tensor, b: Tensor): boolean {
  return a.shape[2] === b.shape[2] && a.shape[3] === b.shape[3];
}
