// From CLIP's state dict (OpenAI's RN50.pt TorchScript archive, or the same tensors as safetensors)
// to the RN50 image tower as a Network (src/nn/arch/clip.ts). Only `visual.*` is kept: the text
// tower's tensors are dropped with one notice. The width comes from the stem (conv3: 64 in RN50;
// smaller in test models), the attention grid from the positional embedding (1 + G² rows), the heads
// as CLIP's build_model sets them (width · 32 / 64), the embedding size from c_proj.
import type { TensorEntry } from './archive.ts';
import { checkTensors, listNames, WeightsError, type Expected } from './expect.ts';
import { foldConvLazily } from './fold.ts';
import { describeClip, type ClipBlock } from '../nn/arch/clip.ts';
import type { FoldedConv, Linear } from '../nn/model.ts';
import type { Network } from '../nn/network.ts';
import type { ConvSpec } from '../nn/spec.ts';

const DEPTHS = [3, 4, 6, 3];
const P = 'visual.';

export function loadClip(tensors: ReadonlyMap<string, TensorEntry>, source: string, onNotice?: (m: string) => void): Network {
  const width = tensors.get(`${P}conv3.weight`)?.shape[0] ?? 64;
  const pos = tensors.get(`${P}attnpool.positional_embedding`)?.shape[0] ?? 50;
  const grid = Math.round(Math.sqrt(pos - 1));
  if (grid * grid + 1 !== pos || grid < 1) {
    throw new WeightsError(`${source}: ${P}attnpool.positional_embedding has ${pos} rows, not 1 + G² for a G×G grid`);
  }
  const embed = 32 * width;
  const outDim = tensors.get(`${P}attnpool.c_proj.weight`)?.shape[0] ?? 1024;
  const heads = (width * 32) / 64;

  const expected = new Map<string, Expected>();
  const convs: ConvSpec[] = [];
  const conv = (name: string, bn: string, cin: number, cout: number, k: number, stride: number): ConvSpec => {
    const c: ConvSpec = { conv: P + name, bn: P + bn, inChannels: cin, outChannels: cout, kernel: k, stride, padding: (k - 1) >> 1 };
    expected.set(`${c.conv}.weight`, { shape: [cout, cin, k, k] });
    for (const p of ['weight', 'bias', 'running_mean', 'running_var']) expected.set(`${c.bn}.${p}`, { shape: [cout] });
    expected.set(`${c.bn}.num_batches_tracked`, { shape: [], optional: true });
    convs.push(c);
    return c;
  };
  const stem = [conv('conv1', 'bn1', 3, width / 2, 3, 2), conv('conv2', 'bn2', width / 2, width / 2, 3, 1), conv('conv3', 'bn3', width / 2, width, 3, 1)];
  const blocks: { name: string; stride: number; specs: (ConvSpec | null)[] }[] = [];
  let inplanes = width;
  DEPTHS.forEach((depth, s) => {
    const planes = width * 2 ** s;
    for (let b = 0; b < depth; b++) {
      const name = `layer${s + 1}.${b}`;
      const stride = b === 0 && s > 0 ? 2 : 1;
      const projected = stride > 1 || inplanes !== planes * 4;
      blocks.push({
        name: P + name,
        stride,
        specs: [
          conv(`${name}.conv1`, `${name}.bn1`, inplanes, planes, 1, 1),
          conv(`${name}.conv2`, `${name}.bn2`, planes, planes, 3, 1),
          conv(`${name}.conv3`, `${name}.bn3`, planes, planes * 4, 1, 1),
          projected ? conv(`${name}.downsample.0`, `${name}.downsample.1`, inplanes, planes * 4, 1, 1) : null,
        ],
      });
      inplanes = planes * 4;
    }
  });
  const a = `${P}attnpool.`;
  expected.set(`${a}positional_embedding`, { shape: [pos, embed] });
  for (const p of ['q_proj', 'k_proj', 'v_proj']) {
    expected.set(`${a}${p}.weight`, { shape: [embed, embed] });
    expected.set(`${a}${p}.bias`, { shape: [embed] });
  }
  expected.set(`${a}c_proj.weight`, { shape: [outDim, embed] });
  expected.set(`${a}c_proj.bias`, { shape: [outDim] });
  const unexpected = [...tensors.keys()].filter((k) => k.startsWith(P) && !expected.has(k));
  checkTensors(source, 'a CLIP RN50 image tower (visual.*)', tensors, expected, unexpected);

  const values = (name: string) => tensors.get(name)!.toFloat32();
  const fold = (c: ConvSpec): FoldedConv =>
    foldConvLazily(c, values(`${c.conv}.weight`), {
      gamma: values(`${c.bn}.weight`),
      beta: values(`${c.bn}.bias`),
      mean: values(`${c.bn}.running_mean`),
      variance: values(`${c.bn}.running_var`),
    });
  const clipBlocks: ClipBlock[] = blocks.map(({ name, stride, specs: [r, sp, e, sc] }) => ({
    name, stride, reduce: fold(r!), spatial: fold(sp!), expand: fold(e!), shortcut: sc ? fold(sc) : null,
  }));

  // q = scale · (W_q (mean + pos₀) + b_q): token 0's positional embedding and the scale folded in, in f64.
  const positional = values(`${a}positional_embedding`);
  const wq = values(`${a}q_proj.weight`);
  const bq = values(`${a}q_proj.bias`);
  const scale = 1 / Math.sqrt(embed / heads);
  const qBias = new Float32Array(embed);
  for (let o = 0; o < embed; o++) {
    let s = bq[o];
    for (let i = 0; i < embed; i++) s += wq[o * embed + i] * positional[i];
    qBias[o] = s * scale;
  }
  const query: Linear = { inFeatures: embed, outFeatures: embed, weight: wq.map((w) => w * scale), bias: qBias };
  const kvWeight = new Float32Array(2 * embed * embed);
  kvWeight.set(values(`${a}k_proj.weight`));
  kvWeight.set(values(`${a}v_proj.weight`), embed * embed);
  const kvBias = new Float32Array(2 * embed);
  kvBias.set(values(`${a}k_proj.bias`));
  kvBias.set(values(`${a}v_proj.bias`), embed);
  const keyValue: FoldedConv = {
    conv: `${a}k_proj+v_proj`, bn: '', inChannels: embed, outChannels: 2 * embed, kernel: 1, stride: 1, padding: 0, weight: kvWeight, bias: kvBias,
  };
  const output: Linear = { inFeatures: embed, outFeatures: outDim, weight: values(`${a}c_proj.weight`), bias: values(`${a}c_proj.bias`) };
  // Noticed once the tower has loaded: weights that are not CLIP's fail with their one error alone.
  const text = [...tensors.keys()].filter((k) => !k.startsWith(P));
  if (text.length) onNotice?.(`${source}: ignored the text tower and CLIP's other tensors outside visual.* (${listNames('tensors', text)})`);
  return describeClip({
    stem: [fold(stem[0]), fold(stem[1]), fold(stem[2])],
    blocks: clipBlocks,
    tokens: { name: `${a}positional_embedding`, channels: embed, grid, positional },
    query,
    keyValue,
    heads,
    output,
  });
}

/** CLIP's state dicts hold `visual.*` (with or without the text tower beside it). */
export const isClip = (tensors: ReadonlyMap<string, unknown>): boolean => [...tensors.keys()].some((k) => k.startsWith(P));
