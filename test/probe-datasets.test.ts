// `resnet50 probe --dataset … --root …` end to end on the tiny copies of the seven benchmarks
// (test/fixtures/datasets, made by scripts/make_dataset_fixtures.py), embedded by the committed small
// model on the CPU reference: the report's counts, CLIP's metric and validation per dataset, the
// seed's table, the chunked cache resuming, --limit-per-class, hostile and broken files refused
// before anything is written; and decoded arrays preprocessed exactly as image files of the same pixels.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { ResNet50 } from '../src/api.ts';
import { nodeDatasetFiles } from '../src/cli/dataset-files.ts';
import { loadInput } from '../src/cli/inputs.ts';
import { openDataset } from '../src/datasets/index.ts';
import { preprocess, PRESETS } from '../src/image/preprocess.ts';
import { loadWeights } from '../src/weights/load.ts';
import { cli, FIXTURES } from './helpers.ts';

const DATASETS = join(FIXTURES, 'datasets');
const BIN = join(import.meta.dirname, '..', 'bin', 'resnet50.js');
const WEIGHTS = join(FIXTURES, 'resnet50_div8', 'weights.safetensors');
const EXPECTED = JSON.parse(readFileSync(join(DATASETS, 'expected.json'), 'utf8'));
const SEED_ROWS = [
  ['CIFAR-10', '92.64 | 92.51 | 87.85 | 82.23'], ['CIFAR-100', '76.05 | 79.84 | 67.02 | 61.36'], ['STL-10', '98.10 | 98.71 | 97.20 | 96.32'],
  ['SVHN', '72.64 | 64.22 | 64.33 | 52.05'], ['CUB-200-2011', '82.20 | 82.75 | 68.38 | 38.79'], ['Flowers-102', '99.28 | 99.38 | 95.23 | 77.62'],
  ['ImageNet', '73.85 | 72.83 | 57.00 | 75.63'],
];

