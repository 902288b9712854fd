// Loading a weights file named on the command line. The format is told by the file's first bytes,
// not its name: safetensors starts with a little-endian u64 header length and then '{'.
import { readSafetensors } from '../weights/safetensors.ts';
import { loadResNet } from '../weights/resnet.ts';
import type { ResNetModel } from '../nn/model.ts';
import { CliError, readBytes } from './files.ts';

export const NO_WEIGHTS_HELP = `no weights given: pass --weights <file.safetensors>.
  torchvision ResNet-50 (ImageNet classifier), in Python:
    import torch, torchvision; from safetensors.torch import save_file
    m = torchvision.models.resnet50(weights="IMAGENET1K_V2")   # or IMAGENET1K_V1
    save_file(m.state_dict(), "resnet50.safetensors")
  Microsoft Vision Model ResNet-50 (2048-d embeddings; pip install microsoftvision):
    import microsoftvision; from safetensors.torch import save_file
    m = microsoftvision.models.resnet50(pretrained=True)
    save_file(m.state_dict(), "msvision-resnet50.safetensors")`;

function isSafetensors(bytes: Uint8Array): boolean {
  return bytes.length >= 9 && bytes[8] === 0x7b; // '{' right after the 8-byte header length
}

function isZip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

export async function loadWeightsFile(path: string): Promise<ResNetModel> {
  const bytes = await readBytes(path, 'weights');
  if (isZip(bytes)) {
    throw new CliError(`${path}: this is a PyTorch checkpoint (zip); convert it to safetensors first (see --help)`);
  }
  if (!isSafetensors(bytes)) throw new CliError(`${path}: not a safetensors file (unrecognised header)`);
  try {
    return loadResNet(readSafetensors(bytes, path));
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}
