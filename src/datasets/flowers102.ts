// Oxford Flowers-102 (flowers-102/): jpg/image_00001.jpg…, imagelabels.mat (labels [1, 8189],
// 1…102) and setid.mat (trnid, valid, tstid: 1-based image numbers; 1,020 / 1,020 / 6,149). It has
// an official validation split, and CLIP scores it by mean per-class accuracy.
import { readMat, type MatArray } from '../formats/mat/mat.ts';
import { checkLabels, integerLabels, joinPath, type Dataset, type DatasetFiles, type Split } from './dataset.ts';

export const FLOWERS_FOLDER = 'flowers-102';
const CLASSES = 102;

function vector(arrays: Map<string, MatArray>, name: string, path: string): Int32Array {
  const a = arrays.get(name);
  if (!a) throw new Error(`${path}: no numeric variable '${name}'`);
  if (a.dims.filter((d) => d !== 1).length > 1) throw new Error(`${path}: '${name}' is [${a.dims.join(', ')}], not a vector`);
  return integerLabels(a.data, `${path}: '${name}'`);
}

export async function readFlowers102(files: DatasetFiles, root: string): Promise<Dataset> {
  const dir = joinPath(root, FLOWERS_FOLDER);
  const labelsPath = joinPath(dir, 'imagelabels.mat');
  const setPath = joinPath(dir, 'setid.mat');
  const labels = checkLabels(vector((await readMat(await files.read(labelsPath), labelsPath)).arrays, 'labels', labelsPath).map((v) => v - 1), CLASSES, labelsPath, 1);
  const sets = (await readMat(await files.read(setPath), setPath)).arrays;
  const split = (key: string): Split => {
    const ids = vector(sets, key, setPath);
    for (const id of ids) if (!(id >= 1 && id <= labels.length)) throw new Error(`${setPath}: '${key}' names image ${id}, but ${labelsPath} labels images 1…${labels.length}`);
    return {
      kind: 'files',
      files: Array.from(ids, (id) => `jpg/image_${String(id).padStart(5, '0')}.jpg`),
      labels: Int32Array.from(ids, (id) => labels[id - 1]),
    };
  };
  return {
    name: 'flowers102', root: dir, format: 'MAT v5 + JPEG', classes: Array.from({ length: CLASSES }, (_, i) => String(i + 1)),
    train: split('trnid'), val: split('valid'), test: split('tstid'), metric: 'mean_per_class_accuracy',
  };
}
