// The linear probe on precomputed features: encode labels, split off a seeded stratified
// validation part, sweep λ, refit on train + validation at the chosen λ, evaluate on test, and
// describe it all as a JSON-ready report. The image-folder mode feeds the same function with
// features from the embedder and labels from folder names (labelNames).
import { fullDesign, fitLogisticRegression, subDesign, type FeatureMatrix, type FitOptions, type FitResult, type LogRegModel } from './logreg.ts';
import { evaluate, type Evaluation } from './metrics.ts';
import { applyEncoding, encodeLabels, stratifiedSplit, type Split } from './split.ts';
import { sweepLambda, type SweepOptions, type SweepResult } from './sweep.ts';

export interface LabeledFeatures {
  features: FeatureMatrix;
  /** one integer label per row */
  labels: ArrayLike<number>;
}

export interface ProbeOptions {
  /** fraction of train held out for choosing λ; default 0.2 */
  valSplit?: number;
  /** seed of the validation split; default 0 */
  seed?: number;
  /**
   * A given validation split instead of the seeded one (a dataset's official split): positions in
   * train of the part the sweep fits on and of the part it scores; the refit uses all of train.
   */
  split?: Split;
  /** fixed λ: no sweep, fit on all of train */
  lambda?: number;
  /** L-BFGS settings (maxIter 1000, gtol 1e-4, …) for every fit */
  fit?: Omit<FitOptions, 'init'>;
  /** sweep range and resolution (the fit settings above apply) */
  sweep?: Omit<SweepOptions, 'fit' | 'onPoint'>;
  /** display names of labels, by label value (e.g. folder names in the image-folder mode) */
  labelNames?: ReadonlyMap<number, string> | readonly string[];
  /** progress lines (one per fit) */
  onProgress?: (line: string) => void;
}

export interface ProbeReport {
  protocol: string;
  objective: string;
  accuracy_unit: 'percent';
  classes: number;
  dim: number;
  train_samples: number;
  test_samples: number;
  val_split: number | null;
  seed: number | null;
  val_samples: number | null;
  lambda_source: 'sweep' | 'given';
  lambda: number;
  C: number;
  best_val_top1_accuracy: number | null;
  sweep: {
    lambda: number;
    C: number;
    val_top1_accuracy: number;
    val_loss: number;
    iterations: number;
    converged: boolean;
    order: number;
  }[];
  fit: {
    samples: number;
    iterations: number;
    converged: boolean;
    stop_reason: string;
    loss: number;
    grad_max_abs: number;
    seconds: number;
  };
  test_top1_accuracy: number;
  test_top5_accuracy?: number;
  test_mean_per_class_accuracy: number;
  test_loss: number;
  test_unknown_label_samples: number;
  test_per_class_accuracy: { label: number; name?: string; samples: number; correct: number; accuracy: number | null }[];
}

export interface ProbeResult {
  report: ProbeReport;
  model: LogRegModel;
  /** label value of each class index of the model */
  labels: number[];
  sweep: SweepResult | null;
  final: FitResult;
  test: Evaluation;
}

const pct = (f: number) => 100 * f;
const meanOf = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : 0);

function toLabels(raw: ArrayLike<number>, what: string): number[] {
  const out = Array.from(raw);
  for (const v of out) if (!Number.isSafeInteger(v)) throw new Error(`${what}: labels must be integers, got ${v}`);
  return out;
}

function checkMatrix(m: FeatureMatrix, labels: ArrayLike<number>, what: string): void {
  if (m.data.length !== m.rows * m.dim) throw new Error(`${what}: [${m.rows}, ${m.dim}] matrix holds ${m.data.length} values`);
  if (labels.length !== m.rows) throw new Error(`${what}: ${m.rows} feature rows but ${labels.length} labels`);
  if (m.rows === 0) throw new Error(`${what}: no samples`);
}

