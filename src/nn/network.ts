// An architecture as data: a Network is a list of steps over numbered values, each step one Backend
// op with its weights. Value 0 is the input batch; step i's output is value i + 1. The one forward
// (forward.ts) walks any Network on any Backend, so torchvision's ResNet-50 v1.5, CLIP's RN50 image
// tower and BiT-M R50x1 are three descriptions (src/nn/arch/) run by the same CPU reference and the
// same WebGPU executor.
import type { FoldedConv, Linear } from './model.ts';

export type Arch = 'torchvision' | 'clip-rn50' | 'bit-r50x1';
export const ARCHS: readonly Arch[] = ['torchvision', 'clip-rn50', 'bit-r50x1'];

/** Stage outputs a caller can ask a forward to keep (tests against PyTorch, stage by stage). */
export type StageName = 'stem' | 'maxpool' | 'layer1' | 'layer2' | 'layer3' | 'layer4';
export const STAGE_NAMES: readonly StageName[] = ['stem', 'maxpool', 'layer1', 'layer2', 'layer3', 'layer4'];

/** GroupNorm: y = (x − mean_g) / √(var_g + eps) · gamma + beta over groups of C / groups channels (population variance). */
export interface GroupNorm {
  readonly name: string;
  readonly channels: number;
  readonly groups: number;
  readonly eps: number;
  readonly gamma: Float32Array;
  readonly beta: Float32Array;
}

/** The tokens of CLIP's attention pool: the mean of the grid's pixels, then the pixels, plus a learned embedding. */
export interface AttentionTokens {
  readonly name: string;
  readonly channels: number;
  /** The grid side G: the pool takes a G×G map (1 + G² tokens). */
  readonly grid: number;
  /** [1 + G², channels], row-major. */
  readonly positional: Float32Array;
}

/** One op; operands are value numbers. */
export type Step =
  | { readonly op: 'conv'; readonly x: number; readonly conv: FoldedConv; readonly relu: boolean; readonly residual?: number }
  | { readonly op: 'maxPool'; readonly x: number; readonly zeroPadding: boolean }
  | { readonly op: 'avgPool'; readonly x: number; readonly size: number }
  | { readonly op: 'globalAvgPool'; readonly x: number }
  | { readonly op: 'linear'; readonly x: number; readonly fc: Linear }
  | { readonly op: 'groupNorm'; readonly x: number; readonly gn: GroupNorm; readonly relu: boolean }
  | { readonly op: 'attentionTokens'; readonly x: number; readonly mean: number; readonly tokens: AttentionTokens }
  | { readonly op: 'attention'; readonly q: number; readonly kv: number; readonly heads: number };

export interface Network {
  readonly arch: Arch;
  readonly steps: readonly Step[];
  /** The value that is the embedding [N, featureDim]. */
  readonly features: number;
  /** The classifier's logits [N, numClasses], or null for an embedding model. */
  readonly logits: number | null;
  readonly featureDim: number;
  readonly numClasses: number | null;
  readonly stages: ReadonlyMap<StageName, number>;
  /** The one input side the network takes (CLIP: its grid · 32), or null when any of at least 32 works. */
  readonly inputSize: number | null;
}

/** The operands a step reads. */
export function operands(s: Step): number[] {
  switch (s.op) {
    case 'conv':
      return s.residual === undefined ? [s.x] : [s.x, s.residual];
    case 'attentionTokens':
      return [s.x, s.mean];
    case 'attention':
      return [s.q, s.kv];
    default:
      return [s.x];
  }
}

/** Builds a Network step by step: each add() returns the new value's number. */
export class NetworkBuilder {
  readonly steps: Step[] = [];
  readonly stages = new Map<StageName, number>();

  add(step: Step): number {
    for (const v of operands(step)) if (v > this.steps.length) throw new Error(`step ${this.steps.length} reads value ${v}, not yet computed`);
    this.steps.push(step);
    return this.steps.length;
  }

  stage(name: StageName, v: number): number {
    this.stages.set(name, v);
    return v;
  }

  conv(x: number, conv: FoldedConv, relu: boolean, residual?: number): number {
    return this.add(residual === undefined ? { op: 'conv', x, conv, relu } : { op: 'conv', x, conv, relu, residual });
  }

  /** Global average pool (the features), then the optional classifier on them (the logits). */
  poolAndClassify(x: number, fc: Linear | null): { features: number; logits: number | null } {
    const features = this.add({ op: 'globalAvgPool', x });
    return { features, logits: fc ? this.add({ op: 'linear', x: features, fc }) : null };
  }

  /** The network of the steps and stages added so far, with its outputs. */
  finish(arch: Arch, outputs: Omit<Network, 'arch' | 'steps' | 'stages'>): Network {
    return { arch, steps: this.steps, stages: this.stages, ...outputs };
  }
}
