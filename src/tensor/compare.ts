// How two results are compared everywhere in the project (tests, self-tests, benches, scripts):
// max |actual − expected|, and that relative to the output's scale, max |expected|.

export interface ErrorStats {
  readonly maxAbs: number;
  /** maxAbs / max |expected| (maxAbs itself when expected is all zeros). */
  readonly maxRel: number;
  readonly maxExpected: number;
}

/** NaN in either array, or a length mismatch, gives NaN everywhere, which fails any tolerance. */
export function errorStats(actual: ArrayLike<number>, expected: ArrayLike<number>): ErrorStats {
  const invalid = { maxAbs: NaN, maxRel: NaN, maxExpected: NaN };
  if (actual.length !== expected.length) return invalid;
  let maxAbs = 0;
  let maxExpected = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = actual[i];
    if (Number.isNaN(a) || Number.isNaN(e)) return invalid;
    maxAbs = Math.max(maxAbs, Math.abs(a - e));
    maxExpected = Math.max(maxExpected, Math.abs(e));
  }
  return { maxAbs, maxRel: maxExpected > 0 ? maxAbs / maxExpected : maxAbs, maxExpected };
}
