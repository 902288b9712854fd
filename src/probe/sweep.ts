// CLIP's choice of the L2 strength: λ over 10⁻⁶ … 10⁶, first every second decade, then the
// interval around the best is halved (a step of one decade, ½, ¼, ⅛) until the grid has 8 steps
// per decade: at most 7 + 4·2 = 15 fits. Each fit warm-starts from the nearest solution already
// found (the coarse grid runs from strong to weak regularisation).
import { fitLogisticRegression, type Design, type FitOptions, type LogRegModel } from './logreg.ts';
import { evaluate } from './metrics.ts';

export interface SweepOptions {
  /** log₁₀ of the smallest and largest λ; default −6 and 6 */
  minLog10?: number;
  maxLog10?: number;
  /** decades between coarse grid points; default 2 */
  coarseDecades?: number;
  /** finest resolution; default 8 steps per decade */
  stepsPerDecade?: number;
  /** L-BFGS settings for every fit (init is managed by the sweep) */
  fit?: Omit<FitOptions, 'init'>;
  /** false: every fit starts from zero; default true */
  warmStart?: boolean;
  /** called after each fit */
  onPoint?: (point: SweepPoint) => void;
}

export interface SweepPoint {
  lambda: number;
  /** log₁₀ λ */
  log10Lambda: number;
  /** validation top-1, fraction in [0, 1] */
  valTop1: number;
  /** validation mean cross-entropy */
  valLoss: number;
  /** objective at the fit's solution */
  trainLoss: number;
  iterations: number;
  converged: boolean;
  seconds: number;
  /** 0-based order in which the sweep fitted this λ */
  order: number;
}

export interface SweepResult {
  /** all fitted points, ascending λ */
  points: SweepPoint[];
  best: SweepPoint;
  /** the model fitted at best.lambda */
  bestModel: LogRegModel;
}

/**
 * The better of two points: higher validation accuracy; on a tie, lower validation loss; then the
 * larger λ.
 */
export function betterPoint(a: SweepPoint, b: SweepPoint): SweepPoint {
  if (a.valTop1 !== b.valTop1) return a.valTop1 > b.valTop1 ? a : b;
  if (a.valLoss !== b.valLoss) return a.valLoss < b.valLoss ? a : b;
  return a.lambda >= b.lambda ? a : b;
}

/** Sweep λ fitting on `train`, scoring top-1 on `val`. */
export function sweepLambda(train: Design, val: Design, options: SweepOptions = {}): SweepResult {
  const spd = options.stepsPerDecade ?? 8;
  const lo = Math.round((options.minLog10 ?? -6) * spd); // grid units of 1/spd decade
  const hi = Math.round((options.maxLog10 ?? 6) * spd);
  const coarse = Math.round((options.coarseDecades ?? 2) * spd);
  if (!(Number.isInteger(spd) && spd >= 1 && coarse >= 1 && lo <= hi)) throw new Error('bad sweep range');
  const warm = options.warmStart ?? true;
  const points = new Map<number, SweepPoint>();

  const fitAt = (unit: number, init: LogRegModel | undefined): { point: SweepPoint; model: LogRegModel } => {
    const log10Lambda = unit / spd;
    // whole decades parsed from decimal, so 1e-4 is the double nearest 10⁻⁴ (10 ** -4 is not)
    const lambda = unit % spd === 0 ? Number(`1e${unit / spd}`) : 10 ** log10Lambda;
    const fit = fitLogisticRegression(train, lambda, { ...options.fit, init: warm ? init : undefined });
    const ev = evaluate(fit.model, val.features, val.rows, val.y);
    const point: SweepPoint = {
      lambda,
      log10Lambda,
      valTop1: ev.top1,
      valLoss: ev.meanLoss,
      trainLoss: fit.loss,
      iterations: fit.iterations,
      converged: fit.converged,
      seconds: fit.seconds,
      order: points.size,
    };
    points.set(unit, point);
    options.onPoint?.(point);
    return { point, model: fit.model };
  };

  // coarse grid, strongest regularisation first
  let best: { unit: number; point: SweepPoint; model: LogRegModel } | undefined;
  let previous: LogRegModel | undefined;
  for (let unit = hi; unit >= lo; unit -= coarse) {
    const r = fitAt(unit, previous);
    previous = r.model;
    if (!best || betterPoint(best.point, r.point) !== best.point) best = { unit, ...r };
  }
  // halve the step around the best until one grid unit
  for (let step = Math.floor(coarse / 2); step >= 1; step = Math.floor(step / 2)) {
    const centre = best!;
    for (const unit of [centre.unit - step, centre.unit + step]) {
      if (unit < lo || unit > hi || points.has(unit)) continue;
      const r = fitAt(unit, centre.model);
      if (betterPoint(best!.point, r.point) !== best!.point) best = { unit, ...r };
    }
    if (step === 1) break;
  }
  const sorted = [...points.entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p);
  return { points: sorted, best: best!.point, bestModel: best!.model };
}
