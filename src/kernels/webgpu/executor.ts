/// <reference types="@webgpu/types" />
// The WebGPU executor. A Backend<Sym> that records instead of computing: running the graph walker once
// for an input shape yields a Plan, a list of dispatches over symbolic values. Each value gets a
// buffer slot of its own while recording; when the plan is built, slots whose lifetimes do not overlap
// are packed into shared memory (arena.ts), so a plan's activations take about the peak of the bytes
// live at any one dispatch. Pipelines are compiled once per runtime and cached; a
// plan's buffers, uniforms and bind groups are built once per input shape and cached. A run writes the
// input, records every dispatch into one command encoder, submits once and reads back once.
//
// Limits: a binding larger than maxStorageBufferBindingSize is split by chunking the batch (each
// chunk binds an aligned sub-range; the im2col scratch only holds one chunk), a linear layer's
// weights larger than one binding (or buffer) by splitting its output features into column blocks
// (each block's weight panels in a buffer of their own, one GEMM dispatch per block writing its
// columns of the one output), and dispatches beyond maxComputeWorkgroupsPerDimension are folded
// into 2-D (the kernels number workgroups linearly). A conv's weights must fit one binding.
import type { Backend } from '../../nn/backend.ts';
import { checkInput, type Engine, type EngineOutput } from '../../nn/engine.ts';
import { forward, type StageName } from '../../nn/forward.ts';
import type { FoldedConv, Linear, ResNetModel } from '../../nn/model.ts';
import { asNetwork } from '../../nn/arch/resnet.ts';
import type { AttentionTokens, GroupNorm, Network } from '../../nn/network.ts';
import { outputSize } from '../../nn/spec.ts';
import { f16BitsToF32, Tensor } from '../../tensor/tensor.ts';
import { placeInArenas, type Lifetime } from './arena.ts';
import { GpuContext, GpuError, type LimitOverrides } from './device.ts';
import {
  attentionParams,
  attentionTokensParams,
  avgPoolParams,
  bytesPerElement,
  convKernel,
  convParams,
  foldGroups,
  gemmDefs,
  gemmParams,
  groupNormApplyParams,
  groupNormStatsParams,
  im2colParams,
  maxPoolParams,
  convPacking,
  linearPacking,
  panelWidth,
  toNhwcParams,
  type GemmChoice,
  type GemmPacking,
  type Precision,
} from './kernels.ts';
import { choiceName, layerKey, runnable, type KernelSelector, type LayerShape } from './candidates.ts';
import { EngineTuning, type TuneOptions, type TuneRow, type TuningMode, type TuningStore, type TuningTable } from './tune.ts';

/** A symbolic NHWC activation [n, h, w, 4·c4] (c real channels) living in buffer slot `slot`. */
export interface Sym {
  readonly id: number;
  readonly n: number;
  readonly h: number;
  readonly w: number;
  readonly c: number;
  readonly c4: number;
  /** Mutable only inside the Recorder: an output moved onto its dying residual's slot (in place). */
  slot: number;
}

type Res = { kind: 'slot'; slot: number } | { kind: 'fixed'; buffer: GPUBuffer };
interface Bind {
  readonly res: Res;
  readonly offset: number;
  readonly size: number;
}
/** What a dispatch computes, for profiles: its shapes and multiply-add work (FLOPs = 2 per FMA, channels padded to 4). */
export interface DispatchCost {
  readonly shape: string;
  readonly flops: number;
}

interface DispatchRec {
  readonly label: string;
  readonly cost: DispatchCost;
  readonly kernel: string;
  readonly defs: Readonly<Record<string, number>>;
  readonly words: Uint32Array;
  readonly groups: number;
  binds: Bind[];
}

/** Flag bit of the GEMM/conv kernels: add the residual already in the output buffer (in place). */
const FLAG_IN_PLACE = 4;

/** One GEMM's weights on the GPU: B in column panels and its bias, for n4 vec4 output columns from vec4 column col4. */
interface GpuWeights {
  readonly b: GPUBuffer;
  readonly bias: GPUBuffer;
  readonly k4: number;
  readonly n4: number;
  readonly col4: number;
}

const USAGE_STORAGE = 0x80; // GPUBufferUsage.STORAGE (numeric, so the core needs no globals)
const USAGE_COPY_SRC = 0x04;
const USAGE_COPY_DST = 0x08;
const USAGE_MAP_READ = 0x01;
const USAGE_UNIFORM = 0x40;
const MAP_READ = 0x01;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Weights on the GPU, packed straight into mapped buffers on first use and shared by every plan of a runtime. */
class WeightStore {
  /** A conv's one GEMM, or a linear layer's column blocks, by the layer they come from. */
  private readonly map = new Map<object, GpuWeights[]>();
  /** f32 parameter tables (GroupNorm's gamma and beta, positional embeddings), by the object they come from. */
  private readonly tables = new Map<object, GPUBuffer>();
  bytes = 0;
  constructor(private readonly ctx: GpuContext) {}

  table(key: object, label: string, make: () => Float32Array): GPUBuffer {
    let b = this.tables.get(key);
    if (!b) {
      b = this.ctx.upload(label, make(), USAGE_STORAGE);
      this.bytes += b.size;
      this.tables.set(key, b);
    }
    return b;
  }

  /** A conv's weights: one GEMM, within one binding. */
  conv(conv: FoldedConv, label: string): GpuWeights {
    return this.cached(conv, () => {
      const packing = convPacking(conv, panelWidth(this.ctx.config));
      const bytes = packing.length * bytesPerElement(this.ctx.precision);
      const limit = Math.min(this.ctx.maxBinding, this.ctx.maxBuffer);
      if (bytes > limit) {
        throw new GpuError(
          `${label}: its ${this.ctx.precision} weights take ${bytes} bytes in one binding, over this adapter's ` +
            `${limit === this.ctx.maxBinding ? 'maxStorageBufferBindingSize' : 'maxBufferSize'} ${limit} ` +
            `(run it in f16, or on the cpu device)`,
        );
      }
      return [this.upload(packing, label, 0)];
    })[0];
  }

