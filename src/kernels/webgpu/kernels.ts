/// <reference types="@webgpu/types" />
// Thin wrappers over shaders/*.wgsl: WGSL text generation (a preamble with the storage type and the
// tile and workgroup sizes, then the shader body), uniform parameter packing, dispatch sizes, and the
// host-side packing of conv and fc weights into the GEMM's B layout.
//
// Layouts on the GPU (see each .wgsl's header):
//   activations NHWC, channels zero-padded to a multiple of 4 (C4 groups of 4 per pixel), stored as
//   f32 or as IEEE halves (S4 in the preamble);
//   GEMM weights B [K, N] with k = (ky·KW + kx)·4·C4in + ci and N = 4·C4out, stored in column panels
//   of WG_Y·TN4 groups of 4 (see gemm.wgsl); biases f32 [4·C4out].
import type { FoldedConv, Linear } from '../../nn/model.ts';
import { f32BitsToF16Bits } from '../../tensor/tensor.ts';
import { SHADERS } from './shaders.gen.ts';

export type Precision = 'f32' | 'f16';

/**
 * GEMM register tile: TM rows × 4·TN4 columns per invocation, WG_X (along M) × WG_Y (along N)
 * invocations per workgroup.
 */
export interface GemmTile {
  readonly tm: number;
  readonly tn4: number;
  readonly wgX: number;
  readonly wgY: number;
  /** gemm_wg only: the K-slab staged in workgroup memory, in vec4s (4·bk4 k-values; default 4). */
  readonly bk4?: number;
}

/**
 * The GEMM strategies: 'gemm' (register-tiled, portable), 'gemm_sg' (8-wide subgroups sharing B
 * loads; CPU adapters), 'gemm_wg' (workgroup-memory tiled, double-buffered K-slabs; GPUs). Each has
 * an implicit-GEMM conv counterpart (convKernel).
 */
export type GemmKernel = 'gemm' | 'gemm_sg' | 'gemm_wg';

/** A GEMM strategy with its tile: what runs one GEMM or conv. */
export interface GemmChoice {
  readonly gemmKernel: GemmKernel;
  readonly gemm: GemmTile;
}

/**
 * How convs other than 1×1 stride-1 run: 'implicit' (conv.wgsl / conv_sg.wgsl: im2col folded into
 * the GEMM's A loads, no scratch buffer) or 'im2col' (im2col.wgsl into a scratch buffer, then the
 * GEMM: the readable reference).
 */
export type ConvPath = 'implicit' | 'im2col';

export interface KernelConfig extends GemmChoice {
  readonly conv: ConvPath;
  /** Workgroup size of the one-invocation-per-vec4 kernels (im2col, pools, layout change). */
  readonly wg1d: number;
}

/** What chooseConfig looks at. */
export interface AdapterTraits {
  readonly info: GPUAdapterInfo | undefined;
  readonly maxInvocations: number;
  /** The device has the 'subgroups' feature enabled. */
  readonly subgroups: boolean;
}

/**
 * Tile sizes per adapter. CPU adapters (lavapipe/llvmpipe, SwiftShader) run a workgroup on one core,
 * vectorised across invocations: big register tiles and no workgroup memory win there, and with
 * 8-wide subgroups (lavapipe on AVX2) gemm_sg shares B loads across the lanes. Real GPUs get smaller
 * per-invocation tiles and more invocations. All stay within 256 invocations per workgroup.
 */
