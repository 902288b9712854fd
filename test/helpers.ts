// Shared test helpers: reading fixtures and comparing arrays with stated tolerances.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { npyToTensor, parseNpy } from '../src/tensor/npy.ts';
import { errorStats, type ErrorStats } from '../src/tensor/compare.ts';
import type { Tensor } from '../src/tensor/tensor.ts';

export const FIXTURES = join(import.meta.dirname, 'fixtures');

export const readNpy = (path: string): Tensor => npyToTensor(parseNpy(readFileSync(path), path), path);

export const fixture = (path: string): Tensor => readNpy(join(FIXTURES, path));

/** errorStats (src/tensor/compare.ts), with the lengths checked as a test assertion. */
export function errors(actual: ArrayLike<number>, expected: ArrayLike<number>): ErrorStats {
  expect(actual.length).toBe(expected.length);
  return errorStats(actual, expected);
}

/**
 * Assert a tensor matches a reference: same shape, and max |error| ≤ relTol × max |expected|.
 * Returns the errors so a test can print them.
 */
export function expectClose(actual: Tensor, expected: Tensor, relTol: number, what = 'tensor'): ErrorStats {
  expect([...actual.shape], `${what} shape`).toEqual([...expected.shape]);
  const e = errors(actual.data, expected.data);
  expect(e.maxRel, `${what}: max-abs ${e.maxAbs.toExponential(2)}, max-rel ${e.maxRel.toExponential(2)}`).toBeLessThanOrEqual(relTol);
  return e;
}

const BIN = join(import.meta.dirname, '..', 'bin', 'resnet50.js');

/** Runs the `resnet50` command in a child process, as a user would; never throws on a non-zero exit. */
export async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return cliWithEnv({}, ...args);
}

/** A command that failed as the CLI's errors should: one line on stderr, exit status 1. */
export function failsWith(r: { code: number; stderr: string }, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
}

/** cli() with variables added to the environment. */
export async function cliWithEnv(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}
