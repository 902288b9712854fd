// The weights named on the command line: a path, an http(s) URL or a name (torchvision-v1,
// torchvision-v2, msvision, clip-rn50, bit-m-r50x1), downloaded once into the cache with a progress
// bar on a terminal (src/platform/node-weights-cache.ts). Format detection lives in src/weights/load.ts.
import { SingleBar } from 'cli-progress';
import type { TensorArchive } from '../weights/archive.ts';
import { loadResNet } from '../weights/resnet.ts';
import { ARCH_PRESETS, checkArch, detectArch, loadNetwork, parseWeightsAsync } from '../weights/load.ts';
import { ARCHS, type Arch, type Network } from '../nn/network.ts';
import type { Preset } from '../image/preprocess.ts';
import { checkSha256, DEFAULT_WEIGHTS, NAMED_WEIGHTS, type NamedWeights } from '../weights/named.ts';
import type { ResNetModel } from '../nn/model.ts';
import { fetchWeights, isRemoteWeights, sha256File, type Progress } from '../platform/node-weights-cache.ts';
import { checkReadable, CliError, readBytes } from './files.ts';

export const WEIGHTS_HELP = `weights (--weights): a path (a PyTorch .pth/.pt/.tar state dict or checkpoint, a TorchScript archive
such as CLIP's RN50.pt, an .npz such as BiT's, or safetensors), an http(s) URL, or a name, downloaded
once into $RESNET50_CACHE (default ~/.cache/resnet50-webgpu) and verified: ${Object.values(NAMED_WEIGHTS).map((w) => `${w.name} (${w.description}; preset ${w.preset})`).join(', ')}.
Default: ${DEFAULT_WEIGHTS.classify} for classify, ${DEFAULT_WEIGHTS.embed} for embed, probe and index.
--sha256 HEX: the SHA-256 the file must have. RESNET50_OFFLINE=1: the cache only.
RESNET50_WEIGHTS_MIRROR=https://host/path: names are fetched from <mirror>/<file name>.
--arch ${ARCHS.join('|')}: the architecture, instead of telling it from the tensor
names. The default preset is the named weights', else the architecture's (torchvision, clip, bit).`;

export interface ResolvedWeights {
  /** A local file: the user's, or the verified copy in the cache. */
  readonly path: string;
  /** What the user named: the path, URL or name. */
  readonly source: string;
  readonly named: NamedWeights | null;
}

function progressBar(source: string, quiet: boolean): ((p: Progress) => void) | undefined {
  if (quiet || !process.stderr.isTTY) return undefined;
  let bar: SingleBar | null = null;
  const mib = (n: number) => (n / 2 ** 20).toFixed(1);
  return ({ loaded, total }) => {
    if (!bar) {
      bar = new SingleBar({ format: `downloading ${source} {bar} {percentage}% {done}/{size} MiB`, hideCursor: true, stream: process.stderr });
      bar.start(total ?? 0, 0, { done: '0', size: total === null ? '?' : mib(total) });
    }
    bar.update(loaded, { done: mib(loaded) });
    if (total !== null && loaded >= total) bar.stop();
  };
}

/** --weights (or the command's default name) → a local file, downloaded and verified when needed. */
export async function resolveWeights(
  value: string | undefined,
  use: keyof typeof DEFAULT_WEIGHTS,
  opts: { sha256?: string; quiet?: boolean } = {},
): Promise<ResolvedWeights> {
  const source = value ?? DEFAULT_WEIGHTS[use];
  let sha256: string | undefined;
  try {
    sha256 = opts.sha256 === undefined ? undefined : checkSha256(opts.sha256, '--sha256');
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  if (!isRemoteWeights(source)) {
    await checkReadable(source, 'weights');
    if (sha256) {
      const digest = await sha256File(source);
      if (digest !== sha256) throw new CliError(`${source}: SHA-256 ${digest}, expected ${sha256} (--sha256)`);
    }
    return { path: source, source, named: null };
  }
  try {
    const cached = await fetchWeights(source, { sha256, onProgress: progressBar(source, opts.quiet === true) });
    return { path: cached.path, source, named: cached.named };
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

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
  try {
    return await parseWeightsAsync(bytes, path);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

/** Keys beyond ResNet-50 are dropped (with a notice on stderr) for named weights that have them. */
export function loadResNetArchive(archive: TensorArchive, weights: Pick<ResolvedWeights, 'named'>): ResNetModel {
  const onNotice = (message: string) => process.stderr.write(`resnet50: ${message}\n`);
  return asCliError(() => loadResNet(archive, { ignoreExtraKeys: weights.named?.ignoreExtraKeys, onNotice }));
}

/** --arch, checked; undefined when not given. */
export function parseArch(value: string | undefined): Arch | undefined {
  return value === undefined ? undefined : asCliError(() => checkArch(value, '--arch'));
}

/** The architecture of a weights file: --arch, else told from its tensor names. */
export function archiveArch(archive: TensorArchive, arch: Arch | undefined): Arch {
  return arch ?? detectArch(archive.tensors.keys());
}

/** The preset images get when --preset names none: the named weights', else the architecture's. */
export function defaultPreset(weights: Pick<ResolvedWeights, 'named'>, arch: Arch): Preset {
  return weights.named?.preset ?? ARCH_PRESETS[arch];
}

/** The network a weights file describes (ResNet-50, CLIP RN50's image tower or BiT R50x1), as `arch`. */
export function loadNetworkArchive(archive: TensorArchive, weights: Pick<ResolvedWeights, 'named'>, arch: Arch): Network {
  const onNotice = (message: string) => process.stderr.write(`resnet50: ${message}\n`);
  return asCliError(() => loadNetwork(archive, { ignoreExtraKeys: weights.named?.ignoreExtraKeys, onNotice, arch }));
}