export function chooseConfig(t: AdapterTraits): KernelConfig {
  const info = t.info;
  const cpu = isCpuAdapter(info);
  const sg8 = info?.subgroupMinSize === 8 && info?.subgroupMaxSize === 8;
  const wg1d = Math.min(cpu ? 64 : 256, t.maxInvocations);
  const conv: ConvPath = 'implicit';
  if (cpu && t.subgroups && sg8) return { gemmKernel: 'gemm_sg', gemm: { tm: 4, tn4: 4, wgX: 8, wgY: 1 }, conv, wg1d };
  // GPUs: 4 rows × 8 columns per invocation, 8 × 16 invocations. Chosen by the H100 tile sweep in
  // bench/RESULTS-h100.md (end to end: batch 1 11 ms, batch 32 40 ms, vs 13 ms and 56 ms for 4×4 per
  // invocation in 16 × 16); measured on no other GPU yet.
  const gemm: GemmTile = cpu ? { tm: 8, tn4: 2, wgX: 8, wgY: 8 } : { tm: 4, tn4: 2, wgX: 8, wgY: 16 };
  let { wgX, wgY } = gemm;
  while (wgX * wgY > Math.min(256, t.maxInvocations)) {
    if (wgY >= wgX) wgY /= 2;
    else wgX /= 2;
  }
  return { gemmKernel: 'gemm', gemm: { ...gemm, wgX, wgY }, conv, wg1d };
}

/** lavapipe/llvmpipe, SwiftShader and other adapters that run shaders on the CPU. */
export function isCpuAdapter(info: GPUAdapterInfo | undefined): boolean {
  const text = `${info?.vendor ?? ''} ${info?.architecture ?? ''} ${info?.description ?? ''} ${info?.device ?? ''}`.toLowerCase();
  return /llvmpipe|lavapipe|swiftshader|software|cpu/.test(text);
}

/** The implicit-GEMM conv kernel matching a GEMM kernel (same tile, same weight panels). */
export function convKernel(c: GemmChoice): 'conv' | 'conv_sg' | 'conv_wg' {
  return c.gemmKernel === 'gemm_sg' ? 'conv_sg' : c.gemmKernel === 'gemm_wg' ? 'conv_wg' : 'conv';
}

/** The B panel width (vec4 columns) a register-tiled kernel reads, and the weight store packs. */
export function panelWidth(c: GemmChoice): number {
  return c.gemm.wgY * c.gemm.tn4;
}

/**
 * The GEMM kernel's compile-time constants. `pw`: the weights' panel width (the register-tiled kernels
 * read only panels of their own width; gemm_wg reads any).
 */
export function gemmDefs(c: GemmChoice, pw = panelWidth(c)): Record<string, number> {
  const g = c.gemm;
  if (c.gemmKernel === 'gemm_sg') return { TM: g.tm, TN4: g.tn4 };
  if (c.gemmKernel === 'gemm_wg') return { TM: g.tm, TN4: g.tn4, WG_X: g.wgX, WG_Y: g.wgY, BK4: g.bk4 ?? 4, PW: pw };
  return { TM: g.tm, TN4: g.tn4, WG_X: g.wgX, WG_Y: g.wgY };
}

/** Workgroup memory (bytes) a gemm_wg tile stages: two f32 slabs each of A and B. */
export function workgroupBytes(g: GemmTile): number {
  const bk4 = g.bk4 ?? 4;
  return 2 * 16 * (g.wgX * g.tm * bk4 + 4 * bk4 * g.wgY * g.tn4);
}

/** Kernels generated from several shader files: the kernel body, then its A-operand strategy. */
const COMPOSED: Readonly<Record<string, readonly string[]>> = {
  gemm_wg: ['gemm_wg', 'gemm_a_matrix'],
  conv_wg: ['gemm_wg', 'gemm_a_im2col'],
};

export function bytesPerElement(precision: Precision): number {
  return precision === 'f16' ? 2 : 4;
}

