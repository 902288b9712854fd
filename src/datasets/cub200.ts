// CUB-200-2011 (CUB_200_2011/): images.txt ("id path" under images/), image_class_labels.txt
// ("id class", 1…200), train_test_split.txt ("id is_train"), classes.txt ("id name").
import { joinPath, textLines, type Dataset, type DatasetFiles, type Split } from './dataset.ts';

export const CUB_FOLDER = 'CUB_200_2011';

/** "id value" lines → id → value; every id once. */
async function table(files: DatasetFiles, path: string): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  textLines(await files.read(path)).forEach((line, i) => {
    const m = /^(\d+)\s+(.+)$/.exec(line);
    if (!m) throw new Error(`${path}: line ${i + 1} is not "<id> <value>": ${JSON.stringify(line.slice(0, 80))}`);
    const id = Number(m[1]);
    if (out.has(id)) throw new Error(`${path}: id ${id} appears twice`);
    out.set(id, m[2]);
  });
  return out;
}

export async function readCub200(files: DatasetFiles, root: string): Promise<Dataset> {
  const dir = joinPath(root, CUB_FOLDER);
  const p = (f: string) => joinPath(dir, f);
  const classTable = await table(files, p('classes.txt'));
  const classes = [...classTable.keys()].sort((a, b) => a - b).map((id, i) => {
    if (id !== i + 1) throw new Error(`${p('classes.txt')}: class ids are not 1…${classTable.size}`);
    return classTable.get(id)!;
  });
  const images = await table(files, p('images.txt'));
  const labels = await table(files, p('image_class_labels.txt'));
  const split = await table(files, p('train_test_split.txt'));
  const parts = { train: { files: [] as string[], labels: [] as number[] }, test: { files: [] as string[], labels: [] as number[] } };
  for (const id of [...images.keys()].sort((a, b) => a - b)) {
    const label = labels.get(id);
    const isTrain = split.get(id);
    if (label === undefined) throw new Error(`${p('image_class_labels.txt')}: no class for image ${id} of images.txt`);
    if (isTrain === undefined) throw new Error(`${p('train_test_split.txt')}: no split for image ${id} of images.txt`);
    const c = Number(label);
    if (!(Number.isInteger(c) && c >= 1 && c <= classes.length)) throw new Error(`${p('image_class_labels.txt')}: class ${label} of image ${id} is out of range (1…${classes.length})`);
    if (isTrain !== '0' && isTrain !== '1') throw new Error(`${p('train_test_split.txt')}: is_train of image ${id} is ${JSON.stringify(isTrain)}, not 0 or 1`);
    const part = isTrain === '1' ? parts.train : parts.test;
    part.files.push(joinPath('images', images.get(id)!));
    part.labels.push(c - 1);
  }
  for (const [name, t] of [['image_class_labels.txt', labels], ['train_test_split.txt', split]] as const) {
    if (t.size !== images.size) throw new Error(`${p(name)}: ${t.size} entries for the ${images.size} images of images.txt`);
  }
  const asSplit = (s: { files: string[]; labels: number[] }): Split => ({ kind: 'files', files: s.files, labels: Int32Array.from(s.labels) });
  return { name: 'cub200', root: dir, format: 'text lists + JPEG', classes, train: asSplit(parts.train), test: asSplit(parts.test), metric: 'top1_accuracy' };
}
