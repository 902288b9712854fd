// Redis URLs for the job queue (`--queue redis://[user:password@]host:port[/db]`, or rediss:// for
// TLS): parsed into ioredis options, shown with the password masked, and checked once up front so
// that an unreachable or refusing server is one clear error instead of endless reconnects.
import type { RedisOptions } from 'bullmq';
import { CliError } from './files.ts';

export interface RedisTarget {
  readonly options: RedisOptions;
  /** the URL with any password replaced by *** (what logs and errors show) */
  readonly shown: string;
  readonly password: string;
}

export function parseRedisUrl(value: string): RedisTarget {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliError(`--queue must be a redis:// or rediss:// URL, got '${value.replace(/:[^:@/]*@/, ':***@')}'`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new CliError(`--queue must be a redis:// or rediss:// URL, got ${url.protocol}//…`);
  const password = decodeURIComponent(url.password);
  const username = decodeURIComponent(url.username);
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new CliError(`--queue: the database number must be a non-negative integer, got '${url.pathname.slice(1)}'`);
  const options: RedisOptions = {
    host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: url.port ? Number(url.port) : 6379,
    db,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(url.protocol === 'rediss:' ? { tls: { servername: url.hostname } } : {}),
  };
  const auth = username || password ? `${username}${password ? ':***' : ''}@` : '';
  const shown = `${url.protocol}//${auth}${url.host}${db ? `/${db}` : ''}`;
  return { options, shown, password };
}

/** `message` with the password (if any) masked: Redis errors should never carry it, this makes sure. */
export function redact(message: string, target: RedisTarget): string {
  return target.password ? message.split(target.password).join('***') : message;
}

/** Connects once without retrying and pings; throws one CliError when that fails. */
export async function checkRedis(target: RedisTarget, timeoutMs = 5000): Promise<void> {
  const { Redis } = await import('ioredis');
  const client = new Redis({ ...target.options, lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  let socketError: NodeJS.ErrnoException | null = null;
  client.on('error', (e) => (socketError ??= e)); // reported below, once
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    const err = socketError ?? (e as NodeJS.ErrnoException);
    const why = /WRONGPASS|NOAUTH|invalid password|invalid username/i.test(err.message) ? 'it refused the credentials' : err.code ?? err.message;
    throw new CliError(`cannot reach Redis at ${target.shown}: ${redact(why, target)}`);
  } finally {
    client.disconnect();
  }
}
