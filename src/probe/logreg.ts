// Multinomial logistic regression with an L2 penalty, fitted by L-BFGS, in f64 — the classifier of
// CLIP's linear probe, with scikit-learn 1.2's objective:
//
//   f(W, b) = Σᵢ CE(softmax(W xᵢ + b), yᵢ) + (λ/2)‖W‖²_F,    λ = 1/C,
//
// i.e. LogisticRegression(C, multi_class='multinomial', solver='lbfgs', fit_intercept=True) —
// one weight row and one intercept per class (K × (D + 1) parameters, no reference class), the
// intercept not penalised, the loss summed (not averaged) over samples. scikit-learn states it as
// C·Σ CE + ½‖W‖², which is C·f: the same minimiser. Stopping matches its tol=1e-4 (max |∇f|) and
// SciPy's relative decrease 2.2e-9, at most 1000 iterations.
//
// Features stay in their f32 (or f64) matrix; a design is a list of its rows, so validation
// splits and train+val refits need no copies. One pass over the rows computes the loss and the
// whole gradient (rows in blocks of 4: logits, softmax, then the rank-4 update of ∇W).
import { lbfgs, type LbfgsOptions, type StopReason } from './lbfgs.ts';

/** A row-major [rows, dim] feature matrix. */
export interface FeatureMatrix {
  readonly data: Float32Array | Float64Array;
  readonly rows: number;
  readonly dim: number;
}

/** Some rows of a feature matrix with their class indices (0 … classes − 1). */
export interface Design {
  readonly features: FeatureMatrix;
  /** indices into features' rows */
  readonly rows: Int32Array;
  /** class index of each selected row */
  readonly y: Int32Array;
  readonly classes: number;
}

export interface LogRegModel {
  readonly classes: number;
  readonly dim: number;
  /** [classes, dim], row-major */
  readonly weights: Float64Array;
  /** [classes] */
  readonly bias: Float64Array;
}

/** The whole matrix as a design. */
export function fullDesign(features: FeatureMatrix, y: Int32Array, classes: number): Design {
  if (y.length !== features.rows) throw new Error(`${y.length} labels for ${features.rows} feature rows`);
  return { features, rows: Int32Array.from({ length: features.rows }, (_, i) => i), y, classes };
}

/** Rows `subset` (positions in `design.rows`) of a design. */
export function subDesign(design: Design, subset: ArrayLike<number>): Design {
  const rows = new Int32Array(subset.length);
  const y = new Int32Array(subset.length);
  for (let i = 0; i < subset.length; i++) {
    rows[i] = design.rows[subset[i]];
    y[i] = design.y[subset[i]];
  }
  return { features: design.features, rows, y, classes: design.classes };
}

function checkDesign(design: Design): void {
  const { features, rows, y, classes } = design;
  if (features.data.length !== features.rows * features.dim) {
    throw new Error(`feature matrix [${features.rows}, ${features.dim}] has ${features.data.length} values`);
  }
  if (rows.length !== y.length) throw new Error(`${rows.length} rows but ${y.length} labels`);
  for (let i = 0; i < rows.length; i++) {
    if (rows[i] < 0 || rows[i] >= features.rows) throw new Error(`row ${rows[i]} out of range`);
    if (y[i] < 0 || y[i] >= classes) throw new Error(`class index ${y[i]} out of range 0…${classes - 1}`);
  }
}

/** Parameter vector layout: W ([K, D] row-major) then b ([K]). */
export function packModel(model: LogRegModel): Float64Array {
  const theta = new Float64Array(model.classes * (model.dim + 1));
  theta.set(model.weights, 0);
  theta.set(model.bias, model.classes * model.dim);
  return theta;
}

export function unpackModel(theta: Float64Array, classes: number, dim: number): LogRegModel {
  return {
    classes,
    dim,
    weights: theta.slice(0, classes * dim),
    bias: theta.slice(classes * dim, classes * (dim + 1)),
  };
}

const BLOCK = 4;

/**
 * f(θ) = Σᵢ CE + (λ/2)‖W‖² and its gradient, as an L-BFGS objective over θ = [W; b].
 * The returned function reuses internal buffers (not reentrant).
 */
