// What every peer runner shares: the Peer interface, the default artifact paths under the git-ignored
// bench/out/peers/, making those artifacts (weights, ONNX export, CPU reference logits) on demand, and
// the error measure used against our CPU reference.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { runCpu } from '../../src/kernels/cpu/backend.ts';
import { randomInput, randomResNet } from '../../src/nn/random.ts';
import { RESNET50 } from '../../src/nn/spec.ts';
import { errorStats } from '../../src/tensor/compare.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { ROOT } from '../child.ts';
import { writeSeededWeights } from './write-seeded-weights.ts';

export { ROOT };
export const OUT_DIR = join(ROOT, 'bench', 'out', 'peers');
/** Seeds shared with bench/forward.ts: weights randomStateDict(RESNET50, 1), input randomInput(shape, 2). */
export const WEIGHTS_SEED = 1;
export const INPUT_SEED = 2;

export interface PeerOptions {
  /**
   * The model file in the format the peer reads (its module's `format`): the ONNX export for
   * ONNX Runtime peers, the seeded safetensors state dict for TF.js and ours. Both hold the same weights.
   */
  weightsPath: string;
  batch: number;
  height: number;
  width: number;
}

export interface Peer {
  readonly name: string;
  /** Library version(s), e.g. 'onnxruntime-web 1.30.0'. */
  readonly version: string;
  /** The WebGPU adapter the library ended up on, or the CPU description for a CPU peer. */
  readonly adapter?: string;
  /** Free-form notes on how it was set up (threads, EP options, ...). */
  readonly notes?: string;
  /** One forward pass: NCHW f32 input [batch, 3, height, width] → logits [batch, 1000]. */
  run(input: Float32Array): Promise<Float32Array>;
  dispose(): void | Promise<void>;
}

export const PEERS = ['ort-node', 'ours', 'tfjs', 'ort-web'] as const;
export type PeerId = (typeof PEERS)[number];

export interface PeerResult {
  peer: PeerId;
  name?: string;
  version?: string;
  adapter?: string;
  notes?: string;
  /** Load average (1 min) when the peer started: the machine is shared, so timings are only as good as this. */
  loadavgAtStart: number;
  /** createPeer(): library import and initialisation, adapter and device, model load / session creation. */
  createMs?: number;
  firstRunMs?: number;
  /** createMs + firstRunMs. */
  coldMs?: number;
  warm?: { runs: number; medianMs: number; minMs: number; maxMs: number; timesMs: number[] };
  check?: { maxAbs: number; maxRel: number; argmax: number[]; argmaxRef: number[] };
  error?: string;
}

export type PeerFormat = 'onnx' | 'safetensors';

/** The model file each peer reads (its module's `format`); all hold the same weights. */
export const PEER_FORMAT: Record<PeerId, PeerFormat> = {
  'ort-node': 'onnx',
  ours: 'safetensors',
  tfjs: 'safetensors',
  'ort-web': 'onnx',
};

export interface PeerModule {
  readonly format: PeerFormat;
  createPeer(opts: PeerOptions): Promise<Peer>;
}

export function weightsFile(seed = WEIGHTS_SEED): string {
  return join(OUT_DIR, `resnet50_seed${seed}.safetensors`);
}

export function onnxFile(seed = WEIGHTS_SEED): string {
  return join(OUT_DIR, `resnet50_seed${seed}.onnx`);
}

const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';

/**
 * Make the seeded safetensors file and (if asked) its ONNX export when missing or stale. The export runs
 * scripts/export_onnx.py with $PYTHON, by default Debian's torch (about 20 s).
 */
export function ensureArtifacts(seed: number, want: { onnx: boolean }, log: (s: string) => void = console.error): {
  weights: string;
  onnx: string;
} {
  const weights = weightsFile(seed);
  const onnx = onnxFile(seed);
  mkdirSync(dirname(weights), { recursive: true });
  if (!existsSync(weights)) {
    const t = performance.now();
    writeSeededWeights(weights, seed);
    log(`wrote ${relative(ROOT, weights)} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
  }
  if (want.onnx && (!existsSync(onnx) || statSync(onnx).mtimeMs < statSync(weights).mtimeMs)) {
    const t = performance.now();
    execFileSync(PYTHON, [join(ROOT, 'scripts', 'export_onnx.py'), onnx, '--weights', weights], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    log(`exported ${relative(ROOT, onnx)} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
  }
  return { weights, onnx };
}

/**
 * Our CPU reference logits (runCpu, single-threaded, seconds per image) for the seeded input of this
 * NCHW shape, cached in OUT_DIR, keyed by seed, shape and the weights file's mtime; ms is null if cached.
 */
export function referenceLogits(seed: number, weights: string, shape: number[]): { path: string; ms: number | null } {
  const [n, , h, w] = shape;
  const path = join(OUT_DIR, `ref_cpu_seed${seed}_in${INPUT_SEED}_${n}x${h}x${w}_${Math.round(statSync(weights).mtimeMs)}.f32`);
  if (existsSync(path)) return { path, ms: null };
  const t = performance.now();
  const logits = runCpu(randomResNet(RESNET50, seed), new Tensor(shape, randomInput(shape, INPUT_SEED))).logits!.data;
  const ms = performance.now() - t;
  writeFileSync(path, new Uint8Array(logits.buffer, logits.byteOffset, logits.byteLength));
  return { path, ms };
}

/** errorStats (src/tensor/compare.ts: max-abs, and max-abs / max |expected|), refusing a length mismatch. */
export function compare(actual: Float32Array, expected: Float32Array): { maxAbs: number; maxRel: number } {
  if (actual.length !== expected.length) throw new Error(`output length ${actual.length}, expected ${expected.length}`);
  const { maxAbs, maxRel } = errorStats(actual, expected);
  return { maxAbs, maxRel };
}

/** Row-wise argmax of a [rows, cols] matrix. */
export function argmaxRows(x: Float32Array, rows: number): number[] {
  const cols = x.length / rows;
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (x[r * cols + c] > x[r * cols + best]) best = c;
    out.push(best);
  }
  return out;
}

export function describeAdapterInfo(info: GPUAdapterInfo | undefined): string {
  if (!info) return 'unknown adapter';
  const parts = [info.vendor, info.architecture, info.description || info.device].filter((s) => s);
  return parts.join(' / ') || 'unknown adapter';
}
