// Weights by name or URL under Node (and the CLI): downloaded once into a cache folder, verified,
// reused. Layout under $RESNET50_CACHE (default $XDG_CACHE_HOME/resnet50-webgpu, else
// ~/.cache/resnet50-webgpu):
//   <file>                     a complete, verified download (a name's file name, e.g.
//                              resnet50-11ad3fa6.pth; a URL's under urls/<sha256(url)[:16]>/)
//   <file>.verified.json       { url, sha256, size, mtimeMs } as of its last verification
//   <file>.part, .part.json    a download in progress: resumed with HTTP Range (If-Range on the ETag
//                              or Last-Modified recorded) after a dropped connection, in this run or
//                              the next; renamed to <file> only when complete and verified
// A cached file whose size or mtime differs from its record is hashed again before use; if it no
// longer verifies it is fetched again, or refused (naming it) when it cannot be.
// RESNET50_OFFLINE=1: the cache only. RESNET50_WEIGHTS_MIRROR=https://host/path: names are fetched
// from <mirror>/<file name> instead of their official hosts.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { downloadUrl, hashMismatch, isHttpUrl, namedWeights, type ExpectedHash, type NamedWeights } from '../weights/named.ts';

export interface Progress {
  readonly loaded: number;
  /** null when the server announced no length. */
  readonly total: number | null;
}

export interface FetchWeightsOptions {
  /** The SHA-256 the file must have (a URL's is otherwise recorded on its first download). */
  readonly sha256?: string;
  readonly onProgress?: (p: Progress) => void;
  /** Defaults from the environment: RESNET50_CACHE, RESNET50_OFFLINE, RESNET50_WEIGHTS_MIRROR. */
  readonly cacheDir?: string;
  readonly offline?: boolean;
  readonly mirror?: string;
}

export interface CachedWeights {
  /** The verified file in the cache. */
  readonly path: string;
  readonly sha256: string;
  /** The name's entry, when the source was a name. */
  readonly named: NamedWeights | null;
}

export class WeightsDownloadError extends Error {
  override name = 'WeightsDownloadError';
}

export function weightsCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RESNET50_CACHE) return env.RESNET50_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'resnet50-webgpu');
}

/** A source that is fetched (a name or an http(s) URL) rather than read as a path. */
export function isRemoteWeights(source: string): boolean {
  return namedWeights(source) !== null || isHttpUrl(source);
}

interface Record_ {
  readonly url: string;
  readonly sha256: string;
  readonly size: number;
  readonly mtimeMs: number;
}

async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** Writes JSON through a temporary file and a rename: the file is never half-written. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(value) + '\n');
  await rename(tmp, path);
}

