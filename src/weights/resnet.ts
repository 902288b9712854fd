// From a torchvision-style state dict to a ResNetModel: key names normalised, every tensor checked
// against the graph, BatchNorm folded into each conv. Also reads the folded form `convert --fold-bn`
// writes: `<conv>.weight` and `<conv>.bias` for every conv, no BatchNorm tensors.
import type { TensorArchive, TensorEntry } from './archive.ts';
import { foldConvLazily } from './fold.ts';
import { checkTensors, listNames, WeightsError, type Expected } from './expect.ts';
import type { FoldedConv, Linear, ResNetModel } from '../nn/model.ts';
import { buildGraph, RESNET50, type ConvSpec, type ResNetSpec } from '../nn/spec.ts';

/** DataParallel and some training frameworks prefix every key; torchvision names have no prefix. */
export function stripPrefix(name: string): string {
  return name.replace(/^(module\.|model\.)+/, '');
}

export { WeightsError };

/** An archive's tensors by their names without prefixes; two names that become one are an error. */
export function strippedTensors(archive: TensorArchive): Map<string, TensorEntry> {
  const tensors = new Map<string, TensorEntry>();
  for (const [name, entry] of archive.tensors) {
    const key = stripPrefix(name);
    if (tensors.has(key)) throw new WeightsError(`${archive.source}: two tensors are both named '${key}' once prefixes are removed`);
    tensors.set(key, entry);
  }
  return tensors;
}

/**
 * The spec a state dict describes: ResNet-50's graph at the width its stem conv has (64 for the real
 * model; smaller for test fixtures), with a classifier when fc.weight is present.
 */
export function inferSpec(tensors: ReadonlyMap<string, TensorEntry>): ResNetSpec {
  const stem = tensors.get('conv1.weight')?.shape[0];
  const fc = tensors.get('fc.weight')?.shape[0];
  const divisor = stem && RESNET50.stemWidth % stem === 0 ? RESNET50.stemWidth / stem : 1;
  return {
    ...RESNET50,
    stemWidth: RESNET50.stemWidth / divisor,
    stageWidths: RESNET50.stageWidths.map((w) => w / divisor),
    numClasses: tensors.has('fc.weight') || tensors.has('fc.bias') ? (fc ?? RESNET50.numClasses) : null,
  };
}

/** A state dict `convert --fold-bn` wrote: the stem conv has a bias and there is no BatchNorm. */
function isFolded(tensors: ReadonlyMap<string, TensorEntry>): boolean {
  return tensors.has('conv1.bias') && !tensors.has('bn1.weight');
}

function expectedTensors(spec: ResNetSpec, folded: boolean): Map<string, Expected> {
  const graph = buildGraph(spec);
  const expected = new Map<string, Expected>();
  const addConv = (c: ConvSpec) => {
    expected.set(`${c.conv}.weight`, { shape: [c.outChannels, c.inChannels, c.kernel, c.kernel] });
    if (folded) {
      expected.set(`${c.conv}.bias`, { shape: [c.outChannels] });
      return;
    }
    for (const p of ['weight', 'bias', 'running_mean', 'running_var']) expected.set(`${c.bn}.${p}`, { shape: [c.outChannels] });
    expected.set(`${c.bn}.num_batches_tracked`, { shape: [], optional: true });
  };
  addConv(graph.stem);
  for (const b of graph.blocks) {
    for (const c of [b.reduce, b.spatial, b.expand, b.shortcut]) if (c) addConv(c);
  }
  if (spec.numClasses !== null) {
    expected.set('fc.weight', { shape: [spec.numClasses, graph.featureDim] });
    expected.set('fc.bias', { shape: [spec.numClasses] });
  }
  return expected;
}

export interface LoadResNetOptions {
  /**
   * Drop tensors that are not part of ResNet-50 (a checkpoint's task heads, as the Microsoft Vision
   * Model's has) and report them through onNotice, instead of refusing the file. Missing or
   * misshapen backbone tensors are still an error.
   */
  readonly ignoreExtraKeys?: boolean;
  readonly onNotice?: (message: string) => void;
}

/** Check a state dict against ResNet-50 and fold its BatchNorms. Reports every problem in one error. */
export function loadResNet(archive: TensorArchive, opts: LoadResNetOptions = {}): ResNetModel {
  const tensors = strippedTensors(archive);
  const spec = inferSpec(tensors);
  const folded = isFolded(tensors);
  const expected = expectedTensors(spec, folded);
  let unexpected = [...tensors.keys()].filter((name) => !expected.has(name));
  if (opts.ignoreExtraKeys && unexpected.length) {
    opts.onNotice?.(`${archive.source}: ignored ${listNames('tensors outside ResNet-50', unexpected)}`);
    unexpected = [];
  }
  checkTensors(archive.source, `a ${folded ? 'BatchNorm-folded ResNet-50' : 'ResNet-50'} state dict`, tensors, expected, unexpected);

  const values = (name: string) => tensors.get(name)!.toFloat32();
  const fold = (c: ConvSpec): FoldedConv =>
    folded
      ? { ...c, weight: values(`${c.conv}.weight`), bias: values(`${c.conv}.bias`) }
      : foldConvLazily(c, values(`${c.conv}.weight`), {
          gamma: values(`${c.bn}.weight`),
          beta: values(`${c.bn}.bias`),
          mean: values(`${c.bn}.running_mean`),
          variance: values(`${c.bn}.running_var`),
        });
  const graph = buildGraph(spec);
  const fc: Linear | null =
    spec.numClasses === null
      ? null
      : {
          inFeatures: graph.featureDim,
          outFeatures: spec.numClasses,
          weight: values('fc.weight'),
          bias: values('fc.bias'),
        };
  return {
    graph,
    stem: fold(graph.stem),
    blocks: graph.blocks.map((b) => ({
      name: b.name,
      reduce: fold(b.reduce),
      spatial: fold(b.spatial),
      expand: fold(b.expand),
      shortcut: b.shortcut ? fold(b.shortcut) : null,
    })),
    fc,
  };
}
