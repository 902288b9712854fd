// Incremental embedding of a folder: which rows of a previous run can be reused for the files found
// now. A file is identified by its path relative to the folder and counted unchanged when its size
// and modification time are those recorded.

/** A file as recorded: path relative to the embedded folder ('/'-separated), size in bytes, mtime in ms. */
export interface FileStamp {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

export interface ReusePlan {
  /** for each current file, the row of the previous run to reuse, or -1 when it must be embedded */
  readonly source: Int32Array;
  /** current files not in the previous run */
  readonly added: number;
  /** current files in the previous run with another size or mtime */
  readonly changed: number;
  /** current files reused as they are */
  readonly unchanged: number;
  /** previous files no longer present */
  readonly removed: number;
}

export const sameStamp = (a: FileStamp, b: FileStamp): boolean => a.path === b.path && a.size === b.size && a.mtimeMs === b.mtimeMs;

/** Match the current files against a previous run's (null: nothing to reuse). */
export function planReuse(previous: readonly FileStamp[] | null, current: readonly FileStamp[]): ReusePlan {
  const byPath = new Map<string, number>();
  previous?.forEach((f, i) => byPath.set(f.path, i));
  const source = new Int32Array(current.length).fill(-1);
  let added = 0;
  let changed = 0;
  let unchanged = 0;
  const present = new Set<string>();
  current.forEach((f, i) => {
    present.add(f.path);
    const j = byPath.get(f.path);
    if (j === undefined) added++;
    else if (!sameStamp(previous![j], f)) changed++;
    else {
      source[i] = j;
      unchanged++;
    }
  });
  const removed = previous ? previous.filter((f) => !present.has(f.path)).length : 0;
  return { source, added, changed, unchanged, removed };
}

/** Rows `rows` of a [*, dim] matrix, gathered into a new [rows.length, dim] matrix. */
export function gatherRows(data: Float32Array, dim: number, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * dim);
  for (let i = 0; i < rows.length; i++) out.set(data.subarray(rows[i] * dim, (rows[i] + 1) * dim), i * dim);
  return out;
}
