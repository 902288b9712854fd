// The per-op PyTorch fixtures (test/fixtures/manifest.json) on the GPU path: conv2d (each kernel,
// stride and padding ResNet-50 uses, with and without bias), conv + BatchNorm folded at load time,
// max pool, global average pool and linear, each through the WebGPU kernels against PyTorch's output.
// (ReLU and the residual add run fused into the conv's write-out; test/webgpu-kernels.test.ts
// checks those epilogues against the CPU reference.)
import { afterAll, beforeAll, describe, it } from 'vitest';
import { WebGpuRuntime } from '../src/kernels/webgpu/engine.ts';
import type { FoldedConv } from '../src/nn/model.ts';
import { nodeGpu } from '../src/platform/node-gpu.ts';
import type { Tensor } from '../src/tensor/tensor.ts';
import { foldBatchNorm } from '../src/weights/fold.ts';
import { expectClose } from './helpers.ts';
import { caseTensors, MANIFEST, type OpCase } from './torch-cases.ts';

function conv(c: OpCase, weight: Float32Array, bias: Float32Array | null, shape: readonly number[]): FoldedConv {
  const [o, i] = shape;
  return {
    conv: c.name, bn: `${c.name}.bn`, inChannels: i, outChannels: o, kernel: c.kernel!, stride: c.stride!, padding: c.padding!,
    weight, bias: bias ?? new Float32Array(o),
  };
}

describe('PyTorch op fixtures on WebGPU (f32)', () => {
  let rt: WebGpuRuntime;
  beforeAll(async () => {
    rt = await WebGpuRuntime.create(nodeGpu(), 'f32');
  });
  afterAll(() => rt.dispose());

  const run = async (c: OpCase, x: Tensor, program: Parameters<WebGpuRuntime['run']>[2]) =>
    (await rt.run(c.name, x, program)).get('y')!;

  for (const c of MANIFEST.ops.filter((o) => ['conv2d', 'conv_bn', 'maxpool', 'global_avg_pool', 'linear'].includes(o.op))) {
    it(c.name, async () => {
      const t = caseTensors(c);
      let y: Tensor;
      switch (c.op) {
        case 'conv2d': {
          const f = conv(c, t.weight.data, t.bias?.data ?? null, t.weight.shape);
          y = await run(c, t.x, (b, x) => new Map([['y', b.conv2d(x, f, { relu: false })]]));
          break;
        }
        case 'conv_bn': {
          const folded = foldBatchNorm(t.weight.data, { gamma: t.gamma.data, beta: t.beta.data, mean: t.mean.data, variance: t.var.data });
          const f = conv(c, folded.weight, folded.bias, t.weight.shape);
          y = await run(c, t.x, (b, x) => new Map([['y', b.conv2d(x, f, { relu: false })]]));
          break;
        }
        case 'maxpool':
          y = await run(c, t.x, (b, x) => new Map([['y', b.maxPool(x)]]));
          break;
        case 'global_avg_pool':
          y = (await run(c, t.x, (b, x) => new Map([['y', b.globalAvgPool(x)]]))).reshape(t.y.shape);
          break;
        default: {
          // linear: [N, in] fed as an NCHW [N, in, 1, 1] "image" through the pool (a 1×1 mean is exact).
          const [n, d] = t.x.shape;
          const fc = { inFeatures: d, outFeatures: t.weight.shape[0], weight: t.weight.data, bias: t.bias.data };
          const x4 = t.x.reshape([n, d, 1, 1]);
          y = (await run(c, x4, (b, x) => new Map([['y', b.linear(b.globalAvgPool(x), fc)]]))).reshape(t.y.shape);
        }
      }
      expectClose(y, t.y, 1e-5, c.name);
    });
  }
});
