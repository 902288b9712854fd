// What the CLI and the library drive: a loaded model on one device, run on NCHW f32 batches.
import type { Tensor } from '../tensor/tensor.ts';
import type { Network, StageName } from './network.ts';

export interface EngineOutput {
  /** Pooled features [N, featureDim]. */
  readonly features: Tensor;
  /** Logits [N, numClasses], or null for a model without a classifier. */
  readonly logits: Tensor | null;
  /** The stage outputs asked for, NCHW. */
  readonly stages: Map<StageName, Tensor>;
}

export interface Engine {
  /** Names the device, e.g. 'cpu' or 'webgpu (llvmpipe …)'. */
  readonly device: string;
  /** One forward pass over a batch x [N, 3, H, W] (H, W ≥ 32). */
  run(x: Tensor, keep?: ReadonlySet<StageName>): Promise<EngineOutput>;
  /** Frees every resource the engine holds. */
  dispose(): void;
}

/** The checks every engine applies to its input before running (with a network: the input size it needs). */
export function checkInput(x: Tensor, net?: Network): void {
  const [n, c, h, w] = x.shape;
  if (x.shape.length !== 4 || c !== 3 || n < 1) {
    throw new Error(`input must be a float32 NCHW batch [N, 3, H, W], got [${x.shape.join(', ')}]`);
  }
  if (h < 32 || w < 32) throw new Error(`input images must be at least 32×32, got ${h}×${w}`);
  const side = net?.inputSize;
  if (side && (h !== side || w !== side)) {
    throw new Error(`this ${net.arch} model takes ${side}×${side} inputs (its attention pool's positional embedding fixes the grid), got ${h}×${w}`);
  }
}
