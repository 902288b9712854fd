// `resnet50 probe --train <dir> --test <dir> --weights …`: image folders in torchvision's
// ImageFolder layout (photo-like images made on the fly, test/search-images.ts), embedded by the
// committed small model, probed, reported; the per-folder feature cache reused on a second run and
// invalidated when the weights' content, the preset or the device change.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ResNet50 } from '../src/api.ts';
import { loadInput } from '../src/cli/inputs.ts';
import { decodeFeatureCache, type FeatureCache } from '../src/search/index.ts';
import { loadWeights } from '../src/weights/load.ts';
import { cli as runCli, FIXTURES } from './helpers.ts';
import { writePhoto } from './search-images.ts';

const WEIGHTS = join(FIXTURES, 'resnet50_div8', 'weights.safetensors');
const WEIGHTS_F16 = join(FIXTURES, 'resnet50_div8', 'weights_f16.safetensors');

/** The `resnet50` command in a child process (test/helpers.ts), arguments as an array. */
const cli = (args: string[]) => runCli(...args);

const CLASSES = ['cool', 'leafy', 'warm'] as const;

/** An ImageFolder: <root>/<class>/…; .jpg and .png, one image one level deeper. */
async function imageFolder(root: string, perClass: number, seed: number): Promise<void> {
  for (const [c, kind] of CLASSES.entries()) {
    for (let i = 0; i < perClass; i++) {
      const name = i === 0 ? `deeper/${i}.jpg` : `${i}.${i % 2 ? 'png' : 'jpg'}`;
      await writePhoto(join(root, kind, name), seed + 100 * c + i, kind);
    }
  }
}

const cacheFiles = (dir: string) => (existsSync(join(dir, '.resnet50-cache')) ? readdirSync(join(dir, '.resnet50-cache')).sort() : []);
const readCache = (dir: string, name: string): FeatureCache => decodeFeatureCache(readFileSync(join(dir, '.resnet50-cache', name)), name);

