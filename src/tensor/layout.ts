// Layout changes between NCHW (PyTorch's layout, the CPU reference's) and NHWC (the GPU kernels').
import { Tensor } from './tensor.ts';

function expect4d(t: Tensor, what: string): [number, number, number, number] {
  if (t.shape.length !== 4) throw new Error(`${what} expects a 4-d tensor, got [${t.shape.join(', ')}]`);
  return t.shape as unknown as [number, number, number, number];
}

export function nchwToNhwc(t: Tensor): Tensor {
  const [n, c, h, w] = expect4d(t, 'nchwToNhwc');
  const src = t.data;
  const dst = new Float32Array(src.length);
  const hw = h * w;
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const from = (b * c + ch) * hw;
      for (let p = 0; p < hw; p++) dst[(b * hw + p) * c + ch] = src[from + p];
    }
  }
  return new Tensor([n, h, w, c], dst);
}

export function nhwcToNchw(t: Tensor): Tensor {
  const [n, h, w, c] = expect4d(t, 'nhwcToNchw');
  const src = t.data;
  const dst = new Float32Array(src.length);
  const hw = h * w;
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const to = (b * c + ch) * hw;
      for (let p = 0; p < hw; p++) dst[to + p] = src[(b * hw + p) * c + ch];
    }
  }
  return new Tensor([n, c, h, w], dst);
}

/** Concatenate tensors along axis 0 (all other dimensions must agree). */
export function concatBatch(parts: readonly Tensor[]): Tensor {
  if (parts.length === 0) throw new Error('concatBatch: nothing to concatenate');
  const rest = parts[0].shape.slice(1);
  let n = 0;
  for (const p of parts) {
    if (p.shape.length !== rest.length + 1 || p.shape.slice(1).some((d, i) => d !== rest[i])) {
      throw new Error(
        `cannot batch tensors of shapes [${parts[0].shape.join(', ')}] and [${p.shape.join(', ')}]`,
      );
    }
    n += p.shape[0];
  }
  const out = new Float32Array(n * rest.reduce((a, b) => a * b, 1));
  let at = 0;
  for (const p of parts) {
    out.set(p.data, at);
    at += p.data.length;
  }
  return new Tensor([n, ...rest], out);
}
