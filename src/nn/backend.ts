// The operations a ResNet forward pass needs, as an interface. The graph walker (forward.ts) calls
// them in order; a backend may compute eagerly (the CPU reference) or record a plan to replay (the
// WebGPU executor). Values are opaque handles of type V. `release(v)` tells the backend that v is
// dead, so its memory can be reused: the walker calls it exactly once per value it will not return.
import type { Tensor } from '../tensor/tensor.ts';
import type { FoldedConv, Linear } from './model.ts';

export interface Backend<V> {
  readonly name: string;
  /** The network input: a float32 NCHW tensor [N, 3, H, W]. */
  input(x: Tensor): V;
  /** y = act(conv2d(x, w) + bias [+ residual]), act = ReLU or identity. */
  conv2d(x: V, conv: FoldedConv, epilogue: { relu: boolean; residual?: V }): V;
  /** 3x3 max pool, stride 2, padding 1 (padding never wins the max). */
  maxPool(x: V): V;
  /** Mean over H and W: [N, C, H, W] -> [N, C]. */
  globalAvgPool(x: V): V;
  /** [N, in] -> [N, out]. */
  linear(x: V, fc: Linear): V;
  /** x will not be used again. */
  release(x: V): void;
}
