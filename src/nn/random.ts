// Seeded random ResNet weights with non-trivial BatchNorm statistics, for tests and benchmarks
// (no pretrained weights are needed to check that two implementations agree).
import { memoryArchive, type TensorArchive } from '../weights/archive.ts';
import { loadResNet } from '../weights/resnet.ts';
import type { FoldedConv, Linear, ResNetModel } from './model.ts';
import { buildGraph, type ConvSpec, type ResNetSpec } from './spec.ts';

/** mulberry32: a small, fast, seedable PRNG giving uniform floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples (Box–Muller) from a uniform source. */
export function seededNormal(seed: number): () => number {
  const uniform = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/**
 * Seeded tensors under any architecture's names, for generated weights: `weight` ~ N(0, 1/fan_in)
 * (activations stay moderate through deep stacks), `normal` ~ N(0, std²), `scale` ∈ [0.5, 1.5) · factor,
 * `variance` ∈ [0.5, 2). Values are drawn in call order.
 */
export function seededTensors(seed: number) {
  const normal = seededNormal(seed);
  const uniform = seededRandom(seed ^ 0x9e3779b9);
  const entries: [string, { shape: number[]; data: Float32Array }][] = [];
  const add = (name: string, shape: number[], f: () => number) =>
    entries.push([name, { shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, f) }]);
  return {
    weight: (name: string, shape: number[], fanIn: number) => {
      const std = Math.sqrt(1 / fanIn);
      add(name, shape, () => normal() * std);
    },
    normal: (name: string, shape: number[], std: number) => add(name, shape, () => normal() * std),
    scale: (name: string, n: number, factor = 1) => add(name, [n], () => (0.5 + uniform()) * factor),
    variance: (name: string, n: number) => add(name, [n], () => 0.5 + 1.5 * uniform()),
    archive: (source: string): TensorArchive => memoryArchive(entries, source),
  };
}

/**
 * A torchvision-style state dict: conv weights ~ N(0, 1/fan_in), BN gamma ∈ [0.5, 1.5), beta and
 * running_mean ~ N(0, 0.1), running_var ∈ [0.5, 2).
 */
export function randomStateDict(spec: ResNetSpec, seed: number): TensorArchive {
  const t = seededTensors(seed);
  const graph = buildGraph(spec);
  const addConv = (c: ConvSpec) => {
    const o = c.outChannels;
    t.weight(`${c.conv}.weight`, [o, c.inChannels, c.kernel, c.kernel], c.inChannels * c.kernel * c.kernel);
    t.scale(`${c.bn}.weight`, o);
    t.normal(`${c.bn}.bias`, [o], 0.1);
    t.normal(`${c.bn}.running_mean`, [o], 0.1);
    t.variance(`${c.bn}.running_var`, o);
  };
  addConv(graph.stem);
  for (const b of graph.blocks) for (const c of [b.reduce, b.spatial, b.expand, b.shortcut]) if (c) addConv(c);
  if (spec.numClasses !== null) {
    t.normal('fc.weight', [spec.numClasses, graph.featureDim], 0.05);
    t.normal('fc.bias', [spec.numClasses], 0.1);
  }
  return t.archive(`<random weights, seed ${seed}>`);
}

export function randomResNet(spec: ResNetSpec, seed: number): ResNetModel {
  return loadResNet(randomStateDict(spec, seed));
}

/** A seeded N(0, 1) input batch, NCHW. */
export function randomInput(shape: readonly number[], seed: number): Float32Array {
  const normal = seededNormal(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, normal);
}

/** A seeded conv with BatchNorm already folded (for kernel tests): weight ~ N(0, 1/fan_in), bias ~ N(0, 0.1). */
export function randomFoldedConv(cin: number, cout: number, kernel: number, stride: number, padding: number, seed: number): FoldedConv {
  const normal = seededNormal(seed);
  const std = Math.sqrt(1 / (cin * kernel * kernel));
  return {
    conv: `random.conv${kernel}x${kernel}s${stride}`,
    bn: 'random.bn',
    inChannels: cin,
    outChannels: cout,
    kernel,
    stride,
    padding,
    weight: Float32Array.from({ length: cout * cin * kernel * kernel }, () => normal() * std),
    bias: Float32Array.from({ length: cout }, () => 0.1 * normal()),
  };
}

/** A seeded linear layer: weight ~ N(0, 1/in), bias ~ N(0, 0.1). */
export function randomLinear(inFeatures: number, outFeatures: number, seed: number): Linear {
  const normal = seededNormal(seed);
  return {
    inFeatures,
    outFeatures,
    weight: Float32Array.from({ length: inFeatures * outFeatures }, () => normal() / Math.sqrt(inFeatures)),
    bias: Float32Array.from({ length: outFeatures }, () => 0.1 * normal()),
  };
}
