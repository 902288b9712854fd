// The CLI with CLIP RN50 and BiT R50x1 (the reduced-width PyTorch stand-ins of test/fixtures/arch) on
// the cpu device: embed and classify equal PyTorch's outputs; --arch overrides what the names tell
// and a wrong one is one line naming the file; convert writes safetensors that load back to the same
// embeddings; probe and index run on images with each architecture's own preset.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWeights } from '../src/weights/load.ts';
import { writeSafetensors, type TensorToWrite } from '../src/weights/safetensors.ts';
import { cli, expectClose, failsWith, fixture, FIXTURES, readNpy } from './helpers.ts';
import { writePhoto } from './search-images.ts';

const ARCH = join(FIXTURES, 'arch');
const CLIP = join(ARCH, 'clip_rn50_div16.pt');
const BIT = join(ARCH, 'bit_r50x1_div16.npz');
const CLIP_X = join(ARCH, 'clip_rn50_div16.input.npy');
const BIT_X = join(ARCH, 'bit_r50x1_div16.input.npy');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'resnet50-cli-models-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('embed and classify', () => {
  it('CLIP: the image embedding (--arch or told from the names), text tower noticed', async () => {
    for (const arch of [[], ['--arch', 'clip-rn50']]) {
      const out = join(dir, `clip${arch.length}.npy`);
      const r = await cli('embed', CLIP_X, '--weights', CLIP, '--device', 'cpu', '--quiet', '--out', out, ...arch);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/ignored the text tower/);
      expectClose(readNpy(out), fixture('arch/clip_rn50_div16.embedding.npy'), 1e-4, 'CLIP embedding (CLI)');
    }
  });

  it('BiT: embed gives the pre-logits, classify the head logits as class indices', async () => {
    const features = join(dir, 'bit.features.npy');
    const e = await cli('embed', BIT_X, '--weights', BIT, '--device', 'cpu', '--quiet', '--out', features, '--arch', 'bit-r50x1');
    expect(e.code, e.stderr).toBe(0);
    expectClose(readNpy(features), fixture('arch/bit_r50x1_div16.features.npy'), 1e-4, 'BiT features (CLI)');
    const logits = join(dir, 'bit.logits.npy');
    const c = await cli('classify', BIT_X, '--weights', BIT, '--device', 'cpu', '--quiet', '--out', logits, '--top', '3');
    expect(c.code, c.stderr).toBe(0);
    expectClose(readNpy(logits), fixture('arch/bit_r50x1_div16.logits.npy'), 1e-4, 'BiT logits (CLI)');
    const want = readNpy(join(ARCH, 'bit_r50x1_div16.logits.npy'));
    const best = [...want.data.subarray(0, 10)].indexOf(Math.max(...want.data.subarray(0, 10)));
    expect(c.stdout.split('\n')[1]).toMatch(new RegExp(`^\\s+[\\d.]+%\\s+${best}  class ${best}$`));
    const noHead = await cli('classify', CLIP_X, '--weights', CLIP, '--device', 'cpu', '--quiet');
    expect(noHead.code).toBe(1);
    expect(noHead.stderr.trim().split('\n').at(-1)).toMatch(/clip_rn50_div16\.pt: this model has no classifier/); // after the text-tower notice
  });

  it('a wrong --arch is one line naming the file and what is missing; an unknown one is refused', async () => {
    failsWith(await cli('embed', BIT_X, '--weights', BIT, '--device', 'cpu', '--arch', 'clip-rn50'), /bit_r50x1_div16\.npz: not a CLIP RN50 image tower .*missing/);
    failsWith(await cli('embed', CLIP_X, '--weights', CLIP, '--device', 'cpu', '--arch', 'bit-r50x1'), /clip_rn50_div16\.pt: not a BiT R50x1 checkpoint .*missing/);
    failsWith(await cli('embed', CLIP_X, '--weights', CLIP, '--device', 'cpu', '--arch', 'torchvision'), /clip_rn50_div16\.pt: /);
    failsWith(await cli('embed', CLIP_X, '--weights', CLIP, '--device', 'cpu', '--arch', 'vit'), /--arch must be one of torchvision, clip-rn50, bit-r50x1, got 'vit'/);
  });
});

