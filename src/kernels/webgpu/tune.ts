// Tuning on the user's adapter: for every distinct GEMM-shaped layer of a plan, each candidate kernel
// and tile (candidates.ts: the adapter's default first) is validated once against the CPU reference
// and timed; the fastest valid one wins. Tables are kept per adapter (vendor, architecture, device,
// driver description), precision and batch size in a TuningStore ($RESNET50_CACHE under Node and Deno,
// IndexedDB in browsers). Layers are timed with seeded random weights of their shape: speed does not
// depend on the values.
import { CpuBackend } from '../cpu/backend.ts';
import { randomFoldedConv, randomInput, randomLinear } from '../../nn/random.ts';
import { errorStats } from '../../tensor/compare.ts';
import { Tensor } from '../../tensor/tensor.ts';
import { candidates, choiceName, layerGemm, layerKey, runnable, type KernelSelector, type LayerShape } from './candidates.ts';
import type { Backend } from '../../nn/backend.ts';
import type { StepTiming, Sym, WebGpuRuntime } from './executor.ts';
import type { GemmChoice, GemmKernel, KernelConfig, Precision } from './kernels.ts';

/** What identifies an adapter for tuning: a driver update or another GPU tunes again. */
export interface AdapterId {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
}

export function adapterId(info: GPUAdapterInfo | undefined): AdapterId {
  return { vendor: info?.vendor ?? '', architecture: info?.architecture ?? '', device: info?.device ?? '', description: info?.description ?? '' };
}

/** One tuned table: the winning choice per layer key, for one adapter, precision and batch size. */
export interface TuningTable {
  readonly format: 'resnet50-webgpu-tuning';
  readonly version: 1;
  readonly adapter: AdapterId;
  readonly precision: Precision;
  readonly batch: number;
  readonly date: string;
  readonly layers: Readonly<Record<string, GemmChoice>>;
}

/** Where tables live; `key` is tableKey(...), safe as a file name. */
export interface TuningStore {
  /** For messages: the folder or database. */
  readonly where: string;
  load(key: string): Promise<unknown | null>;
  save(key: string, table: TuningTable): Promise<void>;
}

/** FNV-1a, 32 bits, as 8 hex digits. */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** A file-name-safe key: readable adapter slug + a hash of the full identity, precision, batch. */
export function tableKey(adapter: AdapterId, precision: Precision, batch: number): string {
  const full = JSON.stringify([adapter.vendor, adapter.architecture, adapter.device, adapter.description]);
  const slug = `${adapter.vendor}-${adapter.architecture}`.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40);
  return `${slug || 'adapter'}-${fnv1a(full)}-${precision}-b${batch}`;
}

const KERNELS: readonly GemmKernel[] = ['gemm', 'gemm_sg', 'gemm_wg'];

function isChoice(c: unknown): c is GemmChoice {
  const x = c as GemmChoice;
  const g = x?.gemm as unknown as Record<string, unknown>;
  const int = (v: unknown) => Number.isInteger(v) && (v as number) > 0 && (v as number) <= 1024;
  return KERNELS.includes(x?.gemmKernel) && !!g && ['tm', 'tn4', 'wgX', 'wgY'].every((k) => int(g[k])) && (g.bk4 === undefined || int(g.bk4));
}

/** A stored table, checked: the table, or the reason it cannot be used. */
export function parseTable(raw: unknown, adapter: AdapterId, precision: Precision, batch: number): TuningTable | string {
  const t = raw as TuningTable;
  if (t?.format !== 'resnet50-webgpu-tuning' || t.version !== 1) return 'not a resnet50-webgpu tuning table (format/version)';
  if (JSON.stringify(adapterId(t.adapter as unknown as GPUAdapterInfo)) !== JSON.stringify(adapter)) return 'made on another adapter';
  if (t.precision !== precision || t.batch !== batch) return `made for ${t.precision} batch ${t.batch}`;
  if (typeof t.layers !== 'object' || t.layers === null || !Object.values(t.layers).every(isChoice)) return 'a layer entry is malformed';
  return t;
}

