// Weights by name or URL in browsers and Deno: fetched once, verified with SHA-256, kept in the Cache
// API (cache 'resnet50-webgpu-weights', keyed by the official URL for names). A cached response
// carries the digest it was verified with and is hashed again on every use, so a damaged entry is
// fetched again. Where the Cache API is missing, the file is fetched and verified each time.
import { downloadUrl, hashMismatch, isHttpUrl, namedWeights, type ExpectedHash, type NamedWeights } from './named.ts';

export interface WebFetchOptions {
  readonly sha256?: string;
  readonly onProgress?: (p: { loaded: number; total: number | null }) => void;
  /** Fetch names from <mirror>/<file name> instead of their official hosts. */
  readonly mirror?: string;
}

const CACHE = 'resnet50-webgpu-weights';
const DIGEST_HEADER = 'x-resnet50-sha256';

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function fetchBytes(url: string, onProgress?: WebFetchOptions['onProgress']): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`cannot download ${url}: ${(e as Error).message}`);
  }
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
  const length = res.headers.get('content-length');
  const total = length === null ? null : Number(length);
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  const reader = res.body!.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded += value.length;
      onProgress?.({ loaded, total });
    }
  } catch (e) {
    throw new Error(`${url}: connection closed after ${loaded}${total === null ? '' : ` of ${total}`} bytes (${(e as Error).message})`);
  }
  if (total !== null && loaded !== total) throw new Error(`${url}: connection closed after ${loaded} of ${total} bytes`);
  const bytes = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return bytes;
}

/** A name or http(s) URL → the file's verified bytes. */
export async function fetchWeightsWeb(source: string, opts: WebFetchOptions = {}): Promise<{ bytes: Uint8Array; sha256: string; named: NamedWeights | null }> {
  const named = namedWeights(source);
  if (!named && !isHttpUrl(source)) throw new Error(`${source}: not a weights name or an http(s) URL`);
  const url = named ? downloadUrl(named, opts.mirror) : source;
  const key = named ? named.url : source;
  const expected: ExpectedHash = opts.sha256 ? { sha256: opts.sha256 } : { sha256: named?.sha256, sha256Prefix: named?.sha256Prefix };
  const cache = typeof caches === 'undefined' ? null : await caches.open(CACHE);
  const hit = await cache?.match(key);
  if (hit) {
    const bytes = new Uint8Array(await hit.arrayBuffer());
    const digest = await sha256Hex(bytes);
    if (digest === hit.headers.get(DIGEST_HEADER) && !hashMismatch(digest, expected)) return { bytes, sha256: digest, named };
    await cache!.delete(key);
  }
  const bytes = await fetchBytes(url, opts.onProgress);
  const digest = await sha256Hex(bytes);
  const mismatch = hashMismatch(digest, expected);
  if (mismatch) throw new Error(`${url}: the download does not verify (${mismatch}); nothing was cached`);
  await cache?.put(key, new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { [DIGEST_HEADER]: digest, 'content-length': String(bytes.length) } }));
  return { bytes, sha256: digest, named };
}
