// torchvision's ResNet-50 v1.5 as a Network: conv 7×7/2 + ReLU, max pool 3×3/2, bottlenecks
// relu(conv3(relu(conv2(relu(conv1(x))))) + shortcut(x)) with the stride on conv2, global average
// pool (the features), optional fc (the logits). BatchNorm is already folded into every conv.
import type { ResNetModel } from '../model.ts';
import { NetworkBuilder, type Network, type StageName } from '../network.ts';

export function describeResNet(model: ResNetModel): Network {
  const g = new NetworkBuilder();
  const stem = g.stage('stem', g.conv(0, model.stem, true));
  let x = g.stage('maxpool', g.add({ op: 'maxPool', x: stem, zeroPadding: false }));
  for (const block of model.blocks) {
    const reduced = g.conv(x, block.reduce, true);
    const spatial = g.conv(reduced, block.spatial, true);
    const shortcut = block.shortcut ? g.conv(x, block.shortcut, false) : x;
    x = g.conv(spatial, block.expand, true, shortcut);
    g.stage(block.name.split('.')[0] as StageName, x); // the last block of a stage wins
  }
  return g.finish('torchvision', {
    ...g.poolAndClassify(x, model.fc),
    featureDim: model.graph.featureDim,
    numClasses: model.fc?.outFeatures ?? null,
    inputSize: null,
  });
}

/** A network as it is, or a loaded ResNet-50 described as one. */
export function asNetwork(model: ResNetModel | Network): Network {
  return 'steps' in model ? model : describeResNet(model);
}
