// The queue's write lock (src/cli/write-lock.ts) against a real redis-server (test/redis-server.ts)
// and real LanceDB files: two writers with their own Redis connections inserting the same new paths
// at once end with one row per path, no dedupe(); a dead holder's lock is taken over once it
// expires; a lock held past the wait bound is one error and no write; a long commit keeps its lock
// (renewed), and a commit whose lock was lost says so without freeing the other holder's lock.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LanceStore } from '../src/cli/lance-store.ts';
import { parseRedisUrl, type RedisTarget } from '../src/cli/redis.ts';
import { writeLockKey, WriteLocks } from '../src/cli/write-lock.ts';
import { l2Normalize } from '../src/search/index.ts';
import { startRedis, type RedisServer } from './redis-server.ts';

const PASSWORD = 'lock:pa@ss';
const DIM = 8;
const row = (path: string, writer: number) => ({ path, size: writer, mtimeMs: 0, vector: l2Normalize(Float32Array.from({ length: DIM }, (_, i) => 1 + writer + i), 1, DIM) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the LanceDB write lock on Redis', () => {
  const dir = mkdtempSync(join(tmpdir(), 'write-lock-'));
  let redis: RedisServer;
  let target: RedisTarget;
  let raw: Redis;
  let n = 0;
  const newDb = () => join(dir, `db${n++}`);

  beforeAll(async () => {
    redis = await startRedis(PASSWORD);
    target = parseRedisUrl(`redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${redis.port}`);
    raw = new Redis({ ...target.options });
  });

  afterAll(async () => {
    raw?.disconnect();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A store whose writes take the lock through a Redis connection of its own. */
  async function lockedStore(db: string, times: { ttlMs?: number; waitMs?: number } = {}) {
    const locks = await WriteLocks.connect(target, times);
    const store = await LanceStore.open(db, { guard: locks.guard(db) });
    return { store, close: () => (store.close(), locks.close()) };
  }

  it('two writers inserting the same new paths at the same moment leave one row per path (no dedupe)', async () => {
    const db = newDb();
    const seed = await LanceStore.open(db);
    await seed.upsert([row('seed', 0)]);
    seed.close();
    // both handles open before any of the rows exist, as two workers' long-lived handles are
    const writers = await Promise.all([lockedStore(db), lockedStore(db)]);
    const paths = Array.from({ length: 24 }, (_, i) => `new${i}`);
    try {
      await Promise.all(writers.map(async ({ store }, w) => {
        for (let c = 0; c < paths.length; c += 3) await store.upsert(paths.slice(c, c + 3).map((p) => row(p, w + 1)));
      }));
      const check = await LanceStore.open(db);
      try {
        const rows = await check.rows();
        expect(rows.length).toBe(1 + paths.length);
        expect(new Set(rows.map((r) => r.path)).size).toBe(rows.length);
        for (const r of rows) expect(r.vector).toEqual(row(r.path, r.size).vector); // one writer's row, whole
      } finally {
        check.close();
      }
    } finally {
      writers.forEach((w) => w.close());
    }
    expect(await raw.exists(writeLockKey(db))).toBe(0); // released
  });

  it("a dead holder's lock (never released) is taken over once it expires", async () => {
    const db = newDb();
    await raw.set(writeLockKey(db), 'dead-writer', 'PX', 1500);
    const { store, close } = await lockedStore(db, { waitMs: 10_000 });
    try {
      const t0 = performance.now();
      await store.upsert([row('a', 1)]);
      expect(performance.now() - t0).toBeGreaterThan(1200); // waited for the expiry
      expect(await store.count()).toBe(1);
    } finally {
      close();
    }
  });

  it('a lock held past the wait bound is one clear error, and nothing is written', async () => {
    const db = newDb();
    const key = writeLockKey(db);
    const { store, close } = await lockedStore(db, { waitMs: 600 });
    try {
      await store.upsert([row('a', 1)]);
      await raw.set(key, 'stuck-writer', 'PX', 60_000);
      const t0 = performance.now();
      await expect(store.upsert([row('b', 1)])).rejects.toThrow(
        `waited 0.6 s for the write lock on ${db} (Redis key ${key} on redis://:***@127.0.0.1:${redis.port}), held by another writer all along; nothing was written`,
      );
      expect(performance.now() - t0).toBeLessThan(3000);
      expect(await raw.get(key)).toBe('stuck-writer'); // not taken
      await raw.del(key);
      const rows = await store.rows();
      expect(rows.map((r) => r.path)).toEqual(['a']);
    } finally {
      close();
    }
  });

  it('a commit longer than the lock time keeps the lock (renewed); one whose lock was lost fails and frees nobody else', async () => {
    const db = newDb();
    const key = writeLockKey(db);
    const a = await WriteLocks.connect(target, { ttlMs: 300 });
    const b = await WriteLocks.connect(target, { ttlMs: 300, waitMs: 700 });
    try {
      let aDone = false;
      const long = a.guard(db)(async () => {
        await sleep(1500); // five lock times
        aDone = true;
      });
      await sleep(50);
      await expect(b.guard(db)(async () => expect.unreachable())).rejects.toThrow(/waited 0\.7 s for the write lock/);
      await long;
      expect(aDone).toBe(true);
      expect(await b.guard(db)(async () => 'mine')).toBe('mine');

      // the key is taken from under a holder (it expired, another writer took it): the holder says so
      const lost = a.guard(db)(async () => {
        await raw.set(key, 'other-writer', 'PX', 60_000);
        await sleep(250); // a renewal finds the other's token and leaves it
      });
      await expect(lost).rejects.toThrow(`the write lock on ${db} expired during a commit`);
      expect(await raw.get(key)).toBe('other-writer');
      expect(await raw.pttl(key)).toBeGreaterThan(50_000);
    } finally {
      a.close();
      b.close();
    }
  });
});