describe('convert', () => {
  it('writes CLIP and BiT as safetensors that load back (arch told from the names) to the same embeddings', async () => {
    for (const [weights, x] of [[CLIP, CLIP_X], [BIT, BIT_X]]) {
      const st = join(dir, 'converted.safetensors');
      const c = await cli('convert', weights, st);
      expect(c.code, c.stderr).toBe(0);
      const [a, b] = [join(dir, 'from-original.npy'), join(dir, 'from-safetensors.npy')];
      for (const [w, out] of [[weights, a], [st, b]]) {
        const r = await cli('embed', x, '--weights', w, '--device', 'cpu', '--quiet', '--out', out);
        expect(r.code, r.stderr).toBe(0);
      }
      expect(readFileSync(b).equals(readFileSync(a)), `${weights}: embeddings through the safetensors copy differ`).toBe(true);
    }
    failsWith(await cli('convert', BIT, join(dir, 'folded.safetensors'), '--fold-bn'), /bit_r50x1_div16\.npz: --fold-bn folds a torchvision ResNet-50's BatchNorms; these are bit-r50x1 weights/);
  });
});

/**
 * The CLIP stand-in at 224×224 (positional embedding for a 7×7 grid, seeded values): what images
 * through the clip preset need; the fixture itself takes 96×96 inputs.
 */
function clip224(path: string): void {
  const archive = parseWeights(new Uint8Array(readFileSync(CLIP)), CLIP);
  const tensors: TensorToWrite[] = [];
  for (const [name, t] of archive.tensors) {
    if (!name.startsWith('visual.') || t.dtype === 'I64') continue; // num_batches_tracked is optional
    let { shape } = t;
    let data = t.toFloat32();
    if (name === 'visual.attnpool.positional_embedding') {
      shape = [50, shape[1]];
      data = Float32Array.from({ length: 50 * shape[1] }, (_, i) => Math.sin(i * 0.37) * 0.1);
    }
    tensors.push({ name, dtype: 'F32', shape, data });
  }
  writeFileSync(path, writeSafetensors(tensors, { format: 'pt' }));
}

describe('probe and index on images, each architecture with its own preset', () => {
  let train: string;
  let test: string;
  let clip: string;
  beforeAll(async () => {
    train = join(dir, 'train');
    test = join(dir, 'test');
    for (const [root, seed] of [[train, 1], [test, 50]] as const) {
      for (const [c, kind] of (['cool', 'warm'] as const).entries()) {
        for (let i = 0; i < 3; i++) await writePhoto(join(root, kind, `${i}.png`), seed + 10 * c + i, kind, 90, 70);
      }
    }
    clip = join(dir, 'clip224.safetensors');
    clip224(clip);
  });

  it('probe --train/--test: CLIP 64-d (1024/16) features with clip, BiT 128-d with bit', async () => {
    for (const [weights, preset, dim] of [[clip, 'clip', 64], [BIT, 'bit', 128]] as const) {
      const report = join(dir, `probe-${preset}.json`);
      const r = await cli('probe', '--train', train, '--test', test, '--weights', weights, '--device', 'cpu', '--quiet', '--no-cache', '--out', report, '--lambda', '1');
      expect(r.code, r.stderr).toBe(0);
      const json = JSON.parse(readFileSync(report, 'utf8'));
      expect(json.images.preset).toBe(preset);
      expect(json.weights ?? json.images.weights).toBeDefined();
      expect(JSON.stringify(json)).toContain(`"dim":${dim}`);
    }
  });

  it('index and search with BiT and CLIP: an indexed image, queried with the preset the index recorded, scores 1', async () => {
    for (const [weights, name] of [[BIT, 'bit'], [clip, 'clip']]) {
      const out = join(dir, `${name}.index.safetensors`);
      const r = await cli('index', train, '--weights', weights, '--out', out, '--device', 'cpu', '--quiet');
      expect(r.code, r.stderr).toBe(0);
      const s = await cli('search', join(train, 'warm', '1.png'), '--index', out, '--k', '6', '--device', 'cpu', '--json', '--quiet');
      expect(s.code, s.stderr).toBe(0);
      const results: { path: string; score: number }[] = JSON.parse(s.stdout.trim()).results;
      expect(results).toHaveLength(6);
      // The random CLIP stand-in embeds every image nearly alike, so only the image's own score is checked.
      expect(results.find((h) => h.path === 'warm/1.png')?.score, name).toBeCloseTo(1, 5);
    }
  });

  it('index --db (LanceDB) with BiT: 128-d rows; search --db finds the query itself', async () => {
    const db = join(dir, 'bit.lancedb');
    const r = await cli('index', train, '--db', db, '--weights', BIT, '--device', 'cpu', '--quiet');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${db}: 6 image(s), 128-d (6 embedded, 0 imported, 0 unchanged, 0 removed)`);
    const s = await cli('search', join(train, 'cool', '2.png'), '--db', db, '--k', '1', '--device', 'cpu', '--json', '--quiet');
    expect(s.code, s.stderr).toBe(0);
    const hit = JSON.parse(s.stdout.trim()).results[0];
    expect(hit.path).toBe('cool/2.png');
    expect(hit.score).toBeCloseTo(1, 5);
  });

  it('the library gives a file the preset of its architecture', async () => {
    const { ResNet50 } = await import('../src/node.ts');
    for (const [weights, arch, preset] of [[clip, 'clip-rn50', 'clip'], [BIT, 'bit-r50x1', 'bit']]) {
      const model = await ResNet50.load(weights, { device: 'cpu', onNotice: () => {} });
      expect([model.arch, model.preset]).toEqual([arch, preset]);
      model.dispose();
    }
  });
});

describe('probe --dataset with several --weights: one table column each, each with its own preset', () => {
  it('CIFAR-10 with BiT and CLIP (the 224×224 stand-in) beside the seed', async () => {
    const clip = join(dir, 'clip224-probe.safetensors');
    clip224(clip);
    const out = join(dir, 'runs.json');
    const table = join(dir, 'runs.md');
    const r = await cli('probe', '--dataset', 'cifar10', '--root', join(FIXTURES, 'datasets'), '--weights', BIT, '--weights', clip,
      '--device', 'cpu', '--quiet', '--no-cache', '--lambda', '1', '--out', out, '--table', table);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(readFileSync(out, 'utf8'));
    expect(rep.runs.map((x: { weights: string; preset: string; dataset: string }) => [x.weights, x.preset, x.dataset])).toEqual([[BIT, 'bit', 'cifar10'], [clip, 'clip', 'cifar10']]);
    const md = readFileSync(table, 'utf8').split('\n');
    expect(md[0]).toBe(`| dataset | Microsoft Vision | BiT-M R50x1 | CLIP RN50 | torchvision ResNet-50 | this run (${BIT}, bit) | this run (${clip}, clip) |`);
    expect(md[2]).toBe(`| CIFAR-10 | 92.64 | 92.51 | 87.85 | 82.23 | ${rep.runs[0].score.toFixed(2)} | ${rep.runs[1].score.toFixed(2)} |`);
    const once = await cli('probe', '--train', dir, '--test', dir, '--weights', BIT, '--weights', clip, '--device', 'cpu');
    expect(once.code).toBe(1);
    expect(once.stderr).toMatch(/--weights is given once for image folders/);
  });
});
