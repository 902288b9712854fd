// Pretrained weights by name: where each file is published, how it is verified, how its inputs are
// preprocessed. A weights source (ResNet50.load, --weights) is a name from this table, an http(s) URL
// or a path; names and URLs are downloaded once into a cache (src/platform/node-weights-cache.ts under
// Node, src/weights/web-cache.ts in browsers and Deno) and verified before use.
import type { Preset } from '../image/preprocess.ts';

export interface NamedWeights {
  readonly name: string;
  /** The official download address. */
  readonly url: string;
  /** The file's name in the cache (and under RESNET50_WEIGHTS_MIRROR). */
  readonly fileName: string;
  /** The file's full SHA-256, when published. */
  readonly sha256?: string;
  /** A SHA-256 prefix, checked as torch.hub checks the digits in torchvision's file names. */
  readonly sha256Prefix?: string;
  readonly preset: Preset;
  /** State-dict keys outside the backbone (task heads) are dropped with a notice instead of refused. */
  readonly ignoreExtraKeys: boolean;
  readonly description: string;
}

const named = (w: Omit<NamedWeights, 'fileName'>): NamedWeights => ({ ...w, fileName: w.url.slice(w.url.lastIndexOf('/') + 1) });

export const NAMED_WEIGHTS: Readonly<Record<string, NamedWeights>> = {
  'torchvision-v1': named({
    name: 'torchvision-v1',
    url: 'https://download.pytorch.org/models/resnet50-0676ba61.pth',
    sha256Prefix: '0676ba61',
    preset: 'torchvision',
    ignoreExtraKeys: false,
    description: "torchvision's IMAGENET1K_V1 ImageNet classifier (top-1 76.13)",
  }),
  'torchvision-v2': named({
    name: 'torchvision-v2',
    url: 'https://download.pytorch.org/models/resnet50-11ad3fa6.pth',
    sha256Prefix: '11ad3fa6',
    preset: 'torchvision',
    ignoreExtraKeys: false,
    description: "torchvision's IMAGENET1K_V2 ImageNet classifier (top-1 80.86)",
  }),
  msvision: named({
    name: 'msvision',
    url: 'https://argusvision.blob.core.windows.net/microsoftvision/MicrosoftVision.ResNet50.tar',
    preset: 'msvision',
    ignoreExtraKeys: true,
    description: 'the Microsoft Vision Model ResNet-50 (2048-d embeddings, no classifier)',
  }),
  'clip-rn50': named({
    name: 'clip-rn50',
    url: 'https://openaipublic.azureedge.net/clip/models/afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762/RN50.pt',
    sha256: 'afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762', // the folder name is the file's SHA-256
    preset: 'clip',
    ignoreExtraKeys: false,
    description: "OpenAI CLIP RN50's image tower (1024-d image embeddings, no classifier; the text tower is ignored)",
  }),
  'bit-m-r50x1': named({
    name: 'bit-m-r50x1',
    url: 'https://storage.googleapis.com/bit_models/BiT-M-R50x1.npz',
    preset: 'bit',
    ignoreExtraKeys: false,
    description: "Google's BiT-M R50x1, trained on ImageNet-21k (2048-d pre-logits, 21,843-class head)",
  }),
};

/** The defaults of the CLI's commands: classify with torchvision's best, embed with Microsoft Vision. */
export const DEFAULT_WEIGHTS = { classify: 'torchvision-v2', embed: 'msvision' } as const;

export function namedWeights(source: string): NamedWeights | null {
  return Object.hasOwn(NAMED_WEIGHTS, source) ? NAMED_WEIGHTS[source] : null;
}

export const isHttpUrl = (source: string): boolean => /^https?:\/\//i.test(source);

/** Where a name is fetched from: its official URL, or the same file name under a mirror. */
export function downloadUrl(w: NamedWeights, mirror?: string): string {
  return mirror ? `${mirror.replace(/\/+$/, '')}/${w.fileName}` : w.url;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** A user-given SHA-256 (--sha256, { sha256 }), lower-cased; a malformed one is refused. */
export function checkSha256(value: string, what: string): string {
  const hex = value.toLowerCase();
  if (!HEX64.test(hex)) throw new Error(`${what}: expected 64 hex digits, got '${value}'`);
  return hex;
}

/** What a downloaded file must hash to: a full digest, a prefix, or nothing known (recorded on first download). */
export interface ExpectedHash {
  readonly sha256?: string;
  readonly sha256Prefix?: string;
}

/** null when `digest` is acceptable, else why not. */
export function hashMismatch(digest: string, expected: ExpectedHash): string | null {
  if (expected.sha256 && digest !== expected.sha256) return `SHA-256 ${digest}, expected ${expected.sha256}`;
  if (expected.sha256Prefix && !digest.startsWith(expected.sha256Prefix)) {
    return `SHA-256 ${digest} does not start with ${expected.sha256Prefix}`;
  }
  return null;
}
