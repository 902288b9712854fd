// From Google's BiT checkpoint (BiT-M-R50x1.npz, or the same arrays as safetensors) to BiT R50x1 as
// a Network (src/nn/arch/bit.ts). Names and layouts as BiT's own load_from reads them:
//   resnet/root_block/standardized_conv2d/kernel                      root conv, HWIO
//   resnet/block{1..4}/unit{01..}/{a,b,c}/standardized_conv2d/kernel  conv1, conv2, conv3, HWIO
//   resnet/block…/unit…/{a,b,c}/group_norm/{gamma,beta}               gn1 (before conv1), gn2, gn3
//   resnet/block…/unit01/a/proj/standardized_conv2d/kernel            the projection shortcut
//   resnet/group_norm/{gamma,beta}, resnet/head/conv2d/{kernel,bias}  the head
// Each kernel is transposed to OIHW and weight-standardised once here: per output channel,
// (w − mean) / √(var + 1e-10) with the population variance, in f64. The root width (64 in R50x1,
// smaller in test models) sets every width and the GroupNorm groups (32 at width 64: two channels a
// group in the first norms, kept at any width); the head's size is read from the file.
import type { TensorEntry } from './archive.ts';
import { checkTensors, WeightsError, type Expected } from './expect.ts';
import { describeBit, type BitUnit } from '../nn/arch/bit.ts';
import type { FoldedConv, Linear } from '../nn/model.ts';
import type { GroupNorm, Network } from '../nn/network.ts';

const DEPTHS = [3, 4, 6, 3];
const R = 'resnet/';
const KERNEL = 'standardized_conv2d/kernel';
export const WS_EPS = 1e-10;
const GN_EPS = 1e-5;

/** HWIO → OIHW, each output channel standardised: (w − mean) / √(var + eps). */
export function standardizeHwio(hwio: Float32Array, [kh, kw, cin, cout]: readonly number[], eps = WS_EPS): Float32Array {
  const per = kh * kw * cin;
  const out = new Float32Array(hwio.length);
  const row = new Float64Array(per);
  for (let o = 0; o < cout; o++) {
    let sum = 0;
    for (let i = 0; i < cin; i++) {
      for (let t = 0; t < kh * kw; t++) sum += row[i * kh * kw + t] = hwio[(t * cin + i) * cout + o];
    }
    const mean = sum / per;
    let sq = 0;
    for (let j = 0; j < per; j++) sq += (row[j] - mean) ** 2;
    const rstd = 1 / Math.sqrt(sq / per + eps);
    for (let j = 0; j < per; j++) out[o * per + j] = (row[j] - mean) * rstd;
  }
  return out;
}

export function loadBit(tensors: ReadonlyMap<string, TensorEntry>, source: string): Network {
  const root = tensors.get(`${R}root_block/${KERNEL}`);
  const width = root?.shape[3] ?? 64;
  if (width % 2 !== 0) throw new WeightsError(`${source}: ${R}root_block/${KERNEL} has ${width} output channels, not an even number`);
  const groups = width / 2;
  const classes = tensors.get(`${R}head/conv2d/kernel`)?.shape[3];
  const expected = new Map<string, Expected>();
  const kernel = (name: string, k: number, cin: number, cout: number) => expected.set(name, { shape: [k, k, cin, cout] });
  const norm = (name: string, c: number) => {
    expected.set(`${name}/gamma`, { shape: [c], squeezable: true });
    expected.set(`${name}/beta`, { shape: [c], squeezable: true });
  };
  kernel(`${R}root_block/${KERNEL}`, 7, 3, width);
  const units: { name: string; stage: number; cin: number; cmid: number; cout: number; stride: number; proj: boolean }[] = [];
  let cin = width;
  DEPTHS.forEach((depth, b) => {
    const cmid = width * 2 ** b;
    const cout = 4 * cmid;
    for (let u = 1; u <= depth; u++) {
      const name = `${R}block${b + 1}/unit${String(u).padStart(2, '0')}/`;
      const proj = u === 1;
      units.push({ name, stage: b + 1, cin, cmid, cout, stride: u === 1 && b > 0 ? 2 : 1, proj });
      kernel(`${name}a/${KERNEL}`, 1, cin, cmid);
      kernel(`${name}b/${KERNEL}`, 3, cmid, cmid);
      kernel(`${name}c/${KERNEL}`, 1, cmid, cout);
      norm(`${name}a/group_norm`, cin);
      norm(`${name}b/group_norm`, cmid);
      norm(`${name}c/group_norm`, cmid);
      if (proj) kernel(`${name}a/proj/${KERNEL}`, 1, cin, cout);
      cin = cout;
    }
  });
  norm(`${R}group_norm`, cin);
  if (classes !== undefined || tensors.has(`${R}head/conv2d/bias`)) {
    kernel(`${R}head/conv2d/kernel`, 1, cin, classes ?? 21843);
    expected.set(`${R}head/conv2d/bias`, { shape: [classes ?? 21843], squeezable: true });
  }
  const unexpected = [...tensors.keys()].filter((k) => !expected.has(k));
  checkTensors(source, 'a BiT R50x1 checkpoint (resnet/…)', tensors, expected, unexpected);

  const values = (name: string) => tensors.get(name)!.toFloat32();
  const conv = (name: string, k: number, cin: number, cout: number, stride: number): FoldedConv => ({
    conv: name.slice(0, -'/kernel'.length), bn: '', inChannels: cin, outChannels: cout, kernel: k, stride, padding: (k - 1) >> 1,
    weight: standardizeHwio(values(name), [k, k, cin, cout]),
    bias: new Float32Array(cout),
  });
  const gn = (name: string, channels: number): GroupNorm => ({
    name, channels, groups, eps: GN_EPS, gamma: values(`${name}/gamma`), beta: values(`${name}/beta`),
  });
  const bitUnits: BitUnit[] = units.map((u) => ({
    name: u.name.slice(0, -1),
    stage: u.stage,
    gn1: gn(`${u.name}a/group_norm`, u.cin),
    conv1: conv(`${u.name}a/${KERNEL}`, 1, u.cin, u.cmid, 1),
    gn2: gn(`${u.name}b/group_norm`, u.cmid),
    conv2: conv(`${u.name}b/${KERNEL}`, 3, u.cmid, u.cmid, u.stride),
    gn3: gn(`${u.name}c/group_norm`, u.cmid),
    conv3: conv(`${u.name}c/${KERNEL}`, 1, u.cmid, u.cout, 1),
    proj: u.proj ? conv(`${u.name}a/proj/${KERNEL}`, 1, u.cin, u.cout, u.stride) : null,
  }));
  let head: Linear | null = null;
  if (expected.has(`${R}head/conv2d/kernel`)) {
    const k = classes!;
    const hwio = values(`${R}head/conv2d/kernel`); // [1, 1, in, k] → [k, in]
    const weight = new Float32Array(k * cin);
    for (let i = 0; i < cin; i++) for (let o = 0; o < k; o++) weight[o * cin + i] = hwio[i * k + o];
    head = { inFeatures: cin, outFeatures: k, weight, bias: values(`${R}head/conv2d/bias`) };
  }
  return describeBit({ root: conv(`${R}root_block/${KERNEL}`, 7, 3, width, 2), units: bitUnits, norm: gn(`${R}group_norm`, cin), head });
}

/** BiT's checkpoints name everything under resnet/. */
export const isBit = (tensors: ReadonlyMap<string, unknown>): boolean => [...tensors.keys()].some((k) => k.startsWith(R));
