// Redis URLs for the job queue (`--queue redis://[user:password@]host:port[/db]`, or rediss:// for
// TLS): parsed into ioredis options, shown with the password masked, and checked once up front so
// that an unreachable, silent or refusing server is one clear error instead of endless reconnects.
// rediss:// verifies the server's certificate against Node's CAs; a private CA is given the way
// Node takes one, NODE_EXTRA_CA_CERTS=ca.pem.
import { isIP } from 'node:net';
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
  const host = url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const options: RedisOptions = {
    host,
    port: url.port ? Number(url.port) : 6379,
    db,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    // SNI names a host; for an IP address Node checks the certificate against the address instead
    ...(url.protocol === 'rediss:' ? { tls: isIP(host) ? {} : { servername: host } } : {}),
  };
  const auth = username || password ? `${username}${password ? ':***' : ''}@` : '';
  const shown = `${url.protocol}//${auth}${url.host}${db ? `/${db}` : ''}`;
  return { options, shown, password };
}

/** `message` with the password (if any) masked: Redis errors should never carry it, this makes sure. */
export function redact(message: string, target: RedisTarget): string {
  return target.password ? message.split(target.password).join('***') : message;
}

/** Why a connection failed, in a few words (TLS certificate errors with how to trust a private CA). */
function reason(err: NodeJS.ErrnoException, tls: boolean): string {
  if (/WRONGPASS|NOAUTH|invalid password|invalid username/i.test(err.message)) return 'it refused the credentials';
  if (tls && /CERT|SELF_SIGNED|UNABLE_TO|HOSTNAME|ALTNAME/.test(err.code ?? '')) return `${err.message} (${err.code}; a private CA is trusted with NODE_EXTRA_CA_CERTS=ca.pem)`;
  return err.code ?? err.message;
}

/** Connects once without retrying and pings, all within `timeoutMs`; throws one CliError when that fails. */
export async function checkRedis(target: RedisTarget, timeoutMs = 5000): Promise<void> {
  const { Redis } = await import('ioredis');
  const client = new Redis({ ...target.options, lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  let socketError: NodeJS.ErrnoException | null = null;
  client.on('error', (e) => (socketError ??= e)); // reported below, once
  let timer: NodeJS.Timeout | undefined;
  // a server that accepts the connection but never answers (not Redis, TLS against plain) must not hang
  const silent = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('no answer'), { code: `no answer within ${timeoutMs / 1000} s` })), timeoutMs);
  });
  try {
    await Promise.race([(async () => (await client.connect(), await client.ping()))(), silent]);
  } catch (e) {
    throw new CliError(`cannot reach Redis at ${target.shown}: ${redact(reason(socketError ?? (e as NodeJS.ErrnoException), 'tls' in target.options), target)}`);
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}
