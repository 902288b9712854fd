// BatchNorm folding (eval mode): conv followed by BN is one conv with scaled weights and a bias.
//   s = gamma / sqrt(running_var + eps)
//   W'[o] = W[o] · s[o]          b'[o] = beta[o] − running_mean[o] · s[o]
// s is kept in f64 and each W'·s product is rounded to f32 once, which differs from PyTorch's f32
// arithmetic by well under an ulp of the result.
import type { FoldedConv } from '../nn/model.ts';
import type { ConvSpec } from '../nn/spec.ts';

export const BN_EPS = 1e-5;

export interface BatchNormStats {
  readonly gamma: Float32Array;
  readonly beta: Float32Array;
  readonly mean: Float32Array;
  readonly variance: Float32Array;
}

/** s[o] = gamma[o] / sqrt(running_var[o] + eps), in f64. */
export function batchNormScale(bn: BatchNormStats, eps = BN_EPS): Float64Array {
  return Float64Array.from(bn.gamma, (g, o) => g / Math.sqrt(bn.variance[o] + eps));
}

/** W'[o] = W[o] · s[o] for W [O, …] (any per-output-channel layout); a new array. */
export function scaleRows(weight: Float32Array, scale: Float64Array): Float32Array {
  const perChannel = weight.length / scale.length;
  if (!Number.isInteger(perChannel)) throw new Error(`scaleRows: ${weight.length} weights for ${scale.length} channels`);
  const out = new Float32Array(weight.length);
  for (let o = 0; o < scale.length; o++) {
    const s = scale[o];
    for (let i = o * perChannel; i < (o + 1) * perChannel; i++) out[i] = weight[i] * s;
  }
  return out;
}

function foldedBias(bn: BatchNormStats, scale: Float64Array): Float32Array {
  return Float32Array.from(scale, (s, o) => bn.beta[o] - bn.mean[o] * s);
}

/** Fold BN into conv weights W [O, …]; returns new arrays. */
export function foldBatchNorm(
  weight: Float32Array,
  bn: BatchNormStats,
  eps = BN_EPS,
): { weight: Float32Array; bias: Float32Array } {
  const scale = batchNormScale(bn, eps);
  return { weight: scaleRows(weight, scale), bias: foldedBias(bn, scale) };
}

/**
 * A conv with BN folded on demand: the bias now (one value per channel), the weights W·s on first
 * access of `weight` (kept afterwards). `unscaled` lets a consumer that copies the weights anyway (the
 * WebGPU packer) scale while it copies, so loading a model for the GPU never writes a folded copy.
 */
export function foldConvLazily(spec: ConvSpec, weight: Float32Array, bn: BatchNormStats, eps = BN_EPS): FoldedConv {
  const scale = batchNormScale(bn, eps);
  let folded: Float32Array | null = null;
  return {
    ...spec,
    bias: foldedBias(bn, scale),
    unscaled: { weight, scale },
    get weight(): Float32Array {
      folded ??= scaleRows(weight, scale);
      return folded;
    },
  };
}
