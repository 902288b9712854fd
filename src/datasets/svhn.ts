// SVHN's cropped digits: train_32x32.mat (73,257) and test_32x32.mat (26,032), MAT v5 files with X
// uint8 [32, 32, 3, N] (column-major: pixel (y, x) of channel c of image n at
// y + 32·x + 1024·c + 3072·n) and y [N, 1], 1…10 where 10 stands for the digit 0 (torchvision maps it
// to label 0). The extra split is not used.
import { readMat } from '../formats/mat/mat.ts';
import { checkLabels, integerLabels, joinPath, planarImages, type Dataset, type DatasetFiles, type Split } from './dataset.ts';

const SIDE = 32;

async function split(files: DatasetFiles, root: string, name: string): Promise<Split> {
  const path = joinPath(root, `${name}_32x32.mat`);
  const mat = await readMat(await files.read(path), path);
  const x = mat.arrays.get('X');
  const y = mat.arrays.get('y');
  if (!x || !y) throw new Error(`${path}: expected numeric variables 'X' and 'y', found ${[...mat.arrays.keys()].map((k) => `'${k}'`).join(', ') || 'none'}`);
  if (x.class !== 'uint8' || x.dims.length !== 4 || x.dims[0] !== SIDE || x.dims[1] !== SIDE || x.dims[2] !== 3) {
    throw new Error(`${path}: X is ${x.class} [${x.dims.join(', ')}], expected uint8 [32, 32, 3, N]`);
  }
  const n = x.dims[3];
  if (y.data.length !== n || y.dims.filter((d) => d !== 1).length > 1) throw new Error(`${path}: X holds ${n} images but y is [${y.dims.join(', ')}]`);
  const digits = integerLabels(y.data, path);
  checkLabels(Int32Array.from(digits, (d) => d - 1), 10, path, 1);
  const labels = digits.map((d) => d % 10);
  return { kind: 'pixels', labels, image: planarImages(x.data as Uint8Array, SIDE, SIDE, { stride: 3 * SIDE * SIDE, plane: SIDE * SIDE, row: 1, col: SIDE }) };
}

export const SVHN_MARKER = 'train_32x32.mat';

export async function readSvhn(files: DatasetFiles, root: string): Promise<Dataset> {
  return {
    name: 'svhn', root, format: 'MAT v5', classes: Array.from({ length: 10 }, (_, i) => String(i)),
    train: await split(files, root, 'train'), test: await split(files, root, 'test'), metric: 'top1_accuracy',
  };
}
