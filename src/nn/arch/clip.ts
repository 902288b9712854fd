// OpenAI CLIP's RN50 image tower (CLIP's model.py, ModifiedResNet) as a Network:
//   stem   conv1 3×3/2 → conv2 3×3 → conv3 3×3 (each + BatchNorm + ReLU), 2×2 average pool
//   blocks relu(conv3(pool_s(relu(conv2(relu(conv1(x)))))) + shortcut), the stride s a 2×2 average
//          pool after conv2; shortcut = downsample.0(pool_s(x)) (1×1 conv + BatchNorm) when s > 1 or
//          the channels change, else x
//   attnpool the G×G map as 1 + G² tokens (their mean first) plus a positional embedding; the mean
//          token alone queries all of them (multi-head attention), then c_proj: the image embedding.
// BatchNorm is folded into the convs; the query projection carries the positional embedding of token
// 0 and the 1/√(head dim) scale in its weights (q = W_q·(mean + pos₀) + b_q, scaled), and the key and
// value projections are one 1×1 conv over the tokens with 2C outputs.
import type { FoldedConv, Linear } from '../model.ts';
import { NetworkBuilder, type AttentionTokens, type Network, type StageName } from '../network.ts';

export interface ClipBlock {
  readonly name: string;
  readonly reduce: FoldedConv;
  readonly spatial: FoldedConv;
  readonly expand: FoldedConv;
  /** downsample.0 (stride 1; the pool before it does the striding), or null for an identity shortcut. */
  readonly shortcut: FoldedConv | null;
  readonly stride: number;
}

export interface ClipTower {
  readonly stem: readonly [FoldedConv, FoldedConv, FoldedConv];
  readonly blocks: readonly ClipBlock[];
  readonly tokens: AttentionTokens;
  readonly query: Linear;
  readonly keyValue: FoldedConv;
  readonly heads: number;
  readonly output: Linear;
}

export function describeClip(t: ClipTower): Network {
  const g = new NetworkBuilder();
  let x = 0;
  for (const c of t.stem) x = g.conv(x, c, true);
  g.stage('stem', x);
  x = g.stage('maxpool', g.add({ op: 'avgPool', x, size: 2 }));
  for (const block of t.blocks) {
    const reduced = g.conv(x, block.reduce, true);
    let spatial = g.conv(reduced, block.spatial, true);
    if (block.stride > 1) spatial = g.add({ op: 'avgPool', x: spatial, size: block.stride });
    let shortcut = x;
    if (block.shortcut) {
      const pooled = block.stride > 1 ? g.add({ op: 'avgPool', x, size: block.stride }) : x;
      shortcut = g.conv(pooled, block.shortcut, false);
    }
    x = g.conv(spatial, block.expand, true, shortcut);
    g.stage(block.name.split('.')[1] as StageName, x); // 'visual.layerS.B': the last block of a stage wins
  }
  const mean = g.add({ op: 'globalAvgPool', x });
  const q = g.add({ op: 'linear', x: mean, fc: t.query });
  const tokens = g.add({ op: 'attentionTokens', x, mean, tokens: t.tokens });
  const kv = g.conv(tokens, t.keyValue, false);
  const attended = g.add({ op: 'attention', q, kv, heads: t.heads });
  const features = g.add({ op: 'linear', x: attended, fc: t.output });
  return g.finish('clip-rn50', {
    features,
    logits: null,
    featureDim: t.output.outFeatures,
    numClasses: null,
    inputSize: 32 * t.tokens.grid,
  });
}
