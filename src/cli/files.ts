// File access for the CLI (Node only): reading with errors that name the file, atomic writes.
import { constants } from 'node:fs';
import { access, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { readWholeFile } from '../platform/node-files.ts';

export class CliError extends Error {
  override name = 'CliError';
}

function readError(e: unknown, path: string, what: string): CliError {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
  return new CliError(`cannot read ${what} ${path}: ${why}`);
}

export async function readBytes(path: string, what: string): Promise<Uint8Array> {
  try {
    return await readWholeFile(path);
  } catch (e) {
    throw readError(e, path, what);
  }
}

/** Fails as readBytes would for a missing or unreadable file or a folder, without reading it. */
export async function checkReadable(path: string, what: string): Promise<void> {
  try {
    await access(path, constants.R_OK);
    if ((await stat(path)).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
  } catch (e) {
    throw readError(e, path, what);
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
