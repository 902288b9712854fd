// Accuracy of a fitted probe: top-1, top-k, per class, and the mean cross-entropy.
import { decisionFunction, type FeatureMatrix, type LogRegModel } from './logreg.ts';

export interface Evaluation {
  samples: number;
  /** fraction in [0, 1] */
  top1: number;
  /** fraction in [0, 1]; null when there are no more than 5 classes */
  top5: number | null;
  /** per class index: samples of that class and how many were predicted right (top-1) */
  perClass: { samples: number; correct: number }[];
  /** mean over classes with samples of the per-class top-1 accuracy */
  meanPerClass: number;
  /** mean cross-entropy over the samples with a known class */
  meanLoss: number;
  /** samples whose class is unknown to the model (y = −1): always counted wrong */
  unknown: number;
  /** predicted class index of each sample */
  predictions: Int32Array;
}

/**
 * Evaluate on the given rows; y holds class indices, −1 for a label the model never saw.
 * Ties in the logits go to the lower class index (like numpy's argmax).
 */
export function evaluate(model: LogRegModel, features: FeatureMatrix, rows: Int32Array | undefined, y: Int32Array): Evaluation {
  const K = model.classes;
  const logits = decisionFunction(model, features, rows);
  const n = y.length;
  if (logits.length !== n * K) throw new Error(`${n} labels for ${logits.length / K} rows`);
  const perClass = Array.from({ length: K }, () => ({ samples: 0, correct: 0 }));
  const predictions = new Int32Array(n);
  let correct1 = 0;
  let correct5 = 0;
  let unknown = 0;
  let lossSum = 0;
  for (let i = 0; i < n; i++) {
    const o = i * K;
    let best = 0;
    let max = logits[o];
    for (let k = 1; k < K; k++) if (logits[o + k] > max) { max = logits[o + k]; best = k; }
    predictions[i] = best;
    const c = y[i];
    if (c < 0) {
      unknown++;
      continue;
    }
    perClass[c].samples++;
    if (best === c) {
      correct1++;
      perClass[c].correct++;
    }
    // rank of the true class: how many classes beat it (ties to the lower index)
    const zc = logits[o + c];
    let above = 0;
    for (let k = 0; k < K; k++) if (logits[o + k] > zc || (logits[o + k] === zc && k < c)) above++;
    if (above < 5) correct5++;
    let sum = 0;
    for (let k = 0; k < K; k++) sum += Math.exp(logits[o + k] - max);
    lossSum += Math.log(sum) - (zc - max);
  }
  const withSamples = perClass.filter((p) => p.samples > 0);
  return {
    samples: n,
    top1: n ? correct1 / n : 0,
    top5: K > 5 ? (n ? correct5 / n : 0) : null,
    perClass,
    meanPerClass: withSamples.length ? withSamples.reduce((s, p) => s + p.correct / p.samples, 0) / withSamples.length : 0,
    meanLoss: n - unknown ? lossSum / (n - unknown) : 0,
    unknown,
    predictions,
  };
}