  /**
   * A linear layer's weights as column blocks: groups of output features, each a whole number of the
   * packing's column panels, as many per block as fit one binding and one buffer (one block when the
   * whole layer fits). Each block is the layer's rows n0 … n0 + count − 1 packed on its own.
   */
  linear(fc: Linear, label: string): GpuWeights[] {
    return this.cached(fc, () => {
      const panel = panelWidth(this.ctx.config);
      const k4 = Math.ceil(fc.inFeatures / 4);
      const panelBytes = 4 * k4 * 4 * panel * bytesPerElement(this.ctx.precision);
      const panels = Math.floor(Math.min(this.ctx.maxBinding, this.ctx.maxBuffer) / panelBytes);
      if (panels < 1) {
        throw new GpuError(
          `${label}: one column panel of its ${this.ctx.precision} weights takes ${panelBytes} bytes, over this adapter's ` +
            `maxStorageBufferBindingSize ${this.ctx.maxBinding} or maxBufferSize ${this.ctx.maxBuffer} (run it on the cpu device)`,
        );
      }
      const width = 4 * panel * panels; // output features per block
      const blocks: GpuWeights[] = [];
      for (let n0 = 0; n0 < fc.outFeatures; n0 += width) {
        const count = Math.min(width, fc.outFeatures - n0);
        const block: Linear = {
          inFeatures: fc.inFeatures,
          outFeatures: count,
          weight: fc.weight.subarray(n0 * fc.inFeatures, (n0 + count) * fc.inFeatures),
          bias: fc.bias.subarray(n0, n0 + count),
        };
        const name = count === fc.outFeatures ? label : `${label}[${n0}:${n0 + count}]`;
        blocks.push(this.upload(linearPacking(block, panel), name, n0 / 4));
      }
      return blocks;
    });
  }

  private cached(key: FoldedConv | Linear, make: () => GpuWeights[]): GpuWeights[] {
    let w = this.map.get(key);
    if (!w) {
      w = make();
      this.map.set(key, w);
    }
    return w;
  }

  private upload(packing: GemmPacking, label: string, col4: number): GpuWeights {
    const f16 = this.ctx.precision === 'f16';
    const b = this.ctx.createFilled(`${label}.weight`, packing.length * bytesPerElement(this.ctx.precision), USAGE_STORAGE, (mapped) =>
      packing.fill(f16 ? new Uint16Array(mapped, 0, packing.length) : new Float32Array(mapped, 0, packing.length)),
    );
    const bias = this.ctx.upload(`${label}.bias`, packing.bias, USAGE_STORAGE);
    this.bytes += b.size + bias.size;
    return { b, bias, k4: packing.k4, n4: packing.n4, col4 };
  }

  destroy(): void {
    for (const w of [...this.map.values()].flat()) {
      w.b.destroy();
      w.bias.destroy();
    }
    for (const b of this.tables.values()) b.destroy();
    this.map.clear();
    this.tables.clear();
    this.bytes = 0;
  }
}

/** Records ops into dispatches and assigns buffer slots by liveness. */
export class Recorder implements Backend<Sym> {
  readonly name = 'webgpu';
  readonly dispatches: DispatchRec[] = [];
  /** Bytes of each slot (one per value, im2col scratch and the NCHW input; packed by placeInArenas). */
  readonly slotSizes: number[] = [];
  private readonly live = new Set<number>();
  private nextId = 0;
  private readonly eb: number; // bytes per stored element
  /**
   * The last conv with a residual, recorded as writing its output over the residual (in place: the
   * kernel reads each residual element and writes the output element in the same invocation). If the
   * residual is released before anything else is recorded (as the bottleneck does), that stands and
   * saves a buffer; otherwise settle() gives the output a slot of its own.
   */
  private pendingInPlace: { y: Sym; r: Sym; idx: number[]; bytes: number; what: string } | null = null;
  /** Write residual convs in place when their residual dies right after (default on). */
  inPlaceResidual = true;
  /** The slot the NCHW input is written to (dead once converted to NHWC). */
  inputSlot = -1;

  constructor(
    private readonly ctx: GpuContext,
    private readonly weights: WeightStore,
    private readonly dummy: GPUBuffer,
    private readonly select?: KernelSelector,
  ) {
    this.eb = bytesPerElement(ctx.precision);
  }

  /** The GEMM strategy and tile for a layer: the selector's (a tuned table), else the adapter's default. */
  private choose(layer: LayerShape): { choice: GemmChoice; defs: Record<string, number> } {
    const config = this.ctx.config;
    const choice = this.select?.(layer) ?? config;
    if (!runnable(choice, config)) {
      throw new GpuError(`${layerKey(layer)}: ${choiceName(choice)} cannot read weights packed for ${choiceName(config)}`);
    }
    return { choice, defs: gemmDefs(choice, panelWidth(config)) };
  }

  /** Bytes of one image of a value. */
  private imageBytes(h: number, w: number, c4: number): number {
    return h * w * c4 * 4 * this.eb;
  }

  private alloc(bytes: number, what: string): number {
    if (bytes > this.ctx.maxBuffer) {
      throw new GpuError(`${what}: needs a ${bytes}-byte buffer, over maxBufferSize ${this.ctx.maxBuffer}; use a smaller batch`);
    }
    this.slotSizes.push(bytes);
    return this.slotSizes.length - 1;
  }

  private value(n: number, h: number, w: number, c: number, what: string, slot?: number): Sym {
    const c4 = Math.ceil(c / 4);
    const sym: Sym = { id: this.nextId++, n, h, w, c, c4, slot: slot ?? this.alloc(n * this.imageBytes(h, w, c4), what) };
    this.live.add(sym.id);
    return sym;
  }

  release(x: Sym): void {
    if (!this.live.delete(x.id)) throw new GpuError(`value ${x.id} released twice or never created`);
    if (this.pendingInPlace?.y === x) this.settle();
    const p = this.pendingInPlace;
    if (p && p.r === x) {
      // The residual died right after the conv that adds it: the conv's in-place write stands, and
      // x's slot is y's from now on.
      this.pendingInPlace = null;
    }
  }

  /**
   * Called before anything but a release: a conv recorded as writing over its residual, whose residual
   * did not die right away, gets its own output slot after all.
   */
  settle(): void {
    const p = this.pendingInPlace;
    if (!p) return;
    this.pendingInPlace = null;
    const slot = this.alloc(p.bytes, p.what);
    for (const i of p.idx) {
      const d = this.dispatches[i];
      const [a, b, bias, , out] = d.binds;
      d.words[3] = (d.words[3] & ~FLAG_IN_PLACE) | 2;
      d.binds = [a, b, bias, { ...out }, { ...out, res: { kind: 'slot', slot } }];
    }
    p.y.slot = slot;
  }

  /**
   * Splits a batch of n images into chunks whose bindings each fit maxStorageBufferBindingSize and start
   * at aligned offsets. perImage: bytes per image of every batch-dependent binding.
   */
  private chunks(n: number, perImage: readonly number[], what: string): Array<[number, number]> {
    const biggest = Math.max(...perImage);
    const fit = Math.floor(this.ctx.maxBinding / biggest);
    if (fit >= n) return [[0, n]];
    if (fit < 1) {
      throw new GpuError(`${what}: one image needs ${biggest} bytes in one binding, over maxStorageBufferBindingSize ${this.ctx.maxBinding}`);
    }
    let step = 1;
    for (const b of perImage) {
      const need = this.ctx.storageAlign / gcd(b, this.ctx.storageAlign);
      step = (step * need) / gcd(step, need);
    }
    const per = Math.floor(fit / step) * step;
    if (per < 1) {
      throw new GpuError(
        `${what}: cannot split the batch into bindings of at most maxStorageBufferBindingSize ${this.ctx.maxBinding} ` +
          `bytes at offsets aligned to ${this.ctx.storageAlign}; use a smaller batch`,
      );
    }
    const out: Array<[number, number]> = [];
    for (let s = 0; s < n; s += per) out.push([s, Math.min(per, n - s)]);
    return out;
  }

