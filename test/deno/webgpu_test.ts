// The WebGPU engine under Deno's own WebGPU (wgpu/naga, navigator.gpu), against the pure-TypeScript
// CPU reference: the kernel cases (each conv kind, max and average pool, linear; the adapter's default
// GEMM and the portable one) and ResNet-50 forward passes on seeded weights (reduced width at every
// stage, full width at 64×64 and 224×224) and CLIP RN50 / BiT R50x1 at width / 16, each within 1e-4 of the CPU output's max |value|; and the
// Deno entry (src/deno.ts) loading the committed small model, and the CLIP RN50 and BiT R50x1
// stand-ins, from a path, against PyTorch's outputs.
//
//   npm run test:deno      (npx deno test --allow-read=test/fixtures,/tmp --allow-write=/tmp --allow-env=RESNET50_DENO_SKIP_224,RESNET50_CACHE test/deno/)
// RESNET50_DENO_SKIP_224=1 leaves out the 224×224 forward (about 15 s of the ~40 s).
import { denoGpu, npyToTensor, parseNpy, ResNet50 } from '../../src/deno.ts';
import { formatResult, runSelfTest, type SelfTestReport } from '../../src/platform/selftest.ts';
import { errorStats } from '../../src/tensor/compare.ts';

declare const Deno: {
  readFile(path: string): Promise<Uint8Array>;
  test(name: string, fn: () => Promise<void> | void): void;
  test(opts: { name: string; fn: () => Promise<void> | void; sanitizeResources?: boolean; sanitizeOps?: boolean }): void;
  env: { get(name: string): string | undefined };
  version: { deno: string };
};

function check(report: SelfTestReport, section: string): void {
  const failed = report.results.filter((r) => !r.ok);
  if (report.results.length === 0) throw new Error(`${section}: no cases ran`);
  if (failed.length) throw new Error(`${section}: ${failed.length} of ${report.results.length} cases failed:\n${failed.map(formatResult).join('\n')}`);
}

const log = (line: string) => console.log(`  ${line}`);
// wgpu keeps device handles alive a little past destroy(); the engine disposes everything it creates.
const relaxed = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name: `WebGPU kernels vs CPU reference (Deno ${Deno.version.deno})`,
  ...relaxed,
  fn: async () => {
    const report = await runSelfTest(denoGpu(), { kernels: true, f16: true, model: false, log, runtime: 'deno' });
    console.log(`  engine: ${report.engine}`);
    check(report, 'kernels');
  },
});

Deno.test({
  name: 'ResNet-50 (reduced, full width 64×64 and 224×224), CLIP RN50 and BiT R50x1 (width / 16) forwards on seeded weights vs CPU reference',
  ...relaxed,
  fn: async () => {
    const full224 = Deno.env.get('RESNET50_DENO_SKIP_224') !== '1';
    const report = await runSelfTest(denoGpu(), { kernels: false, model: true, full224, log, runtime: 'deno' });
    check(report, 'forward');
  },
});

Deno.test({
  name: 'src/deno.ts: ResNet50.load from a path (Deno.readFile) on navigator.gpu matches PyTorch (committed small model)',
  ...relaxed,
  fn: async () => {
    const dir = 'test/fixtures/resnet50_div8';
    const npy = async (name: string) => npyToTensor(parseNpy(await Deno.readFile(`${dir}/${name}`), name));
    for (const weights of ['weights.safetensors', '../pth/resnet50_div8.pth']) {
      const model = await ResNet50.load(`${dir}/${weights}`);
      try {
        if (!model.device.startsWith('webgpu')) throw new Error(`device ${model.device}`);
        const x = await npy('input_b2_64x64.npy');
        const { logits } = await model.classify(x);
        closeToPyTorch(weights, 'logits', logits, await npy('input_b2_64x64.logits.npy'));
        closeToPyTorch(weights, 'features', await model.embed(x), await npy('input_b2_64x64.features.npy'));
      } finally {
        model.dispose();
      }
    }
  },
});

Deno.test({
  name: 'src/deno.ts: CLIP RN50 (TorchScript .pt) and BiT R50x1 (.npz) stand-ins from a path match PyTorch at batch 2',
  ...relaxed,
  fn: async () => {
    const dir = 'test/fixtures/arch';
    const npy = async (name: string) => npyToTensor(parseNpy(await Deno.readFile(`${dir}/${name}`), name));
    const clip = await ResNet50.load(`${dir}/clip_rn50_div16.pt`, { onNotice: () => {} });
    try {
      if (!clip.device.startsWith('webgpu')) throw new Error(`device ${clip.device}`);
      closeToPyTorch('clip_rn50_div16.pt', 'embedding', await clip.embed(await npy('clip_rn50_div16.input.npy')), await npy('clip_rn50_div16.embedding.npy'));
    } finally {
      clip.dispose();
    }
    const bit = await ResNet50.load(`${dir}/bit_r50x1_div16.npz`);
    try {
      const x = await npy('bit_r50x1_div16.input.npy');
      closeToPyTorch('bit_r50x1_div16.npz', 'pre-logits', await bit.embed(x), await npy('bit_r50x1_div16.features.npy'));
      closeToPyTorch('bit_r50x1_div16.npz', 'logits', (await bit.classify(x)).logits, await npy('bit_r50x1_div16.logits.npy'));
    } finally {
      bit.dispose();
    }
  },
});

function closeToPyTorch(weights: string, what: string, got: { data: ArrayLike<number> }, want: { data: ArrayLike<number> }): void {
  const s = errorStats(got.data, want.data);
  console.log(`  ${weights} ${what} vs PyTorch: max-abs ${s.maxAbs.toExponential(2)}, max-rel ${s.maxRel.toExponential(2)}`);
  if (!(s.maxAbs <= 1e-4 * s.maxExpected)) throw new Error(`${weights} ${what}: max-rel ${s.maxRel} over 1e-4`);
}
