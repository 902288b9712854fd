// The ResNet forward pass, written once over the Backend interface: it walks the graph's data
// (stem, blocks, head) instead of spelling out 53 convs by hand.
import type { Backend } from './backend.ts';
import type { FoldedBlock, ResNetModel } from './model.ts';

/** Intermediate results a caller can ask to keep (for tests against PyTorch, stage by stage). */
export type StageName = 'stem' | 'maxpool' | 'layer1' | 'layer2' | 'layer3' | 'layer4';
export const STAGE_NAMES: readonly StageName[] = ['stem', 'maxpool', 'layer1', 'layer2', 'layer3', 'layer4'];

export interface ForwardResult<V> {
  /** Global-average-pooled features [N, featureDim]. */
  readonly features: V;
  /** Classifier logits [N, numClasses], or null when the model has no fc. */
  readonly logits: V | null;
  /** The stage outputs asked for in `keep`, NCHW-shaped. */
  readonly stages: ReadonlyMap<StageName, V>;
}

/** One bottleneck: relu(expand(spatial(reduce(x))) + shortcut(x)), with the add and ReLU fused into expand. */
function bottleneck<V>(b: Backend<V>, block: FoldedBlock, x: V): V {
  const reduced = b.conv2d(x, block.reduce, { relu: true });
  const spatial = b.conv2d(reduced, block.spatial, { relu: true });
  b.release(reduced);
  const shortcut = block.shortcut ? b.conv2d(x, block.shortcut, { relu: false }) : x;
  const y = b.conv2d(spatial, block.expand, { relu: true, residual: shortcut });
  b.release(spatial);
  if (block.shortcut) b.release(shortcut);
  return y;
}

export function forward<V>(
  b: Backend<V>,
  model: ResNetModel,
  input: V,
  keep: ReadonlySet<StageName> = new Set(),
): ForwardResult<V> {
  const stages = new Map<StageName, V>();
  // Hand a stage output to the caller (kept) or to the backend (released) once it is consumed.
  const done = (name: StageName | null, v: V) => {
    if (name !== null && keep.has(name)) stages.set(name, v);
    else b.release(v);
  };

  const stem = b.conv2d(input, model.stem, { relu: true });
  const pooled = b.maxPool(stem);
  done('stem', stem);

  // x is the running activation; xName is its stage name when it is a stage's output, else null.
  let x = pooled;
  let xName: StageName | null = 'maxpool';
  model.blocks.forEach((block, i) => {
    const y = bottleneck(b, block, x);
    done(xName, x);
    const stage = block.name.split('.')[0] as StageName;
    const next = model.blocks[i + 1];
    x = y;
    xName = !next || !next.name.startsWith(`${stage}.`) ? stage : null;
  });

  const features = b.globalAvgPool(x);
  done(xName, x);
  const logits = model.fc ? b.linear(features, model.fc) : null;
  return { features, logits, stages };
}
