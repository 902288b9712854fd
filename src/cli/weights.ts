// Loading the weights file named on the command line (format detection lives in src/weights/load.ts).
import type { TensorArchive } from '../weights/archive.ts';
import { loadResNet } from '../weights/resnet.ts';
import { parseWeights } from '../weights/load.ts';
import type { ResNetModel } from '../nn/model.ts';
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

/** Errors from the readers become one-line CLI errors (they already name the file). */
function asCliError<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

export async function readWeightsArchive(path: string): Promise<TensorArchive> {
  const bytes = await readBytes(path, 'weights');
  return asCliError(() => parseWeights(bytes, path));
}

export async function loadWeightsFile(path: string): Promise<ResNetModel> {
  const archive = await readWeightsArchive(path);
  return asCliError(() => loadResNet(archive));
}