async function statOrNull(path: string) {
  return stat(path).catch(() => null);
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A name or URL → a verified file in the cache, downloading it when needed. */
export async function fetchWeights(source: string, opts: FetchWeightsOptions = {}): Promise<CachedWeights> {
  const env = process.env;
  const named = namedWeights(source);
  if (!named && !isHttpUrl(source)) throw new WeightsDownloadError(`${source}: not a weights name or an http(s) URL`);
  const cacheDir = opts.cacheDir ?? weightsCacheDir(env);
  const offline = opts.offline ?? env.RESNET50_OFFLINE === '1';
  const mirror = opts.mirror ?? (env.RESNET50_WEIGHTS_MIRROR || undefined);
  const url = named ? downloadUrl(named, mirror) : source;
  const file = named
    ? join(cacheDir, named.fileName)
    : join(cacheDir, 'urls', createHash('sha256').update(source).digest('hex').slice(0, 16), safeName(source));
  const record = `${file}.verified.json`;
  const expected: ExpectedHash = opts.sha256 ? { sha256: opts.sha256 } : { sha256: named?.sha256, sha256Prefix: named?.sha256Prefix };

  const cached = await statOrNull(file);
  let stale: string | null = null;
  if (cached) {
    const rec = await readJson<Record_>(record);
    if (rec && rec.size === cached.size && rec.mtimeMs === cached.mtimeMs && !hashMismatch(rec.sha256, expected)) {
      return { path: file, sha256: rec.sha256, named };
    }
    // Changed on disk since it was verified (or never recorded): verify it again.
    const digest = await sha256File(file);
    const want: ExpectedHash = expected.sha256 || expected.sha256Prefix ? expected : { sha256: rec?.sha256 };
    stale = want.sha256 || want.sha256Prefix ? hashMismatch(digest, want) : 'no verification record';
    if (!stale) {
      const now = await stat(file);
      await writeJsonAtomic(record, { url, sha256: digest, size: now.size, mtimeMs: now.mtimeMs } satisfies Record_);
      return { path: file, sha256: digest, named };
    }
  }
  const refuse = (why: string) =>
    new WeightsDownloadError(`${file}: cached weights changed on disk since they were verified (${stale}), and ${why}; delete the file to fetch it again`);
  if (offline) {
    if (stale) throw refuse('RESNET50_OFFLINE=1 forbids fetching it again');
    throw new WeightsDownloadError(`${source}: not in the weights cache (${file}) and RESNET50_OFFLINE=1 forbids downloading it`);
  }
  await mkdir(dirname(file), { recursive: true });
  let digest: string;
  try {
    digest = await download(url, `${file}.part`, expected, opts.onProgress);
  } catch (e) {
    if (stale) throw refuse(`fetching it again failed: ${(e as Error).message}`);
    throw e;
  }
  const part = await stat(`${file}.part`);
  // The record first: a crash before the rename leaves no complete-looking file without one.
  await writeJsonAtomic(record, { url, sha256: digest, size: part.size, mtimeMs: part.mtimeMs } satisfies Record_);
  await rename(`${file}.part`, file);
  await rm(`${file}.part.json`, { force: true });
  return { path: file, sha256: digest, named };
}

function safeName(url: string): string {
  const name = basename(new URL(url).pathname);
  return name.replace(/[^A-Za-z0-9._-]/g, '_') || 'weights';
}

interface PartMeta {
  readonly url: string;
  readonly validator: string | null;
  readonly total: number | null;
}

const MAX_REDIRECTS = 5;
const MAX_TRIES = 4; // the first request and three resumes after dropped connections
const IDLE_TIMEOUT_MS = Number(process.env.RESNET50_DOWNLOAD_TIMEOUT_MS) || 60_000;

function networkError(url: string, e: unknown): WeightsDownloadError {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (e as Error).message;
  return new WeightsDownloadError(`cannot download ${url}: ${why}`);
}

/** GET with redirects followed by hand (at most 5; never from https to http). */
async function get(url: string, headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
  let at = url;
  for (let hop = 0; ; hop++) {
    let res: Response;
    try {
      res = await fetch(at, { headers, redirect: 'manual', signal });
    } catch (e) {
      throw networkError(at, e);
    }
    if (res.status < 300 || res.status >= 400 || res.status === 304) return res;
    await res.body?.cancel();
    const location = res.headers.get('location');
    if (!location) throw new WeightsDownloadError(`${at}: HTTP ${res.status} redirect without a Location`);
    const next = new URL(location, at);
    if (new URL(at).protocol === 'https:' && next.protocol !== 'https:') {
      throw new WeightsDownloadError(`${at}: refused a redirect from https to ${next.protocol}// (${next.href})`);
    }
    if (next.protocol !== 'https:' && next.protocol !== 'http:') throw new WeightsDownloadError(`${at}: refused a redirect to ${next.href}`);
    if (hop + 1 >= MAX_REDIRECTS) throw new WeightsDownloadError(`${url}: more than ${MAX_REDIRECTS} redirects`);
    at = next.href;
  }
}

/** Downloads `url` into `part` (resuming what it holds), verifies it, returns its SHA-256. */
async function download(url: string, part: string, expected: ExpectedHash, onProgress?: (p: Progress) => void): Promise<string> {
  const metaPath = `${part}.json`;
  const meta = await readJson<PartMeta>(metaPath);
  const existing = await statOrNull(part);
  let hash = createHash('sha256');
  let offset = 0;
  let validator: string | null = null;
  let total: number | null = null;
  if (existing && meta && meta.url === url && meta.validator) {
    for await (const chunk of createReadStream(part)) hash.update(chunk as Buffer);
    offset = existing.size;
    validator = meta.validator;
    total = meta.total;
  } else {
    await rm(part, { force: true });
  }
  const out = await open(part, offset > 0 ? 'a' : 'w');
  try {
    for (let tries = 1; ; tries++) {
      if (total !== null && offset === total) break;
      const controller = new AbortController();
      let timer = setTimeout(() => controller.abort(), IDLE_TIMEOUT_MS);
      try {
        const headers: Record<string, string> = offset > 0 && validator ? { range: `bytes=${offset}-`, 'if-range': validator } : {};
        const res = await get(url, headers, controller.signal);
        if (res.status === 206) {
          const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
          if (!range || Number(range[1]) !== offset) throw new WeightsDownloadError(`${url}: the server resumed at the wrong offset (${res.headers.get('content-range')})`);
          if (range[2] !== '*') total = Number(range[2]);
        } else if (res.status === 200) {
          if (offset > 0) {
            // The server ignored the range (or the file changed there): start again.
            await out.truncate(0);
            offset = 0;
            hash = createHash('sha256');
          }
          const length = res.headers.get('content-length');
          total = length === null ? null : Number(length);
        } else {
          await res.body?.cancel();
          throw new WeightsDownloadError(`${url}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
        }
        validator = res.headers.get('etag') ?? res.headers.get('last-modified');
        await writeJsonAtomic(metaPath, { url, validator, total } satisfies PartMeta);
        onProgress?.({ loaded: offset, total });
        const reader = res.body!.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          clearTimeout(timer);
          timer = setTimeout(() => controller.abort(), IDLE_TIMEOUT_MS);
          await out.write(value);
          hash.update(value);
          offset += value.length;
          onProgress?.({ loaded: offset, total });
        }
        if (total === null) total = offset;
      } catch (e) {
        if (e instanceof WeightsDownloadError && !/^cannot download/.test(e.message)) throw e;
        // A dropped connection (or a stall): resume from what arrived, a bounded number of times.
        if (tries >= MAX_TRIES) {
          if (total !== null) throw new WeightsDownloadError(`${url}: connection closed after ${offset} of ${total} bytes (${MAX_TRIES} tries)`);
          throw e instanceof WeightsDownloadError ? e : networkError(url, e);
        }
      } finally {
        clearTimeout(timer);
      }
      if (total !== null && offset === total) break;
      if (total !== null && offset > total) throw new WeightsDownloadError(`${url}: received ${offset} bytes, more than the ${total} announced`);
      if (tries >= MAX_TRIES) throw new WeightsDownloadError(`${url}: connection closed after ${offset} of ${total} bytes (${MAX_TRIES} tries)`);
    }
  } finally {
    await out.close();
  }
  const digest = hash.digest('hex');
  const mismatch = hashMismatch(digest, expected);
  if (mismatch) {
    await rm(part, { force: true });
    await rm(metaPath, { force: true });
    throw new WeightsDownloadError(`${url}: the download does not verify (${mismatch}); nothing was cached`);
  }
  return digest;
}
