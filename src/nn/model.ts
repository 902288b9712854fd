// A loaded ResNet: the graph with BatchNorm folded into every conv, ready for any backend.
import type { ConvSpec, ResNetGraph } from './spec.ts';

/** A conv with BatchNorm folded in: y = conv(x, weight) + bias. weight is OIHW. */
export interface FoldedConv extends ConvSpec {
  readonly weight: Float32Array; // [outChannels, inChannels, kernel, kernel]
  readonly bias: Float32Array; // [outChannels]
  /**
   * Set when the fold is deferred (src/weights/fold.ts foldConvLazily): weight = unscaled.weight ·
   * unscaled.scale per output channel, computed on first access of `weight`. A consumer that copies
   * the weights anyway (the WebGPU packer) reads this instead and scales while copying.
   */
  readonly unscaled?: { readonly weight: Float32Array; readonly scale: Float64Array };
}

export interface FoldedBlock {
  readonly name: string;
  readonly reduce: FoldedConv;
  readonly spatial: FoldedConv;
  readonly expand: FoldedConv;
  readonly shortcut: FoldedConv | null;
}

/** y = x W^T + b, PyTorch's nn.Linear. */
export interface Linear {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: Float32Array; // [outFeatures, inFeatures]
  readonly bias: Float32Array; // [outFeatures]
}

export interface ResNetModel {
  readonly graph: ResNetGraph;
  readonly stem: FoldedConv;
  readonly blocks: readonly FoldedBlock[];
  readonly fc: Linear | null;
}