  private slotBind(slot: number, offset: number, size: number): Bind {
    return { res: { kind: 'slot', slot }, offset, size };
  }

  private fixedBind(buffer: GPUBuffer): Bind {
    return { res: { kind: 'fixed', buffer }, offset: 0, size: buffer.size };
  }

  private emit(
    label: string, kernel: string, defs: Record<string, number>, p: { words: Uint32Array; groups: number }, binds: Bind[],
    cost: DispatchCost = { shape: '', flops: 0 },
  ): void {
    foldGroups(p.groups, this.ctx.maxGroupsPerDim); // throws early if even 2-D cannot hold it
    this.dispatches.push({ label, cost, kernel, defs, words: p.words, groups: p.groups, binds });
  }

  /** A GEMM dispatch's cost: M × K × N (K, N padded to 4), as `[M×K]·[K×N]`, 2 FLOPs per multiply-add. */
  private static gemmCost(m: number, k4: number, n4: number, what: string): DispatchCost {
    return { shape: `${what} [${m}×${4 * k4}]·[${4 * k4}×${4 * n4}]`, flops: 2 * m * 4 * k4 * 4 * n4 };
  }

  private get wg(): Record<string, number> {
    return { WG: this.ctx.config.wg1d };
  }

  /**
   * The pipelines a ResNet forward records on this context (what input(), conv2d(), maxPool(),
   * globalAvgPool() and linear() emit), so they can be compiled before the weights are loaded.
   */
  static resnetKernels(ctx: GpuContext): Array<[string, Record<string, number>]> {
    const wg = { WG: ctx.config.wg1d };
    const gemm: [string, Record<string, number>] = [ctx.config.gemmKernel, gemmDefs(ctx.config)];
    const spatial: Array<[string, Record<string, number>]> =
      ctx.config.conv === 'implicit' ? [[convKernel(ctx.config), gemmDefs(ctx.config)]] : [['im2col', wg]];
    return [['nchw_to_nhwc', wg], ...spatial, gemm, ['maxpool', wg], ['avgpool', wg]];
  }

  input(x: Tensor): Sym {
    this.settle();
    if (x.shape.length !== 4) throw new GpuError(`input must be NCHW, got [${x.shape.join(', ')}]`);
    const [n, c, h, w] = x.shape;
    const inImage = c * h * w * 4;
    // The NCHW f32 input lives in an ordinary slot, so its memory is reused once converted.
    this.inputSlot = this.alloc(n * inImage, 'input (NCHW)');
    const y = this.value(n, h, w, c, 'input');
    const outImage = this.imageBytes(h, w, y.c4);
    for (const [s, k] of this.chunks(n, [inImage, outImage], 'input')) {
      this.emit('input: nchw_to_nhwc', 'nchw_to_nhwc', this.wg, toNhwcParams(this.ctx.config.wg1d, k, c, h * w, y.c4), [
        this.slotBind(this.inputSlot, s * inImage, k * inImage),
        this.slotBind(y.slot, s * outImage, k * outImage),
      ], { shape: `${k}×${c}×${h}×${w} NCHW → NHWC`, flops: 0 });
    }
    return y;
  }

  conv2d(x: Sym, conv: FoldedConv, epilogue: { relu: boolean; residual?: Sym }): Sym {
    this.settle();
    const label = conv.conv;
    if (x.c !== conv.inChannels) throw new GpuError(`${label}: expects ${conv.inChannels} input channels, got ${x.c}`);
    const { kernel: k, stride, padding: pad } = conv;
    const oh = outputSize(x.h, k, stride, pad);
    const ow = outputSize(x.w, k, stride, pad);
    if (oh < 1 || ow < 1) throw new GpuError(`${label}: input ${x.h}×${x.w} too small`);
    const r = epilogue.residual;
    if (r && (r.n !== x.n || r.h !== oh || r.w !== ow || r.c !== conv.outChannels)) {
      throw new GpuError(`${label}: residual [${r.n}, ${r.c}, ${r.h}, ${r.w}] does not match the output`);
    }
    const wts = this.weights.conv(conv, label);
    // With a residual, the output goes over the residual's slot for now (see pendingInPlace).
    const inPlace = !!r && this.inPlaceResidual;
    const y = this.value(x.n, oh, ow, conv.outChannels, label, inPlace ? r.slot : undefined);
    const direct = k === 1 && stride === 1 && pad === 0;
    const implicit = !direct && this.ctx.config.conv === 'implicit';
    const inImage = this.imageBytes(x.h, x.w, x.c4);
    const colImage = oh * ow * wts.k4 * 4 * this.eb;
    const outImage = this.imageBytes(oh, ow, y.c4);
    const perImage = direct || implicit ? [inImage, outImage] : [inImage, colImage, outImage];
    const chunks = this.chunks(x.n, perImage, label);
    const maxChunk = Math.max(...chunks.map(([, c]) => c));
    const col = direct || implicit ? -1 : this.alloc(maxChunk * colImage, `${label} im2col`);
    const { choice, defs } = this.choose({ op: 'conv', n: x.n, h: x.h, w: x.w, c: x.c, k, stride, pad, cout: conv.outChannels });
    const tile = choice.gemm;
    const epilogueDispatches: number[] = [];
    for (const [s, cnt] of chunks) {
      epilogueDispatches.push(this.dispatches.length + (implicit || direct ? 0 : 1));
      const epi = [
        this.fixedBind(wts.b),
        this.fixedBind(wts.bias),
        r && !inPlace ? this.slotBind(r.slot, s * outImage, cnt * outImage) : this.fixedBind(this.dummy),
        this.slotBind(y.slot, s * outImage, cnt * outImage),
      ];
      const cost = (cnt: number) => Recorder.gemmCost(cnt * oh * ow, wts.k4, wts.n4,
        `${cnt}×${x.h}×${x.w}×${x.c} ${k}×${k}/${stride} → ${oh}×${ow}×${conv.outChannels}`);
      const flags = <T extends { words: Uint32Array }>(q: T): T => {
        if (inPlace) q.words[3] = (q.words[3] & ~2) | FLAG_IN_PLACE;
        return q;
      };
      if (implicit) {
        this.emit(`${label}: conv`, convKernel(choice), defs,
          flags(convParams(tile, cnt, x.h, x.w, x.c4, oh, ow, k, stride, pad, wts.n4, epilogue.relu, !!r)),
          [this.slotBind(x.slot, s * inImage, cnt * inImage), ...epi], cost(cnt));
        continue;
      }
      let a: Bind;
      if (direct) {
        a = this.slotBind(x.slot, s * inImage, cnt * inImage);
      } else {
        this.emit(`${label}: im2col`, 'im2col', this.wg,
          im2colParams(this.ctx.config.wg1d, cnt, x.h, x.w, x.c4, oh, ow, k, stride, pad), [
            this.slotBind(x.slot, s * inImage, cnt * inImage),
            this.slotBind(col, 0, cnt * colImage),
          ], { shape: `${cnt}×${x.h}×${x.w}×${x.c} ${k}×${k}/${stride} → [${cnt * oh * ow}×${4 * wts.k4}]`, flops: 0 });
        a = this.slotBind(col, 0, cnt * colImage);
      }
      this.emit(`${label}: gemm`, choice.gemmKernel, defs,
        flags(gemmParams(tile, cnt * oh * ow, wts.k4, wts.n4, epilogue.relu, !!r)), [a, ...epi], cost(cnt));
    }
    if (inPlace) this.pendingInPlace = { y, r, idx: epilogueDispatches, bytes: x.n * outImage, what: label };
    return y;
  }

