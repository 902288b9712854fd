// Shared helpers for the WebGPU tests: tolerance checks that report max-abs and max-relative error,
// and small seeded layers. The tests run on whatever adapter nodeGpu() finds (lavapipe here) and fail,
// never skip, when there is none.
import { expect } from 'vitest';
import { errorStats, type ErrorStats } from '../src/tensor/compare.ts';
import type { Tensor } from '../src/tensor/tensor.ts';

export function fmt(s: ErrorStats): string {
  return `max-abs ${s.maxAbs.toExponential(2)}, max-rel ${s.maxRel.toExponential(2)} (max |expected| ${s.maxExpected.toPrecision(3)})`;
}

/** Log of every comparison (printed by tests that want to report their errors). */
export const errorLog: string[] = [];

/**
 * Same shape, and max |actual − expected| ≤ relTol · max |expected|. Returns the error statistics and
 * logs them under `what`.
 */
export function expectClose(actual: Tensor, expected: Tensor, relTol: number, what = ''): ErrorStats {
  expect(actual.shape, `${what}: shape`).toEqual(expected.shape);
  const s = errorStats(actual.data, expected.data);
  errorLog.push(`${what}: ${fmt(s)}`);
  expect(s.maxAbs, `${what}: ${fmt(s)} (tolerance ${relTol} relative)`).toBeLessThanOrEqual(relTol * s.maxExpected);
  return s;
}
