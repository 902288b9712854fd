// Reading files under Node for the library entry (src/node.ts) and the CLI.
import { open, readFile } from 'node:fs/promises';

/**
 * A whole file in as few reads as the OS allows. fs.promises.readFile reads in 512 KiB chunks, each a
 * round trip through the main thread, so a 100 MB weights file would stall while that thread is busy
 * setting up the GPU; one large read runs on libuv's thread pool from start to end.
 */
export async function readWholeFile(path: string): Promise<Uint8Array> {
  const file = await open(path, 'r');
  try {
    const stat = await file.stat();
    if (!stat.isFile()) return new Uint8Array(await readFile(file));
    const bytes = new Uint8Array(stat.size);
    for (let done = 0; done < bytes.length; ) {
      const { bytesRead } = await file.read(bytes, done, bytes.length - done, done);
      if (bytesRead === 0) throw new Error(`${path}: the file shrank while being read`);
      done += bytesRead;
    }
    return bytes;
  } finally {
    await file.close();
  }
}