/** The selector of a set of tables (one per batch size): a layer's tuned choice, else undefined (the default). */
export function tableSelector(tables: ReadonlyMap<number, TuningTable>, config: KernelConfig): KernelSelector {
  return (layer) => {
    const c = tables.get(layer.n)?.layers[layerKey(layer)];
    return c && runnable(c, config) ? c : undefined;
  };
}

/** One candidate's result on one layer. */
export interface CandidateResult {
  readonly choice: string;
  /** Median GPU ms (timestamp queries) or wall ms (without them); null when it failed. */
  readonly ms: number | null;
  /** Max |error| / max |expected| against the CPU reference, image 0. */
  readonly maxRel: number | null;
  readonly error?: string;
}

export interface TuneRow {
  readonly layer: string;
  readonly gemm: { m: number; k: number; n: number };
  /** How many layers of the plan have this shape. */
  readonly count: number;
  readonly results: readonly CandidateResult[];
  readonly winner: string;
  readonly defaultMs: number | null;
  readonly winnerMs: number | null;
}

export interface TuneOptions {
  /** Timed runs per candidate after one warm-up (median; default 5). */
  readonly runs?: number;
  readonly onRow?: (row: TuneRow) => void;
}

const TOL: Record<Precision, number> = { f32: 1e-4, f16: 1e-2 };

/**
 * Tunes the distinct layers of `layers` (as WebGpuRuntime.layers lists them; one batch size) on
 * `runtime`'s adapter. Returns the table (the winners) and a row per distinct layer.
 */
export async function tuneLayers(
  runtime: WebGpuRuntime, layers: readonly LayerShape[], opts: TuneOptions = {},
): Promise<{ table: TuningTable; rows: TuneRow[] }> {
  const ctx = runtime.ctx;
  const runs = opts.runs ?? 5;
  const timestamps = ctx.device.features.has('timestamp-query');
  const distinct = new Map<string, { layer: LayerShape; count: number }>();
  for (const l of layers) {
    const e = distinct.get(layerKey(l));
    if (e) e.count++;
    else distinct.set(layerKey(l), { layer: l, count: 1 });
  }
  const batch = layers[0]?.n ?? 1;
  const cands = candidates(ctx.config, ctx);
  const rows: TuneRow[] = [];
  const winners: Record<string, GemmChoice> = {};
  let seed = 1;
  for (const [key, { layer, count }] of distinct) {
    const { n, h, w, c, k, stride, pad, cout } = layer;
    const op = layer.op === 'fc' ? randomLinear(c, cout, seed++) : randomFoldedConv(c, cout, k, stride, pad, seed++);
    const x = new Tensor([n, c, h, w], randomInput([n, c, h, w], seed++));
    // The CPU reference on image 0 (NCHW: the first image's values come first on both sides).
    const x0 = new Tensor([1, c, h, w], x.data.subarray(0, c * h * w));
    const cpu = new CpuBackend();
    const ref = 'kernel' in op ? cpu.conv2d(x0, op, { relu: true }).data : cpu.linear(x0.reshape([1, c]), op).data;
    const results: CandidateResult[] = [];
    for (const choice of cands) {
      const name = choiceName(choice);
      const program = (b: Backend<Sym>, v: Sym) =>
        new Map([['y', 'kernel' in op ? b.conv2d(v, op, { relu: true }) : b.linear(v, op)]]);
      const runOnce = async (profile?: StepTiming[]) =>
        (await runtime.run(`tune ${key} ${name}`, x, program, { profile, select: () => choice })).get('y')!;
      try {
        const y = await runOnce();
        const s = errorStats(y.data.subarray(0, ref.length), ref);
        const maxRel = s.maxExpected > 0 ? s.maxAbs / s.maxExpected : s.maxAbs;
        if (!(maxRel <= TOL[ctx.precision])) {
          results.push({ choice: name, ms: null, maxRel, error: `max-rel ${maxRel.toExponential(2)} over ${TOL[ctx.precision]}` });
          continue;
        }
        const times: number[] = [];
        for (let r = 0; r < runs; r++) {
          if (timestamps) {
            const steps: StepTiming[] = [];
            await runOnce(steps);
            times.push(steps.filter((t) => t.flops > 0).reduce((a, t) => a + t.ms, 0));
          } else {
            const t0 = performance.now();
            await runOnce();
            times.push(performance.now() - t0);
          }
        }
        times.sort((a, b) => a - b);
        results.push({ choice: name, ms: times[Math.floor(times.length / 2)], maxRel });
      } catch (e) {
        results.push({ choice: name, ms: null, maxRel: null, error: (e as Error).message.split('\n')[0] });
      }
    }
    let best = 0;
    results.forEach((r, i) => {
      if (r.ms !== null && (results[best].ms === null || r.ms < results[best].ms!)) best = i;
    });
    winners[key] = cands[best];
    const row: TuneRow = {
      layer: key, gemm: layerGemm(layer), count, results, winner: results[best].choice,
      defaultMs: results[0].ms, winnerMs: results[best].ms,
    };
    rows.push(row);
    opts.onRow?.(row);
  }
  const table: TuningTable = {
    format: 'resnet50-webgpu-tuning', version: 1, adapter: adapterId(ctx.adapterInfo), precision: ctx.precision, batch,
    date: new Date().toISOString(), layers: winners,
  };
  return { table, rows };
}

