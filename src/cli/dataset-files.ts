// Node's file access for the dataset readers (src/datasets): reads that fail with one line naming
// the file, existence checks, and image listing as the image-folder mode walks folders.
import { stat } from 'node:fs/promises';
import type { DatasetFiles } from '../datasets/index.ts';
import { readBytes } from './files.ts';
import { listImages } from './search.ts';

export const nodeDatasetFiles: DatasetFiles = {
  read: (path) => readBytes(path, 'dataset file'),
  exists: (path) => stat(path).then(() => true, () => false),
  listImages: async (dir) => (await listImages(dir)).map((f) => f.path),
};
