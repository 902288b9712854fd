// Deflated zip entries (method 8, as np.savez_compressed and most zip tools write them), inflated
// with the platform's DecompressionStream('deflate-raw') (browsers, Deno, Node ≥ 20): the size and
// CRC-32 the central directory declares are checked, so a damaged entry is an error naming it.
import { quote } from '../quote.ts';
import { crc32, type ZipEntry } from './zip.ts';

async function inflateRaw(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The entries with every deflated one inflated (stored ones unchanged); errors name `source` and the entry. */
export async function inflateEntries(entries: ReadonlyMap<string, ZipEntry>, source: string): Promise<Map<string, ZipEntry>> {
  const out = new Map<string, ZipEntry>();
  for (const [name, entry] of entries) {
    if (entry.method !== 8) {
      out.set(name, entry);
      continue;
    }
    const fail = (why: string) => new Error(`${source}: corrupt zip: entry ${quote(name)}: ${why}`);
    let data: Uint8Array;
    try {
      data = await inflateRaw(entry.raw);
    } catch (e) {
      throw fail(`its deflate stream does not inflate (${(e as Error).message})`);
    }
    if (data.length !== entry.size) throw fail(`inflates to ${data.length} bytes, its header says ${entry.size}`);
    if (crc32(data) !== entry.crc) throw fail('CRC-32 mismatch: its bytes are damaged');
    out.set(name, { ...entry, method: 0, raw: data, read: () => data });
  }
  return out;
}
