// Turning the CLI's input arguments into one NCHW batch. Each input kind is a loader keyed by file
// extension: today preprocessed .npy tensors; image decoders slot in beside it.
import { parseNpy, npyToTensor } from '../tensor/npy.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { concatBatch } from '../tensor/layout.ts';
import { CliError, readBytes } from './files.ts';

export interface LoadedInput {
  readonly path: string;
  /** [n, 3, H, W] */
  readonly batch: Tensor;
}

type Loader = (path: string) => Promise<Tensor>;

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

const LOADERS: Record<string, Loader> = { '.npy': loadNpy };

export async function loadInputs(paths: readonly string[]): Promise<{ inputs: LoadedInput[]; batch: Tensor }> {
  if (paths.length === 0) throw new CliError('no inputs given');
  const inputs: LoadedInput[] = [];
  for (const path of paths) {
    const ext = path.slice(path.lastIndexOf('.')).toLowerCase();
    const loader = LOADERS[ext];
    if (!loader) throw new CliError(`${path}: unsupported input type '${ext}' (supported: ${Object.keys(LOADERS).join(', ')})`);
    inputs.push({ path, batch: await loader(path) });
  }
  const sizes = new Set(inputs.map((i) => `${i.batch.shape[2]}×${i.batch.shape[3]}`));
  if (sizes.size > 1) throw new CliError(`inputs have different image sizes (${[...sizes].join(', ')}); a batch needs one size`);
  return { inputs, batch: concatBatch(inputs.map((i) => i.batch)) };
}
