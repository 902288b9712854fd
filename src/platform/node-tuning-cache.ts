// Tuning tables (src/kernels/webgpu/tune.ts) under Node and Deno: one JSON file per adapter, precision
// and batch size in <cache>/tuning/<key>.json, <cache> being the weights cache's folder
// ($RESNET50_CACHE, default $XDG_CACHE_HOME/resnet50-webgpu, else ~/.cache/resnet50-webgpu).
// Written atomically (temporary file, then rename).
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TuningStore, TuningTable } from '../kernels/webgpu/engine.ts';
import { weightsCacheDir, writeJsonAtomic } from './node-weights-cache.ts';

export function tuningCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(weightsCacheDir(env), 'tuning');
}

export function nodeTuningStore(dir: string = tuningCacheDir()): TuningStore {
  return {
    where: dir,
    async load(key: string): Promise<unknown | null> {
      let text: string;
      try {
        text = await readFile(join(dir, `${key}.json`), 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw e;
      }
      try {
        return JSON.parse(text);
      } catch {
        throw new Error(`${join(dir, `${key}.json`)} is not JSON`);
      }
    },
    async save(key: string, table: TuningTable): Promise<void> {
      await mkdir(dir, { recursive: true });
      await writeJsonAtomic(join(dir, `${key}.json`), table);
    },
  };
}
