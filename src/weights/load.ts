// Any supported weights file, from its bytes to a model. The format is told by the first bytes, not
// the file's name:
//   'PK\3\4'                                  a zip: torch.save's format since PyTorch 1.6
//   PROTO, LONG1 0x1950a86a20f9469cfc6c       a pickle with torch's magic number: the legacy format
//   'ustar' at byte 257                       a tar: torch.save before PyTorch 0.4, not read
//   a u64 header length, then '{'             safetensors
import type { TensorArchive } from './archive.ts';
import { LEGACY_MAGIC, readTorchLegacy, readTorchZip } from './pth/index.ts';
import { loadResNet, type LoadResNetOptions } from './resnet.ts';
import { readSafetensors } from './safetensors.ts';
import type { ResNetModel } from '../nn/model.ts';

const RESAVE = 're-save it with a recent PyTorch: torch.save(torch.load(old), new)';

/** LONG1's 10 little-endian bytes of the legacy magic number, after PROTO n. */
const LEGACY_PREFIX = [0x8a, 10, ...Array.from({ length: 10 }, (_, i) => Number((LEGACY_MAGIC >> BigInt(8 * i)) & 0xffn))];

const isZip = (b: Uint8Array) => b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;
const isLegacyTorch = (b: Uint8Array) => b[0] === 0x80 && LEGACY_PREFIX.every((byte, i) => b[2 + i] === byte);
const isTar = (b: Uint8Array) => new TextDecoder().decode(b.subarray(257, 262)) === 'ustar';
const isSafetensors = (b: Uint8Array) => b.length >= 9 && b[8] === 0x7b; // '{' after the u64 header length

/** The tensors of a weights file in any format above; errors name `source`. */
export function parseWeights(bytes: Uint8Array, source: string): TensorArchive {
  if (isZip(bytes)) return readTorchZip(bytes, source);
  if (isLegacyTorch(bytes)) return readTorchLegacy(bytes, source);
  if (isTar(bytes)) throw new Error(`${source}: a tar-format checkpoint (PyTorch 0.3 or older) is not supported; ${RESAVE}`);
  if (isSafetensors(bytes)) return readSafetensors(bytes, source);
  throw new Error(`${source}: neither a PyTorch checkpoint nor safetensors (unrecognised first bytes)`);
}

/** A ResNet-50 from a weights file's bytes (.pth, legacy torch.save, or safetensors; folded or not). */
export function loadWeights(bytes: Uint8Array, source: string, opts: LoadResNetOptions = {}): ResNetModel {
  return loadResNet(parseWeights(bytes, source), opts);
}
