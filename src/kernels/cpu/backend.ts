// The CPU reference backend: each Backend op computed eagerly with ops.ts on NCHW tensors.
import type { Backend } from '../../nn/backend.ts';
import { forward, type StageName } from '../../nn/forward.ts';
import type { FoldedConv, Linear, ResNetModel } from '../../nn/model.ts';
import { asNetwork } from '../../nn/arch/resnet.ts';
import type { AttentionTokens, GroupNorm, Network } from '../../nn/network.ts';
import { checkInput, type Engine, type EngineOutput } from '../../nn/engine.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import * as ops from './ops.ts';

export class CpuBackend implements Backend<Tensor> {
  readonly name = 'cpu';

  input(x: Tensor): Tensor {
    return x;
  }

  conv2d(x: Tensor, conv: FoldedConv, epilogue: { relu: boolean; residual?: Tensor }): Tensor {
    let y = ops.conv2d(x, conv.weight, conv.bias, {
      outChannels: conv.outChannels,
      kernel: conv.kernel,
      stride: conv.stride,
      padding: conv.padding,
    });
    if (epilogue.residual) y = ops.add(y, epilogue.residual);
    return epilogue.relu ? ops.relu(y) : y;
  }

  maxPool(x: Tensor, opts: { zeroPadding?: boolean } = {}): Tensor {
    return ops.maxPool2d(x, opts.zeroPadding);
  }

  avgPool(x: Tensor, size: number): Tensor {
    return ops.avgPool2d(x, size);
  }

  groupNorm(x: Tensor, gn: GroupNorm, epilogue: { relu: boolean }): Tensor {
    return ops.groupNorm(x, gn, epilogue.relu);
  }

  attentionTokens(x: Tensor, mean: Tensor, tokens: AttentionTokens): Tensor {
    return ops.attentionTokens(x, mean, tokens);
  }

  attention(q: Tensor, kv: Tensor, heads: number): Tensor {
    return ops.attention(q, kv, heads);
  }

  globalAvgPool(x: Tensor): Tensor {
    return ops.globalAvgPool(x);
  }

  linear(x: Tensor, fc: Linear): Tensor {
    return ops.linear(x, fc);
  }

  release(): void {
    // Garbage collection frees CPU tensors.
  }
}

/** Run a model on the CPU reference. */
export function runCpu(model: ResNetModel | Network, x: Tensor, keep?: ReadonlySet<StageName>): EngineOutput {
  const net = asNetwork(model);
  checkInput(x, net);
  const { features, logits, stages } = forward(new CpuBackend(), net, x, keep);
  return { features, logits, stages: new Map(stages) };
}

export function createCpuEngine(model: ResNetModel | Network): Engine {
  const net = asNetwork(model);
  return {
    device: 'cpu',
    run: async (x, keep) => runCpu(net, x, keep),
    dispose: () => {},
  };
}
