// The dataset readers (src/datasets, src/formats/mat) against the tiny copies of the seven
// benchmarks made by scripts/make_dataset_fixtures.py: pixels (as uint8 RGB [N, H, W, 3]) and labels
// exactly what numpy / scipy / torchvision read (test/fixtures/datasets/expected.json), for every
// dataset and split; hostile and broken files refused with one error naming the file.
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync, cpSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeDatasetFiles } from '../src/cli/dataset-files.ts';
import { openDataset, parseDatasetNames, type DatasetFiles, type DatasetName, type Split } from '../src/datasets/index.ts';
import { loadNumpyPickle } from '../src/datasets/numpy-pickle.ts';
import { readMat } from '../src/formats/mat/mat.ts';
import { FIXTURES } from './helpers.ts';

const ROOT = join(FIXTURES, 'datasets');
const EXPECTED = JSON.parse(readFileSync(join(ROOT, 'expected.json'), 'utf8'));

function pixelsSha(split: Split): string {
  if (split.kind !== 'pixels') throw new Error('not a pixel split');
  const h = createHash('sha256');
  for (let i = 0; i < split.labels.length; i++) h.update(split.image(i).data);
  return h.digest('hex');
}

/** nodeDatasetFiles with some paths hidden (to pick CIFAR's binary version). */
const hiding = (hidden: string): DatasetFiles => ({ ...nodeDatasetFiles, exists: async (p) => !p.endsWith(hidden) && nodeDatasetFiles.exists(p) });

const copyOf = (sub: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'resnet50-datasets-'));
  cpSync(join(ROOT, sub), join(dir, sub), { recursive: true });
  return dir;
};

