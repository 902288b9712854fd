// STL-10's binary version (stl10_binary/): train_X.bin (5,000) and test_X.bin (8,000) hold uint8
// images of 3 planes of 96×96, each plane column-major; train_y.bin and test_y.bin one label byte
// per image, 1…10; class_names.txt. The unlabeled split is not used.
import { checkLabels, joinPath, planarImages, textLines, type Dataset, type DatasetFiles, type Split } from './dataset.ts';

const SIDE = 96;
const IMAGE = 3 * SIDE * SIDE;
export const STL10_FOLDER = 'stl10_binary';

async function split(files: DatasetFiles, dir: string, name: string, classes: number): Promise<Split> {
  const xPath = joinPath(dir, `${name}_X.bin`);
  const yPath = joinPath(dir, `${name}_y.bin`);
  const x = await files.read(xPath);
  const y = await files.read(yPath);
  if (x.length === 0 || x.length % IMAGE !== 0) throw new Error(`${xPath}: ${x.length} bytes is not a whole number of 3×96×96 images (truncated?)`);
  if (x.length / IMAGE !== y.length) throw new Error(`${xPath} holds ${x.length / IMAGE} images but ${yPath} ${y.length} labels`);
  const labels = checkLabels(Int32Array.from(y, (v) => v - 1), classes, yPath, 1);
  // column-major planes: pixel (y, x) at x·96 + y
  return { kind: 'pixels', labels, image: planarImages(x, SIDE, SIDE, { stride: IMAGE, plane: SIDE * SIDE, row: 1, col: SIDE }) };
}

export async function readStl10(files: DatasetFiles, root: string): Promise<Dataset> {
  const dir = joinPath(root, STL10_FOLDER);
  const namesPath = joinPath(dir, 'class_names.txt');
  const classes = textLines(await files.read(namesPath));
  if (classes.length !== 10) throw new Error(`${namesPath}: ${classes.length} class names, expected 10`);
  return {
    name: 'stl10', root: dir, format: 'binary', classes,
    train: await split(files, dir, 'train', 10), test: await split(files, dir, 'test', 10), metric: 'top1_accuracy',
  };
}
