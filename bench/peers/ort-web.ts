// ONNX Runtime Web with its WebGPU execution provider, in Node on Dawn. The package's Node entry
// ('onnxruntime-web' under the `node` condition) is the WASM-only build, so the WebGPU build is imported
// by its subpath 'onnxruntime-web/webgpu' (ort.webgpu.bundle.min.mjs, which runs the asyncify WASM
// ort-wasm-simd-threaded.asyncify.wasm and drives WebGPU through navigator.gpu).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as ORT from 'onnxruntime-web';
import type { Peer, PeerOptions } from './common.ts';
import { copySharedArrayBufferWrites, installDawnGlobals, lastAdapter } from './dawn.ts';

export const format = 'onnx';

const require = createRequire(import.meta.url);

export async function createPeer(opts: PeerOptions): Promise<Peer> {
  const { batch, height, width } = opts;
  installDawnGlobals();
  copySharedArrayBufferWrites();
  const ort = (await import('onnxruntime-web/webgpu')) as typeof ORT;
  // Hand the WASM binary over directly: the bundle would fetch() it from a file: URL, which Node's fetch refuses.
  ort.env.wasm.wasmBinary = readFileSync(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm'));
  ort.env.wasm.numThreads = Number(process.env.ORT_WEB_THREADS ?? 1);
  ort.env.logLevel = (process.env.ORT_WEB_LOG as typeof ort.env.logLevel) ?? 'warning';
  const session = await ort.InferenceSession.create(readFileSync(opts.weightsPath), {
    executionProviders: ['webgpu'],
    graphOptimizationLevel: 'all',
    freeDimensionOverrides: { batch, height, width },
  });
  const version = ort.env.versions.web ?? '?';
  return {
    name: 'ort-web-webgpu',
    version: `onnxruntime-web ${version}`,
    adapter: lastAdapter(),
    notes: `webgpu EP, wasm numThreads ${ort.env.wasm.numThreads}`,
    async run(input: Float32Array): Promise<Float32Array> {
      const x = new ort.Tensor('float32', input, [batch, 3, height, width]);
      const out = await session.run({ input: x });
      const logits = out.logits;
      try {
        return new Float32Array((await logits.getData()) as Float32Array);
      } finally {
        logits.dispose();
      }
    },
    async dispose() {
      await session.release();
    },
  };
}
