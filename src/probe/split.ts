// Seeded, stratified train/validation split and label encoding.
import { seededRandom as mulberry32 } from '../nn/random.ts';

export interface Split {
  /** positions (ascending) of the training part */
  train: Int32Array;
  /** positions (ascending) of the validation part */
  val: Int32Array;
}

/**
 * Stratified split of samples with class indices `y` (0 … classes − 1): for each class in turn,
 * its positions in ascending order are shuffled (Fisher–Yates, j = ⌊u·(i+1)⌋ for i = n−1 … 1, one
 * generator for all classes) and the first round(fraction · n_c) go to validation, keeping at
 * least one sample of every class in training. Both parts are returned in ascending order.
 */
export function stratifiedSplit(y: Int32Array, classes: number, fraction: number, seed = 0): Split {
  if (!(fraction > 0 && fraction < 1)) throw new Error(`validation fraction must be in (0, 1), got ${fraction}`);
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < y.length; i++) byClass[y[i]].push(i);
  const rand = mulberry32(seed);
  const train: number[] = [];
  const val: number[] = [];
  for (const members of byClass) {
    for (let i = members.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const t = members[i];
      members[i] = members[j];
      members[j] = t;
    }
    const nVal = Math.min(Math.round(fraction * members.length), members.length - 1);
    for (let i = 0; i < members.length; i++) (i < nVal ? val : train).push(members[i]);
  }
  const asc = (a: number[]) => Int32Array.from(a).sort();
  return { train: asc(train), val: asc(val) };
}

export interface LabelEncoding {
  /** the distinct labels, ascending; class index k stands for labels[k] */
  labels: number[];
  /** class index of each sample */
  y: Int32Array;
}

/** Integer labels → class indices 0 … K−1 (sorted distinct values). */
export function encodeLabels(raw: ArrayLike<number>): LabelEncoding {
  const labels = [...new Set(Array.from(raw))].sort((a, b) => a - b);
  const index = new Map(labels.map((l, k) => [l, k]));
  return { labels, y: Int32Array.from(raw, (l) => index.get(l)!) };
}

/** Labels under an existing encoding; a label it does not know becomes −1. */
export function applyEncoding(raw: ArrayLike<number>, labels: readonly number[]): Int32Array {
  const index = new Map(labels.map((l, k) => [l, k]));
  return Int32Array.from(raw, (l) => index.get(l) ?? -1);
}
