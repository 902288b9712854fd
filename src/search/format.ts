// The files the CLI keeps embeddings in, both safetensors (readable by any safetensors library:
// `safetensors.numpy.load_file` gives the tensors, `safe_open(...).metadata()` the metadata):
//
// Search index (`resnet50 index … --out <index>`):
//   embeddings     F32 [N, D]: one L2-normalised embedding per image, row i ↔ files[i]
//   __metadata__   all values are strings:
//     format          "resnet50-search-index"
//     version         "1"
//     files           JSON list, one per row: {"path": "cats/001.jpg", "size": bytes, "mtime_ms": ms}
//                     path relative to the indexed folder, '/'-separated; size and mtime tell a later
//                     `index` run which files changed
//     root            the indexed folder, relative to the folder holding the index file ("." if the same)
//     weights_sha256  SHA-256 (hex) of the weights file's bytes
//     weights_path    the weights file, relative to the folder holding the index file
//     preset          "torchvision" | "msvision" | "clip" | "bit"
//     precision       "f32" | "f16"
//     device          the device that computed the latest embeddings ("cpu", "webgpu"): informative
//
// Feature cache of an image folder (`resnet50 probe --train <dir> …`, in <dir>/.resnet50-cache/):
//   features       F32 [N, D]: pooled features as the model gives them (not normalised)
//   labels         I64 [N]: class index of each row (into `classes`)
//   __metadata__   format "resnet50-feature-cache", version "1", files (as above, paths relative to
//                  <dir>, the first component being the class folder), classes (JSON list of class
//                  folder names, sorted), weights_sha256, preset, precision, device
import { readSafetensors, writeSafetensors } from '../weights/safetensors.ts';
import type { FileStamp } from './store.ts';

export const INDEX_FORMAT = 'resnet50-search-index';
export const CACHE_FORMAT = 'resnet50-feature-cache';
const VERSION = '1';

/** What the embeddings were computed with: different settings give different embeddings. */
export interface EmbeddingSettings {
  /** SHA-256 (lowercase hex) of the weights file */
  readonly weightsSha256: string;
  readonly preset: string;
  readonly precision: string;
}

export interface SearchIndex extends EmbeddingSettings {
  /** [files.length, dim], rows L2-normalised */
  readonly embeddings: Float32Array;
  readonly dim: number;
  readonly files: readonly FileStamp[];
  /** the indexed folder, relative to the index file's folder */
  readonly root: string;
  /** the weights file, relative to the index file's folder */
  readonly weightsPath: string;
  readonly device: string;
}

export interface FeatureCache extends EmbeddingSettings {
  /** [files.length, dim] */
  readonly features: Float32Array;
  readonly dim: number;
  readonly files: readonly FileStamp[];
  /** class index of each row */
  readonly labels: readonly number[];
  readonly classes: readonly string[];
  readonly device: string;
}

const filesJson = (files: readonly FileStamp[]) => JSON.stringify(files.map((f) => ({ path: f.path, size: f.size, mtime_ms: f.mtimeMs })));

function checkRows(data: Float32Array, dim: number, files: readonly FileStamp[], what: string): void {
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`${what}: dim must be a positive integer, got ${dim}`);
  if (data.length !== files.length * dim) throw new Error(`${what}: ${files.length} files × ${dim} needs ${files.length * dim} values, got ${data.length}`);
}

export function encodeSearchIndex(ix: SearchIndex): Uint8Array {
  checkRows(ix.embeddings, ix.dim, ix.files, 'encodeSearchIndex');
  return writeSafetensors([{ name: 'embeddings', dtype: 'F32', shape: [ix.files.length, ix.dim], data: ix.embeddings }], {
    format: INDEX_FORMAT,
    version: VERSION,
    files: filesJson(ix.files),
    root: ix.root,
    weights_sha256: ix.weightsSha256,
    weights_path: ix.weightsPath,
    preset: ix.preset,
    precision: ix.precision,
    device: ix.device,
  });
}

export function encodeFeatureCache(c: FeatureCache): Uint8Array {
  checkRows(c.features, c.dim, c.files, 'encodeFeatureCache');
  if (c.labels.length !== c.files.length) throw new Error(`encodeFeatureCache: ${c.files.length} files but ${c.labels.length} labels`);
  return writeSafetensors(
    [
      { name: 'features', dtype: 'F32', shape: [c.files.length, c.dim], data: c.features },
      { name: 'labels', dtype: 'I64', shape: [c.labels.length], data: BigInt64Array.from(c.labels, (l) => BigInt(l)) },
    ],
    {
      format: CACHE_FORMAT,
      version: VERSION,
      files: filesJson(c.files),
      classes: JSON.stringify(c.classes),
      weights_sha256: c.weightsSha256,
      preset: c.preset,
      precision: c.precision,
      device: c.device,
    },
  );
}