  maxPool(x: Sym, opts: { zeroPadding?: boolean } = {}): Sym {
    this.settle();
    const oh = outputSize(x.h, 3, 2, 1);
    const ow = outputSize(x.w, 3, 2, 1);
    const y = this.value(x.n, oh, ow, x.c, 'maxpool');
    const inImage = this.imageBytes(x.h, x.w, x.c4);
    const outImage = this.imageBytes(oh, ow, x.c4);
    for (const [s, k] of this.chunks(x.n, [inImage, outImage], 'maxpool')) {
      this.emit('maxpool', 'maxpool', this.wg, maxPoolParams(this.ctx.config.wg1d, k, x.h, x.w, x.c4, oh, ow, opts.zeroPadding), [
        this.slotBind(x.slot, s * inImage, k * inImage),
        this.slotBind(y.slot, s * outImage, k * outImage),
      ], { shape: `${k}×${x.h}×${x.w}×${x.c} 3×3/2 → ${oh}×${ow}`, flops: 0 });
    }
    return y;
  }

  globalAvgPool(x: Sym): Sym {
    this.settle();
    const y = this.value(x.n, 1, 1, x.c, 'avgpool');
    const inImage = this.imageBytes(x.h, x.w, x.c4);
    const outImage = this.imageBytes(1, 1, x.c4);
    for (const [s, k] of this.chunks(x.n, [inImage, outImage], 'avgpool')) {
      this.emit('avgpool', 'avgpool', this.wg, avgPoolParams(this.ctx.config.wg1d, k, x.h, x.w, x.c4), [
        this.slotBind(x.slot, s * inImage, k * inImage),
        this.slotBind(y.slot, s * outImage, k * outImage),
      ], { shape: `${k}×${x.h}×${x.w}×${x.c} → ${k}×${x.c}`, flops: 0 });
    }
    return y;
  }

  /** size×size average pool, stride size (CLIP): the avgpool kernel on windows. */
  avgPool(x: Sym, size: number): Sym {
    this.settle();
    const [oh, ow] = [Math.floor(x.h / size), Math.floor(x.w / size)];
    if (oh < 1 || ow < 1) throw new GpuError(`avgpool: input ${x.h}×${x.w} is smaller than the ${size}×${size} window`);
    const y = this.value(x.n, oh, ow, x.c, `avgpool ${size}×${size}`);
    const inImage = this.imageBytes(x.h, x.w, x.c4);
    const outImage = this.imageBytes(oh, ow, x.c4);
    for (const [s, k] of this.chunks(x.n, [inImage, outImage], 'avgpool')) {
      this.emit(`avgpool ${size}×${size}`, 'avgpool', this.wg, avgPoolParams(this.ctx.config.wg1d, k, x.h, x.w, x.c4, size), [
        this.slotBind(x.slot, s * inImage, k * inImage),
        this.slotBind(y.slot, s * outImage, k * outImage),
      ], { shape: `${k}×${x.h}×${x.w}×${x.c} ${size}×${size}/${size} → ${oh}×${ow}`, flops: 0 });
    }
    return y;
  }

  /** GroupNorm (+ ReLU): per-(image, group) statistics into a small f32 scratch, then the normalisation. */
  groupNorm(x: Sym, gn: GroupNorm, epilogue: { relu: boolean }): Sym {
    this.settle();
    if (x.c !== gn.channels || gn.channels % gn.groups !== 0) {
      throw new GpuError(`${gn.name}: ${x.c} channels, expected ${gn.channels} in ${gn.groups} groups`);
    }
    const gb = this.weights.table(gn, `${gn.name} gamma, beta`, () => {
      const t = new Float32Array(8 * x.c4);
      t.set(gn.gamma);
      t.set(gn.beta, 4 * x.c4);
      return t;
    });
    const stats = this.alloc(x.n * gn.groups * 8, `${gn.name} statistics`);
    const y = this.value(x.n, x.h, x.w, x.c, gn.name);
    const hw = x.h * x.w;
    const cg = gn.channels / gn.groups;
    const image = this.imageBytes(x.h, x.w, x.c4);
    const st = this.slotBind(stats, 0, x.n * gn.groups * 8);
    for (const [s, k] of this.chunks(x.n, [image], gn.name)) {
      const xs = this.slotBind(x.slot, s * image, k * image);
      const shape = `${k}×${x.h}×${x.w}×${x.c} in ${gn.groups} groups`;
      this.emit(`${gn.name}: statistics`, 'groupnorm_stats', this.wg,
        groupNormStatsParams(k, hw, x.c4, cg, gn.groups, s, gn.eps), [xs, st], { shape, flops: 0 });
      this.emit(`${gn.name}: normalise${epilogue.relu ? ' + ReLU' : ''}`, 'groupnorm_apply', this.wg,
        groupNormApplyParams(this.ctx.config.wg1d, k, hw, x.c4, cg, gn.groups, s, epilogue.relu),
        [xs, st, this.fixedBind(gb), this.slotBind(y.slot, s * image, k * image)], { shape, flops: 0 });
    }
    return y;
  }

