// Loading a weights file named on the command line. The format is told by the file's first bytes,
// not its name:
//   'PK\3\4'                                  a zip: torch.save's format since PyTorch 1.6
//   PROTO, LONG1 0x1950a86a20f9469cfc6c       a pickle with torch's magic number: the legacy format
//   'ustar' at byte 257                       a tar: torch.save before PyTorch 0.4, not read
//   a u64 header length, then '{'             safetensors
// A state dict whose convs have biases and no BatchNorm tensors was written by `convert --fold-bn`.
import { readSafetensors } from '../weights/safetensors.ts';
import { inferSpec, loadResNet, stripPrefix, WeightsError } from '../weights/resnet.ts';
import type { TensorArchive, TensorEntry } from '../weights/archive.ts';
import { LEGACY_MAGIC, readTorchLegacy, readTorchZip, type RawTensorArchive, type RawTensorEntry } from '../weights/pth/index.ts';
import type { FoldedConv, ResNetModel } from '../nn/model.ts';
import { buildGraph, type ConvSpec } from '../nn/spec.ts';
import { CliError, readBytes } from './files.ts';

export const NO_WEIGHTS_HELP = `no weights given: pass --weights <file>, a PyTorch state dict (.pth, .pt) or safetensors.
  torchvision ResNet-50 (ImageNet classifier), in Python:
    import torch, torchvision
    m = torchvision.models.resnet50(weights="IMAGENET1K_V2")   # or IMAGENET1K_V1
    torch.save(m.state_dict(), "resnet50.pth")
  Microsoft Vision Model ResNet-50 (2048-d embeddings; pip install microsoftvision):
    import torch, microsoftvision
    m = microsoftvision.models.resnet50(pretrained=True)
    torch.save(m.state_dict(), "msvision-resnet50.pth")`;

const RESAVE = 're-save it with a recent PyTorch: torch.save(torch.load(old), new)';

/** LONG1's 10 little-endian bytes of the legacy magic number, after PROTO n. */
const LEGACY_PREFIX = [0x8a, 10, ...Array.from({ length: 10 }, (_, i) => Number((LEGACY_MAGIC >> BigInt(8 * i)) & 0xffn))];

function isZip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

function isLegacyTorch(bytes: Uint8Array): boolean {
  return bytes[0] === 0x80 && LEGACY_PREFIX.every((byte, i) => bytes[2 + i] === byte);
}

function isTar(bytes: Uint8Array): boolean {
  return new TextDecoder().decode(bytes.subarray(257, 262)) === 'ustar';
}

function isSafetensors(bytes: Uint8Array): boolean {
  return bytes.length >= 9 && bytes[8] === 0x7b; // '{' right after the 8-byte header length
}

/** The tensors of a weights file in any format above; errors are plain Errors naming `source`. */
export function parseWeights(bytes: Uint8Array, source: string): RawTensorArchive {
  if (isZip(bytes)) return readTorchZip(bytes, source);
  if (isLegacyTorch(bytes)) return readTorchLegacy(bytes, source);
  if (isTar(bytes)) throw new Error(`${source}: a tar-format checkpoint (PyTorch 0.3 or older) is not supported; ${RESAVE}`);
  if (isSafetensors(bytes)) return readSafetensorsWithBytes(bytes, source);
  throw new Error(`${source}: neither a PyTorch checkpoint nor safetensors (unrecognised first bytes)`);
}

/** readSafetensors' archive with each entry's raw bytes, located through the header it validated. */
function readSafetensorsWithBytes(bytes: Uint8Array, source: string): RawTensorArchive {
  const archive = readSafetensors(bytes, source);
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  const dataStart = 8 + headerLength;
  const tensors = new Map<string, RawTensorEntry>();
  for (const [name, entry] of archive.tensors) {
    const [begin, end]: [number, number] = header[name].data_offsets;
    const { dtype, shape } = entry;
    tensors.set(name, { name, dtype, shape, toFloat32: () => entry.toFloat32(), bytes: () => bytes.subarray(dataStart + begin, dataStart + end) });
  }
  return { ...archive, tensors };
}

