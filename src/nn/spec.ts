// The ResNet-50 architecture as data. torchvision's v1.5 ResNet: a 7x7/2 stem conv, a 3x3/2 max pool,
// four stages of bottleneck blocks (1x1 reduce, 3x3 with the stage's stride, 1x1 expand), a global
// average pool and an optional classifier. Every conv is followed by BatchNorm; ReLU follows all but
// the last conv of a block, whose output is added to the shortcut before the block's ReLU.

export interface ResNetSpec {
  /** Output channels of the stem conv (64 in ResNet-50). */
  readonly stemWidth: number;
  /** Bottleneck blocks per stage ([3, 4, 6, 3]). */
  readonly stageDepths: readonly number[];
  /** Inner width of each stage's bottleneck ([64, 128, 256, 512]). */
  readonly stageWidths: readonly number[];
  /** Stride of each stage's first block, placed on its 3x3 conv (v1.5). */
  readonly stageStrides: readonly number[];
  /** Output channels = inner width x expansion (4). */
  readonly expansion: number;
  /** Classifier outputs, or null for an embedding model without `fc`. */
  readonly numClasses: number | null;
}

export const RESNET50: ResNetSpec = {
  stemWidth: 64,
  stageDepths: [3, 4, 6, 3],
  stageWidths: [64, 128, 256, 512],
  stageStrides: [1, 2, 2, 2],
  expansion: 4,
  numClasses: 1000,
};

/** ResNet-50's graph with every width divided by `divisor` (for small test fixtures). */
export function reducedResNet50(divisor: number, numClasses: number | null = 1000): ResNetSpec {
  return {
    ...RESNET50,
    stemWidth: RESNET50.stemWidth / divisor,
    stageWidths: RESNET50.stageWidths.map((w) => w / divisor),
    numClasses,
  };
}

/** One conv (no bias) followed by one BatchNorm, named by their state-dict prefixes. */
export interface ConvSpec {
  readonly conv: string; // e.g. 'layer2.0.conv2'
  readonly bn: string; // e.g. 'layer2.0.bn2'
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: number;
  readonly stride: number;
  readonly padding: number;
}

export interface BlockSpec {
  readonly name: string; // e.g. 'layer2.0'
  readonly stage: number; // 1..4
  readonly reduce: ConvSpec; // conv1: 1x1
  readonly spatial: ConvSpec; // conv2: 3x3, carries the stride
  readonly expand: ConvSpec; // conv3: 1x1
  readonly shortcut: ConvSpec | null; // downsample: 1x1 with the stride, first block of a stage
}

export interface ResNetGraph {
  readonly spec: ResNetSpec;
  readonly stem: ConvSpec;
  readonly blocks: readonly BlockSpec[];
  readonly featureDim: number;
}

function conv(prefix: string, bn: string, inC: number, outC: number, k: number, stride: number): ConvSpec {
  return { conv: prefix, bn, inChannels: inC, outChannels: outC, kernel: k, stride, padding: (k - 1) >> 1 };
}

/** Expand a spec into the list of convs and blocks, with torchvision's state-dict names. */
export function buildGraph(spec: ResNetSpec): ResNetGraph {
  const stem = conv('conv1', 'bn1', 3, spec.stemWidth, 7, 2);
  const blocks: BlockSpec[] = [];
  let channels = spec.stemWidth;
  spec.stageDepths.forEach((depth, s) => {
    const width = spec.stageWidths[s];
    const out = width * spec.expansion;
    for (let b = 0; b < depth; b++) {
      const name = `layer${s + 1}.${b}`;
      const stride = b === 0 ? spec.stageStrides[s] : 1;
      const needsProjection = b === 0 && (stride !== 1 || channels !== out);
      blocks.push({
        name,
        stage: s + 1,
        reduce: conv(`${name}.conv1`, `${name}.bn1`, channels, width, 1, 1),
        spatial: conv(`${name}.conv2`, `${name}.bn2`, width, width, 3, stride),
        expand: conv(`${name}.conv3`, `${name}.bn3`, width, out, 1, 1),
        shortcut: needsProjection ? conv(`${name}.downsample.0`, `${name}.downsample.1`, channels, out, 1, stride) : null,
      });
      channels = out;
    }
  });
  return { spec, stem, blocks, featureDim: channels };
}

/** Spatial size after a conv or pool: floor((size + 2*pad - kernel) / stride) + 1. */
export function outputSize(size: number, kernel: number, stride: number, padding: number): number {
  return Math.floor((size + 2 * padding - kernel) / stride) + 1;
}
