// Limited-memory BFGS for smooth unconstrained minimisation, in f64.
//
// The direction comes from the two-loop recursion over the last `history` (s, y) pairs with the
// initial inverse Hessian γI, γ = sᵀy / yᵀy of the newest pair; the step from a line search that
// satisfies the strong Wolfe conditions (bracketing, then a zoom with safeguarded cubic
// interpolation; Nocedal & Wright, algorithms 3.5 and 3.6). Stopping follows SciPy's L-BFGS-B as
// scikit-learn calls it: max |gᵢ| ≤ gtol, or a relative decrease
// (f_k − f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) ≤ ftol, or maxIter iterations.

/** Writes ∇f(x) into `grad` and returns f(x). Must not keep references to `x` or `grad`. */
export type Objective = (x: Float64Array, grad: Float64Array) => number;

export interface LbfgsOptions {
  /** Iteration limit (scikit-learn's max_iter); default 1000. */
  maxIter?: number;
  /** Stop when max |∇f| ≤ gtol (scikit-learn's tol); default 1e-4. */
  gtol?: number;
  /** Stop when the relative decrease of f is ≤ ftol; default SciPy's 2.22e-9 (factr 1e7). */
  ftol?: number;
  /** Number of (s, y) pairs kept; default 10 (SciPy's maxcor). */
  history?: number;
  /** Function evaluations allowed per line search; default 20 (SciPy's maxls). */
  maxLineSearch?: number;
  /** Sufficient-decrease constant c₁ (default 1e-4) and curvature constant c₂ (default 0.9). */
  c1?: number;
  c2?: number;
  /** Called after every iteration; return true to stop. */
  onIteration?: (info: { iteration: number; f: number; gradMaxAbs: number; step: number }) => boolean | void;
}

export type StopReason = 'gtol' | 'ftol' | 'maxIter' | 'lineSearch' | 'callback';

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  /** ∇f at x */
  grad: Float64Array;
  gradMaxAbs: number;
  iterations: number;
  evaluations: number;
  reason: StopReason;
  /** true when stopped by gtol or ftol */
  converged: boolean;
}

const dot = (a: Float64Array, b: Float64Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

const maxAbs = (a: Float64Array): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]);
    if (!(v <= m)) m = v; // NaN propagates
  }
  return m;
};

/**
 * Minimiser of the cubic interpolating (a, fa, da) and (b, fb, db); NaN when it has none.
 * (Nocedal & Wright, eq. 3.59.)
 */
function cubicMin(a: number, fa: number, da: number, b: number, fb: number, db: number): number {
  const d1 = da + db - (3 * (fa - fb)) / (a - b);
  const disc = d1 * d1 - da * db;
  if (!(disc >= 0)) return NaN;
  const d2 = Math.sign(b - a) * Math.sqrt(disc);
  return b - ((b - a) * (db + d2 - d1)) / (db - da + 2 * d2);
}

interface LineSearchState {
  n: number;
  x: Float64Array; // start point
  d: Float64Array; // direction
  xt: Float64Array; // trial point (out)
  gt: Float64Array; // gradient at trial point (out)
  f0: number;
  dphi0: number;
  evaluations: number;
}

/**
 * Strong Wolfe line search along d from x. On success the accepted point is left in xt/gt and its
 * step and value are returned; on failure, the lowest point found (if below f0) is accepted.
 */
