// The CLI's input arguments: files and folders (walked recursively in sorted order), each file loaded
// by a loader keyed by its extension: preprocessed .npy tensors, and JPEG/PNG images decoded and
// preprocessed with a preset (src/image). Loading is per file, so a caller can stream through many
// images in batches, report a file that fails, go on with the rest and exit non-zero.
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { preprocess, type Preset } from '../image/preprocess.ts';
import { parseNpy, npyToTensor } from '../tensor/npy.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { decodeImageFile } from './decode.ts';
import { CliError, readBytes } from './files.ts';

export interface InputFailure {
  readonly path: string;
  /** One line that names the file and says what is wrong. */
  readonly message: string;
}

type Loader = (path: string, preset: Preset) => Promise<Tensor>;

/** A preprocessed float32 (or float16) NCHW tensor: [N, 3, H, W], or one image [3, H, W]. */
async function loadNpy(path: string): Promise<Tensor> {
  let t: Tensor;
  try {
    t = npyToTensor(parseNpy(await readBytes(path, 'input'), path), path);
  } catch (e) {
    throw e instanceof CliError ? e : new CliError((e as Error).message);
  }
  if (t.shape.length === 3) t = t.reshape([1, ...t.shape]);
  if (t.shape.length !== 4 || t.shape[1] !== 3) {
    throw new CliError(`${path}: expected a preprocessed NCHW tensor [N, 3, H, W] or [3, H, W], got [${t.shape.join(', ')}]`);
  }
  return t;
}

/** A JPEG or PNG image, decoded and preprocessed to [1, 3, 224, 224]. */
async function loadImage(path: string, preset: Preset): Promise<Tensor> {
  const t = preprocess(await decodeImageFile(path, preset), preset);
  return t.reshape([1, ...t.shape]);
}

const LOADERS: Record<string, Loader> = { '.npy': loadNpy, '.jpg': loadImage, '.jpeg': loadImage, '.png': loadImage };
const SUPPORTED = Object.keys(LOADERS).join(', ');

const extension = (path: string) => extname(path).toLowerCase();

/** The loadable files under a folder, depth first, entries in code-point order; dot-files skipped. */
async function walk(dir: string): Promise<string[]> {
  const entries = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => !e.name.startsWith('.'))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const files: string[] = [];
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) files.push(...(await walk(path)));
    else if (Object.hasOwn(LOADERS, extension(e.name))) files.push(path);
  }
  return files;
}

/** A path argument as the files it stands for, or the reason it stands for none. */
async function expand(path: string): Promise<string[] | InputFailure> {
  try {
    if (!(await stat(path)).isDirectory()) return [path];
    const files = await walk(path);
    return files.length > 0 ? files : { path, message: `${path}: no ${SUPPORTED} files in this folder` };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { path, message: `cannot read input ${path}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}` };
  }
}

/**
 * The files the input arguments stand for (folders walked recursively, in sorted order), and the
 * arguments that stand for none. Throws a CliError when there are no arguments.
 */
export async function expandInputs(paths: readonly string[]): Promise<{ files: string[]; failures: InputFailure[] }> {
  if (paths.length === 0) throw new CliError('no inputs given');
  const files: string[] = [];
  const failures: InputFailure[] = [];
  for (const arg of paths) {
    const expanded = await expand(arg);
    if (Array.isArray(expanded)) files.push(...expanded);
    else failures.push(expanded);
  }
  return { files, failures };
}

/**
 * One input file as an NCHW batch [n, 3, H, W]: a .npy tensor as stored, an image decoded and
 * preprocessed with `preset` ([1, 3, 224, 224]). Throws a CliError naming the file.
 */
export async function loadInput(path: string, preset: Preset = 'torchvision'): Promise<Tensor> {
  const ext = extension(path);
  const loader = Object.hasOwn(LOADERS, ext) ? LOADERS[ext] : undefined;
  if (!loader) throw new CliError(`${path}: unsupported input type '${ext}' (supported: ${SUPPORTED})`);
  return loader(path, preset);
}
