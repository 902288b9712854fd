// GPU preprocessing (src/kernels/webgpu/preprocess.ts, shaders/preprocess_*.wgsl) against the CPU
// reference (src/image/preprocess.ts) and the PIL / OpenCV fixtures: the resize stage bit for bit,
// the whole output equal to preprocess(img, preset) bit for bit, in every layout. Runs on the adapter
// nodeGpu() finds (lavapipe here) and fails, never skips, when there is none.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rgbImage, type RgbImage } from '../src/image/image.ts';
import { crop, PIL_PRESETS, preprocess, PRESETS, type Preset } from '../src/image/preprocess.ts';
import { resizeBilinearCv } from '../src/image/resize-cv.ts';
import { resizePil } from '../src/image/resize-pil.ts';
import { GpuError } from '../src/kernels/webgpu/device.ts';
import { GpuPreprocessor, presetSpec, preprocessOutputBytes, type PreparedImage } from '../src/kernels/webgpu/preprocess.ts';
import { nodeAdapter } from '../src/platform/node-gpu.ts';
import { f32ToF16Bits, type Tensor } from '../src/tensor/tensor.ts';
import { manifest, pixelDiff, referencePixels } from './image-fixtures.ts';
import { pixelsSha256, presetManifest } from './preset-fixtures.ts';

const T = 120_000;
/** The presets test/fixtures/images has stages for (clip and bit: test/fixtures/presets, below). */
const FIXTURE_PRESETS = ['torchvision', 'msvision'] as const;
const log: string[] = [];

let device: GPUDevice;
let pre: GpuPreprocessor;

beforeAll(async () => {
  const adapter = await nodeAdapter(); // throws (fails the suite) without an adapter
  device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  });
  pre = await GpuPreprocessor.create(device);
}, T);

afterAll(() => {
  pre?.dispose();
  device?.destroy();
  if (log.length) console.log(`GPU preprocessing:\n  ${log.join('\n  ')}`);
});

/** Seeded pseudo-random pixels with some smooth structure (so resizes see gradients, not only noise). */
function synthetic(width: number, height: number, seed: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  let s = seed >>> 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const i = (y * width + x) * 3;
      data[i] = (x * 255) / Math.max(width - 1, 1) + (s >>> 29);
      data[i + 1] = (s >>> 8) & 255;
      data[i + 2] = ((x ^ y) & 1) * 255;
    }
  }
  return rgbImage(width, height, data);
}

