// File access for the CLI (Node only): reading with errors that name the file, atomic writes.
import { rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { readWholeFile } from '../platform/node-files.ts';

export class CliError extends Error {
  override name = 'CliError';
}

export async function readBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    return await readWholeFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw new CliError(`cannot read ${what} ${path}: ${why}`);
  }
}

/** Write via a temporary file in the same folder and a rename, so `path` is never half-written. */
export async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new CliError(`cannot write ${path}: ${(e as Error).message}`);
  }
}
