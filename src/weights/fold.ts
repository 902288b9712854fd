// BatchNorm folding (eval mode): conv followed by BN is one conv with scaled weights and a bias.
//   s = gamma / sqrt(running_var + eps)
//   W'[o] = W[o] · s[o]          b'[o] = beta[o] − running_mean[o] · s[o]

export const BN_EPS = 1e-5;

export interface BatchNormStats {
  readonly gamma: Float32Array;
  readonly beta: Float32Array;
  readonly mean: Float32Array;
  readonly variance: Float32Array;
}

/** Fold BN into conv weights W [O, …] (any per-output-channel layout); returns new arrays. */
export function foldBatchNorm(
  weight: Float32Array,
  bn: BatchNormStats,
  eps = BN_EPS,
): { weight: Float32Array; bias: Float32Array } {
  const out = bn.gamma.length;
  const perChannel = weight.length / out;
  if (!Number.isInteger(perChannel)) throw new Error(`foldBatchNorm: ${weight.length} weights for ${out} channels`);
  const folded = new Float32Array(weight.length);
  const bias = new Float32Array(out);
  for (let o = 0; o < out; o++) {
    // Computed in f64, as PyTorch's reference (f32 ops) differs from this by well under 1 ulp-scale.
    const scale = bn.gamma[o] / Math.sqrt(bn.variance[o] + eps);
    for (let i = o * perChannel; i < (o + 1) * perChannel; i++) folded[i] = weight[i] * scale;
    bias[o] = bn.beta[o] - bn.mean[o] * scale;
  }
  return { weight: folded, bias };
}