  attentionTokens(x: Sym, mean: Sym, t: AttentionTokens): Sym {
    this.settle();
    if (x.c !== t.channels || x.h !== t.grid || x.w !== t.grid || mean.c !== x.c || mean.h * mean.w !== 1) {
      throw new GpuError(
        `${t.name}: the attention pool takes a ${t.grid}×${t.grid} map of ${t.channels} channels ` +
          `(a ${32 * t.grid}×${32 * t.grid} input), got ${x.h}×${x.w} of ${x.c}`,
      );
    }
    const l = 1 + t.grid * t.grid;
    const pos = this.weights.table(t, `${t.name} positional embedding`, () => {
      const p = new Float32Array(l * 4 * x.c4);
      for (let i = 0; i < l; i++) p.set(t.positional.subarray(i * t.channels, (i + 1) * t.channels), i * 4 * x.c4);
      return p;
    });
    const y = this.value(x.n, l, 1, x.c, t.name);
    const [inImage, meanImage, outImage] = [this.imageBytes(x.h, x.w, x.c4), this.imageBytes(1, 1, x.c4), this.imageBytes(l, 1, x.c4)];
    for (const [s, k] of this.chunks(x.n, [inImage, meanImage, outImage], t.name)) {
      this.emit(`${t.name}: tokens`, 'attention_tokens', this.wg, attentionTokensParams(this.ctx.config.wg1d, k, l, x.c4), [
        this.slotBind(x.slot, s * inImage, k * inImage),
        this.slotBind(mean.slot, s * meanImage, k * meanImage),
        this.fixedBind(pos),
        this.slotBind(y.slot, s * outImage, k * outImage),
      ], { shape: `${k}×${x.h}×${x.w}×${x.c} → ${k}×${l}×${x.c}`, flops: 0 });
    }
    return y;
  }

  attention(q: Sym, kv: Sym, heads: number): Sym {
    this.settle();
    const c = q.c;
    if (q.h * q.w !== 1 || kv.w !== 1 || kv.n !== q.n || kv.c !== 2 * c || c % heads !== 0) {
      throw new GpuError(`attention: q [${q.n}, ${q.c}, ${q.h}, ${q.w}] does not fit kv [${kv.n}, ${kv.c}, ${kv.h}, ${kv.w}] with ${heads} heads`);
    }
    const l = kv.h;
    const y = this.value(q.n, 1, 1, c, 'attention');
    const [qImage, kvImage] = [this.imageBytes(1, 1, q.c4), this.imageBytes(l, 1, kv.c4)];
    for (const [s, k] of this.chunks(q.n, [qImage, kvImage], 'attention')) {
      this.emit('attention', 'attention', { ...this.wg, HEADS: heads, HL: heads * l }, attentionParams(k, l, c, c / heads, q.c4, kv.c4), [
        this.slotBind(q.slot, s * qImage, k * qImage),
        this.slotBind(kv.slot, s * kvImage, k * kvImage),
        this.slotBind(y.slot, s * qImage, k * qImage),
      ], { shape: `${k} queries × ${l} tokens × ${c} channels in ${heads} heads`, flops: 4 * k * l * c });
    }
    return y;
  }

  linear(x: Sym, fc: Linear): Sym {
    this.settle();
    if (x.h !== 1 || x.w !== 1 || x.c !== fc.inFeatures) {
      throw new GpuError(`fc: expects [N, ${fc.inFeatures}], got [${x.n}, ${x.c}, ${x.h}, ${x.w}]`);
    }
    const blocks = this.weights.linear(fc, 'fc');
    const y = this.value(x.n, 1, 1, fc.outFeatures, 'fc');
    const inImage = this.imageBytes(1, 1, x.c4);
    const outImage = this.imageBytes(1, 1, y.c4);
    const { choice, defs } = this.choose({ op: 'fc', n: x.n, h: 1, w: 1, c: x.c, k: 1, stride: 1, pad: 0, cout: fc.outFeatures });
    const tile = choice.gemm;
    for (const [s, k] of this.chunks(x.n, [inImage, outImage], 'fc')) {
      for (const [i, wts] of blocks.entries()) {
        // A column block writes its n4 vec4 columns at col4 of the full-width output rows.
        const [c0, c1] = [4 * wts.col4, Math.min(4 * (wts.col4 + wts.n4), fc.outFeatures)];
        const [label, cols] = blocks.length === 1 ? ['fc: gemm', ''] : [`fc: gemm block ${i + 1}/${blocks.length}`, ` [${c0}:${c1}]`];
        this.emit(label, choice.gemmKernel, defs,
          gemmParams(tile, k, wts.k4, wts.n4, false, false, { col4: wts.col4, ldc4: y.c4 }), [
            this.slotBind(x.slot, s * inImage, k * inImage),
            this.fixedBind(wts.b),
            this.fixedBind(wts.bias),
            this.fixedBind(this.dummy),
            this.slotBind(y.slot, s * outImage, k * outImage),
          ], Recorder.gemmCost(k, wts.k4, wts.n4, `${k}×${x.c} → ${k}×${fc.outFeatures}${cols}`));
      }
    }
    return y;
  }
}

/** GPU time of one dispatch, from timestamp queries, with what it computes. */
export interface StepTiming extends DispatchCost {
  readonly label: string;
  readonly kernel: string;
  /** Bytes of every buffer range the dispatch binds (inputs, weights, outputs; uniforms excluded). */
  readonly bytes: number;
  readonly ms: number;
}

/** Where one forward's wall time goes on the host side (ms). */
export interface HostTiming {
  /** queue.writeBuffer of the input. */
  readonly write: number;
  /** Encoding every dispatch and the read-back copy, and queue.submit. */
  readonly encodeSubmit: number;
  /** Popping the validation, out-of-memory and internal error scopes around write and submit. */
  readonly errorScopes: number;
  /** Until the read-back's mapAsync resolves (GPU work + completion latency). */
  readonly wait: number;
  /** Decoding the mapped read-back into NCHW f32 tensors. */
  readonly decode: number;
  readonly total: number;
}

interface ReadSpec {
  readonly name: string;
  readonly sym: Sym;
  readonly offset: number; // in the read-back buffer
  readonly bytes: number;
}

/** A slot's memory: a range of one arena buffer. */
interface SlotRange {
  readonly buffer: GPUBuffer;
  readonly offset: number;
}

/** Each slot's lifetime in dispatch indices: the input is written before the first, outputs read after the last. */
function slotLifetimes(rec: Recorder, outputs: ReadonlyMap<string, Sym>): Lifetime[] {
  const first = rec.slotSizes.map(() => Infinity);
  const last = rec.slotSizes.map(() => -Infinity);
  rec.dispatches.forEach((d, i) => {
    for (const b of d.binds) {
      if (b.res.kind !== 'slot') continue;
      first[b.res.slot] = Math.min(first[b.res.slot], i);
      last[b.res.slot] = Math.max(last[b.res.slot], i);
    }
  });
  first[rec.inputSlot] = -1;
  for (const sym of outputs.values()) last[sym.slot] = rec.dispatches.length;
  return rec.slotSizes.map((bytes, i) => ({ bytes, first: first[i], last: Math.max(last[i], first[i]) }));
}

