// The seed's published table: linear-probe scores (%) of the Microsoft Vision Model and its three
// comparisons on the seven benchmarks, and this run's columns (one per --weights) beside them (markdown).
import type { DatasetName } from './dataset.ts';

export const SEED_COLUMNS = ['Microsoft Vision', 'BiT-M R50x1', 'CLIP RN50', 'torchvision ResNet-50'] as const;

export const SEED_RESULTS: Record<DatasetName, { title: string; scores: readonly [number, number, number, number] }> = {
  cifar10: { title: 'CIFAR-10', scores: [92.64, 92.51, 87.85, 82.23] },
  cifar100: { title: 'CIFAR-100', scores: [76.05, 79.84, 67.02, 61.36] },
  stl10: { title: 'STL-10', scores: [98.1, 98.71, 97.2, 96.32] },
  svhn: { title: 'SVHN', scores: [72.64, 64.22, 64.33, 52.05] },
  cub200: { title: 'CUB-200-2011', scores: [82.2, 82.75, 68.38, 38.79] },
  flowers102: { title: 'Flowers-102', scores: [99.28, 99.38, 95.23, 77.62] },
  imagenet: { title: 'ImageNet', scores: [73.85, 72.83, 57.0, 75.63] },
};

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

/** One column of this run: its title and its score on each dataset that ran. */
export interface RunColumn {
  readonly title: string;
  readonly rows: readonly { dataset: DatasetName; score: number }[];
}

/**
 * The table for the datasets that ran (in the first column's order; every column scored the same
 * datasets), one column per run beside the seed's, with the average over those rows.
 */
export function seedTable(columns: readonly RunColumn[]): string {
  const head = ['dataset', ...SEED_COLUMNS, ...columns.map((c) => c.title)];
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const out = [line(head), line(head.map((_, i) => (i === 0 ? '---' : '---:')))];
  const datasets = columns[0]?.rows.map((r) => r.dataset) ?? [];
  const score = (c: RunColumn, d: DatasetName) => c.rows.find((r) => r.dataset === d)!.score;
  for (const d of datasets) {
    out.push(line([SEED_RESULTS[d].title, ...SEED_RESULTS[d].scores.map((s) => s.toFixed(2)), ...columns.map((c) => score(c, d).toFixed(2))]));
  }
  if (datasets.length) {
    const avg = SEED_COLUMNS.map((_, i) => mean(datasets.map((d) => SEED_RESULTS[d].scores[i])));
    const ours = columns.map((c) => mean(datasets.map((d) => score(c, d))));
    out.push(line([`average (${datasets.length} of 7)`, ...[...avg, ...ours].map((s) => s.toFixed(2))]));
  }
  return out.join('\n') + '\n';
}
