// The seed's seven benchmarks, read from their files as distributed. `openDataset` finds a dataset
// under --root: the root torchvision's dataset class would take, or a parent holding it in a
// folder of the dataset's usual name.
import { cifarFolders, readCifar } from './cifar.ts';
import { CUB_FOLDER, readCub200 } from './cub200.ts';
import { DATASET_NAMES, joinPath, type Dataset, type DatasetFiles, type DatasetName } from './dataset.ts';
import { FLOWERS_FOLDER, readFlowers102 } from './flowers102.ts';
import { readImagenet } from './imagenet.ts';
import { readStl10, STL10_FOLDER } from './stl10.ts';
import { readSvhn, SVHN_MARKER } from './svhn.ts';

export * from './dataset.ts';

interface Entry {
  /** paths that mark the dataset's root (any one) */
  markers: string[];
  /** folders a parent may hold the root in */
  parents: string[];
  read(files: DatasetFiles, root: string): Promise<Dataset>;
}

const ENTRIES: Record<DatasetName, Entry> = {
  cifar10: { markers: cifarFolders('cifar10'), parents: ['cifar10', 'cifar-10'], read: (f, r) => readCifar(f, r, 'cifar10') },
  cifar100: { markers: cifarFolders('cifar100'), parents: ['cifar100', 'cifar-100'], read: (f, r) => readCifar(f, r, 'cifar100') },
  stl10: { markers: [STL10_FOLDER], parents: ['stl10', 'stl-10'], read: readStl10 },
  svhn: { markers: [SVHN_MARKER], parents: ['svhn', 'SVHN'], read: readSvhn },
  cub200: { markers: [CUB_FOLDER], parents: ['cub200', 'CUB'], read: readCub200 },
  flowers102: { markers: [FLOWERS_FOLDER], parents: ['flowers102'], read: readFlowers102 },
  imagenet: { markers: ['train', 'val'], parents: ['imagenet', 'ILSVRC2012'], read: readImagenet },
};

/** `--dataset` values: names, comma-separated; 'seed' = all seven. */
export function parseDatasetNames(value: string): DatasetName[] {
  const out: DatasetName[] = [];
  for (const raw of value.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const names = raw === 'seed' ? DATASET_NAMES : [raw];
    for (const n of names) {
      if (!(DATASET_NAMES as readonly string[]).includes(n)) throw new Error(`unknown dataset '${n}' (known: ${DATASET_NAMES.join(', ')}, or seed for all seven)`);
      if (!out.includes(n as DatasetName)) out.push(n as DatasetName);
    }
  }
  if (out.length === 0) throw new Error('--dataset names no dataset');
  return out;
}

/** The dataset `name` under `root` (its own root, or a parent of it). */
export async function openDataset(name: DatasetName, files: DatasetFiles, root: string): Promise<Dataset> {
  const e = ENTRIES[name];
  const has = async (dir: string) => {
    for (const m of e.markers) if (await files.exists(joinPath(dir, m))) return true;
    return false;
  };
  for (const dir of [root, ...e.parents.map((p) => joinPath(root, p))]) {
    if (await has(dir)) return e.read(files, dir);
  }
  throw new Error(`${root}: no ${name} found (looked for ${e.markers.join(' or ')} in it${e.parents.length ? ` or in ${e.parents.map((p) => `${p}/`).join(', ')}` : ''})`);
}