/** A recorded forward for one input shape, with its GPU objects built. */
class Plan {
  private constructor(
    readonly ctx: GpuContext,
    readonly arenas: GPUBuffer[],
    readonly slots: SlotRange[],
    readonly inputSlot: number,
    readonly uniforms: GPUBuffer,
    readonly readback: GPUBuffer,
    readonly steps: {
      label: string; cost: DispatchCost; bytes: number; pipeline: GPUComputePipeline; bindGroup: GPUBindGroup; x: number; y: number;
    }[],
    readonly reads: readonly ReadSpec[],
  ) {}

  /** The timestamp queries of profiled runs: made on the first, reused by the next. */
  private timestamps: { set: GPUQuerySet; resolve: GPUBuffer; read: GPUBuffer } | null = null;

  private timestampQueries(d: GPUDevice): { set: GPUQuerySet; resolve: GPUBuffer; read: GPUBuffer } {
    if (!this.timestamps) {
      const count = 2 * this.steps.length;
      this.timestamps = {
        set: d.createQuerySet({ type: 'timestamp', count }),
        resolve: d.createBuffer({ size: count * 8, usage: 0x200 /* QUERY_RESOLVE */ | USAGE_COPY_SRC }),
        read: d.createBuffer({ size: count * 8, usage: USAGE_MAP_READ | USAGE_COPY_DST }),
      };
    }
    return this.timestamps;
  }

  get bytes(): number {
    return this.arenas.reduce((a, b) => a + b.size, 0) + this.uniforms.size + this.readback.size;
  }

  static async build(ctx: GpuContext, rec: Recorder, outputs: ReadonlyMap<string, Sym>, what: string): Promise<Plan> {
    const d = ctx.device;
    // Compile each distinct pipeline once, one at a time, so error scopes do not interleave.
    const pipelines: GPUComputePipeline[] = [];
    const compiled = new Map<string, GPUComputePipeline>();
    for (const r of rec.dispatches) {
      const key = `${r.kernel} ${JSON.stringify(r.defs)}`;
      let p = compiled.get(key);
      if (!p) {
        p = await ctx.pipeline(r.kernel, r.defs);
        compiled.set(key, p);
      }
      pipelines.push(p);
    }
    const created: GPUBuffer[] = [];
    try {
      return await ctx.scoped(`${what}: building the plan`, async () => {
        const lifetimes = slotLifetimes(rec, outputs);
        const { placements, arenaSizes } = placeInArenas(lifetimes, ctx.storageAlign, ctx.maxBuffer);
        const arenas = arenaSizes.map((size, i) => {
          const usage = USAGE_STORAGE | USAGE_COPY_SRC | USAGE_COPY_DST;
          const b = d.createBuffer({ label: `${what} activations ${i}`, size: Math.max(16, Math.ceil(size / 4) * 4), usage });
          created.push(b);
          return b;
        });
        const slots = placements.map((p) => ({ buffer: arenas[p.arena], offset: p.offset }));
        const ualign = Math.max(ctx.uniformAlign, 16);
        const uoffsets: number[] = [];
        let usize = 0;
        for (const r of rec.dispatches) {
          uoffsets.push(usize);
          usize += Math.ceil(r.words.byteLength / ualign) * ualign;
        }
        const ubytes = new Uint8Array(Math.max(usize, 16));
        rec.dispatches.forEach((r, i) => ubytes.set(new Uint8Array(r.words.buffer, r.words.byteOffset, r.words.byteLength), uoffsets[i]));
        const uniforms = ctx.upload(`${what} uniforms`, ubytes, USAGE_UNIFORM);
        created.push(uniforms);

        const reads: ReadSpec[] = [];
        let rsize = 0;
        for (const [name, sym] of outputs) {
          const bytes = sym.n * sym.h * sym.w * sym.c4 * 4 * bytesPerElement(ctx.precision);
          reads.push({ name, sym, offset: rsize, bytes });
          rsize += Math.ceil(bytes / 256) * 256;
        }
        const readback = d.createBuffer({ label: `${what} read-back`, size: Math.max(rsize, 16), usage: USAGE_MAP_READ | USAGE_COPY_DST });
        created.push(readback);

        const steps = rec.dispatches.map((r, i) => {
          const pipeline = pipelines[i];
          const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: uniforms, offset: uoffsets[i], size: r.words.byteLength } }];
          r.binds.forEach((b, j) => {
            const at = b.res.kind === 'slot' ? slots[b.res.slot] : { buffer: b.res.buffer, offset: 0 };
            entries.push({ binding: j + 1, resource: { buffer: at.buffer, offset: at.offset + b.offset, size: b.size } });
          });
          const bindGroup = d.createBindGroup({ label: `${r.label} (${r.kernel})`, layout: pipeline.getBindGroupLayout(0), entries });
          const [x, y] = foldGroups(r.groups, ctx.maxGroupsPerDim);
          return { label: r.label, cost: r.cost, bytes: r.binds.reduce((a, b) => a + b.size, 0), pipeline, bindGroup, x, y };
        });
        return new Plan(ctx, arenas, slots, rec.inputSlot, uniforms, readback, steps, reads);
      });
    } catch (e) {
      for (const b of created) b.destroy();
      throw e;
    }
  }

  /** Runs the plan on `input` (NCHW f32 data); returns each output as an NCHW f32 tensor. */
  async run(input: Float32Array, what: string, profile?: StepTiming[], host?: { timing?: HostTiming }): Promise<Map<string, Tensor>> {
    const ctx = this.ctx;
    ctx.check(what);
    const d = ctx.device;
    const t0 = performance.now();
    let tWritten = t0;
    let tSubmitted = t0;
    let query: { set: GPUQuerySet; resolve: GPUBuffer; read: GPUBuffer } | null = null;
    await ctx.scoped(what, () => {
      const at = this.slots[this.inputSlot];
      d.queue.writeBuffer(at.buffer, at.offset, input.buffer, input.byteOffset, input.byteLength);
      tWritten = performance.now();
      const enc = d.createCommandEncoder({ label: what });
      if (profile) {
        // One pass per dispatch, with timestamps at its start and end.
        if (!d.features.has('timestamp-query')) throw new GpuError('profiling needs the timestamp-query feature');
        const count = 2 * this.steps.length;
        query = this.timestampQueries(d);
        this.steps.forEach((s, i) => {
          const pass = enc.beginComputePass({
            label: s.label,
            timestampWrites: { querySet: query!.set, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
          });
          pass.setPipeline(s.pipeline);
          pass.setBindGroup(0, s.bindGroup);
          pass.dispatchWorkgroups(s.x, s.y);
          pass.end();
        });
        enc.resolveQuerySet(query.set, 0, count, query.resolve, 0);
        enc.copyBufferToBuffer(query.resolve, 0, query.read, 0, count * 8);
      } else {
        const pass = enc.beginComputePass({ label: what });
        for (const s of this.steps) {
          pass.setPipeline(s.pipeline);
          pass.setBindGroup(0, s.bindGroup);
          pass.dispatchWorkgroups(s.x, s.y);
        }
        pass.end();
      }
      for (const r of this.reads) {
        const at = this.slots[r.sym.slot];
        enc.copyBufferToBuffer(at.buffer, at.offset, this.readback, r.offset, Math.ceil(r.bytes / 4) * 4);
      }
      d.queue.submit([enc.finish()]);
      tSubmitted = performance.now();
    });
    const tScoped = performance.now();
    if (query && profile) {
      const q = query as { set: GPUQuerySet; resolve: GPUBuffer; read: GPUBuffer };
      await q.read.mapAsync(MAP_READ);
      const t = new BigInt64Array(q.read.getMappedRange());
      this.steps.forEach((s, i) =>
        profile.push({ label: s.label, kernel: s.pipeline.label, ...s.cost, bytes: s.bytes, ms: Number(t[2 * i + 1] - t[2 * i]) / 1e6 }),
      );
      q.read.unmap();
    }
    try {
      await this.readback.mapAsync(MAP_READ);
    } catch (e) {
      const lost = ctx.lost();
      throw new GpuError(
        `${what}: reading back failed${lost ? ` (device lost: ${lost.message})` : ''}: ${(e as Error).message}; ` +
          `the command buffer ran ${this.steps.length} dispatches (${this.steps[0]?.label} … ${this.steps.at(-1)?.label})`,
      );
    }
    const tMapped = performance.now();
    const out = new Map<string, Tensor>();
    try {
      const mapped = this.readback.getMappedRange();
      for (const r of this.reads) out.set(r.name, decode(mapped, r, ctx.precision));
    } finally {
      this.readback.unmap();
    }
    ctx.check(what);
    if (host) {
      const end = performance.now();
      host.timing = {
        write: tWritten - t0, encodeSubmit: tSubmitted - tWritten, errorScopes: tScoped - tSubmitted, wait: tMapped - tScoped,
        decode: end - tMapped, total: end - t0,
      };
    }
    return out;
  }

  destroy(): void {
    for (const b of this.arenas) b.destroy();
    this.uniforms.destroy();
    this.readback.destroy();
    if (this.timestamps) {
      this.timestamps.read.destroy();
      this.timestamps.resolve.destroy();
      this.timestamps.set.destroy();
    }
  }
}

