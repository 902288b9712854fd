// The CPU reference: every op of the networks (ResNet-50, CLIP RN50, BiT R50x1) in plain TypeScript,
// on NCHW f32 tensors.
// This file is the executable specification the GPU kernels are tested against, so each op is
// written the obvious way; only conv2d's GEMM (gemm.ts) is blocked for speed.
import { Tensor } from '../../tensor/tensor.ts';
import type { Linear } from '../../nn/model.ts';
import type { AttentionTokens, GroupNorm } from '../../nn/network.ts';
import { outputSize } from '../../nn/spec.ts';
import { gemm } from './gemm.ts';

export interface Conv2dParams {
  readonly outChannels: number;
  readonly kernel: number;
  readonly stride: number;
  readonly padding: number;
}

function dims4(x: Tensor, op: string): [number, number, number, number] {
  if (x.shape.length !== 4) throw new Error(`${op}: expected an NCHW tensor, got [${x.shape.join(', ')}]`);
  return [x.shape[0], x.shape[1], x.shape[2], x.shape[3]];
}

/**
 * Unfold one image's receptive fields into columns: cols[(c·K + ky)·K + kx][oy·OW + ox] is the input
 * pixel under kernel tap (ky, kx) of output pixel (oy, ox), or 0 where the tap falls in the padding.
 * Then conv = W[O, C·K·K] · cols[C·K·K, OH·OW].
 */
export function im2col(
  image: Float32Array, channels: number, height: number, width: number, p: Conv2dParams, cols: Float32Array,
): void {
  const { kernel: k, stride: s, padding: pad } = p;
  const oh = outputSize(height, k, s, pad);
  const ow = outputSize(width, k, s, pad);
  let row = 0;
  for (let c = 0; c < channels; c++) {
    const plane = c * height * width;
    for (let ky = 0; ky < k; ky++) {
      for (let kx = 0; kx < k; kx++, row++) {
        const out = row * oh * ow;
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * s - pad + ky;
          const inside = iy >= 0 && iy < height;
          for (let ox = 0; ox < ow; ox++) {
            const ix = ox * s - pad + kx;
            cols[out + oy * ow + ox] = inside && ix >= 0 && ix < width ? image[plane + iy * width + ix] : 0;
          }
        }
      }
    }
  }
}

/** 2-D convolution (PyTorch's F.conv2d, groups = 1) as im2col + GEMM, with an optional bias. */
export function conv2d(x: Tensor, weight: Float32Array, bias: Float32Array | null, p: Conv2dParams): Tensor {
  const [n, c, h, w] = dims4(x, 'conv2d');
  const { outChannels: o, kernel: k, stride: s, padding: pad } = p;
  if (weight.length !== o * c * k * k) {
    throw new Error(`conv2d: weight has ${weight.length} values, [${o}, ${c}, ${k}, ${k}] needs ${o * c * k * k}`);
  }
  const oh = outputSize(h, k, s, pad);
  const ow = outputSize(w, k, s, pad);
  if (oh < 1 || ow < 1) throw new Error(`conv2d: input ${h}×${w} is too small for kernel ${k}, stride ${s}`);
  const depth = c * k * k;
  const pixels = oh * ow;
  const direct = k === 1 && s === 1 && pad === 0; // a 1×1 conv is already a GEMM on the image itself
  const cols = direct ? null : new Float32Array(depth * pixels);
  const y = new Float32Array(n * o * pixels);
  for (let b = 0; b < n; b++) {
    const image = x.data.subarray(b * c * h * w, (b + 1) * c * h * w);
    if (cols) im2col(image, c, h, w, p, cols);
    const out = y.subarray(b * o * pixels, (b + 1) * o * pixels);
    gemm(o, pixels, depth, weight, cols ?? image, out);
    if (bias) {
      for (let oc = 0; oc < o; oc++) {
        const row = out.subarray(oc * pixels, (oc + 1) * pixels);
        for (let i = 0; i < pixels; i++) row[i] += bias[oc];
      }
    }
  }
  return new Tensor([n, o, oh, ow], y);
}

export interface BatchNormParams {
  readonly gamma: Float32Array;
  readonly beta: Float32Array;
  readonly mean: Float32Array;
  readonly variance: Float32Array;
  readonly eps: number;
}

