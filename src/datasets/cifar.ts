// CIFAR-10 and CIFAR-100 as distributed: the python version (pickles of dicts holding a uint8
// [N, 3072] numpy array — 1024 R, 1024 G, 1024 B bytes per image, each plane 32×32 row-major — and
// label lists) and the binary version (records of 1 label byte, CIFAR-100: coarse then fine, then the
// 3072 pixel bytes). CIFAR-100 is scored on its 100 fine labels.
import { checkLabels, concatPixels, integerLabels, joinPath, planarImages, textLines, type Dataset, type DatasetFiles } from './dataset.ts';
import type { RgbImage } from '../image/image.ts';
import { asText, dictGet, loadNumpyPickle, NdArray } from './numpy-pickle.ts';

const SIDE = 32;
const PIXELS = 3 * SIDE * SIDE;
const CHW = { stride: PIXELS, plane: SIDE * SIDE, row: SIDE, col: 1 };

type Variant = { name: 'cifar10' | 'cifar100'; python: string; binary: string; train: string[]; test: string; labelKey: string };
const CIFAR10: Variant = {
  name: 'cifar10', python: 'cifar-10-batches-py', binary: 'cifar-10-batches-bin',
  train: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}`), test: 'test_batch', labelKey: 'labels',
};
const CIFAR100: Variant = { name: 'cifar100', python: 'cifar-100-python', binary: 'cifar-100-binary', train: ['train'], test: 'test', labelKey: 'fine_labels' };

function names(value: unknown, where: string, key: string): string[] {
  if (!Array.isArray(value)) throw new Error(`${where}: no list '${key}' of class names`);
  return value.map((v) => asText(v, where));
}

async function pythonBatch(files: DatasetFiles, path: string, v: Variant, classes: number): Promise<{ labels: Int32Array; image: (i: number) => RgbImage }> {
  const dict = loadNumpyPickle(await files.read(path), path);
  const data = dictGet(dict, 'data', path);
  const rawLabels = dictGet(dict, v.labelKey, path);
  if (!(data instanceof NdArray)) throw new Error(`${path}: no numpy array 'data'`);
  if (!Array.isArray(rawLabels)) throw new Error(`${path}: no label list '${v.labelKey}'`);
  if (data.dtype!.descr !== 'u1' || data.shape.length !== 2 || data.shape[1] !== PIXELS || data.fortran) {
    throw new Error(`${path}: 'data' is ${data.dtype!.descr} [${data.shape.join(', ')}]${data.fortran ? ' (Fortran order)' : ''}, expected uint8 [N, ${PIXELS}]`);
  }
  if (rawLabels.length !== data.shape[0]) throw new Error(`${path}: ${data.shape[0]} images but ${rawLabels.length} labels`);
  const labels = checkLabels(integerLabels(rawLabels, path), classes, path);
  return { labels, image: planarImages(data.data, SIDE, SIDE, CHW) };
}

async function readPython(files: DatasetFiles, root: string, v: Variant): Promise<Dataset> {
  const dir = joinPath(root, v.python);
  const metaPath = joinPath(dir, v.name === 'cifar10' ? 'batches.meta' : 'meta');
  const metaKey = v.name === 'cifar10' ? 'label_names' : 'fine_label_names';
  const classes = names(dictGet(loadNumpyPickle(await files.read(metaPath), metaPath), metaKey, metaPath), metaPath, metaKey);
  const train = [];
  for (const b of v.train) train.push(await pythonBatch(files, joinPath(dir, b), v, classes.length));
  const test = await pythonBatch(files, joinPath(dir, v.test), v, classes.length);
  return { name: v.name, root: dir, format: 'python pickles', classes, train: concatPixels(train), test: concatPixels([test]), metric: 'top1_accuracy' };
}

async function binaryBatch(files: DatasetFiles, path: string, v: Variant, classes: number) {
  const bytes = await files.read(path);
  const head = v.name === 'cifar10' ? 1 : 2;
  const record = head + PIXELS;
  if (bytes.length === 0 || bytes.length % record !== 0) {
    throw new Error(`${path}: ${bytes.length} bytes is not a whole number of ${record}-byte records (truncated, or not a ${v.name} binary batch)`);
  }
  const n = bytes.length / record;
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = bytes[i * record + head - 1]; // CIFAR-100: the fine label
  checkLabels(labels, classes, path);
  return { labels, image: planarImages(bytes, SIDE, SIDE, { ...CHW, base: head, stride: record }) };
}

async function readBinary(files: DatasetFiles, root: string, v: Variant): Promise<Dataset> {
  const dir = joinPath(root, v.binary);
  const namesPath = joinPath(dir, v.name === 'cifar10' ? 'batches.meta.txt' : 'fine_label_names.txt');
  const classes = textLines(await files.read(namesPath));
  const expected = v.name === 'cifar10' ? 10 : 100;
  if (classes.length !== expected) throw new Error(`${namesPath}: ${classes.length} class names, expected ${expected}`);
  const train = [];
  for (const b of v.train) train.push(await binaryBatch(files, joinPath(dir, `${b}.bin`), v, classes.length));
  const test = await binaryBatch(files, joinPath(dir, `${v.test}.bin`), v, classes.length);
  return { name: v.name, root: dir, format: 'binary', classes, train: concatPixels(train), test: concatPixels([test]), metric: 'top1_accuracy' };
}

/** The folder names a CIFAR root may hold, python version first. */
export const cifarFolders = (name: 'cifar10' | 'cifar100') => {
  const v = name === 'cifar10' ? CIFAR10 : CIFAR100;
  return [v.python, v.binary];
};

/** CIFAR from `root` (holding cifar-10-batches-py or -bin; cifar-100-python or -binary): python version first. */
export async function readCifar(files: DatasetFiles, root: string, name: 'cifar10' | 'cifar100'): Promise<Dataset> {
  const v = name === 'cifar10' ? CIFAR10 : CIFAR100;
  if (await files.exists(joinPath(root, v.python))) return readPython(files, root, v);
  if (await files.exists(joinPath(root, v.binary))) return readBinary(files, root, v);
  throw new Error(`${root}: no ${v.python}/ or ${v.binary}/ folder`);
}
