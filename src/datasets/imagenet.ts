// ImageNet (ILSVRC-2012) as torchvision's ImageFolder reads it: train/<wnid>/… and val/<wnid>/…,
// the class being the folder's name (classes sorted); val is the test split, as in CLIP.
import { joinPath, type Dataset, type DatasetFiles, type Split } from './dataset.ts';

async function folder(files: DatasetFiles, dir: string): Promise<{ classes: string[]; paths: string[]; names: string[] }> {
  const paths = (await files.listImages(dir)).filter((p) => p.includes('/'));
  if (paths.length === 0) throw new Error(`${dir}: no class folders with images (expected ${dir}/<wnid>/<image>.JPEG)`);
  const names = paths.map((p) => p.slice(0, p.indexOf('/')));
  return { classes: [...new Set(names)].sort(), paths, names };
}

export async function readImagenet(files: DatasetFiles, root: string): Promise<Dataset> {
  const train = await folder(files, joinPath(root, 'train'));
  const val = await folder(files, joinPath(root, 'val'));
  const index = new Map(train.classes.map((c, i) => [c, i]));
  const extra = val.classes.filter((c) => !index.has(c));
  if (extra.length) throw new Error(`${joinPath(root, 'val')}: class folder ${extra[0]} has no counterpart in ${joinPath(root, 'train')}`);
  const split = (f: typeof train, sub: string): Split => ({
    kind: 'files',
    files: f.paths.map((p) => joinPath(sub, p)),
    labels: Int32Array.from(f.names, (n) => index.get(n)!),
  });
  return { name: 'imagenet', root, format: 'image folders', classes: train.classes, train: split(train, 'train'), test: split(val, 'val'), metric: 'top1_accuracy' };
}
