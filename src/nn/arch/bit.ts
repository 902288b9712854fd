// Google's BiT-M R50x1 (Big Transfer, a ResNet v2) as a Network:
//   root   weight-standardised conv 7×7/2 (no norm, no ReLU), zero padding 1 + max pool 3×3/2
//   units  pre-activation bottlenecks: p = relu(gn1(x)); shortcut = proj(p) (1×1, the unit's
//          stride) or x; conv3(relu(gn3(conv2(relu(gn2(conv1(p))))))) + shortcut, stride on conv2
//   head   relu(GroupNorm), global average pool (the 2048-d pre-logits), 1×1 conv + bias (logits)
// Weight standardisation is done once at load (src/weights/bit.ts): the convs here hold
// (w − mean) / √(var + 1e-10) per output channel, and a zero bias.
import type { FoldedConv, Linear } from '../model.ts';
import { NetworkBuilder, type GroupNorm, type Network, type StageName } from '../network.ts';

export interface BitUnit {
  readonly name: string; // e.g. 'resnet/block2/unit01'
  readonly stage: number;
  readonly gn1: GroupNorm;
  readonly conv1: FoldedConv;
  readonly gn2: GroupNorm;
  readonly conv2: FoldedConv;
  readonly gn3: GroupNorm;
  readonly conv3: FoldedConv;
  readonly proj: FoldedConv | null;
}

export interface BitModel {
  readonly root: FoldedConv;
  readonly units: readonly BitUnit[];
  readonly norm: GroupNorm;
  readonly head: Linear | null;
}

export function describeBit(m: BitModel): Network {
  const g = new NetworkBuilder();
  const root = g.stage('stem', g.conv(0, m.root, false));
  let x = g.stage('maxpool', g.add({ op: 'maxPool', x: root, zeroPadding: true }));
  for (const u of m.units) {
    const pre = g.add({ op: 'groupNorm', x, gn: u.gn1, relu: true });
    const shortcut = u.proj ? g.conv(pre, u.proj, false) : x;
    let y = g.conv(pre, u.conv1, false);
    y = g.conv(g.add({ op: 'groupNorm', x: y, gn: u.gn2, relu: true }), u.conv2, false);
    x = g.conv(g.add({ op: 'groupNorm', x: y, gn: u.gn3, relu: true }), u.conv3, false, shortcut);
    g.stage(`layer${u.stage}` as StageName, x);
  }
  const normed = g.add({ op: 'groupNorm', x, gn: m.norm, relu: true });
  return g.finish('bit-r50x1', {
    ...g.poolAndClassify(normed, m.head),
    featureDim: m.norm.channels,
    numClasses: m.head?.outFeatures ?? null,
    inputSize: null,
  });
}
