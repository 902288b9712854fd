// Tuning tables (src/kernels/webgpu/tune.ts) under Deno, in the same place and format as under Node
// (src/platform/node-tuning-cache.ts): one JSON file per adapter, precision and batch size in
// <cache>/tuning/<key>.json, <cache> being $RESNET50_CACHE, else $XDG_CACHE_HOME/resnet50-webgpu, else
// ~/.cache/resnet50-webgpu. Written atomically (temporary file, then rename). Deno needs
// --allow-env for the folder's name and --allow-read / --allow-write on it; without them there is no
// cached table to read (the built-in default is used) and `tuning: 'tune'` says which flag is missing.
import type { TuningStore } from '../kernels/webgpu/tune.ts';
import { jsonFileTuningStore } from './tuning-files.ts';

interface DenoFs {
  env: { get(name: string): string | undefined };
  readTextFile(path: string): Promise<string>;
  writeTextFile(path: string, text: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  mkdir(path: string, opts: { recursive: boolean }): Promise<void>;
  errors: { NotFound: ErrorConstructor; PermissionDenied: ErrorConstructor; NotCapable?: ErrorConstructor };
  pid: number;
}
declare const Deno: DenoFs;

const isPermissionError = (e: unknown) => e instanceof Deno.errors.PermissionDenied || (Deno.errors.NotCapable !== undefined && e instanceof Deno.errors.NotCapable);

/** <cache>/tuning, or null when Deno may not read the environment (no --allow-env). */
export function denoTuningCacheDir(): string | null {
  try {
    const cache = Deno.env.get('RESNET50_CACHE');
    if (cache) return `${cache}/tuning`;
    const xdg = Deno.env.get('XDG_CACHE_HOME') || `${Deno.env.get('HOME') ?? Deno.env.get('USERPROFILE') ?? '.'}/.cache`;
    return `${xdg}/resnet50-webgpu/tuning`;
  } catch (e) {
    if (isPermissionError(e)) return null;
    throw e;
  }
}

export function denoTuningStore(dir: string | null = denoTuningCacheDir()): TuningStore | undefined {
  if (dir === null) return undefined;
  return jsonFileTuningStore(dir, {
    async read(path) {
      try {
        return await Deno.readTextFile(path);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound || isPermissionError(e)) return null;
        throw e;
      }
    },
    async write(path, table) {
      const temp = `${path}.${Deno.pid}.tmp`;
      try {
        await Deno.mkdir(dir, { recursive: true });
        await Deno.writeTextFile(temp, `${JSON.stringify(table)}\n`);
        await Deno.rename(temp, path);
      } catch (e) {
        if (isPermissionError(e)) throw new Error(`cannot save the tuning table in ${dir}: run Deno with --allow-read=${dir} --allow-write=${dir}`);
        throw e;
      }
    },
  });
}
