// ONNX Runtime Node (native, CPU execution provider): the yardstick of what the CPU itself can do.
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-node';
import type { Peer, PeerOptions } from './common.ts';

export const format = 'onnx';

const require = createRequire(import.meta.url);

export async function createPeer(opts: PeerOptions): Promise<Peer> {
  const { batch, height, width } = opts;
  const threads = Number(process.env.ORT_NODE_THREADS ?? availableParallelism());
  const session = await ort.InferenceSession.create(readFileSync(opts.weightsPath), {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    freeDimensionOverrides: { batch, height, width },
  });
  const version = (require('onnxruntime-node/package.json') as { version: string }).version;
  return {
    name: 'ort-node',
    version: `onnxruntime-node ${version}`,
    adapter: `CPU EP, ${cpus()[0]?.model ?? '?'}`,
    notes: `intraOpNumThreads ${threads}`,
    async run(input: Float32Array): Promise<Float32Array> {
      const x = new ort.Tensor('float32', input, [batch, 3, height, width]);
      const out = await session.run({ input: x });
      const logits = out.logits.data as Float32Array;
      return new Float32Array(logits);
    },
    async dispose() {
      await session.release();
    },
  };
}