function lineSearch(
  f: Objective,
  s: LineSearchState,
  alpha0: number,
  c1: number,
  c2: number,
  maxEvals: number,
): { ok: boolean; alpha: number; f: number } {
  const { x, d, xt, gt, f0, dphi0, n } = s;
  let evals = 0;
  let bestAlpha = 0;
  let bestF = f0;
  const phi = (alpha: number): { f: number; dphi: number } => {
    for (let i = 0; i < n; i++) xt[i] = x[i] + alpha * d[i];
    const fv = f(xt, gt);
    evals++;
    s.evaluations++;
    if (fv < bestF) {
      bestF = fv;
      bestAlpha = alpha;
    }
    return { f: fv, dphi: dot(gt, d) };
  };
  const fallback = (): { ok: boolean; alpha: number; f: number } => {
    if (bestAlpha > 0) {
      const r = phi(bestAlpha); // re-evaluate so xt/gt hold the accepted point
      return { ok: false, alpha: bestAlpha, f: r.f };
    }
    return { ok: false, alpha: 0, f: f0 };
  };
  const armijo = (alpha: number, fv: number) => fv <= f0 + c1 * alpha * dphi0;
  const curvature = (dphi: number) => Math.abs(dphi) <= -c2 * dphi0;

  // zoom between lo (satisfies sufficient decrease, lowest so far) and hi
  const zoom = (
    lo: number, flo: number, dlo: number,
    hi: number, fhi: number, dhi: number,
  ): { ok: boolean; alpha: number; f: number } => {
    while (evals < maxEvals) {
      const width = Math.abs(hi - lo);
      if (width <= 1e-16 * Math.max(Math.abs(lo), Math.abs(hi))) break;
      let a = cubicMin(lo, flo, dlo, hi, fhi, dhi);
      const left = Math.min(lo, hi);
      const right = Math.max(lo, hi);
      const margin = 0.1 * width;
      if (!Number.isFinite(a) || a < left + margin || a > right - margin) a = 0.5 * (lo + hi);
      const r = phi(a);
      if (!Number.isFinite(r.f)) {
        hi = a; fhi = Infinity; dhi = NaN;
        continue;
      }
      if (!armijo(a, r.f) || r.f >= flo) {
        hi = a; fhi = r.f; dhi = r.dphi;
      } else {
        if (curvature(r.dphi)) return { ok: true, alpha: a, f: r.f };
        if (r.dphi * (hi - lo) >= 0) {
          hi = lo; fhi = flo; dhi = dlo;
        }
        lo = a; flo = r.f; dlo = r.dphi;
      }
    }
    return fallback();
  };

  let prev = 0;
  let fprev = f0;
  let dprev = dphi0;
  let alpha = alpha0;
  for (let i = 0; evals < maxEvals; i++) {
    const r = phi(alpha);
    if (!Number.isFinite(r.f)) {
      // overflow: shrink towards the last good step
      return zoom(prev, fprev, dprev, alpha, Infinity, NaN);
    }
    if (!armijo(alpha, r.f) || (i > 0 && r.f >= fprev)) return zoom(prev, fprev, dprev, alpha, r.f, r.dphi);
    if (curvature(r.dphi)) return { ok: true, alpha, f: r.f };
    if (r.dphi >= 0) return zoom(alpha, r.f, r.dphi, prev, fprev, dprev);
    // still descending: extrapolate (cubic step clamped to [2α, 10α])
    let next = cubicMin(prev, fprev, dprev, alpha, r.f, r.dphi);
    if (!Number.isFinite(next) || next < 2 * alpha || next > 10 * alpha) next = 4 * alpha;
    prev = alpha; fprev = r.f; dprev = r.dphi;
    alpha = next;
  }
  return fallback();
}

