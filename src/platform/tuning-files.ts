// A tuning-table store (src/kernels/webgpu/tune.ts) as one JSON file per table key in a folder, over
// the runtime's own file calls: src/platform/node-tuning-cache.ts (Node) and deno-tuning-cache.ts (Deno).
import type { TuningStore, TuningTable } from '../kernels/webgpu/tune.ts';

export interface JsonFiles {
  /** The file's text, or null when there is none to read. */
  read(path: string): Promise<string | null>;
  /** Writes `value` as JSON to `path` atomically (temporary file, then rename), creating the folder. */
  write(path: string, value: TuningTable): Promise<void>;
}

export function jsonFileTuningStore(dir: string, files: JsonFiles, join = (d: string, f: string) => `${d}/${f}`): TuningStore {
  const file = (key: string) => join(dir, `${key}.json`);
  return {
    where: dir,
    async load(key: string): Promise<unknown | null> {
      const text = await files.read(file(key));
      if (text === null) return null;
      try {
        return JSON.parse(text);
      } catch {
        throw new Error(`${file(key)} is not JSON`);
      }
    },
    save: (key: string, table: TuningTable) => files.write(file(key), table),
  };
}