/** Read-back bytes (NHWC, channels padded, f32 or f16) → NCHW f32 [n, c, h, w]. */
function decode(mapped: ArrayBuffer, r: ReadSpec, precision: Precision): Tensor {
  const { n, h, w, c, c4 } = r.sym;
  const count = n * h * w * c4 * 4;
  const src =
    precision === 'f16'
      ? f16BitsToF32(new Uint16Array(mapped.slice(r.offset, r.offset + count * 2)))
      : new Float32Array(mapped.slice(r.offset, r.offset + count * 4));
  const cp = c4 * 4;
  const hw = h * w;
  const dst = new Float32Array(n * c * hw);
  for (let b = 0; b < n; b++) {
    for (let p = 0; p < hw; p++) {
      const from = (b * hw + p) * cp;
      for (let ch = 0; ch < c; ch++) dst[(b * c + ch) * hw + p] = src[from + ch];
    }
  }
  return new Tensor([n, c, h, w], dst);
}

/**
 * A device, its weights and its cached plans. The engine runs ResNet forwards on it; tests run any
 * sequence of Backend ops through the same recorder and plan machinery.
 */
export class WebGpuRuntime {
  private readonly weights: WeightStore;
  private readonly dummy: GPUBuffer;
  private readonly plans = new Map<string, Promise<Plan>>();
  private queue: Promise<unknown> = Promise.resolve();
  /** Plans kept per runtime (least recently used evicted). */
  maxPlans = 4;
  /** The GEMM strategy per layer (a tuned table; candidates.ts); unset: the adapter's default. Set before the first run. */
  selector: KernelSelector | undefined;

  private constructor(readonly ctx: GpuContext) {
    this.weights = new WeightStore(ctx);
    this.dummy = ctx.device.createBuffer({ label: 'dummy residual', size: 16, usage: USAGE_STORAGE });
  }

  /** On a device of its own from `gpu`, or on the caller's GPUDevice (left alive by dispose). */
  static async create(gpu: GPU | GPUDevice, precision: Precision, limits: LimitOverrides = {}): Promise<WebGpuRuntime> {
    return new WebGpuRuntime(await GpuContext.create(gpu, precision, limits));
  }

  /** Bytes of GPU memory held: weights, and activations (slots, input, uniforms, read-back) of cached plans. */
  async gpuBytes(): Promise<{ weights: number; activations: number; total: number }> {
    let activations = 0;
    for (const p of this.plans.values()) activations += (await p.catch(() => null))?.bytes ?? 0;
    return { weights: this.weights.bytes, activations, total: this.weights.bytes + activations };
  }

  /** Upload the weights of a model now rather than at its first run. */
  preload(model: Network): void {
    for (const s of model.steps) {
      if (s.op === 'conv') this.weights.conv(s.conv, s.conv.conv);
      else if (s.op === 'linear') this.weights.linear(s.fc, 'fc');
    }
  }

  /**
   * Runs `program` (any sequence of Backend ops on the input, returning named outputs) on x. The plan
   * is recorded and built on the first call for `key` (which must determine the program and x's shape)
   * and reused afterwards. Runs are serialised. Options: `profile` receives each dispatch's GPU time;
   * `host` the run's host-side timing; `select` overrides the runtime's selector for this plan (the
   * key must then name it too).
   */
  run(
    key: string,
    x: Tensor,
    program: (b: Backend<Sym>, input: Sym) => ReadonlyMap<string, Sym>,
    opts: { profile?: StepTiming[]; host?: { timing?: HostTiming }; select?: KernelSelector } = {},
  ): Promise<Map<string, Tensor>> {
    const select = opts.select ?? this.selector;
    const job = this.queue.then(async () => {
      const full = `${key} [${x.shape.join('×')}]`;
      let plan = this.plans.get(full);
      if (!plan) {
        plan = this.record(full, x, program, select);
        this.plans.set(full, plan);
        plan.catch(() => this.plans.delete(full));
        while (this.plans.size > this.maxPlans) {
          const [oldest, p] = this.plans.entries().next().value as [string, Promise<Plan>];
          this.plans.delete(oldest);
          p.then((q) => q.destroy(), () => {});
        }
      } else {
        this.plans.delete(full); // most recently used goes last
        this.plans.set(full, plan);
      }
      return (await plan).run(x.data, `forward ${full}`, opts.profile, opts.host);
    });
    this.queue = job.catch(() => {});
    return job;
  }