export function runLinearProbe(train: LabeledFeatures, test: LabeledFeatures, options: ProbeOptions = {}): ProbeResult {
  checkMatrix(train.features, train.labels, 'train');
  checkMatrix(test.features, test.labels, 'test');
  if (train.features.dim !== test.features.dim) {
    throw new Error(`train features are ${train.features.dim}-d, test features ${test.features.dim}-d`);
  }
  const progress = options.onProgress ?? (() => {});
  const enc = encodeLabels(toLabels(train.labels, 'train'));
  const K = enc.labels.length;
  if (K < 2) throw new Error(`train has ${K} class(es); a probe needs at least 2`);
  const all = fullDesign(train.features, enc.y, K);
  const fitOpts = options.fit ?? {};

  let sweep: SweepResult | null = null;
  let lambda: number;
  let init: LogRegModel | undefined;
  let valSplit: number | null = null;
  let valSamples: number | null = null;
  const seed = options.seed ?? 0;
  if (options.lambda !== undefined) {
    lambda = options.lambda;
    if (!(lambda > 0 && Number.isFinite(lambda))) throw new Error(`λ must be a positive number, got ${lambda}`);
  } else {
    valSplit = options.split ? null : options.valSplit ?? 0.2;
    const split = options.split ?? stratifiedSplit(enc.y, K, valSplit!, seed);
    for (const part of [split.train, split.val]) {
      if (part.some((r) => !(r >= 0 && r < train.features.rows))) throw new Error(`the given validation split names rows outside train's ${train.features.rows}`);
    }
    const fitPart = subDesign(all, split.train);
    const valPart = subDesign(all, split.val);
    valSamples = valPart.rows.length;
    if (valSamples === 0) throw new Error(`a validation split of ${valSplit} leaves no validation samples`);
    progress(`sweep: ${fitPart.rows.length} train / ${valSamples} validation samples, ${K} classes, ${train.features.dim}-d`);
    sweep = sweepLambda(fitPart, valPart, {
      ...options.sweep,
      fit: fitOpts,
      onPoint: (p) =>
        progress(
          `  λ = ${p.lambda.toExponential(3)}: val top-1 ${pct(p.valTop1).toFixed(2)}%` +
            ` (${p.iterations} iterations${p.converged ? '' : ', not converged'}, ${p.seconds.toFixed(1)} s)`,
        ),
    });
    lambda = sweep.best.lambda;
    init = sweep.bestModel;
    progress(`chosen λ = ${lambda.toExponential(3)} (C = ${(1 / lambda).toExponential(3)}), val top-1 ${pct(sweep.best.valTop1).toFixed(2)}%`);
  }
  const final = fitLogisticRegression(all, lambda, { ...fitOpts, init });
  progress(`refit on ${all.rows.length} samples: ${final.iterations} iterations, ${final.seconds.toFixed(1)} s`);
  const testY = applyEncoding(toLabels(test.labels, 'test'), enc.labels);
  const ev = evaluate(final.model, test.features, undefined, testY);

  const names = options.labelNames;
  const nameOf = (label: number): string | undefined =>
    names === undefined ? undefined : Array.isArray(names) ? (names as readonly string[])[label] : (names as ReadonlyMap<number, string>).get(label);
  const perClass = ev.perClass.map((p, k) => {
    const name = nameOf(enc.labels[k]);
    return {
      label: enc.labels[k],
      ...(name !== undefined ? { name } : {}),
      samples: p.samples,
      correct: p.correct,
      accuracy: p.samples ? pct(p.correct / p.samples) : null,
    };
  });
  // test labels the model never saw: listed with their counts, all wrong
  const unseen = new Map<number, number>();
  const testLabels = toLabels(test.labels, 'test');
  testY.forEach((c, i) => {
    if (c < 0) unseen.set(testLabels[i], (unseen.get(testLabels[i]) ?? 0) + 1);
  });
  for (const [label, samples] of [...unseen.entries()].sort((a, b) => a[0] - b[0])) {
    const name = nameOf(label);
    perClass.push({ label, ...(name !== undefined ? { name } : {}), samples, correct: 0, accuracy: 0 });
  }

  const report: ProbeReport = {
    protocol:
      "CLIP linear probe: multinomial logistic regression with an L2 penalty fitted by L-BFGS (max 1000 iterations); λ swept over 1e-6…1e6 on a validation split (every second decade, then halving the interval around the best to 8 steps per decade), refit on train+validation, evaluated on test",
    objective: 'sum_i cross_entropy_i + (lambda/2)*||W||^2, intercept not penalised; scikit-learn C = 1/lambda',
    accuracy_unit: 'percent',
    classes: K,
    dim: train.features.dim,
    train_samples: train.features.rows,
    test_samples: test.features.rows,
    val_split: valSplit,
    seed: sweep && !options.split ? seed : null,
    val_samples: valSamples,
    lambda_source: sweep ? 'sweep' : 'given',
    lambda,
    C: 1 / lambda,
    best_val_top1_accuracy: sweep ? pct(sweep.best.valTop1) : null,
    sweep: (sweep?.points ?? []).map((p) => ({
      lambda: p.lambda,
      C: 1 / p.lambda,
      val_top1_accuracy: pct(p.valTop1),
      val_loss: p.valLoss,
      iterations: p.iterations,
      converged: p.converged,
      order: p.order,
    })),
    fit: {
      samples: all.rows.length,
      iterations: final.iterations,
      converged: final.converged,
      stop_reason: final.reason,
      loss: final.loss,
      grad_max_abs: final.gradMaxAbs,
      seconds: final.seconds,
    },
    test_top1_accuracy: pct(ev.top1),
    ...(ev.top5 !== null ? { test_top5_accuracy: pct(ev.top5) } : {}),
    test_mean_per_class_accuracy: meanOf(perClass.filter((p) => p.samples > 0).map((p) => p.accuracy!)),
    test_loss: ev.meanLoss,
    test_unknown_label_samples: ev.unknown,
    test_per_class_accuracy: perClass,
  };
  return { report, model: final.model, labels: enc.labels, sweep, final, test: ev };
}
