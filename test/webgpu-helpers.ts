// Shared helpers for the WebGPU tests: tolerance checks that report max-abs and max-relative error,
// and small seeded layers. The tests run on whatever adapter nodeGpu() finds (lavapipe here) and fail,
// never skip, when there is none.
import { expect } from 'vitest';
import type { FoldedConv, Linear } from '../src/nn/model.ts';
import { seededNormal } from '../src/nn/random.ts';
import type { Tensor } from '../src/tensor/tensor.ts';

export interface ErrorStats {
  maxAbs: number;
  /** maxAbs / max |expected|. */
  maxRel: number;
  maxExpected: number;
}

export function errorStats(actual: ArrayLike<number>, expected: ArrayLike<number>): ErrorStats {
  let maxAbs = 0;
  let maxExpected = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = actual[i];
    if (Number.isNaN(a) !== Number.isNaN(e)) return { maxAbs: NaN, maxRel: NaN, maxExpected: NaN };
    maxAbs = Math.max(maxAbs, Math.abs(a - e));
    maxExpected = Math.max(maxExpected, Math.abs(e));
  }
  return { maxAbs, maxRel: maxExpected > 0 ? maxAbs / maxExpected : maxAbs, maxExpected };
}

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

/** A seeded conv with BatchNorm already folded: weights ~ N(0, 1/fan_in), bias ~ N(0, 0.1). */
export function randomConv(cin: number, cout: number, kernel: number, stride: number, padding: number, seed: number): FoldedConv {
  const normal = seededNormal(seed);
  const std = Math.sqrt(1 / (cin * kernel * kernel));
  return {
    conv: `test.conv${kernel}x${kernel}s${stride}`,
    bn: 'test.bn',
    inChannels: cin,
    outChannels: cout,
    kernel,
    stride,
    padding,
    weight: Float32Array.from({ length: cout * cin * kernel * kernel }, () => normal() * std),
    bias: Float32Array.from({ length: cout }, () => 0.1 * normal()),
  };
}

export function randomLinear(inFeatures: number, outFeatures: number, seed: number): Linear {
  const normal = seededNormal(seed);
  return {
    inFeatures,
    outFeatures,
    weight: Float32Array.from({ length: inFeatures * outFeatures }, () => normal() / Math.sqrt(inFeatures)),
    bias: Float32Array.from({ length: outFeatures }, () => 0.1 * normal()),
  };
}