  /** The GEMM-shaped layers `program` records on an input of x's shape, in order (records only: nothing runs). */
  layers(x: Tensor, program: (b: Backend<Sym>, input: Sym) => ReadonlyMap<string, Sym>): LayerShape[] {
    const seen: LayerShape[] = [];
    const rec = new Recorder(this.ctx, this.weights, this.dummy, (layer) => {
      seen.push(layer);
      return undefined;
    });
    program(rec, rec.input(x));
    return seen;
  }

  private async record(
    what: string,
    x: Tensor,
    program: (b: Backend<Sym>, input: Sym) => ReadonlyMap<string, Sym>,
    select: KernelSelector | undefined,
  ): Promise<Plan> {
    this.ctx.check(what);
    const rec = new Recorder(this.ctx, this.weights, this.dummy, select);
    const outputs = program(rec, rec.input(x));
    rec.settle();
    return Plan.build(this.ctx, rec, outputs, what);
  }

  dispose(): void {
    for (const p of this.plans.values()) p.then((q) => q.destroy(), () => {});
    this.plans.clear();
    this.weights.destroy();
    this.dummy.destroy();
    this.ctx.destroy();
  }
}

export interface WebGpuEngine extends Engine {
  readonly precision: Precision;
  /** The GEMM kernel and tile chosen for this adapter. */
  readonly kernelConfig: string;
  /** One forward with a timestamp around every dispatch (needs 'timestamp-query'): GPU ms per dispatch. */
  profile(x: Tensor): Promise<StepTiming[]>;
  /** One ordinary forward, timed on the host side (write, submit, error scopes, wait, decode). */
  hostTiming(x: Tensor): Promise<HostTiming>;
  /** Tunes the GEMM-shaped layers of a forward on x's shape (tune.ts) and stores the table; later engines use it. */
  tune(x: Tensor, opts?: TuneOptions): Promise<{ table: TuningTable; rows: TuneRow[] }>;
  /** The kernel choice per layer the forward on x's shape runs with (a tuned table's, else the default). */
  layerChoices(x: Tensor): Promise<Array<{ layer: string; choice: string }>>;
  /** GPU memory held: weights + activations of the cached plans (bytes). */
  gpuBytes(): Promise<{ weights: number; activations: number; total: number }>;
}

/**
 * The ResNet engine on WebGPU. `gpu` is navigator.gpu, or nodeGpu() from src/platform/node-gpu.ts.
 * `model` may be a promise (weights still being read): the device is acquired and every pipeline
 * compiled meanwhile, and the weights are packed straight into GPU memory once it resolves.
 */
export async function createWebGpuEngine(
  model: ResNetModel | Network | Promise<ResNetModel | Network>,
  gpu: GPU | GPUDevice,
  opts: {
    precision: Precision;
    limits?: LimitOverrides;
    /** Per-layer kernel tables (tune.ts); default 'cached'. */
    tuning?: TuningMode;
    tuningStore?: TuningStore;
    onNotice?: (message: string) => void;
  } = { precision: 'f32' },
): Promise<WebGpuEngine> {
  const weights = Promise.resolve(model).then(asNetwork);
  weights.catch(() => {}); // awaited below; a failed read must not count as unhandled meanwhile
  let runtime: WebGpuRuntime;
  try {
    runtime = await WebGpuRuntime.create(gpu, opts.precision, opts.limits);
  } catch (e) {
    throw (await weights.then(() => null, (err: unknown) => err)) ?? e; // a bad weights file is the news
  }
  const ctx = runtime.ctx;
  let loaded: Network;
  try {
    // One at a time, as everything that uses error scopes (they form one stack per device).
    for (const [kernel, defs] of Recorder.resnetKernels(ctx)) await ctx.pipeline(kernel, defs);
    loaded = await weights;
    await ctx.scoped('uploading weights', () => runtime.preload(loaded));
  } catch (e) {
    runtime.dispose();
    throw e;
  }
  let disposed = false;
  const program = (keep: ReadonlySet<StageName>) => (b: Backend<Sym>, input: Sym) => {
    const r = forward(b, loaded, input, keep);
    const m = new Map<string, Sym>([['features', r.features]]);
    if (r.logits) m.set('logits', r.logits);
    for (const [name, v] of r.stages) m.set(`stage:${name}`, v);
    return m;
  };
  const cfg = runtime.ctx.config;
  const tuning = new EngineTuning(runtime, opts.tuning ?? 'cached', opts.tuningStore,
    () => WebGpuRuntime.create(gpu, opts.precision, opts.limits), opts.onNotice ?? ((m) => console.warn(m)));
  const layersOf = (x: Tensor) => () => runtime.layers(x, program(new Set()));
  return {
    kernelConfig: `${cfg.gemmKernel} ${cfg.gemm.tm}×${4 * cfg.gemm.tn4} per invocation, workgroup ${cfg.gemm.wgX}×${cfg.gemm.wgY}, ${cfg.conv} convs`,
    async profile(x: Tensor): Promise<StepTiming[]> {
      if (disposed) throw new GpuError('the engine was disposed');
      checkInput(x, loaded);
      await tuning.prepare(x, layersOf(x));
      const out: StepTiming[] = [];
      await runtime.run('resnet keep=', x, program(new Set()), { profile: out });
      return out;
    },
    async hostTiming(x: Tensor): Promise<HostTiming> {
      if (disposed) throw new GpuError('the engine was disposed');
      checkInput(x, loaded);
      await tuning.prepare(x, layersOf(x));
      const host: { timing?: HostTiming } = {};
      await runtime.run('resnet keep=', x, program(new Set()), { host });
      return host.timing!;
    },
    tune(x: Tensor, o?: TuneOptions) {
      checkInput(x, loaded);
      return tuning.tune(layersOf(x)(), o);
    },
    async layerChoices(x: Tensor) {
      checkInput(x, loaded);
      await tuning.prepare(x, layersOf(x));
      return runtime.layers(x, program(new Set())).map((l) => ({ layer: layerKey(l), choice: choiceName(runtime.selector?.(l) ?? cfg) }));
    },
    device: `webgpu (${runtime.ctx.adapterName}, ${opts.precision})`,
    precision: opts.precision,
    gpuBytes: () => runtime.gpuBytes(),
    async run(x: Tensor, keep: ReadonlySet<StageName> = new Set()): Promise<EngineOutput> {
      if (disposed) throw new GpuError('the engine was disposed');
      checkInput(x, loaded);
      await tuning.prepare(x, layersOf(x));
      const kept = [...keep].sort();
      const outs = await runtime.run(`resnet keep=${kept.join(',')}`, x, program(keep));
      const flat = (t: Tensor) => t.reshape([t.shape[0], t.shape[1]]);
      const stages = new Map<StageName, Tensor>();
      for (const [name, t] of outs) if (name.startsWith('stage:')) stages.set(name.slice(6) as StageName, t);
      const logits = outs.get('logits');
      return { features: flat(outs.get('features')!), logits: logits ? flat(logits) : null, stages };
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      runtime.dispose();
    },
  };
}