export function logisticObjective(design: Design, lambda: number): (theta: Float64Array, grad: Float64Array) => number {
  checkDesign(design);
  if (!(lambda >= 0)) throw new Error(`λ must be ≥ 0, got ${lambda}`);
  const X = design.features.data;
  const D = design.features.dim;
  const K = design.classes;
  const rows = design.rows;
  const labels = design.y;
  const n = rows.length;
  const z = new Float64Array(BLOCK * K); // logits, then softmax − one-hot, of a block of rows
  return (theta, grad) => {
    grad.fill(0);
    const bOff = K * D;
    let loss = 0;
    for (let i0 = 0; i0 < n; i0 += BLOCK) {
      const nb = Math.min(BLOCK, n - i0);
      // rows past the end repeat the first one, with zero weight in the gradient
      const o0 = rows[i0] * D;
      const o1 = nb > 1 ? rows[i0 + 1] * D : o0;
      const o2 = nb > 2 ? rows[i0 + 2] * D : o0;
      const o3 = nb > 3 ? rows[i0 + 3] * D : o0;
      // logits, two classes at a time
      let k = 0;
      for (; k + 1 < K; k += 2) {
        const wa = k * D;
        const wb = wa + D;
        let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
        for (let d = 0; d < D; d++) {
          const x0 = X[o0 + d], x1 = X[o1 + d], x2 = X[o2 + d], x3 = X[o3 + d];
          const u = theta[wa + d];
          const v = theta[wb + d];
          a0 += u * x0; a1 += u * x1; a2 += u * x2; a3 += u * x3;
          b0 += v * x0; b1 += v * x1; b2 += v * x2; b3 += v * x3;
        }
        const ba = theta[bOff + k];
        const bb = theta[bOff + k + 1];
        z[k] = a0 + ba; z[K + k] = a1 + ba; z[2 * K + k] = a2 + ba; z[3 * K + k] = a3 + ba;
        z[k + 1] = b0 + bb; z[K + k + 1] = b1 + bb; z[2 * K + k + 1] = b2 + bb; z[3 * K + k + 1] = b3 + bb;
      }
      if (k < K) {
        const wk = k * D;
        const bk = theta[bOff + k];
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let d = 0; d < D; d++) {
          const w = theta[wk + d];
          s0 += w * X[o0 + d];
          s1 += w * X[o1 + d];
          s2 += w * X[o2 + d];
          s3 += w * X[o3 + d];
        }
        z[k] = s0 + bk;
        z[K + k] = s1 + bk;
        z[2 * K + k] = s2 + bk;
        z[3 * K + k] = s3 + bk;
      }
      // softmax cross-entropy; z becomes ∂CE/∂z = p − onehot
      for (let r = 0; r < BLOCK; r++) {
        const zo = r * K;
        if (r >= nb) {
          for (let k = 0; k < K; k++) z[zo + k] = 0;
          continue;
        }
        let max = -Infinity;
        for (let k = 0; k < K; k++) if (z[zo + k] > max) max = z[zo + k];
        const yk = labels[i0 + r];
        const zy = z[zo + yk] - max;
        let sum = 0;
        for (let k = 0; k < K; k++) {
          const e = Math.exp(z[zo + k] - max);
          z[zo + k] = e;
          sum += e;
        }
        // CE = logΣexp(z) − z_y, with the max shifted out
        loss += Math.log(sum) - zy;
        const inv = 1 / sum;
        for (let k = 0; k < K; k++) z[zo + k] *= inv;
        z[zo + yk] -= 1;
        for (let k = 0; k < K; k++) grad[bOff + k] += z[zo + k];
      }
      // ∇W += Σ_r g_r x_rᵀ, two classes at a time
      k = 0;
      for (; k + 1 < K; k += 2) {
        const g0 = z[k], g1 = z[K + k], g2 = z[2 * K + k], g3 = z[3 * K + k];
        const h0 = z[k + 1], h1 = z[K + k + 1], h2 = z[2 * K + k + 1], h3 = z[3 * K + k + 1];
        const wa = k * D;
        const wb = wa + D;
        for (let d = 0; d < D; d++) {
          const x0 = X[o0 + d], x1 = X[o1 + d], x2 = X[o2 + d], x3 = X[o3 + d];
          grad[wa + d] += g0 * x0 + g1 * x1 + g2 * x2 + g3 * x3;
          grad[wb + d] += h0 * x0 + h1 * x1 + h2 * x2 + h3 * x3;
        }
      }
      if (k < K) {
        const g0 = z[k], g1 = z[K + k], g2 = z[2 * K + k], g3 = z[3 * K + k];
        const wk = k * D;
        for (let d = 0; d < D; d++) {
          grad[wk + d] += g0 * X[o0 + d] + g1 * X[o1 + d] + g2 * X[o2 + d] + g3 * X[o3 + d];
        }
      }
    }
    let sq = 0;
    for (let j = 0; j < bOff; j++) {
      const w = theta[j];
      sq += w * w;
      grad[j] += lambda * w;
    }
    return loss + 0.5 * lambda * sq;
  };
}

export interface FitOptions extends LbfgsOptions {
  /** Warm start: the model (or packed parameters) to start from; default all zeros. */
  init?: LogRegModel;
}

export interface FitResult {
  model: LogRegModel;
  lambda: number;
  /** f at the solution: Σ CE + (λ/2)‖W‖² */
  loss: number;
  gradMaxAbs: number;
  iterations: number;
  evaluations: number;
  converged: boolean;
  reason: StopReason;
  seconds: number;
}

/** Fit at penalty λ (scikit-learn's C = 1/λ). */
export function fitLogisticRegression(design: Design, lambda: number, options: FitOptions = {}): FitResult {
  const started = performance.now();
  const K = design.classes;
  const D = design.features.dim;
  const f = logisticObjective(design, lambda);
  let x0: Float64Array;
  if (options.init) {
    if (options.init.classes !== K || options.init.dim !== D) {
      throw new Error(`warm start is [${options.init.classes}, ${options.init.dim}], expected [${K}, ${D}]`);
    }
    x0 = packModel(options.init);
  } else {
    x0 = new Float64Array(K * (D + 1));
  }
  const r = lbfgs(f, x0, options);
  return {
    model: unpackModel(r.x, K, D),
    lambda,
    loss: r.f,
    gradMaxAbs: r.gradMaxAbs,
    iterations: r.iterations,
    evaluations: r.evaluations,
    converged: r.converged,
    reason: r.reason,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Logits [n, K] for the given rows (all rows by default). */
export function decisionFunction(model: LogRegModel, features: FeatureMatrix, rows?: Int32Array): Float64Array {
  const { classes: K, dim: D, weights: W, bias } = model;
  if (features.dim !== D) throw new Error(`features have ${features.dim} columns, the model ${D}`);
  const X = features.data;
  const n = rows ? rows.length : features.rows;
  const out = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    const o = (rows ? rows[i] : i) * D;
    for (let k = 0; k < K; k++) {
      const wk = k * D;
      let s = bias[k];
      for (let d = 0; d < D; d++) s += W[wk + d] * X[o + d];
      out[i * K + k] = s;
    }
  }
  return out;
}