/** A kernel's WGSL: generated preamble (storage type S4 with load4/store4, u32 constants) + the shader's text. */
export function kernelSource(
  name: string,
  precision: Precision,
  defs: Readonly<Record<string, number>>,
  enableSubgroups = true,
): string {
  const parts = (COMPOSED[name] ?? [name]).map((part) => SHADERS[part]);
  if (parts.some((p) => p === undefined)) throw new Error(`unknown WGSL kernel '${name}' (shaders.gen.ts is stale?)`);
  const kernel = parts.join('\n');
  // The GEMM-shaped kernels share their parameters, bindings and write-out: gemm_io.wgsl.
  const body = /\bwrite_tile\(/.test(kernel) ? `${kernel}\n${SHADERS.gemm_io}` : kernel;
  const lines: string[] = [];
  // Dawn requires `enable subgroups;`; wgpu (Deno) rejects it but accepts the builtins without it.
  if (enableSubgroups && /\bsubgroupBroadcast\b/.test(body)) lines.push('enable subgroups;');
  // S4: how 4 stored values are declared; load4 / store4 convert to and from vec4<f32>, where all
  // arithmetic happens. f16 values are read and written as packed u32 pairs (WGSL's
  // unpack2x16float / pack2x16float): on lavapipe every load costs the same per lane whatever its
  // width, so 2 words beat 4 halves.
  if (precision === 'f16') {
    lines.push(
      'alias S4 = vec2<u32>;',
      'fn load4(v: S4) -> vec4<f32> { return vec4<f32>(unpack2x16float(v.x), unpack2x16float(v.y)); }',
      'fn store4(v: vec4<f32>) -> S4 { return S4(pack2x16float(v.xy), pack2x16float(v.zw)); }',
    );
  } else {
    lines.push('alias S4 = vec4<f32>;', 'fn load4(v: S4) -> vec4<f32> { return v; }', 'fn store4(v: vec4<f32>) -> S4 { return v; }');
  }
  for (const [k, v] of Object.entries(defs)) {
    if (!Number.isInteger(v) || v <= 0) throw new Error(`kernel ${name}: constant ${k} must be a positive integer, got ${v}`);
    lines.push(`const ${k}: u32 = ${v}u;`);
  }
  return `${lines.join('\n')}\n${body}`;
}

/** Linear workgroup count → dispatch (x, y), folding past maxPerDim into a second dimension. */
export function foldGroups(groups: number, maxPerDim: number): [number, number] {
  if (groups <= maxPerDim) return [Math.max(groups, 1), 1];
  const y = Math.ceil(groups / maxPerDim);
  if (y > maxPerDim) throw new Error(`dispatch of ${groups} workgroups exceeds ${maxPerDim}² even when folded`);
  return [Math.ceil(groups / y), y];
}

// ---- Uniform parameters (u32 words; each kernel's Params struct in its .wgsl, gemm_io.wgsl's for the GEMMs) ----

/** Where a GEMM dispatch writes its n4 vec4 columns: from vec4 column col4 of output rows ldc4 vec4s long. */
export interface OutputColumns {
  readonly col4: number;
  readonly ldc4: number;
}

/**
 * Uniforms of gemm.wgsl / gemm_sg.wgsl / gemm_wg.wgsl (gemm_io.wgsl's Params, its conv geometry left
 * zero). `out`: a column block's place in the full output (default: the whole row, col4 0, ldc4 n4).
 */
export function gemmParams(
  tile: GemmTile, m: number, k4: number, n4: number, relu: boolean, residual: boolean,
  out: OutputColumns = { col4: 0, ldc4: n4 },
) {
  const tilesN = Math.ceil(n4 / (tile.wgY * tile.tn4));
  const tilesM = Math.ceil(m / (tile.wgX * tile.tm));
  const flags = (relu ? 1 : 0) | (residual ? 2 : 0);
  const words = new Uint32Array(16);
  words.set([m, k4, n4, flags, tilesN, tilesM]);
  words.set([out.col4, out.ldc4], 14);
  return { words, groups: tilesN * tilesM };
}

/** Uniforms of conv.wgsl / conv_sg.wgsl (implicit GEMM): the GEMM's, with the conv geometry. */
export function convParams(
  tile: GemmTile, n: number, h: number, w: number, c4: number, oh: number, ow: number, k: number, stride: number, pad: number,
  n4: number, relu: boolean, residual: boolean,
) {
  const g = gemmParams(tile, n * oh * ow, k * k * c4, n4, relu, residual);
  g.words.set([h, w, c4, oh, ow, k, stride, pad], 6);
  return g;
}

export function im2colParams(
  wg: number, n: number, h: number, w: number, c4: number, oh: number, ow: number, k: number, stride: number, pad: number,
) {
  const m = n * oh * ow;
  return { words: Uint32Array.of(m, h, w, c4, oh, ow, k, stride, pad, k * k * c4, 0, 0), groups: Math.ceil(m / wg) };
}

export function maxPoolParams(
  wg: number, n: number, h: number, w: number, c4: number, oh: number, ow: number, zeroPadding = false,
) {
  const total = n * oh * ow * c4;
  return { words: Uint32Array.of(total, h, w, c4, oh, ow, zeroPadding ? 1 : 0, 0), groups: Math.ceil(total / wg) };
}

/** avgpool.wgsl: k×k windows with stride k ⌊H/k⌋ × ⌊W/k⌋ outputs, or k = 0: the global pool (one H×W window). */
export function avgPoolParams(wg: number, n: number, h: number, w: number, c4: number, k = 0) {
  const [kh, kw] = k === 0 ? [h, w] : [k, k];
  const [oh, ow] = [Math.floor(h / kh), Math.floor(w / kw)];
  const total = n * oh * ow * c4;
  const words = Uint32Array.of(total, h, w, c4, oh, ow, kh, kw, 0, 0, 0, 0);
  new Float32Array(words.buffer)[8] = 1 / (kh * kw);
  return { words, groups: Math.ceil(total / wg) };
}

/** groupnorm_stats.wgsl: one workgroup per (image, group) of images n0 … n0 + n − 1. */
export function groupNormStatsParams(n: number, hw: number, c4: number, cg: number, g: number, n0: number, eps: number) {
  const words = Uint32Array.of(n * g, hw, c4, cg, g, n0, 0, 0);
  new Float32Array(words.buffer)[6] = eps;
  return { words, groups: n * g };
}

/** groupnorm_apply.wgsl: one invocation per output vec4. */
export function groupNormApplyParams(wg: number, n: number, hw: number, c4: number, cg: number, g: number, n0: number, relu: boolean) {
  const total = n * hw * c4;
  return { words: Uint32Array.of(total, hw, c4, cg, g, n0, relu ? 1 : 0, 0), groups: Math.ceil(total / wg) };
}

/** attention_tokens.wgsl: one invocation per output vec4 of [n, l, c4]. */
export function attentionTokensParams(wg: number, n: number, l: number, c4: number) {
  const total = n * l * c4;
  return { words: Uint32Array.of(total, l, c4, 0), groups: Math.ceil(total / wg) };
}

/** attention.wgsl: one workgroup per image; c channels in heads of d, kv4 vec4s per token of kv. */
export function attentionParams(n: number, l: number, c: number, d: number, c4: number, kv4: number) {
  return { words: Uint32Array.of(n, l, c, d, c4, kv4, 0, 0), groups: n };
}

export function toNhwcParams(wg: number, n: number, c: number, hw: number, c4: number) {
  const total = n * hw * c4;
  return { words: Uint32Array.of(total, c, hw, c4), groups: Math.ceil(total / wg) };
}

// ---- Weights ----

/**
 * How one GEMM weight matrix is laid out on the GPU: B [K, N] in column panels (see gemm.wgsl) plus
 * its bias. `fill` writes B into a zeroed array of `length` values, f32 or f16 bit patterns (a mapped
 * GPU buffer: the weights are copied once, from the file's values straight into GPU memory).
 */
export interface GemmPacking {
  readonly k4: number;
  readonly n4: number;
  /** Values of B: [N4p / panel, K, 4·panel] with K = 4·k4. */
  readonly length: number;
  /** f32 [4·n4]. */
  readonly bias: Float32Array;
  fill(out: Float32Array | Uint16Array): void;
}

/** One f32 for rounding a product to f32 before it is rounded to f16 (as an f32 array would). */
const roundF32 = new Float32Array(1);
const roundF32Bits = new Uint32Array(roundF32.buffer);

/**
 * Writes B[p][k][c] = W[n][src(k)] · scale[n] with n = 4·panel·p + c, where W is row-major with
 * `rowLength` values per output n and `sourceOf[k]` is the source column of B's row k (−1 for a zero
 * padding row). K = 4·k4; columns past nReal stay zero. Into a Uint16Array, as f16 bit patterns.
 */
function packPanels(
  out: Float32Array | Uint16Array, k4: number, nReal: number, panel: number, w: Float32Array, rowLength: number,
  sourceOf: Int32Array, scale: Float64Array | null,
): void {
  const pw = 4 * panel;
  const kk = 4 * k4;
  const half = out instanceof Uint16Array;
  for (let n = 0; n < nReal; n++) {
    const p = Math.floor(n / pw);
    const base = p * kk * pw + (n - p * pw);
    const row = n * rowLength;
    const s = scale ? scale[n] : 1;
    for (let k = 0; k < kk; k++) {
      const src = sourceOf[k];
      if (src < 0) continue;
      if (!half) {
        out[base + k * pw] = w[row + src] * s;
      } else {
        roundF32[0] = w[row + src] * s;
        out[base + k * pw] = f32BitsToF16Bits(roundF32Bits[0]);
      }
    }
  }
}

function panelsLength(k4: number, n4: number, panel: number): number {
  return Math.ceil(n4 / panel) * 4 * k4 * 4 * panel;
}

function paddedBias(bias: Float32Array, n4: number): Float32Array {
  const out = new Float32Array(4 * n4);
  out.set(bias);
  return out;
}

/**
 * OIHW conv weights → B with k = (ky·KW + kx)·4·C4in + ci (zero rows for padded channels), in panels
 * of `panel` vec4 columns. A conv whose BatchNorm fold was deferred is scaled while packing.
 */
export function convPacking(conv: FoldedConv, panel: number): GemmPacking {
  const { inChannels: cin, outChannels: cout, kernel: k } = conv;
  const c4 = Math.ceil(cin / 4);
  const cp = 4 * c4;
  const k4 = k * k * c4;
  const n4 = Math.ceil(cout / 4);
  return {
    k4,
    n4,
    length: panelsLength(k4, n4, panel),
    bias: paddedBias(conv.bias, n4),
    fill(out) {
      // Row k of B ↔ (tap, ci); its source within an output channel's OIHW row is ci·k·k + tap.
      const sourceOf = Int32Array.from({ length: 4 * k4 }, (_, row) => {
        const tap = Math.floor(row / cp);
        const ci = row - tap * cp;
        return ci < cin ? ci * k * k + tap : -1;
      });
      const { weight, scale } = conv.unscaled ?? { weight: conv.weight, scale: null };
      packPanels(out, k4, cout, panel, weight, cin * k * k, sourceOf, scale);
    },
  };
}

/** fc weight [out, in] → B [in (padded to 4), out], in panels of `panel` vec4 columns. */
export function linearPacking(fc: Linear, panel: number): GemmPacking {
  const k4 = Math.ceil(fc.inFeatures / 4);
  const n4 = Math.ceil(fc.outFeatures / 4);
  return {
    k4,
    n4,
    length: panelsLength(k4, n4, panel),
    bias: paddedBias(fc.bias, n4),
    fill(out) {
      const sourceOf = Int32Array.from({ length: 4 * k4 }, (_, row) => (row < fc.inFeatures ? row : -1));
      packPanels(out, k4, fc.outFeatures, panel, fc.weight, fc.inFeatures, sourceOf, null);
    },
  };
}