/** How an engine uses tuning: 'cached' (default) a stored table when there is one, else the adapter's default; 'off' never; 'tune' tunes a batch size that has none (then stores it). */
export type TuningMode = 'cached' | 'off' | 'tune';

/**
 * An engine's tuning: before the first plan of a batch size, looks up its table (and in mode 'tune'
 * makes one) and installs it as the runtime's selector. Tuning runs on a runtime of its own (the
 * random layers' weights never enter the engine's memory), created and disposed per tuning.
 */
export class EngineTuning {
  private readonly tables = new Map<number, TuningTable>();
  private readonly prepared = new Map<number, Promise<void>>();

  constructor(
    private readonly runtime: WebGpuRuntime,
    private readonly mode: TuningMode,
    private readonly store: TuningStore | undefined,
    private readonly tuningRuntime: () => Promise<WebGpuRuntime>,
    private readonly onNotice: (message: string) => void,
  ) {
    if (mode !== 'off') runtime.selector = tableSelector(this.tables, runtime.ctx.config);
  }

  private key(batch: number): string {
    return tableKey(adapterId(this.runtime.ctx.adapterInfo), this.runtime.ctx.precision, batch);
  }

  /** The table stored for this batch size, or null (a malformed one is reported and ignored). */
  async cached(batch: number): Promise<TuningTable | null> {
    if (!this.store) return null;
    const key = this.key(batch);
    const raw = await this.store.load(key).catch((e: Error) => {
      this.onNotice(`tuning table ${key} in ${this.store!.where} unreadable (${e.message}); using the default kernels`);
      return null;
    });
    if (raw === null) return null;
    const ctx = this.runtime.ctx;
    const t = parseTable(raw, adapterId(ctx.adapterInfo), ctx.precision, batch);
    if (typeof t === 'string') {
      this.onNotice(`tuning table ${key} in ${this.store.where} ignored: ${t}; run \`resnet50 tune\` again`);
      return null;
    }
    return t;
  }

  /** Called before each run: the first run of a batch size looks up (or tunes) its table. */
  prepare(x: Tensor, layers: () => LayerShape[]): Promise<void> {
    const batch = x.shape[0];
    if (this.mode === 'off') return Promise.resolve();
    let p = this.prepared.get(batch);
    if (!p) {
      p = (async () => {
        const t = (await this.cached(batch)) ?? (this.mode === 'tune' ? (await this.tune(layers())).table : null);
        if (t) this.tables.set(batch, t);
      })();
      this.prepared.set(batch, p);
      p.catch(() => this.prepared.delete(batch));
    }
    return p;
  }

  /** Tunes these layers (one batch size) on a runtime of its own and stores the table. */
  async tune(layers: readonly LayerShape[], opts: TuneOptions = {}): Promise<{ table: TuningTable; rows: TuneRow[] }> {
    const rt = await this.tuningRuntime();
    let result;
    try {
      result = await tuneLayers(rt, layers, opts);
    } finally {
      rt.dispose();
    }
    await this.store?.save(this.key(result.table.batch), result.table);
    return result;
  }
}