describe('dataset readers against numpy / scipy', () => {
  const cases: [DatasetName, string, DatasetFiles, string][] = [
    ['cifar10', 'python pickles', nodeDatasetFiles, 'cifar-10-batches-py'],
    ['cifar10', 'binary', hiding('cifar-10-batches-py'), 'cifar-10-batches-bin'],
    ['cifar100', 'python pickles', nodeDatasetFiles, 'cifar-100-python'],
    ['cifar100', 'binary', hiding('cifar-100-python'), 'cifar-100-binary'],
    ['stl10', 'binary', nodeDatasetFiles, 'stl10_binary'],
    ['svhn', 'MAT v5', nodeDatasetFiles, 'svhn'],
  ];
  for (const [name, format, files, folder] of cases) {
    it(`${name} (${format}): pixels and labels of train and test`, async () => {
      const ds = await openDataset(name, files, ROOT);
      expect(ds.format).toBe(format);
      expect(ds.root).toBe(join(ROOT, folder));
      expect(ds.classes).toEqual(EXPECTED[name].classes);
      for (const s of ['train', 'test'] as const) {
        expect(Array.from(ds[s].labels), `${s} labels`).toEqual(EXPECTED[name][s].labels);
        expect(pixelsSha(ds[s]), `${s} pixels`).toBe(EXPECTED[name][s].pixels_sha256);
      }
      expect(ds.metric).toBe('top1_accuracy');
    });
  }

  for (const name of ['cub200', 'flowers102', 'imagenet'] as const) {
    it(`${name}: image files and labels of each split`, async () => {
      const ds = await openDataset(name, nodeDatasetFiles, ROOT);
      expect(ds.classes).toEqual(EXPECTED[name].classes);
      for (const s of ['train', 'val', 'test'] as const) {
        const split = ds[s];
        if (!EXPECTED[name][s]) {
          expect(split).toBeUndefined();
          continue;
        }
        if (split?.kind !== 'files') throw new Error(`${s}: not a file split`);
        expect(split.files).toEqual(EXPECTED[name][s].images);
        expect(Array.from(split.labels)).toEqual(EXPECTED[name][s].labels);
      }
      expect(ds.metric).toBe(name === 'flowers102' ? 'mean_per_class_accuracy' : 'top1_accuracy');
    });
  }

  it('finds a dataset in its own root as well as in a parent', async () => {
    const svhn = await openDataset('svhn', nodeDatasetFiles, join(ROOT, 'svhn'));
    expect(svhn.train.labels.length).toBe(EXPECTED.svhn.train.n);
    await expect(openDataset('stl10', nodeDatasetFiles, join(ROOT, 'svhn'))).rejects.toThrow(/svhn: no stl10 found \(looked for stl10_binary in it/);
  });

  it('parses --dataset lists', () => {
    expect(parseDatasetNames('svhn,cifar10,svhn')).toEqual(['svhn', 'cifar10']);
    expect(parseDatasetNames('seed')).toEqual(['cifar10', 'cifar100', 'stl10', 'svhn', 'cub200', 'flowers102', 'imagenet']);
    expect(() => parseDatasetNames('mnist')).toThrow(/unknown dataset 'mnist'/);
  });
});

describe('MAT v5 reader', () => {
  it('reads compressed and uncompressed files alike, and the stored types scipy wrote', async () => {
    const train = await readMat(readFileSync(join(ROOT, 'svhn', 'train_32x32.mat')), 'train_32x32.mat'); // compressed
    const test = await readMat(readFileSync(join(ROOT, 'svhn', 'test_32x32.mat')), 'test_32x32.mat');
    for (const [m, n] of [[train, EXPECTED.svhn.train.n], [test, EXPECTED.svhn.test.n]] as const) {
      expect(m.arrays.get('X')).toMatchObject({ class: 'uint8', dims: [32, 32, 3, n] });
      expect(m.arrays.get('y')).toMatchObject({ class: 'double', dims: [n, 1] });
    }
    const sets = await readMat(readFileSync(join(ROOT, 'flowers-102', 'setid.mat')), 'setid.mat');
    expect(sets.arrays.get('tstid')).toMatchObject({ class: 'uint16', dims: [1, 6] });
    expect(Array.from(sets.arrays.get('tstid')!.data as Uint16Array)).toEqual([13, 14, 15, 16, 17, 18]);
  });

  it('refuses v7.3 (HDF5), v4, truncated and corrupt files, naming the file', async () => {
    const header = (text: string) => {
      const b = new Uint8Array(600);
      b.set(new TextEncoder().encode(text.padEnd(116, ' ')));
      b.set([0x00, 0x02, 0x49, 0x4d], 124);
      b.set([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a], 512);
      return b;
    };
    await expect(readMat(header('MATLAB 7.3 MAT-file, Platform: GLNXA64'), 'v73.mat')).rejects.toThrow(/^v73\.mat: a MAT v7\.3 file \(HDF5\) is not read/);
    await expect(readMat(readFileSync(join(ROOT, 'bad', 'mat_v4.mat')), 'mat_v4.mat')).rejects.toThrow(/^mat_v4\.mat: not a MAT v5 file/);
    const whole = readFileSync(join(ROOT, 'svhn', 'test_32x32.mat'));
    await expect(readMat(whole.subarray(0, whole.length - 100), 'cut.mat')).rejects.toThrow(/^cut\.mat: .*the file is truncated/);
    const compressed = Uint8Array.from(readFileSync(join(ROOT, 'svhn', 'train_32x32.mat')));
    compressed.fill(0x55, 200, 260);
    await expect(readMat(compressed, 'corrupt.mat')).rejects.toThrow(/^corrupt\.mat: .*does not decompress/);
  });
});

describe('numpy pickles: the allowlist', () => {
  it('refuses a pickle naming os.system before anything could run', () => {
    // PROTO 2, GLOBAL 'os system', SHORT_BINUNICODE 'touch /tmp/pwned', TUPLE1, REDUCE, STOP
    const evil = Uint8Array.from([0x80, 2, ...Buffer.from('cos\nsystem\n'), 0x8c, 16, ...Buffer.from('touch /tmp/pwned'), 0x85, 0x52, 0x2e]);
    expect(() => loadNumpyPickle(evil, 'data_batch_1')).toThrow(/^data_batch_1: refusing global 'os\.system': a dataset pickle may hold only numpy arrays/);
    const evalPickle = Uint8Array.from([0x80, 2, ...Buffer.from('cbuiltins\neval\n'), 0x2e]);
    expect(() => loadNumpyPickle(evalPickle, 'meta')).toThrow(/refusing global 'builtins\.eval'/);
  });

  it('reads both Python 2 (BINSTRING) and Python 3 (_codecs.encode) protocol-2 pickles', () => {
    const py2 = readFileSync(join(ROOT, 'cifar-10-batches-py', 'data_batch_1'));
    const py3 = readFileSync(join(ROOT, 'cifar-100-python', 'test'));
    expect(py2.includes(Buffer.from('_codecs'))).toBe(false);
    expect(py3.includes(Buffer.from('_codecs'))).toBe(true);
    expect(loadNumpyPickle(py2, 'py2')).toBeInstanceOf(Map);
    expect(loadNumpyPickle(py3, 'py3')).toBeInstanceOf(Map);
  });
});

describe('broken dataset files: one error naming the file', () => {
  const cases: [string, DatasetName, string, (dir: string) => void, RegExp][] = [
    ['truncated pickle', 'cifar10', 'cifar-10-batches-py', (d) => truncateSync(join(d, 'cifar-10-batches-py', 'data_batch_3'), 5000), /data_batch_3: byte \d+: the pickle is truncated/],
    ['pickle of the wrong shape', 'cifar10', 'cifar-10-batches-py', (d) => copyFileSync(join(ROOT, 'cifar-10-batches-py', 'batches.meta'), join(d, 'cifar-10-batches-py', 'test_batch')), /test_batch: no numpy array 'data'/],
    ['truncated binary batch', 'cifar100', 'cifar-100-binary', (d) => truncateSync(join(d, 'cifar-100-binary', 'train.bin'), 3074 * 2 + 7), /train\.bin: 6155 bytes is not a whole number of 3074-byte records/],
    ['label out of range', 'cifar10', 'cifar-10-batches-bin', (d) => {
      const f = join(d, 'cifar-10-batches-bin', 'data_batch_2.bin');
      const b = readFileSync(f);
      b[3073] = 10;
      writeFileSync(f, b);
    }, /data_batch_2\.bin: label 10 of sample 1 is out of range \(0…9\)/],
    ['STL-10 label 0', 'stl10', 'stl10_binary', (d) => writeFileSync(join(d, 'stl10_binary', 'test_y.bin'), Uint8Array.from([1, 0])), /test_y\.bin: label 0 of sample 1 is out of range \(1…10\)/],
    ['STL-10 counts', 'stl10', 'stl10_binary', (d) => writeFileSync(join(d, 'stl10_binary', 'test_y.bin'), Uint8Array.from([1, 2, 3])), /test_X\.bin holds 2 images but .*test_y\.bin 3 labels/],
    ['STL-10 truncated', 'stl10', 'stl10_binary', (d) => truncateSync(join(d, 'stl10_binary', 'train_X.bin'), 27648 * 2 + 1), /train_X\.bin: 55297 bytes is not a whole number of 3×96×96 images/],
    ['SVHN counts', 'svhn', 'svhn', (d) => copyFileSync(join(ROOT, 'bad', 'svhn_mismatch.mat'), join(d, 'svhn', 'test_32x32.mat')), /test_32x32\.mat: X holds 3 images but y is \[2, 1\]/],
    ['SVHN not a MAT file', 'svhn', 'svhn', (d) => writeFileSync(join(d, 'svhn', 'train_32x32.mat'), 'hello'), /train_32x32\.mat: not a MAT v5 file/],
    ['CUB missing split entry', 'cub200', 'CUB_200_2011', (d) => {
      const f = join(d, 'CUB_200_2011', 'train_test_split.txt');
      writeFileSync(f, readFileSync(f, 'utf8').split('\n').slice(1).join('\n'));
    }, /train_test_split\.txt: no split for image 1 of images\.txt/],
    ['CUB class out of range', 'cub200', 'CUB_200_2011', (d) => {
      const f = join(d, 'CUB_200_2011', 'image_class_labels.txt');
      writeFileSync(f, readFileSync(f, 'utf8').replace(/^1 2$/m, '1 201'));
    }, /image_class_labels\.txt: class 201 of image 1 is out of range \(1…200\)/],
    ['Flowers set naming a missing image', 'flowers102', 'flowers-102', (d) => copyFileSync(join(ROOT, 'flowers-102', 'setid.mat'), join(d, 'flowers-102', 'imagelabels.mat')), /imagelabels\.mat: no numeric variable 'labels'/],
  ];
  for (const [what, name, sub, breakIt, message] of cases) {
    it(what, async () => {
      const dir = copyOf(sub);
      breakIt(dir);
      await expect(openDataset(name, nodeDatasetFiles, dir)).rejects.toThrow(message);
    });
  }
});