/** Minimise f from x0 (not modified). */
export function lbfgs(f: Objective, x0: Float64Array, options: LbfgsOptions = {}): LbfgsResult {
  const maxIter = options.maxIter ?? 1000;
  const gtol = options.gtol ?? 1e-4;
  const ftol = options.ftol ?? 2.220446049250313e-9;
  const m = Math.max(1, options.history ?? 10);
  const maxLs = options.maxLineSearch ?? 20;
  const c1 = options.c1 ?? 1e-4;
  const c2 = options.c2 ?? 0.9;
  const n = x0.length;

  const x = Float64Array.from(x0);
  const g = new Float64Array(n);
  const d = new Float64Array(n);
  const xt = new Float64Array(n);
  const gt = new Float64Array(n);
  const S = Array.from({ length: m }, () => new Float64Array(n));
  const Y = Array.from({ length: m }, () => new Float64Array(n));
  let sSpare = new Float64Array(n);
  let ySpare = new Float64Array(n);
  const rho = new Float64Array(m);
  const alphas = new Float64Array(m);
  let stored = 0; // pairs in memory
  let newest = -1; // ring index of the newest pair

  let fx = f(x, g);
  let evaluations = 1;
  let gmax = maxAbs(g);
  if (!Number.isFinite(fx)) throw new Error(`lbfgs: objective is ${fx} at the starting point`);
  let iterations = 0;
  let reason: StopReason = 'maxIter';
  let retried = false;

  if (gmax <= gtol) reason = 'gtol';
  else {
    while (iterations < maxIter) {
      // d = −H g (two-loop recursion)
      for (let i = 0; i < n; i++) d[i] = -g[i];
      if (stored > 0) {
        for (let k = 0; k < stored; k++) {
          const j = (newest - k + m) % m;
          const a = rho[j] * dot(S[j], d);
          alphas[j] = a;
          const yj = Y[j];
          for (let i = 0; i < n; i++) d[i] -= a * yj[i];
        }
        const yy = dot(Y[newest], Y[newest]);
        const gamma = 1 / (rho[newest] * yy);
        for (let i = 0; i < n; i++) d[i] *= gamma;
        for (let k = stored - 1; k >= 0; k--) {
          const j = (newest - k + m) % m;
          const b = rho[j] * dot(Y[j], d);
          const sj = S[j];
          const c = alphas[j] - b;
          for (let i = 0; i < n; i++) d[i] += c * sj[i];
        }
      }
      let dphi0 = dot(g, d);
      if (!(dphi0 < 0)) {
        // not a descent direction (should not happen with positive curvature pairs): restart
        stored = 0;
        for (let i = 0; i < n; i++) d[i] = -g[i];
        dphi0 = dot(g, d);
      }
      // first step along −g: unit length in x (SciPy's 1/‖d‖); afterwards the quasi-Newton step 1
      const alpha0 = stored === 0 ? Math.min(1, 1 / Math.sqrt(-dphi0)) : 1;
      const state: LineSearchState = { n, x, d, xt, gt, f0: fx, dphi0, evaluations: 0 };
      const ls = lineSearch(f, state, alpha0, c1, c2, maxLs);
      evaluations += state.evaluations;
      if (ls.alpha === 0) {
        // no decrease along d: retry once from steepest descent with an empty memory
        if (!retried && stored > 0) {
          retried = true;
          stored = 0;
          continue;
        }
        reason = 'lineSearch';
        break;
      }
      retried = false;
      iterations++;
      // new pair s = xt − x, y = gt − g
      // (written into spare buffers, so a rejected pair does not clobber the oldest kept one)
      const next = (newest + 1) % m;
      const s = sSpare;
      const y = ySpare;
      for (let i = 0; i < n; i++) {
        s[i] = xt[i] - x[i];
        y[i] = gt[i] - g[i];
      }
      const sy = dot(s, y);
      const yy = dot(y, y);
      if (sy > 2.220446049250313e-16 * yy && yy > 0) {
        sSpare = S[next];
        ySpare = Y[next];
        S[next] = s;
        Y[next] = y;
        rho[next] = 1 / sy;
        newest = next;
        if (stored < m) stored++;
      }
      const fprev = fx;
      x.set(xt);
      g.set(gt);
      fx = ls.f;
      gmax = maxAbs(g);
      if (options.onIteration?.({ iteration: iterations, f: fx, gradMaxAbs: gmax, step: ls.alpha })) {
        reason = 'callback';
        break;
      }
      if (gmax <= gtol) {
        reason = 'gtol';
        break;
      }
      if ((fprev - fx) / Math.max(Math.abs(fprev), Math.abs(fx), 1) <= ftol) {
        reason = 'ftol';
        break;
      }
      if (!ls.ok && !Number.isFinite(fx)) {
        reason = 'lineSearch';
        break;
      }
    }
  }
  return {
    x, f: fx, grad: g, gradMaxAbs: gmax, iterations, evaluations, reason,
    converged: reason === 'gtol' || reason === 'ftol',
  };
}
