// What a benchmark reader hands the probe: the class names, the official splits and CLIP's metric.
// A split holds decoded pixels (CIFAR, STL-10, SVHN: each image cut out of the dataset's arrays on
// demand, so nothing is copied up front) or image files to decode (CUB, Flowers, ImageNet). Readers
// read through `DatasetFiles`, so this folder imports nothing from Node; every error names the file.
import { rgbImage, type RgbImage } from '../image/image.ts';

export const DATASET_NAMES = ['cifar10', 'cifar100', 'stl10', 'svhn', 'cub200', 'flowers102', 'imagenet'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];

/** CLIP's metric for the dataset: mean per-class accuracy for Flowers-102, top-1 for the others. */
export type Metric = 'top1_accuracy' | 'mean_per_class_accuracy';

export type Split =
  | { readonly kind: 'pixels'; readonly labels: Int32Array; readonly image: (i: number) => RgbImage }
  | { readonly kind: 'files'; readonly labels: Int32Array; /** paths, '/'-joined under the root */ readonly files: readonly string[] };

export interface Dataset {
  readonly name: DatasetName;
  /** the folder the files were read from */
  readonly root: string;
  /** how it was stored, e.g. 'python pickles' or 'binary' */
  readonly format: string;
  readonly classes: readonly string[];
  readonly train: Split;
  /** the official validation split, where the dataset has one (Flowers-102) */
  readonly val?: Split;
  readonly test: Split;
  readonly metric: Metric;
}

/** File access for the readers (Node: src/cli/dataset-files.ts). */
export interface DatasetFiles {
  read(path: string): Promise<Uint8Array>;
  exists(path: string): Promise<boolean>;
  /** image files under a folder, '/'-joined paths relative to it, sorted */
  listImages(dir: string): Promise<string[]>;
}

export const joinPath = (root: string, rel: string): string => (root === '' ? rel : `${root.replace(/\/+$/, '')}/${rel}`);

/** Labels checked against the class count: one error naming the file for the first one out of range. */
export function checkLabels(labels: Int32Array, classes: number, where: string, base = 0): Int32Array {
  for (let i = 0; i < labels.length; i++) {
    if (!(labels[i] >= 0 && labels[i] < classes)) {
      throw new Error(`${where}: label ${labels[i] + base} of sample ${i} is out of range (${base}…${classes - 1 + base})`);
    }
  }
  return labels;
}

/** Integer labels from any numeric list (int, float holding an integer, bigint). */
export function integerLabels(values: ArrayLike<unknown>, where: string, offset = 0): Int32Array {
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = Number(values[i] as number);
    if (!Number.isSafeInteger(v) || Math.abs(v) > 2 ** 31 - 1) throw new Error(`${where}: label of sample ${i} is not an integer (${String(values[i])})`);
    out[i] = v - offset;
  }
  return out;
}

/** Non-empty lines of a text file. */
export function textLines(bytes: Uint8Array): string[] {
  return new TextDecoder().decode(bytes).split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
}

/**
 * Images stored as planes: sample i's pixel (y, x) of channel c at
 * base + i·stride + c·planeStride + y·rowStride + x·colStride. Returns RGB interleaved images.
 */
export function planarImages(
  data: Uint8Array, width: number, height: number,
  layout: { base?: number; stride: number; plane: number; row: number; col: number },
): (i: number) => RgbImage {
  return (i) => {
    const out = new Uint8Array(width * height * 3);
    const at = (layout.base ?? 0) + i * layout.stride;
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) out[(y * width + x) * 3 + c] = data[at + c * layout.plane + y * layout.row + x * layout.col];
      }
    }
    return rgbImage(width, height, out);
  };
}

/** Several pixel splits (CIFAR-10's five batches) as one. */
export function concatPixels(parts: { labels: Int32Array; image: (i: number) => RgbImage }[]): Split {
  const starts: number[] = [];
  let n = 0;
  for (const p of parts) {
    starts.push(n);
    n += p.labels.length;
  }
  const labels = new Int32Array(n);
  parts.forEach((p, k) => labels.set(p.labels, starts[k]));
  return {
    kind: 'pixels',
    labels,
    image(i) {
      let k = parts.length - 1;
      while (starts[k] > i) k--;
      return parts[k].image(i - starts[k]);
    },
  };
}
