// The library API (src/node.ts → src/api.ts) on the reduced ResNet-50 fixture, on both devices.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ResNet50, decodeImageFile, Tensor } from '../src/node.ts';
import { nodeGpu } from '../src/platform/node-gpu.ts';
import { FIXTURES, expectClose, fixture } from './helpers.ts';

const MODEL = join(FIXTURES, 'resnet50_div8');
const WEIGHTS = join(MODEL, 'weights.safetensors');
const IMAGE = join(FIXTURES, 'images');

for (const device of ['cpu', 'webgpu'] as const) {
  describe(`ResNet50 API on ${device}`, async () => {
    const model = await ResNet50.load(WEIGHTS, { device });
    afterAll(() => model.dispose());
    const x = fixture('resnet50_div8/input_b2_64x64.npy');

    it('embeds and classifies a preprocessed batch like PyTorch', async () => {
      expect([model.featureDim, model.numClasses]).toEqual([256, 10]);
      expectClose(await model.embed(x), fixture('resnet50_div8/input_b2_64x64.features.npy'), 1e-4, 'features');
      const { logits, top } = await model.classify(x, { top: 3 });
      expectClose(logits, fixture('resnet50_div8/input_b2_64x64.logits.npy'), 1e-4, 'logits');
      expect(top.map((t) => t.length)).toEqual([3, 3]);
      expect(top[0][0].label).toBeNull(); // 10 classes: no ImageNet names
      expect(top[0][0].probability).toBeGreaterThan(top[0][1].probability);
    });

    it('splits a list of inputs into batches and keeps their order', async () => {
      const one = (i: number) => new Tensor([3, 64, 64], x.data.slice(i * 3 * 64 * 64, (i + 1) * 3 * 64 * 64));
      const features = await model.embed([one(1), one(0), one(1)], { batchSize: 2 });
      const expected = fixture('resnet50_div8/input_b2_64x64.features.npy').data;
      const rows = [expected.subarray(256, 512), expected.subarray(0, 256), expected.subarray(256, 512)];
      expectClose(features, new Tensor([3, 256], Float32Array.from(rows.flatMap((r) => [...r]))), 1e-4, 'reordered');
    });

    it('embeds decoded images with a preset, batched like single calls', async () => {
      const image = await decodeImageFile(join(IMAGE, 'rgb_q90_400x300.jpg'), 'msvision');
      const features = await model.embed([image, image], { preset: 'msvision' });
      expect(features.shape).toEqual([2, 256]);
      const single = await model.embed(image, { preset: 'msvision' });
      expectClose(features.reshape([2, 256]), new Tensor([2, 256], Float32Array.from([...single.data, ...single.data])), 1e-5, 'batched');
    });
  });
}

describe('ResNet50.load sources and errors', () => {
  it('accepts bytes, an ArrayBuffer and a file: URL', async () => {
    const bytes = new Uint8Array(readFileSync(WEIGHTS));
    for (const source of [bytes, bytes.slice().buffer, pathToFileURL(WEIGHTS)]) {
      const model = await ResNet50.load(source, { device: 'cpu' });
      expect(model.numClasses).toBe(10);
      model.dispose();
    }
  });
  it('names the file in errors', async () => {
    await expect(ResNet50.load(join(MODEL, 'input_b2_64x64.npy'), { device: 'cpu' })).rejects.toThrow(/input_b2_64x64\.npy: neither a PyTorch checkpoint nor safetensors/);
    await expect(ResNet50.load(WEIGHTS, { device: 'cpu', precision: 'f16' })).rejects.toThrow(/f32 only/);
  });
});

describe("ResNet50 on the application's own GPUDevice", () => {
  it('runs on the given device and leaves it alive on dispose()', async () => {
    const adapter = await nodeGpu().requestAdapter();
    const device = await adapter!.requestDevice();
    let lost = false;
    device.lost.then(() => (lost = true));
    const model = await ResNet50.load(WEIGHTS, { gpuDevice: device });
    expectClose(await model.embed(fixture('resnet50_div8/input_b2_64x64.npy')), fixture('resnet50_div8/input_b2_64x64.features.npy'), 1e-4, 'features');
    model.dispose();
    // The device still works: a buffer round trip after the engine is gone.
    device.pushErrorScope('validation');
    const buffer = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(buffer, 0, new Float32Array([1, 2, 3, 4]));
    await buffer.mapAsync(GPUMapMode.READ);
    expect([...new Float32Array(buffer.getMappedRange())]).toEqual([1, 2, 3, 4]);
    buffer.unmap();
    expect(await device.popErrorScope()).toBeNull();
    await new Promise((r) => setTimeout(r, 10));
    expect(lost).toBe(false);
    device.destroy();
  });
});
