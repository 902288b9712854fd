// Seeded CLIP RN50 image towers and BiT R50x1 networks at any width, in each architecture's published
// tensor names and layouts, read by the same loaders as the real files: for benchmarks (full size)
// and the runtime self-test (reduced width). Values as seededTensors draws them.
import { loadBit } from '../weights/bit.ts';
import { loadClip } from '../weights/clip.ts';
import type { Network } from './network.ts';
import { seededTensors } from './random.ts';

const DEPTHS = [3, 4, 6, 3];

export interface ClipShape {
  /** The stem's output channels (64 in RN50); the attention pool works on 32 · width channels in heads of 64. */
  readonly width: number;
  /** The attention pool's grid side G (7 in RN50): inputs are 32·G pixels square. */
  readonly grid: number;
  /** The embedding's size (1024 in RN50). */
  readonly outputDim: number;
}

export const CLIP_RN50: ClipShape = { width: 64, grid: 7, outputDim: 1024 };

/** CLIP's image tower as `visual.*` in its state dict's names (CLIP's model.py, ModifiedResNet). */
export function randomClip(shape: ClipShape, seed: number): Network {
  const { width, grid, outputDim } = shape;
  const t = seededTensors(seed);
  const conv = (name: string, bn: string, cin: number, cout: number, k: number) => {
    t.weight(`visual.${name}.weight`, [cout, cin, k, k], cin * k * k);
    t.scale(`visual.${bn}.weight`, cout);
    t.normal(`visual.${bn}.bias`, [cout], 0.1);
    t.normal(`visual.${bn}.running_mean`, [cout], 0.1);
    t.variance(`visual.${bn}.running_var`, cout);
  };
  conv('conv1', 'bn1', 3, width / 2, 3);
  conv('conv2', 'bn2', width / 2, width / 2, 3);
  conv('conv3', 'bn3', width / 2, width, 3);
  let inplanes = width;
  DEPTHS.forEach((depth, s) => {
    const planes = width * 2 ** s;
    for (let b = 0; b < depth; b++) {
      const n = `layer${s + 1}.${b}`;
      conv(`${n}.conv1`, `${n}.bn1`, inplanes, planes, 1);
      conv(`${n}.conv2`, `${n}.bn2`, planes, planes, 3);
      conv(`${n}.conv3`, `${n}.bn3`, planes, 4 * planes, 1);
      if (b === 0) conv(`${n}.downsample.0`, `${n}.downsample.1`, inplanes, 4 * planes, 1);
      inplanes = 4 * planes;
    }
  });
  const embed = 32 * width;
  t.normal('visual.attnpool.positional_embedding', [grid * grid + 1, embed], 0.1);
  for (const p of ['q_proj', 'k_proj', 'v_proj']) {
    t.weight(`visual.attnpool.${p}.weight`, [embed, embed], embed);
    t.normal(`visual.attnpool.${p}.bias`, [embed], 0.1);
  }
  t.weight('visual.attnpool.c_proj.weight', [outputDim, embed], embed);
  t.normal('visual.attnpool.c_proj.bias', [outputDim], 0.1);
  const source = `<CLIP RN50 ${JSON.stringify(shape)}, seed ${seed}>`;
  return loadClip(t.archive(source).tensors, source);
}

/**
 * BiT R50x1 (width 64; GroupNorm groups of 2 root channels) in the names and HWIO layout of Google's
 * BiT-M-R50x1.npz, with `classes` head outputs (21,843 in BiT-M) or no head. The last GroupNorm of
 * each residual branch is drawn at 0.3 of the others' scale, as in a trained ResNet v2 (see
 * scripts/make_arch_fixtures.py).
 */
export function randomBit(width: number, classes: number | null, seed: number): Network {
  const t = seededTensors(seed);
  const kernel = (name: string, k: number, cin: number, cout: number) => t.weight(`${name}/standardized_conv2d/kernel`, [k, k, cin, cout], k * k * cin);
  const norm = (name: string, c: number, scale = 1) => {
    t.scale(`${name}/group_norm/gamma`, c, scale);
    t.normal(`${name}/group_norm/beta`, [c], 0.1 * scale);
  };
  kernel('resnet/root_block', 7, 3, width);
  let cin = width;
  DEPTHS.forEach((depth, b) => {
    const cmid = width * 2 ** b;
    for (let u = 1; u <= depth; u++) {
      const n = `resnet/block${b + 1}/unit${String(u).padStart(2, '0')}`;
      norm(`${n}/a`, cin);
      kernel(`${n}/a`, 1, cin, cmid);
      norm(`${n}/b`, cmid);
      kernel(`${n}/b`, 3, cmid, cmid);
      norm(`${n}/c`, cmid, 0.3);
      kernel(`${n}/c`, 1, cmid, 4 * cmid);
      if (u === 1) kernel(`${n}/a/proj`, 1, cin, 4 * cmid);
      cin = 4 * cmid;
    }
  });
  t.scale('resnet/group_norm/gamma', cin);
  t.normal('resnet/group_norm/beta', [cin], 0.1);
  if (classes !== null) {
    t.weight('resnet/head/conv2d/kernel', [1, 1, cin, classes], cin);
    t.normal('resnet/head/conv2d/bias', [classes], 0.1);
  }
  const source = `<BiT R50x1 width ${width}, ${classes ?? 'no'} classes, seed ${seed}>`;
  return loadBit(t.archive(source).tensors, source);
}