describe('resnet50 probe --dataset', () => {
  const dir = mkdtempSync(join(tmpdir(), 'resnet50-probe-datasets-'));
  const root = join(dir, 'data');
  const out = join(dir, 'report.json');
  const table = join(dir, 'table.md');
  const base = ['probe', '--root', root, '--weights', WEIGHTS, '--device', 'cpu', '--batch', '4', '--chunk', '4'];

  beforeAll(() => {
    cpSync(DATASETS, root, { recursive: true });
    rmSync(join(root, 'bad'), { recursive: true });
  });

  it('runs all seven (seed) with CLIP\'s protocol and prints the seed\'s table with this run\'s column', async () => {
    const r = await cli(...base, '--dataset', 'seed', '--out', out, '--table', table);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(readFileSync(out, 'utf8'));
    expect(rep.datasets.map((d: { dataset: string }) => d.dataset)).toEqual(['cifar10', 'cifar100', 'stl10', 'svhn', 'cub200', 'flowers102', 'imagenet']);
    for (const d of rep.datasets) {
      const e = EXPECTED[d.dataset];
      const val = e.val?.n ?? null;
      const perClass = [...new Set<number>(e.train.labels)].map((c) => e.train.labels.filter((l: number) => l === c).length);
      expect([d.train, d.val, d.test, d.classes], d.dataset).toEqual([e.train.n, val, e.test.n, perClass.length]);
      expect(d.metric).toBe(d.dataset === 'flowers102' ? 'mean_per_class_accuracy' : 'top1_accuracy');
      expect(d.score).toBe(d.dataset === 'flowers102' ? d.probe.test_mean_per_class_accuracy : d.probe.test_top1_accuracy);
      expect(d.validation).toBe(d.dataset === 'flowers102' ? 'official validation split' : 'seeded stratified split of train (0.2, seed 0)');
      const seededVal = perClass.reduce((sum, n) => sum + Math.min(Math.round(0.2 * n), n - 1), 0);
      expect(d.probe.val_samples).toBe(d.dataset === 'flowers102' ? e.val.n : seededVal);
      expect(d.probe.fit.samples).toBe(e.train.n + (val ?? 0)); // refit on train + val
      expect(d).toMatchObject({ preset: 'torchvision', precision: 'f32', device: 'cpu', limit_per_class: null, weights: WEIGHTS });
      expect(d.weights_sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(d.lambda).toBeCloseTo(1 / d.C, 12);
    }
    expect(rep.average).toBeCloseTo(rep.datasets.reduce((s: number, d: { score: number }) => s + d.score, 0) / 7, 10);
    const md = readFileSync(table, 'utf8');
    expect(md.split('\n')[0]).toBe(`| dataset | Microsoft Vision | BiT-M R50x1 | CLIP RN50 | torchvision ResNet-50 | this run (${WEIGHTS}, torchvision) |`);
    for (const [title, figures] of SEED_ROWS) expect(md).toContain(`| ${title} | ${figures} |`);
    expect(md).toMatch(/^\| average \(7 of 7\) \| 84\.97 \| 84\.32 \| 76\.72 \| 69\.14 \| [\d.]+ \|$/m);
    expect(r.stdout).toContain(md);
    expect(r.stderr).toMatch(/^cifar10 train: 15 images \(15 embedded at [\d.]+ images\/s, 0 from cache\)$/m);
    expect(r.stderr).toMatch(/^stl10 test: \d+\/2 images, [\d.]+ images\/s, .* left$/m);
  }, 240_000);

  it('resumes from the chunks on disk: only a missing chunk is embedded again, the report unchanged', async () => {
    const cacheDir = join(root, 'cifar-10-batches-py', '.resnet50-cache');
    const [trainCache] = readdirSync(cacheDir).filter((n) => n.startsWith('cifar10-train-'));
    expect(readdirSync(join(cacheDir, trainCache)).sort()).toEqual(['chunk-000000.f32', 'chunk-000001.f32', 'chunk-000002.f32', 'chunk-000003.f32', 'manifest.json']);
    rmSync(join(cacheDir, trainCache, 'chunk-000002.f32')); // as if stopped while embedding it
    const before = JSON.parse(readFileSync(out, 'utf8')).datasets[0];
    const single = join(dir, 'cifar10.json');
    const r = await cli(...base, '--dataset', 'cifar10', '--out', single);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^cifar10 train: 15 images \(4 embedded at [\d.]+ images\/s, 11 from cache\)$/m);
    expect(r.stderr).toMatch(/^cifar10 test: 6 images \(0 embedded, 6 from cache\)$/m);
    const after = JSON.parse(readFileSync(single, 'utf8'));
    expect(after.dataset).toBe('cifar10'); // one dataset: the object itself
    expect([after.score, after.lambda, after.probe.test_per_class_accuracy]).toEqual([before.score, before.lambda, before.probe.test_per_class_accuracy]);

    // other pixels under the same labels: that split's cache starts afresh, the other is kept
    const x = join(root, 'stl10_binary', 'test_X.bin');
    const bytes = readFileSync(x);
    bytes[1000] ^= 0xff;
    writeFileSync(x, bytes);
    const s = await cli(...base, '--dataset', 'stl10');
    expect(s.code, s.stderr).toBe(0);
    expect(s.stderr).toMatch(/^resnet50 probe: the feature cache .*stl10-test-.* is for other data or settings; starting it afresh$/m);
    expect(s.stderr).toMatch(/^stl10 test: 2 images \(2 embedded at [\d.]+ images\/s, 0 from cache\)$/m);
    expect(s.stderr).toMatch(/^stl10 train: 6 images \(0 embedded, 6 from cache\)$/m);
  }, 120_000);

  it('a run killed while embedding resumes at the first unfinished chunk', async () => {
    const killed = join(dir, 'killed');
    cpSync(join(DATASETS, 'cifar-10-batches-py'), join(killed, 'cifar-10-batches-py'), { recursive: true });
    const args = base.map((a) => (a === root ? killed : a));
    const child = spawn(process.execPath, [BIN, ...args, '--dataset', 'cifar10', '--quiet'], { stdio: 'ignore' });
    const cache = join(killed, 'cifar-10-batches-py', '.resnet50-cache');
    const chunks = () => (existsSync(cache) ? readdirSync(cache).filter((n) => n.startsWith('cifar10-train-')).flatMap((n) => readdirSync(join(cache, n))).filter((n) => n.endsWith('.f32')) : []);
    while (chunks().length === 0) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const kept = Math.min(15, 4 * chunks().length);
    const r = await cli(...args, '--dataset', 'cifar10');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`^cifar10 train: 15 images \\(${15 - kept} embedded[^,]*, ${kept} from cache\\)$`, 'm'));
    expect(kept).toBeGreaterThanOrEqual(4);
  }, 120_000);

  it('--limit-per-class takes the first N of each class and says so', async () => {
    const r = await cli(...base, '--dataset', 'cifar10', '--limit-per-class', '3', '--out', join(dir, 'limit.json'), '--no-cache');
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(readFileSync(join(dir, 'limit.json'), 'utf8'));
    expect([rep.train, rep.test, rep.limit_per_class]).toEqual([9, 6, 3]);
    expect(r.stdout).toContain(`this run (${WEIGHTS}, torchvision, ≤ 3 per class) |`);
  }, 120_000);

  it('refuses a CIFAR pickle naming os.system, and broken files, before anything is written', async () => {
    const bad = join(dir, 'bad');
    const cases: [string, string, (d: string) => void, RegExp][] = [
      ['cifar10', 'cifar-10-batches-py', (d) => writeFileSync(join(d, 'cifar-10-batches-py', 'data_batch_4'),
        Uint8Array.from([0x80, 2, ...Buffer.from('cos\nsystem\n'), 0x8c, 5, ...Buffer.from('touch'), 0x85, 0x52, 0x2e])),
        /^resnet50 probe: .*cifar-10-batches-py\/data_batch_4: refusing global 'os\.system': a dataset pickle may hold only numpy arrays and plain containers, and nothing in it is ever imported or run\n$/],
      ['svhn', 'svhn', (d) => writeFileSync(join(d, 'svhn', 'test_32x32.mat'), readFileSync(join(DATASETS, 'svhn', 'test_32x32.mat')).subarray(0, 5000)),
        /^resnet50 probe: .*svhn\/test_32x32\.mat: the element at byte 128: the file is truncated .*\n$/],
      ['flowers102', 'flowers-102', (d) => rmSync(join(d, 'flowers-102', 'setid.mat')), /^resnet50 probe: cannot read dataset file .*flowers-102\/setid\.mat: no such file\n$/],
    ];
    for (const [name, sub, breakIt, message] of cases) {
      rmSync(bad, { recursive: true, force: true });
      cpSync(join(DATASETS, sub), join(bad, sub), { recursive: true });
      breakIt(bad);
      const r = await cli(...base.map((a) => (a === root ? bad : a)), '--dataset', name, '--out', join(bad, 'r.json'), '--table', join(bad, 't.md'), '--quiet');
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(existsSync(join(bad, 'r.json')) || existsSync(join(bad, 't.md')) || existsSync(join(bad, sub, '.resnet50-cache'))).toBe(false);
    }
  }, 120_000);
});