export async function readWeightsArchive(path: string): Promise<RawTensorArchive> {
  const bytes = await readBytes(path, 'weights');
  try {
    return parseWeights(bytes, path);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

export async function loadWeightsFile(path: string): Promise<ResNetModel> {
  const archive = await readWeightsArchive(path);
  try {
    return modelFromArchive(archive);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

/** A torchvision-layout state dict, or one `convert --fold-bn` wrote, as a model. */
export function modelFromArchive(archive: TensorArchive): ResNetModel {
  return isFolded(archive) ? loadFoldedResNet(archive) : loadResNet(archive);
}

function isFolded(archive: TensorArchive): boolean {
  const names = new Set([...archive.tensors.keys()].map(stripPrefix));
  return names.has('conv1.bias') && !names.has('bn1.weight');
}

/**
 * A state dict `convert --fold-bn` wrote: `<conv>.weight` and `<conv>.bias` for every conv, BatchNorm
 * folded in, and `fc.*` as in torchvision. Checked like loadResNet's input, every problem in one error.
 */
export function loadFoldedResNet(archive: TensorArchive): ResNetModel {
  const tensors = new Map<string, TensorEntry>();
  for (const [name, entry] of archive.tensors) tensors.set(stripPrefix(name), entry);
  if (tensors.size !== archive.tensors.size) throw new WeightsError(`${archive.source}: two tensors have the same name once prefixes are removed`);
  const spec = inferSpec(tensors);
  const graph = buildGraph(spec);
  const convs = [graph.stem, ...graph.blocks.flatMap((b) => [b.reduce, b.spatial, b.expand, ...(b.shortcut ? [b.shortcut] : [])])];
  const expected = new Map<string, readonly number[]>();
  for (const c of convs) {
    expected.set(`${c.conv}.weight`, [c.outChannels, c.inChannels, c.kernel, c.kernel]);
    expected.set(`${c.conv}.bias`, [c.outChannels]);
  }
  if (spec.numClasses !== null) {
    expected.set('fc.weight', [spec.numClasses, graph.featureDim]);
    expected.set('fc.bias', [spec.numClasses]);
  }
  const problems = [
    ...[...expected.keys()].filter((name) => !tensors.has(name)).map((name) => `missing ${name}`),
    ...[...tensors.keys()].filter((name) => !expected.has(name)).map((name) => `unexpected ${name}`),
    ...[...expected].filter(([name, shape]) => tensors.has(name) && tensors.get(name)!.shape.join() !== shape.join())
      .map(([name, shape]) => `${name} is [${tensors.get(name)!.shape.join(', ')}], expected [${shape.join(', ')}]`),
  ];
  if (problems.length > 0) {
    const shown = problems.slice(0, 12).join('; ') + (problems.length > 12 ? `; … (${problems.length - 12} more)` : '');
    throw new WeightsError(`${archive.source}: not a BatchNorm-folded ResNet-50 state dict (${shown})`);
  }
  const values = (name: string) => tensors.get(name)!.toFloat32();
  const folded = (c: ConvSpec): FoldedConv => ({ ...c, weight: values(`${c.conv}.weight`), bias: values(`${c.conv}.bias`) });
  return {
    graph,
    stem: folded(graph.stem),
    blocks: graph.blocks.map((b) => ({
      name: b.name,
      reduce: folded(b.reduce),
      spatial: folded(b.spatial),
      expand: folded(b.expand),
      shortcut: b.shortcut ? folded(b.shortcut) : null,
    })),
    fc: spec.numClasses === null ? null : { inFeatures: graph.featureDim, outFeatures: spec.numClasses, weight: values('fc.weight'), bias: values('fc.bias') },
  };
}