/** Eval-mode BatchNorm: y = (x − mean) / sqrt(var + eps) · gamma + beta, per channel. */
export function batchNorm(x: Tensor, bn: BatchNormParams): Tensor {
  const [n, c, h, w] = dims4(x, 'batchNorm');
  const y = new Float32Array(x.size);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const scale = bn.gamma[ch] / Math.sqrt(bn.variance[ch] + bn.eps);
      const at = (b * c + ch) * h * w;
      for (let i = at; i < at + h * w; i++) y[i] = (x.data[i] - bn.mean[ch]) * scale + bn.beta[ch];
    }
  }
  return new Tensor(x.shape, y);
}

export function relu(x: Tensor): Tensor {
  return new Tensor(x.shape, x.data.map((v) => (v > 0 ? v : 0)));
}

export function add(a: Tensor, b: Tensor): Tensor {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`add: shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] differ`);
  }
  return new Tensor(a.shape, a.data.map((v, i) => v + b.data[i]));
}

/**
 * Max pool 3×3, stride 2, padding 1: the padding is −∞, so it never wins (torchvision), or with
 * zeroPadding a 0 like any pixel (BiT: ConstantPad2d(1, 0), then MaxPool2d(3, 2)).
 */
export function maxPool2d(x: Tensor, zeroPadding = false): Tensor {
  const [n, c, h, w] = dims4(x, 'maxPool2d');
  const k = 3, s = 2, pad = 1;
  const oh = outputSize(h, k, s, pad);
  const ow = outputSize(w, k, s, pad);
  const y = new Float32Array(n * c * oh * ow);
  let at = 0;
  for (let plane = 0; plane < n * c; plane++) {
    const base = plane * h * w;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const y0 = oy * s - pad, x0 = ox * s - pad;
        const touchesPadding = y0 < 0 || x0 < 0 || y0 + k > h || x0 + k > w;
        let best = zeroPadding && touchesPadding ? 0 : -Infinity;
        for (let iy = Math.max(0, oy * s - pad); iy < Math.min(h, oy * s - pad + k); iy++) {
          for (let ix = Math.max(0, ox * s - pad); ix < Math.min(w, ox * s - pad + k); ix++) {
            best = Math.max(best, x.data[base + iy * w + ix]);
          }
        }
        y[at++] = best;
      }
    }
  }
  return new Tensor([n, c, oh, ow], y);
}

/** Mean over the spatial dimensions: [N, C, H, W] → [N, C]. */
export function globalAvgPool(x: Tensor): Tensor {
  const [n, c, h, w] = dims4(x, 'globalAvgPool');
  const y = new Float32Array(n * c);
  for (let plane = 0; plane < n * c; plane++) {
    let sum = 0;
    for (let i = plane * h * w; i < (plane + 1) * h * w; i++) sum += x.data[i];
    y[plane] = sum / (h * w);
  }
  return new Tensor([n, c], y);
}

/** y = x · Wᵀ + b: [N, in] → [N, out]. */
export function linear(x: Tensor, fc: Linear): Tensor {
  if (x.shape.length !== 2 || x.shape[1] !== fc.inFeatures) {
    throw new Error(`linear: expected [N, ${fc.inFeatures}], got [${x.shape.join(', ')}]`);
  }
  const n = x.shape[0];
  const y = new Float32Array(n * fc.outFeatures);
  for (let b = 0; b < n; b++) {
    for (let o = 0; o < fc.outFeatures; o++) {
      let sum = fc.bias[o];
      for (let i = 0; i < fc.inFeatures; i++) sum += x.data[b * fc.inFeatures + i] * fc.weight[o * fc.inFeatures + i];
      y[b * fc.outFeatures + o] = sum;
    }
  }
  return new Tensor([n, fc.outFeatures], y);
}

/** size×size average pool, stride size, no padding (nn.AvgPool2d(size)): rows and columns past the last whole window are dropped. */
export function avgPool2d(x: Tensor, size: number): Tensor {
  const [n, c, h, w] = dims4(x, 'avgPool2d');
  const oh = Math.floor(h / size);
  const ow = Math.floor(w / size);
  if (oh < 1 || ow < 1) throw new Error(`avgPool2d: input ${h}×${w} is smaller than the ${size}×${size} window`);
  const y = new Float32Array(n * c * oh * ow);
  let at = 0;
  for (let plane = 0; plane < n * c; plane++) {
    const base = plane * h * w;
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let sum = 0;
        for (let iy = oy * size; iy < (oy + 1) * size; iy++) {
          for (let ix = ox * size; ix < (ox + 1) * size; ix++) sum += x.data[base + iy * w + ix];
        }
        y[at++] = sum / (size * size);
      }
    }
  }
  return new Tensor([n, c, oh, ow], y);
}

