// Any supported weights file, from its bytes to a model. The format is told by the first bytes, not
// the file's name:
//   'PK\3\4'                                  a zip: torch.save's format since PyTorch 1.6, a TorchScript
//                                             archive (torch.jit.save), or NumPy's .npz (only .npy records;
//                                             np.savez_compressed's deflated ones through the async loaders)
//   PROTO, LONG1 0x1950a86a20f9469cfc6c       a pickle with torch's magic number: the legacy format
//   'ustar' at byte 257                       a tar: torch.save before PyTorch 0.4, not read
//   a u64 header length, then '{'             safetensors
import type { TensorArchive } from './archive.ts';
import { LEGACY_MAGIC, readTorchLegacy, readTorchZip } from './pth/index.ts';
import { loadResNet, stripPrefix, strippedTensors, type LoadResNetOptions } from './resnet.ts';
import { readSafetensors } from './safetensors.ts';
import { isClip, loadClip } from './clip.ts';
import { isBit, loadBit } from './bit.ts';
import { isNpz, npzArchive } from './npz.ts';
import { readZip } from '../formats/zip/zip.ts';
import { inflateEntries } from '../formats/zip/inflate.ts';
import { describeResNet } from '../nn/arch/resnet.ts';
import { ARCHS, type Arch, type Network } from '../nn/network.ts';
import type { Preset } from '../image/preprocess.ts';

const RESAVE = 're-save it with a recent PyTorch: torch.save(torch.load(old), new)';

/** LONG1's 10 little-endian bytes of the legacy magic number, after PROTO n. */
const LEGACY_PREFIX = [0x8a, 10, ...Array.from({ length: 10 }, (_, i) => Number((LEGACY_MAGIC >> BigInt(8 * i)) & 0xffn))];

const isZip = (b: Uint8Array) => b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;
const isLegacyTorch = (b: Uint8Array) => b[0] === 0x80 && LEGACY_PREFIX.every((byte, i) => b[2 + i] === byte);
const isTar = (b: Uint8Array) => new TextDecoder().decode(b.subarray(257, 262)) === 'ustar';
const isSafetensors = (b: Uint8Array) => b.length >= 9 && b[8] === 0x7b; // '{' after the u64 header length

/** The tensors of a weights file in any format above; errors name `source`. */
export function parseWeights(bytes: Uint8Array, source: string): TensorArchive {
  if (isZip(bytes)) {
    const entries = readZip(bytes, source);
    return isNpz(entries) ? npzArchive(entries, source) : readTorchZip(bytes, source);
  }
  if (isLegacyTorch(bytes)) return readTorchLegacy(bytes, source);
  if (isTar(bytes)) throw new Error(`${source}: a tar-format checkpoint (PyTorch 0.3 or older) is not supported; ${RESAVE}`);
  if (isSafetensors(bytes)) return readSafetensors(bytes, source);
  throw new Error(`${source}: neither a PyTorch checkpoint nor safetensors (unrecognised first bytes)`);
}

export interface LoadNetworkOptions extends LoadResNetOptions {
  /** The architecture, instead of telling it from the tensor names. */
  readonly arch?: Arch;
}

/** The architecture a state dict's names tell: CLIP's visual.*, BiT's resnet/…, else torchvision's. */
export function detectArch(names: Iterable<string>): Arch {
  const keys = new Map([...names].map((n) => [stripPrefix(n), null]));
  return isClip(keys) ? 'clip-rn50' : isBit(keys) ? 'bit-r50x1' : 'torchvision';
}

/** Each architecture's own preprocessing, the default for a file that is not one of the named weights. */
export const ARCH_PRESETS: Readonly<Record<Arch, Preset>> = { torchvision: 'torchvision', 'clip-rn50': 'clip', 'bit-r50x1': 'bit' };

export function checkArch(value: string, what: string): Arch {
  if (!(ARCHS as readonly string[]).includes(value)) throw new Error(`${what} must be one of ${ARCHS.join(', ')}, got '${value}'`);
  return value as Arch;
}

/** The tensors of a weights file as the network they describe (ResNet-50, CLIP RN50's image tower, BiT R50x1). */
export function loadNetwork(archive: TensorArchive, opts: LoadNetworkOptions = {}): Network {
  const arch = opts.arch ?? detectArch(archive.tensors.keys());
  if (arch === 'torchvision') return describeResNet(loadResNet(archive, opts));
  const tensors = strippedTensors(archive);
  return arch === 'clip-rn50' ? loadClip(tensors, archive.source, opts.onNotice) : loadBit(tensors, archive.source);
}

/** A network from a weights file's bytes (.pth, TorchScript, legacy torch.save, .npz or safetensors). */
export function loadWeights(bytes: Uint8Array, source: string, opts: LoadNetworkOptions = {}): Network {
  return loadNetwork(parseWeights(bytes, source), opts);
}

/** parseWeights, with an .npz's deflated records (np.savez_compressed) inflated first (DecompressionStream). */
export async function parseWeightsAsync(bytes: Uint8Array, source: string): Promise<TensorArchive> {
  if (isZip(bytes)) {
    const entries = readZip(bytes, source);
    if (isNpz(entries)) return npzArchive(await inflateEntries(entries, source), source);
  }
  return parseWeights(bytes, source);
}

/** loadWeights for any file parseWeightsAsync reads: what ResNet50.load and the CLI use. */
export async function loadWeightsAsync(bytes: Uint8Array, source: string, opts: LoadNetworkOptions = {}): Promise<Network> {
  return loadNetwork(await parseWeightsAsync(bytes, source), opts);
}