describe('resnet50 probe --dataset: options', () => {
  it('refuses mixed modes, unknown names and a missing --root, each in one line', async () => {
    const cases: [string[], RegExp][] = [
      [['--dataset', 'cifar10', '--root', DATASETS, '--train', DATASETS], /--dataset \(benchmarks\) and --train cannot be mixed/],
      [['--root', DATASETS, '--train-features', 'x.npy'], /--root only go with --dataset/],
      [['--dataset', 'mnist', '--root', DATASETS], /unknown dataset 'mnist' \(known: cifar10, cifar100, stl10, svhn, cub200, flowers102, imagenet, or seed for all seven\)/],
      [['--dataset', 'cifar10'], /--dataset needs --root <folder>/],
    ];
    for (const [args, message] of cases) {
      const r = await cli('probe', ...args);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^resnet50 probe: ${message.source}.*\n$`));
    }
  });
});

describe('decoded arrays and image files of the same pixels', () => {
  it('give bit-identical inputs and embeddings (both presets)', async () => {
    const ds = await openDataset('cifar10', nodeDatasetFiles, DATASETS);
    if (ds.train.kind !== 'pixels') throw new Error('CIFAR is pixels');
    const dir = mkdtempSync(join(tmpdir(), 'resnet50-pixels-'));
    const model = await ResNet50.fromModel(loadWeights(readFileSync(WEIGHTS), 'w'), { device: 'cpu' });
    for (const preset of PRESETS) {
      const fromArrays = [];
      const fromFiles = [];
      for (let i = 0; i < 3; i++) {
        const img = ds.train.image(i);
        const png = join(dir, `${i}.png`);
        await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).png().toFile(png);
        const a = preprocess(img, preset);
        const f = await loadInput(png, preset);
        expect(f.data, `${preset} input ${i}`).toEqual(a.data);
        fromArrays.push(a.reshape([1, ...a.shape]));
        fromFiles.push(f);
      }
      const ea = await model.embed(fromArrays);
      const ef = await model.embed(fromFiles);
      expect(Buffer.from(ea.data.buffer).equals(Buffer.from(ef.data.buffer)), preset).toBe(true);
    }
    model.dispose();
  });
});
