// Turning a row of logits into the k most likely classes.

export interface Prediction {
  readonly index: number;
  readonly logit: number;
  /** softmax(logits)[index] */
  readonly probability: number;
}

export function topK(logits: Float32Array, k: number): Prediction[] {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  return [...logits.keys()]
    .sort((a, b) => logits[b] - logits[a] || a - b)
    .slice(0, k)
    .map((index) => ({ index, logit: logits[index], probability: Math.exp(logits[index] - max) / sum }));
}
