// Tuning tables (src/kernels/webgpu/tune.ts) under Node: one JSON file per adapter, precision and
// batch size in <cache>/tuning/<key>.json, <cache> being the weights cache's folder ($RESNET50_CACHE,
// default $XDG_CACHE_HOME/resnet50-webgpu, else ~/.cache/resnet50-webgpu), as under Deno
// (deno-tuning-cache.ts). Written atomically (temporary file, then rename).
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { TuningStore } from '../kernels/webgpu/engine.ts';
import { jsonFileTuningStore } from './tuning-files.ts';
import { weightsCacheDir, writeJsonAtomic } from './node-weights-cache.ts';

export function tuningCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(weightsCacheDir(env), 'tuning');
}

export function nodeTuningStore(dir: string = tuningCacheDir()): TuningStore {
  return jsonFileTuningStore(dir, {
    async read(path) {
      try {
        return await readFile(path, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw e;
      }
    },
    async write(path, table) {
      await mkdir(dirname(path), { recursive: true });
      await writeJsonAtomic(path, table);
    },
  }, join);
}
