// Checking a state dict against the tensors an architecture needs: every missing, misshapen and
// unexpected name reported in one error.
import type { TensorEntry } from './archive.ts';

export class WeightsError extends Error {
  override name = 'WeightsError';
}

export interface Expected {
  readonly shape: readonly number[];
  readonly optional?: boolean;
  /** A vector that may also be stored with extra dimensions of size 1 ([1, 1, 1, C] for [C]). */
  readonly squeezable?: boolean;
}

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;
const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
const squeezed = (s: readonly number[]) => s.filter((d) => d !== 1);

export function listNames(title: string, items: readonly string[]): string {
  const shown = items.slice(0, 12).join(', ');
  return `${items.length} ${title}: ${shown}${items.length > 12 ? `, … (${items.length - 12} more)` : ''}`;
}

/**
 * Throws one WeightsError listing what is missing, misshapen and (unless `unexpected` is false)
 * unexpected; `what` names the architecture ("a CLIP RN50 image tower").
 */
export function checkTensors(
  source: string,
  what: string,
  tensors: ReadonlyMap<string, TensorEntry>,
  expected: ReadonlyMap<string, Expected>,
  unexpected: readonly string[],
): void {
  const missing: string[] = [];
  const misshapen: string[] = [];
  for (const [name, want] of expected) {
    const got = tensors.get(name);
    if (!got) {
      if (!want.optional) missing.push(name);
      continue;
    }
    const fits = sameShape(got.shape, want.shape) || (want.optional && got.shape.length <= 1) ||
      (want.squeezable && sameShape(squeezed(got.shape), squeezed(want.shape)));
    if (!fits) misshapen.push(`${name} is ${fmt(got.shape)}, expected ${fmt(want.shape)}`);
  }
  if (missing.length || misshapen.length || unexpected.length) {
    const parts = [
      missing.length ? listNames('missing', missing) : '',
      misshapen.length ? listNames('misshapen', misshapen) : '',
      unexpected.length ? listNames('unexpected', [...unexpected]) : '',
    ].filter(Boolean);
    throw new WeightsError(`${source}: not ${what} (${parts.join('; ')})`);
  }
}
