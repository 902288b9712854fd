// Turning the CLI's input arguments into one NCHW batch. Each input kind is a loader keyed by file
// extension: preprocessed .npy tensors, and JPEG/PNG images decoded and preprocessed with a preset
// (src/image). Folders are walked recursively in sorted order. A file that cannot be loaded becomes
// a failure in the result, so the caller can report it, go on with the rest and exit non-zero.
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { preprocess, type Preset } from '../image/preprocess.ts';
import { concatBatch } from '../tensor/layout.ts';
import { parseNpy, npyToTensor } from '../tensor/npy.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { decodeImageFile } from './decode.ts';
import { CliError, readBytes } from './files.ts';

export interface LoadedInput {
  readonly path: string;
  /** [n, 3, H, W] */
  readonly batch: Tensor;
}

export interface InputFailure {
  readonly path: string;
  /** One line that names the file and says what is wrong. */
  readonly message: string;
}

export interface LoadedInputs {
  /** The inputs that loaded, in order (folders expanded). */
  readonly inputs: LoadedInput[];
  /** The ones that did not, in order. */
  readonly failures: InputFailure[];
  /** All inputs concatenated along N. */
  readonly batch: Tensor;
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
 * Load every input (files, or folders walked recursively) into one batch; images are preprocessed
 * with `preset`. Files that fail to load are listed in `failures`. Throws a CliError when there are
 * no paths, when nothing loads (its message lists every failure, one per line), or when the loaded
 * inputs differ in image size.
 */
export async function loadInputs(paths: readonly string[], preset: Preset = 'torchvision'): Promise<LoadedInputs> {
  if (paths.length === 0) throw new CliError('no inputs given');
  const inputs: LoadedInput[] = [];
  const failures: InputFailure[] = [];
  for (const arg of paths) {
    const files = await expand(arg);
    if (!Array.isArray(files)) {
      failures.push(files);
      continue;
    }
    for (const path of files) {
      const ext = extension(path);
      const loader = Object.hasOwn(LOADERS, ext) ? LOADERS[ext] : undefined;
      try {
        if (!loader) throw new CliError(`${path}: unsupported input type '${ext}' (supported: ${SUPPORTED})`);
        inputs.push({ path, batch: await loader(path, preset) });
      } catch (e) {
        if (!(e instanceof CliError)) throw e;
        failures.push({ path, message: e.message });
      }
    }
  }
  if (inputs.length === 0) throw new CliError(failures.map((f) => f.message).join('\n'));
  const sizes = new Set(inputs.map((i) => `${i.batch.shape[2]}×${i.batch.shape[3]}`));
  if (sizes.size > 1) throw new CliError(`inputs have different image sizes (${[...sizes].join(', ')}); a batch needs one size`);
  return { inputs, failures, batch: concatBatch(inputs.map((i) => i.batch)) };
}
