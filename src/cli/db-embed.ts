// Embedding image files into the LanceDB store, a chunk at a time (the rows of one chunk in memory,
// written before the next is embedded): shared by `resnet50 index --db` in one process and by the
// queue's workers. A file that cannot be read fails only itself: its reason is returned, and a row
// it had from an earlier run is deleted (it no longer describes the file).
import type { Preset } from '../image/preprocess.ts';
import { l2Normalize, type FileStamp } from '../search/index.ts';
import type { LanceStore } from './lance-store.ts';
import { embedFiles, type LazyModel } from './search.ts';

export interface FileToEmbed extends FileStamp {
  /** where to open it */
  readonly file: string;
}

export interface ImageFailure {
  /** the path relative to the indexed folder */
  readonly path: string;
  readonly reason: string;
}

export interface EmbedIntoStoreOptions {
  readonly model: LazyModel;
  readonly preset: Preset;
  readonly batch: number;
  /** files per write */
  readonly chunk: number;
  /** called after each chunk is written, with the files done so far and the failures among them */
  readonly onChunk?: (done: number, failed: number) => Promise<void> | void;
}

export async function embedIntoStore(store: LanceStore, files: readonly FileToEmbed[], o: EmbedIntoStoreOptions): Promise<{ embedded: number; failures: ImageFailure[] }> {
  const failures: ImageFailure[] = [];
  let embedded = 0;
  for (let start = 0; start < files.length; start += o.chunk) {
    const part = files.slice(start, start + o.chunk);
    const run = await embedFiles(part, { model: o.model, preset: o.preset, batch: o.batch, quiet: true, command: 'resnet50 index', silentFailures: true });
    const rows = part.flatMap((f, i) => {
      const raw = run.rows[i];
      return raw ? [{ path: f.path, size: f.size, mtimeMs: f.mtimeMs, vector: l2Normalize(raw, 1, raw.length) }] : [];
    });
    await store.upsert(rows);
    const byFile = new Map(part.map((f) => [f.file, f.path]));
    const failed = run.failures.map((x) => ({ path: byFile.get(x.path) ?? x.path, reason: x.message }));
    await store.delete(failed.map((x) => x.path));
    failures.push(...failed);
    embedded += run.embedded;
    await o.onChunk?.(start + part.length, failures.length);
  }
  return { embedded, failures };
}
