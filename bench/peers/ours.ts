// Our engine (src/kernels/webgpu) as a peer, on the same Dawn adapter and the same safetensors weights,
// so the harness can put it beside the others. Precision from OURS_PRECISION (f32 default, or f16).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createWebGpuEngine } from '../../src/kernels/webgpu/engine.ts';
import { nodeGpu } from '../../src/platform/node-gpu.ts';
import { Tensor } from '../../src/tensor/tensor.ts';
import { loadResNet } from '../../src/weights/resnet.ts';
import { readSafetensors } from '../../src/weights/safetensors.ts';
import { ROOT, type Peer, type PeerOptions } from './common.ts';

export const format = 'safetensors';

export async function createPeer(opts: PeerOptions): Promise<Peer> {
  const { batch, height, width } = opts;
  const precision = (process.env.OURS_PRECISION ?? 'f32') as 'f32' | 'f16';
  const model = loadResNet(readSafetensors(readFileSync(opts.weightsPath), opts.weightsPath));
  const engine = await createWebGpuEngine(model, nodeGpu(), { precision });
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  return {
    name: `ours-webgpu-${precision}`,
    version: `${pkg.name} ${pkg.version}`,
    adapter: engine.device,
    run: async (input: Float32Array) => {
      const out = await engine.run(new Tensor([batch, 3, height, width], input));
      if (!out.logits) throw new Error('the model has no classifier');
      return out.logits.data;
    },
    dispose: () => engine.dispose(),
  };
}
