// Which GEMM strategy and tile runs each GEMM-shaped layer (conv or fc): the layer shapes a plan
// asks about, the candidates an adapter can run, and the selector the executor's Recorder consults
// (a tuned table, else the adapter's default from chooseConfig).
import {
  panelWidth,
  workgroupBytes,
  type GemmChoice,
  type GemmTile,
  type KernelConfig,
} from './kernels.ts';

/** One GEMM-shaped layer as the GPU sees it: NHWC input n × h × w × 4·c4, kernel k×k, output 4·n4 channels. */
export interface LayerShape {
  readonly op: 'conv' | 'fc';
  readonly n: number;
  readonly h: number;
  readonly w: number;
  readonly c: number;
  readonly k: number;
  readonly stride: number;
  readonly pad: number;
  readonly cout: number;
}

/** A stable text key of a layer shape (batch included): the tuning table's key. */
export function layerKey(s: LayerShape): string {
  return s.op === 'fc'
    ? `fc ${s.c}→${s.cout} n${s.n}`
    : `conv ${s.k}×${s.k}/${s.stride} p${s.pad} ${s.c}→${s.cout} @${s.h}×${s.w} n${s.n}`;
}

/** GEMM dimensions of a layer: M output pixels, K and N (channels padded to 4). */
export function layerGemm(s: LayerShape): { m: number; k: number; n: number } {
  const oh = Math.floor((s.h + 2 * s.pad - s.k) / s.stride) + 1;
  const ow = Math.floor((s.w + 2 * s.pad - s.k) / s.stride) + 1;
  return { m: s.n * oh * ow, k: s.k * s.k * 4 * Math.ceil(s.c / 4), n: 4 * Math.ceil(s.cout / 4) };
}

/** The selector the Recorder consults per layer; undefined = the adapter's default. */
export type KernelSelector = (layer: LayerShape) => GemmChoice | undefined;

/** A short human name of a choice, e.g. "gemm_wg 4×8/16×8 bk16". */
export function choiceName(c: GemmChoice): string {
  const g = c.gemm;
  const base = `${c.gemmKernel} ${g.tm}×${4 * g.tn4}/${g.wgX}×${g.wgY}`;
  return c.gemmKernel === 'gemm_wg' ? `${base} bk${4 * (g.bk4 ?? 4)}` : base;
}

/** Workgroup-memory tiles tried by tuning (filtered by the device's limits). */
const WG_TILES: readonly GemmTile[] = [
  { tm: 4, tn4: 1, wgX: 16, wgY: 16, bk4: 4 }, // 64 × 64 per workgroup, 4×4 per invocation
  { tm: 4, tn4: 2, wgX: 16, wgY: 8, bk4: 4 }, // 64 × 64, 4×8
  { tm: 8, tn4: 2, wgX: 16, wgY: 8, bk4: 2 }, // 128 × 64, 8×8
  { tm: 4, tn4: 2, wgX: 16, wgY: 16, bk4: 2 }, // 64 × 128, 4×8
  { tm: 8, tn4: 2, wgX: 16, wgY: 16, bk4: 2 }, // 128 × 128, 8×8
  { tm: 2, tn4: 1, wgX: 8, wgY: 8, bk4: 4 }, // 16 × 32: small layers
];

export interface DeviceBounds {
  readonly maxInvocations: number;
  readonly maxWorkgroupStorage: number;
}

/**
 * Every choice tuning times on this device: the adapter's default first (so a tuned plan is never
 * slower than the default), then the workgroup-memory tiles that fit its limits. Register-tiled
 * kernels other than the default would need the weights packed in other panels, so they are not
 * per-layer candidates.
 */
export function candidates(config: KernelConfig, bounds: DeviceBounds): GemmChoice[] {
  const out: GemmChoice[] = [{ gemmKernel: config.gemmKernel, gemm: config.gemm }];
  for (const gemm of WG_TILES) {
    if (gemm.wgX * gemm.wgY > bounds.maxInvocations || workgroupBytes(gemm) > bounds.maxWorkgroupStorage) continue;
    if (config.gemmKernel === 'gemm_wg' && choiceName(config) === choiceName({ gemmKernel: 'gemm_wg', gemm })) continue;
    out.push({ gemmKernel: 'gemm_wg', gemm });
  }
  return out;
}

/** A choice the Recorder can run with the weights packed for `config` (register tiles must share its panels). */
export function runnable(choice: GemmChoice, config: KernelConfig): boolean {
  return choice.gemmKernel === 'gemm_wg' || (choice.gemmKernel === config.gemmKernel && panelWidth(choice) === panelWidth(config));
}
