// `resnet50 convert <in.pth|in.safetensors> <out.safetensors> [--dtype f32|f16] [--fold-bn]`: any
// weights file this CLI reads, written as safetensors that PyTorch's safetensors loader accepts.
//   default     the state dict under its own names: checkpoint wrappers ('state_dict', 'model')
//               unwrapped, `module.`/`model.` prefixes removed; floating-point tensors as --dtype
//               (default f32), I64 tensors (BatchNorm's num_batches_tracked) unchanged. A torchvision
//               ResNet-50 loads with torchvision.models.resnet50().load_state_dict(…, strict=True);
//               CLIP RN50 (TorchScript, visual.* and the text tower) and BiT R50x1 (.npz, Google's
//               names, HWIO) keep their names, by which --weights tells them apart when read back.
//   --fold-bn   the model as this engine runs it: each conv's BatchNorm (eval mode, eps 1e-5) folded
//               into `<conv>.weight` and a new `<conv>.bias`, no BatchNorm tensors, fc.* unchanged.
//               `--weights` reads it back; in PyTorch it fits a ResNet-50 whose convs have biases and
//               whose BatchNorms are nn.Identity.
// --dtype f16 rounds to nearest, ties to even, as PyTorch's .half() does.
import { writeSafetensors, type TensorToWrite } from '../weights/safetensors.ts';
import { stripPrefix } from '../weights/resnet.ts';
import type { TensorArchive } from '../weights/archive.ts';
import { f32ToF16Bits } from '../tensor/tensor.ts';
import { CliError, writeAtomic } from './files.ts';
import { archiveArch, loadResNetArchive, readWeightsArchive, resolveWeights, type ResolvedWeights } from './weights.ts';

export const CONVERT_USAGE = 'resnet50 convert <in.pth|in.safetensors> <out.safetensors> [--dtype f32|f16] [--fold-bn]';

export interface ConvertOptions {
  dtype?: string;
  'fold-bn'?: boolean;
}

type Dtype = 'f32' | 'f16';
const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

export async function convert(paths: readonly string[], opts: ConvertOptions): Promise<void> {
  if (paths.length !== 2) throw new CliError(`convert takes an input and an output file: ${CONVERT_USAGE}`);
  const [input, output] = paths;
  const dtype = opts.dtype ?? 'f32';
  if (dtype !== 'f32' && dtype !== 'f16') throw new CliError(`--dtype must be f32 or f16, got '${dtype}'`);
  const weights = await resolveWeights(input, 'embed');
  const archive = await readWeightsArchive(weights.path);
  const arch = archiveArch(archive, undefined);
  if (opts['fold-bn'] && arch !== 'torchvision') {
    throw new CliError(`${input}: --fold-bn folds a torchvision ResNet-50's BatchNorms; these are ${arch} weights (convert them without it)`);
  }
  let tensors: TensorToWrite[];
  try {
    tensors = opts['fold-bn'] ? foldedTensors(archive, weights, dtype) : stateDictTensors(archive, dtype);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const file = writeSafetensors(tensors, { format: 'pt' });
  await writeAtomic(output, file);
  const what = `${dtype.toUpperCase()}${opts['fold-bn'] ? ', BatchNorm folded' : ''}`;
  console.log(`${output}: ${tensors.length} tensors (${what}), ${file.length} bytes`);
}

function stateDictTensors(archive: TensorArchive, dtype: Dtype): TensorToWrite[] {
  const tensors = new Map<string, TensorToWrite>();
  for (const [saved, entry] of archive.tensors) {
    const name = stripPrefix(saved);
    if (tensors.has(name)) throw new Error(`${archive.source}: two tensors are both named '${name}' once prefixes are removed`);
    if (FLOAT_DTYPES.has(entry.dtype)) {
      tensors.set(name, floatTensor(name, entry.shape, entry.toFloat32(), dtype));
    } else if (entry.dtype === 'I64') {
      tensors.set(name, { name, dtype: 'I64', shape: entry.shape, data: new BigInt64Array(new Uint8Array(entry.bytes()).buffer) });
    } else {
      throw new Error(`${archive.source}: tensor '${saved}' is ${entry.dtype}; only floating-point and I64 tensors can be converted`);
    }
  }
  return [...tensors.values()];
}

function foldedTensors(archive: TensorArchive, weights: ResolvedWeights, dtype: Dtype): TensorToWrite[] {
  const model = loadResNetArchive(archive, weights);
  const convs = [model.stem, ...model.blocks.flatMap((b) => [b.reduce, b.spatial, b.expand, ...(b.shortcut ? [b.shortcut] : [])])];
  const tensors = convs.flatMap((c) => [
    floatTensor(`${c.conv}.weight`, [c.outChannels, c.inChannels, c.kernel, c.kernel], c.weight, dtype),
    floatTensor(`${c.conv}.bias`, [c.outChannels], c.bias, dtype),
  ]);
  if (model.fc) {
    tensors.push(floatTensor('fc.weight', [model.fc.outFeatures, model.fc.inFeatures], model.fc.weight, dtype));
    tensors.push(floatTensor('fc.bias', [model.fc.outFeatures], model.fc.bias, dtype));
  }
  return tensors;
}

function floatTensor(name: string, shape: readonly number[], values: Float32Array, dtype: Dtype): TensorToWrite {
  return dtype === 'f32' ? { name, dtype: 'F32', shape, data: values } : { name, dtype: 'F16', shape, data: f32ToF16Bits(values) };
}