/** How many elements differ bit for bit, and the largest absolute difference. */
function bitDiff(a: Float32Array, b: Float32Array): { differing: number; maxAbs: number } {
  expect(a.length).toBe(b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let differing = 0;
  let maxAbs = 0;
  for (let i = 0; i < ua.length; i++) {
    if (ua[i] !== ub[i]) {
      differing++;
      maxAbs = Math.max(maxAbs, Math.abs(a[i] - b[i]));
    }
  }
  return { differing, maxAbs };
}

/** NCHW [3, H, W] → NHWC [H, W, 4] with a zero 4th channel. */
function toNhwc4(x: Tensor): Float32Array {
  const [, h, w] = x.shape.slice(-3);
  const hw = h * w;
  const out = new Float32Array(hw * 4);
  for (let p = 0; p < hw; p++) for (let c = 0; c < 3; c++) out[4 * p + c] = x.data[c * hw + p];
  return out;
}

/** GPU output in every float layout against the CPU reference: all bit-exact (f16: against round-to-nearest-even). */
async function expectExact(img: RgbImage, preset: Preset, what: string): Promise<void> {
  const cpu = preprocess(img, preset);
  const gpu = await pre.run(img, preset);
  expect(gpu.shape).toEqual([1, 3, 224, 224]);
  expect(bitDiff(gpu.data, cpu.data), `${what} nchw`).toEqual({ differing: 0, maxAbs: 0 });
  const nhwc = await pre.run(img, preset, 'nhwc4');
  expect(nhwc.shape).toEqual([1, 224, 224, 4]);
  const want4 = toNhwc4(cpu);
  expect(bitDiff(nhwc.data, want4), `${what} nhwc4`).toEqual({ differing: 0, maxAbs: 0 });
  const half = new Uint16Array((await pre.runBytes(img, preset, 'nhwc4-f16')).buffer);
  const wantHalf = f32ToF16Bits(want4);
  let differing = 0;
  for (let i = 0; i < half.length; i++) if (half[i] !== wantHalf[i]) differing++;
  expect(differing, `${what} nhwc4-f16 halves differing from round-to-nearest-even`).toBe(0);
}

describe('the resize stage equals the PIL / OpenCV fixtures bit for bit', () => {
  for (const c of manifest.images) {
    it(`PIL Resize(256): ${c.file}`, async () => {
      const decoded = await referencePixels(c.torchvision.decoded);
      const ref = await referencePixels(c.torchvision.resized);
      const ours = await pre.resize(decoded, 'pil', ref.width, ref.height);
      expect(pixelDiff(ours, ref)).toEqual({ differing: 0, maxDiff: 0 });
    }, T);
    it(`cv2.resize 256×256: ${c.file}`, async () => {
      const ours = await pre.resize(await referencePixels(c.msvision.decoded), 'cv', 256, 256);
      expect(pixelDiff(ours, await referencePixels(c.msvision.resized))).toEqual({ differing: 0, maxDiff: 0 });
    }, T);
  }

  it('the crop-only kernels (rgb8 layout of a preset) equal the crop of the reference resize', async () => {
    const c = manifest.images.find((i) => i.file.startsWith('rgb_301x199'))!;
    for (const preset of FIXTURE_PRESETS) {
      const decoded = await referencePixels(c[preset].decoded);
      const resized = await referencePixels(c[preset].resized);
      const [top, left] = c[preset].crop;
      const words = new Uint32Array((await pre.runBytes(decoded, preset, 'rgb8')).buffer);
      const want = crop(resized, top, left, 224, 224).data;
      let differing = 0;
      for (let i = 0; i < words.length; i++) {
        const v = words[i];
        if ((v & 255) !== want[3 * i] || ((v >>> 8) & 255) !== want[3 * i + 1] || (v >>> 16) !== want[3 * i + 2]) differing++;
      }
      expect(differing, preset).toBe(0);
    }
  }, T);
});

describe('clip (PIL bicubic) and bit (PIL bilinear): the PIL fixtures of test/fixtures/presets', () => {
  for (const c of presetManifest.images) {
    for (const preset of ['clip', 'bit'] as const) {
      it(`${preset}: ${c.image}: the resize stage hashes as PIL's, the output equals preprocess()`, async () => {
        const decoded = await referencePixels(c.decoded);
        const s = c[preset];
        expect(pixelsSha256(await pre.resize(decoded, 'pil', s.width, s.height, PIL_PRESETS[preset].filter))).toBe(s.sha256);
        await expectExact(decoded, preset, `${preset} ${c.image}`);
      }, T);
    }
  }
});

describe('GPU output equals preprocess(img, preset) bit for bit (nchw, nhwc4; nhwc4-f16 = its RNE halves)', () => {
  for (const c of manifest.images) {
    for (const preset of FIXTURE_PRESETS) {
      it(`${preset}: ${c.file} (${c.what})`, async () => {
        await expectExact(await referencePixels(c[preset].decoded), preset, `${preset} ${c.file}`);
      }, T);
    }
  }
  for (const o of manifest.orientations) {
    for (const preset of FIXTURE_PRESETS) {
      it(`${preset}: ${o.file} (EXIF orientation ${o.orientation}, as ${preset === 'torchvision' ? 'PIL' : 'OpenCV'} decodes it)`, async () => {
        await expectExact(await referencePixels(preset === 'torchvision' ? o.pil : o.cv), preset, `${preset} ${o.file}`);
      }, T);
    }
  }

  // Odd sizes, upscaling, portrait and landscape, same-size axes (PIL skips the pass, OpenCV's
  // identity), exact 2× (OpenCV's INTER_AREA shortcut), extreme aspect ratios, a 1×1 image.
  const SIZES: [number, number][] = [
    [301, 199], [199, 301], [40, 33], [33, 40], [256, 256], [256, 300], [300, 256], [257, 256],
    [512, 512], [224, 224], [1000, 17], [17, 1000], [1, 1], [3, 2], [641, 479],
  ];
  for (const [w, h] of SIZES) {
    it(`synthetic ${w}×${h}, every preset`, async () => {
      const img = synthetic(w, h, w * 1000 + h);
      for (const preset of PRESETS) await expectExact(img, preset, `${preset} ${w}×${h}`);
      // The resize stage alone, whole image, against the CPU resizes (PIL bilinear and bicubic).
      const [rw, rh] = [presetSpec('torchvision', w, h).width, presetSpec('torchvision', w, h).height];
      expect(pixelDiff(await pre.resize(img, 'pil', rw, rh), resizePil(img, rw, rh))).toEqual({ differing: 0, maxDiff: 0 });
      const [cw, ch] = [presetSpec('clip', w, h).width, presetSpec('clip', w, h).height];
      expect(pixelDiff(await pre.resize(img, 'pil', cw, ch, 'bicubic'), resizePil(img, cw, ch, 'bicubic'))).toEqual({ differing: 0, maxDiff: 0 });
      expect(pixelDiff(await pre.resize(img, 'cv', 256, 256), resizeBilinearCv(img, 256, 256))).toEqual({ differing: 0, maxDiff: 0 });
    }, T);
  }
});

describe('encode(): recording into a caller’s encoder and buffer (how the engine would use it)', () => {
  it('a batch of differently sized images into one NHWC4 buffer at aligned offsets, one submit', async () => {
    const imgs = [synthetic(301, 199, 1), synthetic(40, 33, 2), synthetic(199, 301, 3)];
    const per = pre.outputBytes('nhwc4');
    expect(per).toBe(224 * 224 * 16);
    expect(per % device.limits.minStorageBufferOffsetAlignment).toBe(0);
    const target = device.createBuffer({ size: per * imgs.length, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const read = device.createBuffer({ size: target.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    for (const preset of PRESETS) {
      const prepared: PreparedImage[] = [];
      for (const img of imgs) prepared.push(await pre.prepare(img, preset));
      device.pushErrorScope('validation');
      const enc = device.createCommandEncoder();
      for (const [i, p] of prepared.entries()) await pre.encode(enc, p, target, { layout: 'nhwc4', offset: i * per });
      enc.copyBufferToBuffer(target, 0, read, 0, target.size);
      device.queue.submit([enc.finish()]);
      expect(await device.popErrorScope()).toBeNull();
      for (const p of prepared) p.destroy(); // right after the submit: WebGPU frees after the work completes
      await read.mapAsync(GPUMapMode.READ);
      const got = new Float32Array(read.getMappedRange().slice(0));
      read.unmap();
      imgs.forEach((img, i) => {
        const want = toNhwc4(preprocess(img, preset));
        expect(bitDiff(got.subarray(i * per / 4, (i + 1) * per / 4), want), `${preset} image ${i}`).toEqual({ differing: 0, maxAbs: 0 });
      });
    }
    target.destroy();
    read.destroy();
  }, T);

  it('a PreparedImage is reusable: write() another image of the same size after submitting', async () => {
    const a = synthetic(64, 48, 7);
    const b = synthetic(64, 48, 8);
    const bytes = pre.outputBytes('nchw');
    const target = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const read = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const p = await pre.prepare(a, 'torchvision');
    for (const img of [a, b]) {
      p.write(img);
      const enc = device.createCommandEncoder();
      await pre.encode(enc, p, target);
      enc.copyBufferToBuffer(target, 0, read, 0, bytes);
      device.queue.submit([enc.finish()]);
      await read.mapAsync(GPUMapMode.READ);
      const got = new Float32Array(read.getMappedRange().slice(0));
      read.unmap();
      expect(bitDiff(got, preprocess(img, 'torchvision').data)).toEqual({ differing: 0, maxAbs: 0 });
    }
    expect(() => p.write(synthetic(48, 64, 1))).toThrow(/64×48 image was prepared, got 48×64/);
    p.destroy();
    await expect(pre.encode(device.createCommandEncoder(), p, target)).rejects.toThrow(/destroyed/);
    target.destroy();
    read.destroy();
  }, T);

  it('refuses misaligned offsets, small or non-storage targets, unknown presets and layouts, with GpuErrors', async () => {
    const p = await pre.prepare(synthetic(30, 20, 1), 'msvision');
    const bytes = preprocessOutputBytes('nchw');
    const target = device.createBuffer({ size: bytes + 256, usage: GPUBufferUsage.STORAGE });
    const enc = device.createCommandEncoder();
    await expect(pre.encode(enc, p, target, { offset: 4 })).rejects.toThrow(/offset 4 is not a multiple of 256/);
    await expect(pre.encode(enc, p, target, { offset: 512 })).rejects.toThrow(/needs 602112 bytes at offset 512/);
    const plain = device.createBuffer({ size: bytes, usage: GPUBufferUsage.COPY_DST });
    await expect(pre.encode(enc, p, plain)).rejects.toThrow(GpuError);
    await expect(pre.encode(enc, p, target, { layout: 'nope' as 'nchw' })).rejects.toThrow(/unknown layout 'nope'/);
    await expect(pre.run(synthetic(4, 4, 1), 'imagenet' as Preset)).rejects.toThrow(/unknown preprocessing preset 'imagenet'/);
    enc.finish();
    p.destroy();
    plain.destroy();
    target.destroy();
  }, T);

  it('device errors are GpuErrors naming the run and the step; labels name the kernels’ buffers', async () => {
    // A preprocessor whose device is then destroyed: its next run fails, naming the run.
    const d2 = await (await nodeAdapter()).requestDevice();
    const p2 = await GpuPreprocessor.create(d2);
    expect((await p2.run(synthetic(8, 8, 1), 'msvision')).shape).toEqual([1, 3, 224, 224]);
    d2.destroy();
    await new Promise((r) => setTimeout(r, 50));
    await expect(p2.run(synthetic(8, 8, 1), 'msvision')).rejects.toThrow(/preprocess \(msvision\) 8×8 → nchw: GPU device lost/);
    // An image over the device's storage binding limit (128 MiB on lavapipe).
    const side = Math.ceil(Math.sqrt(device.limits.maxStorageBufferBindingSize / 3)) + 1;
    const huge = rgbImage(side, side, new Uint8Array(side * side * 3));
    await expect(pre.run(huge, 'torchvision')).rejects.toThrow(new RegExp(`preprocess pixels ${side}×${side}: \\d+ bytes exceed`));
    // encode() leaves validation to the caller's scopes; Dawn's messages carry the labels.
    const p = await pre.prepare(synthetic(10, 10, 1), 'msvision');
    const target = device.createBuffer({ size: pre.outputBytes(), usage: GPUBufferUsage.STORAGE });
    (p as unknown as { pixels: GPUBuffer }).pixels.destroy();
    device.pushErrorScope('validation');
    const enc = device.createCommandEncoder();
    await pre.encode(enc, p, target);
    device.queue.submit([enc.finish()]);
    expect((await device.popErrorScope())?.message).toMatch(/preprocess pixels 10×10/);
    p.destroy();
    target.destroy();
  }, T);
});

describe('timing: a 4032×3024 image, GPU vs CPU (warm, median)', () => {
  it('torchvision and msvision; outputs equal', async () => {
    const img = synthetic(4032, 3024, 42);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    const target = device.createBuffer({ size: pre.outputBytes('nhwc4'), usage: GPUBufferUsage.STORAGE });
    for (const preset of FIXTURE_PRESETS) {
      const cpuRef = preprocess(img, preset);
      expect(bitDiff((await pre.run(img, preset)).data, cpuRef.data)).toEqual({ differing: 0, maxAbs: 0 }); // warm
      const prepared = await pre.prepare(img, preset);
      const kernelsOnly = async () => {
        const enc = device.createCommandEncoder();
        await pre.encode(enc, prepared, target, { layout: 'nhwc4' });
        device.queue.submit([enc.finish()]);
        await device.queue.onSubmittedWorkDone();
      };
      await kernelsOnly();
      // Interleaved rounds, so that load from elsewhere on the machine hits every variant alike.
      const t = { cpu: [] as number[], run: [] as number[], upload: [] as number[], kernels: [] as number[] };
      const clock = async (into: number[], f: () => unknown) => {
        const t0 = performance.now();
        await f();
        into.push(performance.now() - t0);
      };
      for (let i = 0; i < 5; i++) {
        await clock(t.cpu, () => preprocess(img, preset));
        await clock(t.run, () => pre.run(img, preset));
        await clock(t.upload, async () => {
          prepared.write(img);
          await device.queue.onSubmittedWorkDone();
        });
        await clock(t.kernels, kernelsOnly);
      }
      prepared.destroy();
      log.push(
        `${preset} 4032×3024: CPU preprocess() ${median(t.cpu).toFixed(1)} ms; GPU run() ${median(t.run).toFixed(1)} ms ` +
          `(of which pixel upload ≈ ${median(t.upload).toFixed(1)} ms, kernels ≈ ${median(t.kernels).toFixed(1)} ms; the rest read-back and overhead)`,
      );
    }
    target.destroy();
  }, 600_000);
});
