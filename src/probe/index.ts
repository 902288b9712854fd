// The linear probe (CLIP's protocol) on precomputed features. Pure TypeScript, no Node imports.
export { lbfgs, type LbfgsOptions, type LbfgsResult, type Objective, type StopReason } from './lbfgs.ts';
export {
  decisionFunction,
  fitLogisticRegression,
  fullDesign,
  logisticObjective,
  packModel,
  subDesign,
  unpackModel,
  type Design,
  type FeatureMatrix,
  type FitOptions,
  type FitResult,
  type LogRegModel,
} from './logreg.ts';
export { evaluate, type Evaluation } from './metrics.ts';
export { sweepPlotSvg, type PlotOptions, type PlotPoint } from './plot.ts';
export { runLinearProbe, type LabeledFeatures, type ProbeOptions, type ProbeReport, type ProbeResult } from './probe.ts';
export { applyEncoding, encodeLabels, stratifiedSplit, type LabelEncoding, type Split } from './split.ts';
export { betterPoint, sweepLambda, type SweepOptions, type SweepPoint, type SweepResult } from './sweep.ts';