/** Thrown when a file is valid safetensors but not of the expected kind (callers may treat it differently). */
export class NotThisFormatError extends Error {
  override name = 'NotThisFormatError';
}

function parse(bytes: Uint8Array, source: string, format: string, what: string) {
  let archive;
  try {
    archive = readSafetensors(bytes, source);
  } catch (e) {
    throw new NotThisFormatError(`${(e as Error).message} (not a ${what})`);
  }
  const meta = archive.metadata;
  if (meta.format !== format) {
    throw new NotThisFormatError(`${source}: not a ${what} (its metadata has no "format": "${format}")`);
  }
  const invalid = (why: string) => new Error(`${source}: invalid ${what}: ${why}`);
  if (meta.version !== VERSION) throw invalid(`version ${JSON.stringify(meta.version)} is not supported (this program reads version ${VERSION})`);
  const text = (key: string): string => {
    const v = meta[key];
    if (typeof v !== 'string') throw invalid(`metadata has no "${key}"`);
    return v;
  };
  const json = (key: string): unknown => {
    try {
      return JSON.parse(text(key));
    } catch (e) {
      if (e instanceof SyntaxError) throw invalid(`metadata "${key}" is not valid JSON`);
      throw e;
    }
  };
  const rawFiles = json('files');
  if (!Array.isArray(rawFiles)) throw invalid('metadata "files" is not a list');
  const files: FileStamp[] = rawFiles.map((f: unknown, i) => {
    const o = f as { path?: unknown; size?: unknown; mtime_ms?: unknown } | null;
    if (typeof o !== 'object' || o === null || typeof o.path !== 'string' || typeof o.size !== 'number' || typeof o.mtime_ms !== 'number') {
      throw invalid(`files[${i}] is not {"path": string, "size": number, "mtime_ms": number}`);
    }
    return { path: o.path, size: o.size, mtimeMs: o.mtime_ms };
  });
  const sha = text('weights_sha256');
  if (!/^[0-9a-f]{64}$/.test(sha)) throw invalid('weights_sha256 is not a SHA-256 in hex');
  const matrix = (name: string): { data: Float32Array; dim: number } => {
    const t = archive.tensors.get(name);
    if (!t) throw invalid(`no '${name}' tensor`);
    if (t.dtype !== 'F32' || t.shape.length !== 2) throw invalid(`'${name}' must be F32 [N, D], got ${t.dtype} [${t.shape.join(', ')}]`);
    if (t.shape[0] !== files.length) throw invalid(`'${name}' has ${t.shape[0]} rows but "files" lists ${files.length}`);
    if (t.shape[1] < 1) throw invalid(`'${name}' has no columns`);
    return { data: t.toFloat32(), dim: t.shape[1] };
  };
  return { meta, text, json, files, sha, matrix, invalid, archive };
}

/** Read a search index; throws NotThisFormatError when the bytes are not one (e.g. a weights file). */
export function decodeSearchIndex(bytes: Uint8Array, source: string): SearchIndex {
  const p = parse(bytes, source, INDEX_FORMAT, 'resnet50 search index');
  const { data, dim } = p.matrix('embeddings');
  return {
    embeddings: data,
    dim,
    files: p.files,
    root: p.text('root'),
    weightsSha256: p.sha,
    weightsPath: p.text('weights_path'),
    preset: p.text('preset'),
    precision: p.text('precision'),
    device: p.meta.device ?? '',
  };
}

/** Read a feature cache; throws NotThisFormatError when the bytes are not one. */
export function decodeFeatureCache(bytes: Uint8Array, source: string): FeatureCache {
  const p = parse(bytes, source, CACHE_FORMAT, 'resnet50 feature cache');
  const { data, dim } = p.matrix('features');
  const classes = p.json('classes');
  if (!Array.isArray(classes) || !classes.every((c) => typeof c === 'string')) throw p.invalid('metadata "classes" is not a list of names');
  const t = p.archive.tensors.get('labels');
  if (!t || t.dtype !== 'I64' || t.shape.length !== 1 || t.shape[0] !== p.files.length) throw p.invalid(`'labels' must be I64 [${p.files.length}]`);
  const raw = t.bytes();
  const copy = new Uint8Array(raw); // aligned copy
  const labels = Array.from(new BigInt64Array(copy.buffer, 0, p.files.length), Number);
  return {
    features: data,
    dim,
    files: p.files,
    labels,
    classes: classes as string[],
    weightsSha256: p.sha,
    preset: p.text('preset'),
    precision: p.text('precision'),
    device: p.text('device'),
  };
}

export const sameSettings = (a: EmbeddingSettings, b: EmbeddingSettings): boolean =>
  a.weightsSha256 === b.weightsSha256 && a.preset === b.preset && a.precision === b.precision;
