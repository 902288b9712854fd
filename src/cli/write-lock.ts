// One Redis lock per LanceDB database, held for each commit of every writer that goes through the
// queue (the workers, and the `index --queue` run that feeds them). LanceDB 0.31's merge-insert on
// `path` does not see a row that another writer inserts at the same moment (both commits land: two
// rows for one path), nor one committed after its table handle last looked. Holding the lock, a
// writer moves its handle to the table's latest version and commits, so a second writer of a path
// updates the first one's row instead of adding its own.
// The single-instance Redis lock: SET key token NX PX ttl with a random token, renewed every ttl/3
// while a long commit runs (compare-and-pexpire), released by compare-and-delete (Lua), so a writer
// never extends or frees another's lock; a holder that dies leaves the key to expire after ttl.
// Waiting is bounded: past the bound, one error and no commit (a worker's shard then fails and is
// retried as any failure is; its BullMQ job lock is renewed by BullMQ's own timer meanwhile).
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { CliError } from './files.ts';
import { redact, type RedisTarget } from './redis.ts';

/** Runs one commit (or a few that belong together) under the database's write lock. */
export type WriteGuard = <T>(commit: () => Promise<T>) => Promise<T>;

export const WRITE_LOCK_TTL_MS = 30_000;
export const WRITE_LOCK_WAIT_MS = 300_000;

const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** The lock's key for a database as every writer opens it (an absolute path or a URI). */
export const writeLockKey = (db: string) => `resnet50:lance-write:${createHash('sha256').update(db).digest('hex')}`;

export interface WriteLockTimes {
  /** how long a holder's key lives without renewal */
  readonly ttlMs?: number;
  /** how long a writer waits for the lock before giving up */
  readonly waitMs?: number;
}

export class WriteLocks {
  private readonly ttlMs: number;
  private readonly waitMs: number;

  private constructor(
    private readonly client: Redis,
    private readonly target: RedisTarget,
    o: WriteLockTimes,
  ) {
    this.ttlMs = o.ttlMs ?? WRITE_LOCK_TTL_MS;
    this.waitMs = o.waitMs ?? WRITE_LOCK_WAIT_MS;
  }

  /** A connection of its own to the queue's Redis (checked by the caller), with the queue's options. */
  static async connect(target: RedisTarget, o: WriteLockTimes = {}): Promise<WriteLocks> {
    const { Redis } = await import('ioredis');
    const client = new Redis({ ...target.options, lazyConnect: true, commandTimeout: 10_000 });
    client.on('error', () => {}); // a lost connection fails the commands waiting on it, reported there
    const locks = new WriteLocks(client, target, o);
    await locks.redis(() => client.connect());
    return locks;
  }

  private async redis<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      throw new CliError(`Redis at ${this.target.shown} (write lock): ${redact((e as Error).message, this.target)}`);
    }
  }

  guard(db: string): WriteGuard {
    const key = writeLockKey(db);
    return async <T>(commit: () => Promise<T>): Promise<T> => {
      const token = randomBytes(16).toString('hex');
      await this.acquire(db, key, token);
      const renewal = setInterval(() => void this.client.eval(RENEW, 1, key, token, this.ttlMs).catch(() => {}), this.ttlMs / 3);
      let result: T;
      try {
        result = await commit();
      } catch (e) {
        await this.client.eval(RELEASE, 1, key, token).catch(() => {});
        throw e;
      } finally {
        clearInterval(renewal);
      }
      const released = await this.redis(() => this.client.eval(RELEASE, 1, key, token));
      if (released !== 1) {
        throw new CliError(`the write lock on ${db} expired during a commit (not renewed for ${this.ttlMs / 1000} s: Redis unreachable or this process stalled); the commit landed, but another writer may have committed at the same time`);
      }
      return result;
    };
  }

  private async acquire(db: string, key: string, token: string): Promise<void> {
    const deadline = Date.now() + this.waitMs;
    for (let pause = 10; ; pause = Math.min(2 * pause, 250)) {
      if ((await this.redis(() => this.client.set(key, token, 'PX', this.ttlMs, 'NX'))) === 'OK') return;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new CliError(`waited ${this.waitMs / 1000} s for the write lock on ${db} (Redis key ${key} on ${this.target.shown}), held by another writer all along; nothing was written`);
      }
      await new Promise((r) => setTimeout(r, Math.min(left, pause * (0.5 + Math.random()))));
    }
  }

  close(): void {
    this.client.disconnect();
  }
}
