// The operations a network's forward pass needs, as an interface. The walker (forward.ts) calls them
// in a Network's order; a backend may compute eagerly (the CPU reference) or record a plan to replay
// (the WebGPU executor). Values are opaque handles of type V. `release(v)` tells the backend that v is
// dead, so its memory can be reused: the walker calls it exactly once per value it will not return.
import type { Tensor } from '../tensor/tensor.ts';
import type { FoldedConv, Linear } from './model.ts';
import type { AttentionTokens, GroupNorm } from './network.ts';

export interface Backend<V> {
  readonly name: string;
  /** The network input: a float32 NCHW tensor [N, 3, H, W]. */
  input(x: Tensor): V;
  /** y = act(conv2d(x, w) + bias [+ residual]), act = ReLU or identity. */
  conv2d(x: V, conv: FoldedConv, epilogue: { relu: boolean; residual?: V }): V;
  /**
   * 3x3 max pool, stride 2, one pixel of padding: padding never wins the max (torchvision), or is a
   * zero like any pixel (zeroPadding: BiT's ConstantPad2d(1, 0) then MaxPool2d(3, 2)).
   */
  maxPool(x: V, opts?: { zeroPadding?: boolean }): V;
  /** size×size average pool with stride size (nn.AvgPool2d(size)): [N, C, H, W] → [N, C, ⌊H/size⌋, ⌊W/size⌋]. */
  avgPool(x: V, size: number): V;
  /** Mean over H and W: [N, C, H, W] -> [N, C]. */
  globalAvgPool(x: V): V;
  /** [N, in] -> [N, out]. */
  linear(x: V, fc: Linear): V;
  /** GroupNorm over each image, then ReLU when asked: [N, C, H, W] → the same shape. */
  groupNorm(x: V, gn: GroupNorm, epilogue: { relu: boolean }): V;
  /**
   * CLIP's attention-pool tokens: x [N, C, G, G] and its mean [N, C] → [N, C, 1 + G², 1], token 0 the
   * mean and token 1 + i pixel i (row-major), each plus its positional embedding.
   */
  attentionTokens(x: V, mean: V, tokens: AttentionTokens): V;
  /**
   * One query per image attending over L tokens, `heads` heads of C / heads channels: q [N, C] (already
   * scaled by 1/√(C / heads)), kv [N, 2C, L, 1] (keys in channels [0, C), values in [C, 2C)) → [N, C],
   * head h's output softmax_j(q_h · k_{j,h}) · v_{j,h} in channels h·C/heads onwards.
   */
  attention(q: V, kv: V, heads: number): V;
  /** x will not be used again. */
  release(x: V): void;
}