describe('resnet50 probe on image folders', () => {
  const dir = mkdtempSync(join(tmpdir(), 'resnet50-probe-images-'));
  const train = join(dir, 'train');
  const test = join(dir, 'test');
  const weights = join(dir, 'weights.safetensors'); // a copy, rewritten later to change its content
  const report = join(dir, 'report.json');
  const plot = join(dir, 'sweep.svg');
  const base = () => ['probe', '--train', train, '--test', test, '--weights', weights, '--device', 'cpu', '--batch', '4'];

  beforeAll(async () => {
    copyFileSync(WEIGHTS, weights);
    await imageFolder(train, 5, 1000);
    await imageFolder(test, 2, 5000);
    await writePhoto(join(train, 'loose.jpg'), 7); // in no class folder: ignored
    mkdirSync(join(train, 'empty_class')); // no images: no class
    writeFileSync(join(train, 'warm', 'readme.txt'), 'not an image');
  });

  let cpuKey = '';

  it('embeds the folders, probes with class names as labels, and reports like the features mode', async () => {
    const r = await cli([...base(), '--out', report, '--plot', plot]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^train: cpu: 15 image\(s\) in [\d.]+ s/m);
    expect(r.stderr).toMatch(/^train: 15 image\(s\) in 3 classes \(15 embedded, 0 from cache\); cache .*train\/\.resnet50-cache\/[0-9a-f]{16}-torchvision-f32-cpu\.safetensors$/m);
    expect(r.stderr).toMatch(/^test: 6 image\(s\) in 3 classes \(6 embedded, 0 from cache\)/m);
    expect(r.stderr).toContain('resnet50 probe: train: 1 image(s) directly in');
    expect(r.stderr).toMatch(/empty_class holds no \.jpg, \.jpeg or \.png images; no class made of it/);
    expect(r.stdout).toMatch(/^classes 3, 256-d features, 15 train \/ 6 test samples$/m);
    expect(r.stdout).toMatch(/^test top-1 [\d.]+%/m);

    const rep = JSON.parse(readFileSync(report, 'utf8'));
    expect(rep.classes).toBe(3);
    expect(rep.dim).toBe(256);
    expect([rep.train_samples, rep.test_samples, rep.lambda_source, rep.val_split]).toEqual([15, 6, 'sweep', 0.2]);
    expect(rep.test_per_class_accuracy.map((p: { name: string; samples: number }) => [p.name, p.samples])).toEqual([['cool', 2], ['leafy', 2], ['warm', 2]]);
    expect(rep.test_top1_accuracy).toBeGreaterThanOrEqual(66); // kinds differ in colour and texture
    expect(rep.images).toMatchObject({ train, test, classes: [...CLASSES], weights, preset: 'torchvision', precision: 'f32', device: 'cpu', train_images: 15, test_images: 6, skipped: [] });
    expect(rep.images.weights_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(plot, 'utf8')).toMatch(/^<svg/);

    // the cache: the model's features, labels and files
    const [name] = cacheFiles(train);
    cpuKey = name;
    expect(name).toBe(`${rep.images.weights_sha256.slice(0, 16)}-torchvision-f32-cpu.safetensors`);
    const cache = readCache(train, name);
    expect(cache.classes).toEqual([...CLASSES]);
    expect(cache.files.map((f) => f.path).slice(0, 5)).toEqual(['cool/1.png', 'cool/2.jpg', 'cool/3.png', 'cool/4.jpg', 'cool/deeper/0.jpg']);
    expect(cache.labels).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
    const model = await ResNet50.fromModel(loadWeights(readFileSync(WEIGHTS), 'w'), { device: 'cpu' });
    const f = (await model.embed(await loadInput(join(train, 'leafy', 'deeper', '0.jpg')))).data;
    model.dispose();
    expect(Array.from(cache.features.subarray(9 * 256, 10 * 256))).toEqual(Array.from(f));
  });

  it('a second run reads both caches: nothing embedded, the model not loaded, caches untouched, same report', async () => {
    const mtimes = [train, test].map((d) => statSync(join(d, '.resnet50-cache', cpuKey)).mtimeMs);
    const before = JSON.parse(readFileSync(report, 'utf8'));
    const r = await cli([...base(), '--out', report]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^train: 15 image\(s\) in 3 classes \(0 embedded, 15 from cache\); cache .* \(unchanged\)$/m);
    expect(r.stderr).toMatch(/^test: 6 image\(s\) in 3 classes \(0 embedded, 6 from cache\); cache .* \(unchanged\)$/m);
    expect(r.stderr).not.toMatch(/image\(s\) in [\d.]+ s/);
    expect([train, test].map((d) => statSync(join(d, '.resnet50-cache', cpuKey)).mtimeMs)).toEqual(mtimes);
    const after = JSON.parse(readFileSync(report, 'utf8'));
    const strip = (x: { fit: { seconds: number } }) => ({ ...x, fit: { ...x.fit, seconds: 0 } });
    expect(strip(after)).toEqual(strip(before));

    // a changed file alone is embedded again
    utimesSync(join(test, 'warm', '1.png'), new Date(), new Date(Date.now() + 5000));
    const t = await cli([...base(), '--quiet']);
    expect(t.code).toBe(0);
    expect(t.stderr).toBe('');
    const again = await cli(base());
    expect(again.stderr).toMatch(/^test: 6 image\(s\) in 3 classes \(0 embedded, 6 from cache\)/m);
    utimesSync(join(test, 'warm', '1.png'), new Date(), new Date(Date.now() + 9000));
    const one = await cli(base());
    expect(one.stderr).toMatch(/^test: 6 image\(s\) in 3 classes \(1 embedded, 5 from cache\); cache \S+$/m);
    expect(one.stderr).toMatch(/^test: cpu: 1 image\(s\) in/m);
  });

  it('new weights content, another preset or another device: embedded again, in a cache of its own', async () => {
    const ms = await cli([...base(), '--preset', 'msvision']);
    expect(ms.code, ms.stderr).toBe(0);
    expect(ms.stderr).toMatch(/^train: 15 image\(s\) in 3 classes \(15 embedded, 0 from cache\); cache \S+-msvision-f32-cpu\.safetensors$/m);

    copyFileSync(WEIGHTS_F16, weights); // same path, other bytes
    const w = await cli(base());
    expect(w.code, w.stderr).toBe(0);
    expect(w.stderr).toMatch(/^train: 15 image\(s\) in 3 classes \(15 embedded, 0 from cache\)/m);
    expect(w.stderr).toMatch(/^test: 6 image\(s\) in 3 classes \(6 embedded, 0 from cache\)/m);
    expect(cacheFiles(train)).toHaveLength(3);
    copyFileSync(WEIGHTS, weights); // back: the first cache is valid again
    const back = await cli(base());
    expect(back.stderr).toMatch(/^train: 15 image\(s\) in 3 classes \(0 embedded, 15 from cache\)/m);

    const gpu = await cli([...base().filter((a) => a !== 'cpu' && a !== '--device'), '--device', 'webgpu', '--out', report]);
    expect(gpu.code, gpu.stderr).toBe(0);
    expect(gpu.stderr).toMatch(/^train: webgpu .*: 15 image\(s\) in/m);
    expect(gpu.stderr).toMatch(/^train: 15 image\(s\) in 3 classes \(15 embedded, 0 from cache\); cache \S+-torchvision-f32-webgpu\.safetensors$/m);
    const onGpu = readCache(train, cpuKey.replace('-cpu.', '-webgpu.'));
    const onCpu = readCache(train, cpuKey);
    expect(onGpu.files).toEqual(onCpu.files);
    let maxRel = 0;
    const scale = Math.max(...onCpu.features.map(Math.abs));
    onGpu.features.forEach((v, i) => (maxRel = Math.max(maxRel, Math.abs(v - onCpu.features[i]) / scale)));
    expect(maxRel).toBeLessThan(1e-4);
    const rep = JSON.parse(readFileSync(report, 'utf8'));
    expect(rep.images.device).toBe('webgpu');
    expect(rep.test_top1_accuracy).toBeGreaterThanOrEqual(66);
  });

  it('an unreadable image is reported and skipped (exit status 1); --no-cache writes no cache', async () => {
    const small = join(dir, 'small');
    for (const c of ['a', 'b']) for (let i = 0; i < 3; i++) await writePhoto(join(small, c, `${i}.jpg`), 50 + i, c === 'a' ? 'warm' : 'cool');
    writeFileSync(join(small, 'b', 'broken.png'), 'not a png');
    const r = await cli(['probe', '--train', small, '--test', small, '--weights', WEIGHTS, '--device', 'cpu', '--lambda', '1', '--no-cache', '--out', join(dir, 'small.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`resnet50 probe: skipped ${join(small, 'b', 'broken.png')}: cannot decode image:`);
    expect(r.stderr).toMatch(/^train: 6 image\(s\) in 2 classes \(6 embedded, 0 from cache, 1 skipped\)$/m);
    expect(r.stdout).toMatch(/^classes 2, 256-d features, 6 train \/ 6 test samples$/m);
    expect(JSON.parse(readFileSync(join(dir, 'small.json'), 'utf8')).images.skipped).toEqual([
      { path: join(small, 'b', 'broken.png'), message: expect.stringMatching(/broken\.png: cannot decode image/) },
    ]);
    expect(existsSync(join(small, '.resnet50-cache'))).toBe(false);
  });

  it('errors are one line', async () => {
    const oneLine = (r: { code: number; stdout: string; stderr: string }, pattern: RegExp) => {
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(pattern);
    };
    const empty = join(dir, 'empty');
    mkdirSync(join(empty, 'cats'), { recursive: true });
    oneLine(await cli(['probe', '--train', empty, '--test', test, '--weights', WEIGHTS, '--quiet']), /^resnet50 probe: .*empty: no class folders with \.jpg, \.jpeg or \.png images \(expected one subfolder per class/m);
    oneLine(await cli(['probe', '--train', join(dir, 'nope'), '--test', test, '--weights', WEIGHTS]), /^resnet50 probe: cannot read folder .*nope: no such folder \(image-folder mode: --train is a folder with one subfolder per class\)$/m);
    oneLine(await cli(['probe', '--train', train, '--weights', WEIGHTS]), /^resnet50 probe: the image-folder mode needs --test <folder>$/m);
    oneLine(await cli(['probe', '--train', train, '--test', test, '--weights', join(dir, 'nope.pth')]), /^resnet50 probe: cannot read weights .*nope\.pth: no such file$/m);
    oneLine(await cli(['probe', '--train', train, '--test', test, '--weights', WEIGHTS, '--train-labels', 'y.npy']), /cannot be mixed/);
    oneLine(await cli(['probe', '--train', train, '--test', test, '--weights', WEIGHTS, '--device', 'cpu', '--precision', 'f16']), /the cpu device computes in f32 only/);
  });
});