/** GroupNorm (nn.GroupNorm, population variance), then ReLU when asked; statistics in f64. */
export function groupNorm(x: Tensor, gn: GroupNorm, relu: boolean): Tensor {
  const [n, c, h, w] = dims4(x, 'groupNorm');
  if (c !== gn.channels || c % gn.groups !== 0) {
    throw new Error(`groupNorm ${gn.name}: ${c} channels, expected ${gn.channels} in ${gn.groups} groups`);
  }
  const per = (c / gn.groups) * h * w; // values in one group of one image, contiguous in NCHW
  const y = new Float32Array(x.size);
  for (let g = 0; g < n * gn.groups; g++) {
    const from = g * per;
    let sum = 0;
    for (let i = from; i < from + per; i++) sum += x.data[i];
    const mean = sum / per;
    let sq = 0;
    for (let i = from; i < from + per; i++) sq += (x.data[i] - mean) ** 2;
    const rstd = 1 / Math.sqrt(sq / per + gn.eps);
    for (let i = from; i < from + per; i++) {
      const ch = Math.floor((i / (h * w))) % c;
      const v = (x.data[i] - mean) * rstd * gn.gamma[ch] + gn.beta[ch];
      y[i] = relu && v < 0 ? 0 : v;
    }
  }
  return new Tensor(x.shape, y);
}

/** CLIP's attention-pool tokens: [N, C, G, G] and the mean [N, C] → [N, C, 1 + G², 1] plus the positional embedding. */
export function attentionTokens(x: Tensor, mean: Tensor, t: AttentionTokens): Tensor {
  const [n, c, h, w] = dims4(x, 'attentionTokens');
  if (c !== t.channels || h !== t.grid || w !== t.grid) {
    throw new Error(
      `${t.name}: the attention pool takes a ${t.grid}×${t.grid} map of ${t.channels} channels ` +
        `(a ${32 * t.grid}×${32 * t.grid} input), got ${h}×${w} of ${c}`,
    );
  }
  const hw = h * w;
  const l = hw + 1;
  const y = new Float32Array(n * c * l);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const out = (b * c + ch) * l;
      y[out] = mean.data[b * c + ch] + t.positional[ch];
      for (let i = 0; i < hw; i++) y[out + 1 + i] = x.data[(b * c + ch) * hw + i] + t.positional[(1 + i) * c + ch];
    }
  }
  return new Tensor([n, c, l, 1], y);
}

/** One scaled query per image over L tokens, by head: q [N, C], kv [N, 2C, L, 1] → [N, C] (see Backend.attention). */
export function attention(q: Tensor, kv: Tensor, heads: number): Tensor {
  const [n, c2, l] = dims4(kv, 'attention');
  const c = c2 / 2;
  if (q.shape.length !== 2 || q.shape[0] !== n || q.shape[1] !== c || c % heads !== 0) {
    throw new Error(`attention: q [${q.shape.join(', ')}] does not fit kv [${kv.shape.join(', ')}] with ${heads} heads`);
  }
  const d = c / heads;
  const y = new Float32Array(n * c);
  const p = new Float64Array(l);
  for (let b = 0; b < n; b++) {
    const key = (ch: number, j: number) => kv.data[(b * c2 + ch) * l + j];
    for (let hd = 0; hd < heads; hd++) {
      let max = -Infinity;
      for (let j = 0; j < l; j++) {
        let s = 0;
        for (let i = hd * d; i < (hd + 1) * d; i++) s += q.data[b * c + i] * key(i, j);
        p[j] = s;
        max = Math.max(max, s);
      }
      let total = 0;
      for (let j = 0; j < l; j++) total += p[j] = Math.exp(p[j] - max);
      for (let i = hd * d; i < (hd + 1) * d; i++) {
        let s = 0;
        for (let j = 0; j < l; j++) s += p[j] * key(c + i, j);
        y[b * c + i] = s / total;
      }
    }
  }
  return new Tensor([n, c], y);
}
