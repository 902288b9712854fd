// The LanceDB index store and the BullMQ queue, end to end with real LanceDB files and a real
// redis-server (test/redis-server.ts): `index --db` against the safetensors index, import, reruns
// and deletions; two workers of which one is SIGKILLed mid-shard; a shard retried by hand; a corrupt
// image; a worker running two shards at once; --import refusals; an unreachable or silent Redis and
// a wrong password; rediss:// (TLS) with a password and a CA of the test's own; four writers at once;
// the IVF-PQ index above its threshold.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Job, Queue } from 'bullmq';
import { LanceStore, type StoreRow } from '../src/cli/lance-store.ts';
import { QUEUE_NAME, type ShardJob, type ShardResult } from '../src/cli/index-queue.ts';
import { seededNormal } from '../src/nn/random.ts';
import { cosineTopK, l2Normalize } from '../src/search/index.ts';
import { createServer } from 'node:net';
import { cli, cliWithEnv, failsWith, FIXTURES } from './helpers.ts';
import { freePort, startRedis, type RedisServer } from './redis-server.ts';
import { parseRedisUrl, redact } from '../src/cli/redis.ts';
import { writePhoto } from './search-images.ts';

const BIN = join(import.meta.dirname, '..', 'bin', 'resnet50.js');
const WEIGHTS = join(FIXTURES, 'resnet50_div8', 'weights.safetensors');
const PASSWORD = 'pa:ss@word/1';
const IMAGES = 40;

interface Proc {
  readonly out: () => string;
  readonly exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
  /** resolves once the output matches `re` */
  waitFor(re: RegExp): Promise<void>;
}

function start(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let text = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const onData = (b: Buffer) => {
    text += b.toString();
    for (const w of waiters.splice(0)) (w.re.test(text) ? w.resolve() : waiters.push(w));
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    out: () => text,
    exited,
    kill: (signal) => child.kill(signal),
    waitFor: (re) => new Promise((resolve) => (re.test(text) ? resolve() : waiters.push({ re, resolve }))),
  };
}

/** The rows by path; fails if any path has more than one row. */
async function rowsOf(db: string): Promise<Map<string, StoreRow>> {
  const store = await LanceStore.open(db);
  try {
    const rows = await store.rows();
    const byPath = new Map(rows.map((r) => [r.path, r]));
    expect(rows.length, `${db}: rows with the same path`).toBe(byPath.size);
    return byPath;
  } finally {
    store.close();
  }
}

function expectSameVectors(got: Map<string, StoreRow>, want: Map<string, StoreRow>): void {
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  let worst = 0;
  for (const [path, row] of got) {
    const ref = want.get(path)!.vector;
    expect(row.vector.length).toBe(ref.length);
    row.vector.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - ref[i]))));
  }
  expect(worst).toBeLessThanOrEqual(1e-6);
}

describe('resnet50 index --db (LanceDB) and the BullMQ queue', () => {
  const dir = mkdtempSync(join(tmpdir(), 'index-db-'));
  const photos = join(dir, 'photos');
  const refDb = join(dir, 'ref.lancedb');
  let redis: RedisServer;
  let url: string;
  const logs: string[] = [];

  beforeAll(async () => {
    for (let i = 0; i < IMAGES; i++) await writePhoto(join(photos, i % 5 === 0 ? 'sub' : '', `${String(i).padStart(2, '0')}.${i % 7 === 3 ? 'png' : 'jpg'}`), 300 + i, 'any', 48, 40);
    writeFileSync(join(photos, 'broken.jpg'), 'not a jpeg at all');
    redis = await startRedis(PASSWORD);
    url = `redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${redis.port}`;
  });

  afterAll(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
    // whatever went wrong, no output ever showed the password
    for (const text of logs) expect(text).not.toContain(PASSWORD);
  });

  it('index --db embeds every image once (the corrupt one reported, exit 1), the same vectors as the safetensors index', async () => {
    const out = join(dir, 'photos.index.safetensors');
    const [db] = await Promise.all([cli('index', photos, '--db', refDb, '--weights', WEIGHTS, '--device', 'cpu', '--batch', '4'), cli('index', photos, '--out', out, '--weights', WEIGHTS, '--device', 'cpu', '--batch', '4')]);
    expect(db.code, db.stderr).toBe(1);
    expect(db.stderr).toMatch(/resnet50 index: skipped .*broken\.jpg/);
    expect(db.stdout).toContain(`${refDb}: ${IMAGES} image(s), 256-d (${IMAGES} embedded, 0 imported, 0 unchanged, 0 removed, 1 skipped)`);
    expect(db.stdout).not.toContain('vector index'); // far below the default 100,000-row threshold
    const rows = await rowsOf(refDb);
    expect(rows.size).toBe(IMAGES);
    for (const r of rows.values()) expect(Math.hypot(...r.vector)).toBeCloseTo(1, 5);

    // search --db ranks as search --index does, with the same output
    const query = join(photos, 'sub', '05.jpg');
    const a = await cli('search', query, '--db', refDb, '--device', 'cpu', '--k', '5', '--json');
    const b = await cli('search', query, '--index', out, '--device', 'cpu', '--k', '5', '--json');
    expect(a.code, a.stderr).toBe(0);
    const [ra, rb] = [JSON.parse(a.stdout), JSON.parse(b.stdout)];
    expect(ra.results.map((r: { path: string }) => r.path)).toEqual(rb.results.map((r: { path: string }) => r.path));
    expect(ra.results[0].path).toBe('sub/05.jpg');
    ra.results.forEach((r: { score: number }, i: number) => expect(Math.abs(r.score - rb.results[i].score)).toBeLessThan(1e-5));
    const text = await cli('search', query, '--db', refDb, '--device', 'cpu', '--k', '2', '--exact');
    expect(text.stdout.split('\n')[1]).toMatch(/^ {3}1 {2}1\.0000 {2}.*sub\/05\.jpg$/);

    // import: the safetensors index's rows without embedding
    const imported = join(dir, 'imported.lancedb');
    const im = await cli('index', photos, '--db', imported, '--import', out, '--weights', WEIGHTS, '--device', 'cpu');
    expect(im.stdout).toContain(`(0 embedded, ${IMAGES} imported, 0 unchanged, 0 removed, 1 skipped)`);
    expectSameVectors(await rowsOf(imported), rows);
  });

  it('two workers, one SIGKILLed in its first shard: one row per image, the vectors of index --db', async () => {
    const db = join(dir, 'queue.lancedb');
    const q = await cli('index', photos, '--db', db, '--weights', WEIGHTS, '--queue', url, '--shard-size', '4', '--batch', '2', '--detach');
    logs.push(q.stdout + q.stderr);
    expect(q.code, q.stderr).toBe(0);
    expect(q.stderr).toMatch(/41 image\(s\) in 11 shard\(s\) queued on redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ as run [0-9a-f]{8}/);
    const worker = ['worker', '--queue', url, '--device', 'cpu', '--exit-when-idle', '--lock-seconds', '2'];
    const doomed = start(worker);
    const survivor = start(worker);
    await doomed.waitFor(/shard \S+ started/);
    const shard = /shard (\S+) started/.exec(doomed.out())![1];
    doomed.kill('SIGKILL');
    expect(await survivor.exited).toBe(0);
    logs.push(doomed.out(), survivor.out());
    expect(survivor.out()).toContain(`shard ${shard} started`); // picked up again after its lock expired
    expect(survivor.out()).toContain(`shard ${shard} done`);
    expectSameVectors(await rowsOf(db), await rowsOf(refDb));

    // the corrupt image failed alone, with its reason, in the result of its shard
    const queue = new Queue<ShardJob, ShardResult>(QUEUE_NAME, { connection: { host: '127.0.0.1', port: redis.port, password: PASSWORD } });
    try {
      const done = await queue.getCompleted();
      expect(done.length).toBeGreaterThanOrEqual(11);
      const failures = done.flatMap((j) => j.returnvalue.failures);
      expect(failures.map((f) => f.path)).toEqual(['broken.jpg']);
      expect(failures[0].reason).toMatch(/broken\.jpg/);

      // a shard retried by hand rewrites its rows: the row count stays
      const again = (await Job.fromId<ShardJob, ShardResult>(queue, shard))!;
      await again.retry('completed');
      const w = await cli(...worker);
      logs.push(w.stdout + w.stderr);
      expect(w.stderr).toContain(`shard ${shard} done`);
      expectSameVectors(await rowsOf(db), await rowsOf(refDb));
    } finally {
      await queue.close();
    }
  });

  it('worker --concurrency 2 runs two shards at once: one row per image (no dedupe: --detach), the vectors of index --db', async () => {
    const pair = join(dir, 'pair');
    mkdirSync(pair);
    const names = ['02.jpg', '03.png', '04.jpg', '06.jpg', '07.jpg', '08.jpg', '09.jpg', '11.jpg'];
    for (const f of names) copyFileSync(join(photos, f), join(pair, f));
    const db = join(dir, 'pair.lancedb');
    const q = await cli('index', pair, '--db', db, '--weights', WEIGHTS, '--queue', url, '--shard-size', '2', '--batch', '1', '--detach');
    expect(q.code, q.stderr).toBe(0);
    const w = await cli('worker', '--queue', url, '--device', 'cpu', '--exit-when-idle', '--lock-seconds', '5', '--concurrency', '2');
    logs.push(q.stdout + q.stderr, w.stdout + w.stderr);
    expect(w.code, w.stderr).toBe(0);
    let [running, most] = [0, 0];
    for (const [, what] of w.stderr.matchAll(/shard \S+ (started|done)/g)) most = Math.max(most, (running += what === 'started' ? 1 : -1));
    expect(most, w.stderr).toBe(2);
    expect(w.stderr.match(/shard \S+ done/g)).toHaveLength(4);
    const want = await rowsOf(refDb);
    expectSameVectors(await rowsOf(db), new Map(names.map((p) => [p, want.get(p)!])));
  });

  it('index --db --import refuses a file that is no index, one of other settings and one of another folder, before writing anything', async () => {
    const out = join(dir, 'photos.index.safetensors');
    const imported = join(dir, 'imported.lancedb');
    const junk = join(dir, 'junk.safetensors');
    writeFileSync(junk, 'not an index');
    const base = ['index', photos, '--db', imported, '--weights', WEIGHTS, '--device', 'cpu'];
    failsWith(await cli(...base, '--import', junk), new RegExp(`^resnet50 index: .*junk\\.safetensors.*`));
    // other settings: the database (built with the default preset) must keep its rows too
    failsWith(await cli(...base, '--preset', 'clip', '--import', out), new RegExp(`^resnet50 index: --import ${out}: built with other settings \\(weights, preset or precision\\) than this run; it cannot be imported\\n$`));
    const other = join(dir, 'other-folder');
    mkdirSync(other);
    copyFileSync(join(photos, '02.jpg'), join(other, '02.jpg'));
    const elsewhere = join(dir, 'elsewhere.lancedb');
    failsWith(await cli('index', other, '--db', elsewhere, '--weights', WEIGHTS, '--device', 'cpu', '--import', out), new RegExp(`^resnet50 index: --import ${out}: indexes another folder \\(photos\\)\\n$`));
    expect((await rowsOf(imported)).size).toBe(IMAGES);
    const untouched = await LanceStore.open(elsewhere);
    try {
      expect(await untouched.count()).toBe(0);
      expect(await untouched.settings()).toBeNull();
    } finally {
      untouched.close();
    }
  });

  it('index --queue without --detach follows the shards to the end (progress, summary)', async () => {
    const small = join(dir, 'small');
    for (let i = 0; i < 5; i++) await writePhoto(join(small, `${i}.jpg`), 700 + i, 'any', 48, 40);
    const w = start(['worker', '--queue', url, '--device', 'cpu', '--lock-seconds', '5']);
    const r = await cli('index', small, '--db', join(dir, 'small.lancedb'), '--weights', WEIGHTS, '--queue', url, '--shard-size', '2');
    w.kill('SIGTERM');
    expect(await w.exited).toBe(0);
    logs.push(r.stdout + r.stderr, w.out());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/resnet50 index: 5\/5 images, [\d.]+ images\/s, 0 failed/);
    expect(r.stdout).toContain('small.lancedb: 5 image(s), 256-d (5 embedded, 0 imported, 0 unchanged, 0 removed)');
  });

  it('a shard that keeps failing stops after 3 attempts, its files reported as failed', async () => {
    const few = join(dir, 'few');
    for (let i = 0; i < 2; i++) await writePhoto(join(few, `${i}.jpg`), 800 + i, 'any', 48, 40);
    const weights = join(dir, 'changing.safetensors');
    copyFileSync(WEIGHTS, weights);
    const index = start(['index', few, '--db', join(dir, 'few.lancedb'), '--weights', weights, '--queue', url]);
    await index.waitFor(/queued on/);
    writeFileSync(weights, 'other bytes now'); // the SHA-256 recorded in the job no longer matches
    const w = start(['worker', '--queue', url, '--device', 'cpu', '--exit-when-idle', '--lock-seconds', '5']);
    expect(await index.exited).toBe(1);
    expect(await w.exited).toBe(0);
    logs.push(index.out(), w.out());
    expect(w.out().match(/shard \S+ failed \(attempt \d\/3\)/g)).toHaveLength(3);
    expect(index.out()).toMatch(/resnet50 index: skipped 0\.jpg: its shard failed after 3 attempt\(s\): .*SHA-256/);
    expect(index.out()).toMatch(/resnet50 index: skipped 1\.jpg: /);
  });

  it('an unreachable Redis and a wrong password are one clear error each, exit 1, no hang', async () => {
    const port = await freePort();
    const t0 = performance.now();
    const w = await cli('worker', '--queue', `redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}`);
    expect(w.code).toBe(1);
    expect(w.stderr).toBe(`resnet50 worker: cannot reach Redis at redis://:***@127.0.0.1:${port}: ECONNREFUSED\n`);
    const i = await cli('index', photos, '--db', join(dir, 'x.lancedb'), '--weights', WEIGHTS, '--queue', `redis://127.0.0.1:${port}`);
    expect(i.code).toBe(1);
    expect(i.stderr).toBe(`resnet50 index: cannot reach Redis at redis://127.0.0.1:${port}: ECONNREFUSED\n`);
    const bad = await cli('worker', '--queue', `redis://:wrong-${encodeURIComponent(PASSWORD)}@127.0.0.1:${redis.port}`);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(`resnet50 worker: cannot reach Redis at redis://:***@127.0.0.1:${redis.port}: it refused the credentials\n`);
    // a server that accepts the connection and never answers: no hang either
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const silentPort = (silent.address() as { port: number }).port;
    const mute = await cli('worker', '--queue', `redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${silentPort}`);
    silent.close(); // stops listening (not waiting for the closed connection's end)
    expect(mute.code).toBe(1);
    expect(mute.stderr).toBe(`resnet50 worker: cannot reach Redis at redis://:***@127.0.0.1:${silentPort}: no answer within 5 s\n`);
    logs.push(w.stderr, i.stderr, bad.stderr, mute.stderr);
    expect(performance.now() - t0).toBeLessThan(40_000);
  });

  it('rediss:// with a password: index --queue and a worker over TLS (CA from NODE_EXTRA_CA_CERTS); TLS and password failures are one error each', async () => {
    const secure = await startRedis(PASSWORD, { tls: true });
    try {
      const few = join(dir, 'tls');
      mkdirSync(few);
      for (const f of ['02.jpg', '03.png', '04.jpg']) copyFileSync(join(photos, f), join(few, f));
      const tlsUrl = `rediss://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${secure.port}`;
      const env = { NODE_EXTRA_CA_CERTS: secure.ca };
      const db = join(dir, 'tls.lancedb');
      const w = start(['worker', '--queue', tlsUrl, '--device', 'cpu', '--lock-seconds', '5'], env);
      const r = await cliWithEnv(env, 'index', few, '--db', db, '--weights', WEIGHTS, '--queue', tlsUrl, '--shard-size', '2');
      w.kill('SIGTERM');
      expect(await w.exited).toBe(0);
      logs.push(r.stdout + r.stderr, w.out());
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`queued on rediss://:***@127.0.0.1:${secure.port}`);
      expect(w.out()).toContain(`waiting for shards on rediss://:***@127.0.0.1:${secure.port}`);
      expect(r.stdout).toContain('tls.lancedb: 3 image(s), 256-d (3 embedded, 0 imported, 0 unchanged, 0 removed)');
      const want = await rowsOf(refDb);
      expectSameVectors(await rowsOf(db), new Map(['02.jpg', '03.png', '04.jpg'].map((p) => [p, want.get(p)!])));

      // without the CA, with a wrong password, plain redis:// on the TLS port: one error each, exit 1
      const shown = `rediss://:***@127.0.0.1:${secure.port}`;
      const noCa = await cli('worker', '--queue', tlsUrl);
      expect(noCa.code).toBe(1);
      expect(noCa.stderr).toBe(`resnet50 worker: cannot reach Redis at ${shown}: self-signed certificate in certificate chain (SELF_SIGNED_CERT_IN_CHAIN; a private CA is trusted with NODE_EXTRA_CA_CERTS=ca.pem)\n`);
      const wrong = await cliWithEnv(env, 'index', few, '--db', db, '--weights', WEIGHTS, '--queue', `rediss://:wrong-${encodeURIComponent(PASSWORD)}@127.0.0.1:${secure.port}`);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toBe(`resnet50 index: cannot reach Redis at ${shown}: it refused the credentials\n`);
      const plain = await cli('worker', '--queue', `redis://:${encodeURIComponent(PASSWORD)}@127.0.0.1:${secure.port}`);
      expect(plain.code).toBe(1);
      expect(plain.stderr).toMatch(new RegExp(`^resnet50 worker: cannot reach Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${secure.port}: [^\\n]+\\n$`));
      logs.push(noCa.stderr, wrong.stderr, plain.stderr);
    } finally {
      await secure.stop();
    }
  });

  it('index run again changes nothing; a deleted file loses its row, a changed one is embedded again', async () => {
    const again = await cli('index', photos, '--db', refDb, '--weights', WEIGHTS, '--device', 'cpu');
    expect(again.stdout).toContain(`${refDb}: ${IMAGES} image(s), 256-d (0 embedded, 0 imported, ${IMAGES} unchanged, 0 removed, 1 skipped)`);
    unlinkSync(join(photos, 'sub', '15.jpg'));
    await writePhoto(join(photos, '01.jpg'), 9999, 'any', 48, 40);
    const before = await rowsOf(refDb);
    const r = await cli('index', photos, '--db', refDb, '--weights', WEIGHTS, '--device', 'cpu');
    expect(r.stdout).toContain(`${refDb}: ${IMAGES - 1} image(s), 256-d (1 embedded, 0 imported, ${IMAGES - 2} unchanged, 1 removed, 1 skipped)`);
    const after = await rowsOf(refDb);
    expect(after.has('sub/15.jpg')).toBe(false);
    expect(after.get('01.jpg')!.vector).not.toEqual(before.get('01.jpg')!.vector);
    expect(after.get('02.jpg')!.vector).toEqual(before.get('02.jpg')!.vector);
  });
});

describe('LanceStore vector index', () => {
  it('above the threshold builds IVF-PQ (cosine); searches through it find the exact neighbours, --exact scans; later rows fold in', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lance-ann-'));
    const [rows, dim] = [1200, 32];
    const normal = seededNormal(5);
    // 12 clusters, so that the partitions mean something
    const centres = Array.from({ length: 12 }, () => Float32Array.from({ length: dim }, normal));
    const data = l2Normalize(Float32Array.from({ length: rows * dim }, (_, i) => centres[Math.floor(i / dim) % 12][i % dim] + 0.4 * normal()), rows, dim);
    const store = await LanceStore.open(join(dir, 'db'));
    try {
      const at = (i: number) => data.slice(i * dim, (i + 1) * dim);
      await store.upsert(Array.from({ length: rows - 100 }, (_, i) => ({ path: `r${i}`, size: i, mtimeMs: 0, vector: at(i) })));
      expect(await store.maintainIndex(2000)).toBe('none');
      expect(await store.maintainIndex(1000)).toBe('built');
      expect(await store.hasVectorIndex()).toBe(true);
      await store.upsert(Array.from({ length: 100 }, (_, j) => ({ path: `r${rows - 100 + j}`, size: 0, mtimeMs: 0, vector: at(rows - 100 + j) })));
      expect(await store.maintainIndex(1000)).toBe('updated');
      expect(await store.maintainIndex(1000)).toBe('none'); // nothing left outside the index
      expect(await store.count()).toBe(rows);
      let hits = 0;
      for (let q = 0; q < 20; q++) {
        const query = at(q * 37);
        const want = cosineTopK({ data, rows, dim }, { data: query, rows: 1, dim }, 10, { normalized: true })[0].map((n) => `r${n.index}`);
        const exact = await store.search(query, 10, { exact: true });
        expect(exact.map((h) => h.path)).toEqual(want);
        const approx = await store.search(query, 10);
        expect(approx[0].path).toBe(`r${q * 37}`);
        expect(approx[0].score).toBeCloseTo(1, 5); // refined: exact scores
        hits += approx.filter((h) => want.includes(h.path)).length;
      }
      expect(hits / 200).toBeGreaterThanOrEqual(0.95);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Redis URLs', () => {
  it('give host, port, db, user, password and TLS; the password is shown masked and redacted from messages', () => {
    const t = parseRedisUrl('rediss://me:p%40ss@cache.example:6380/2');
    expect(t.options).toMatchObject({ host: 'cache.example', port: 6380, db: 2, username: 'me', password: 'p@ss', tls: { servername: 'cache.example' } });
    expect(t.shown).toBe('rediss://me:***@cache.example:6380/2');
    expect(redact('error near p@ss', t)).toBe('error near ***');
    expect(parseRedisUrl('redis://localhost').options).toMatchObject({ host: 'localhost', port: 6379, db: 0 });
    expect(() => parseRedisUrl('http://x:1')).toThrow(/--queue must be a redis:\/\/ or rediss:\/\/ URL/);
    expect(() => parseRedisUrl('redis//:secret@host')).toThrow(/got 'redis\/\/:\*\*\*@host'/);
  });
});

describe('LanceStore concurrent writers', () => {
  it('four handles upserting the same existing paths at once: every commit lands (conflicts retried), one row per path; dedupe() collapses concurrent inserts of one new path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lance-concurrent-'));
    const db = join(dir, 'db');
    const dim = 8;
    const row = (path: string, writer: number) => ({ path, size: writer, mtimeMs: 0, vector: l2Normalize(Float32Array.from({ length: dim }, (_, i) => 1 + writer + i), 1, dim) });
    const first = await LanceStore.open(db);
    await first.upsert([row('seed', 0), ...Array.from({ length: 12 }, (_, i) => row(`p${i}`, 0))]);
    first.close();
    const stores = await Promise.all([1, 2, 3, 4].map(() => LanceStore.open(db)));
    try {
      // the rows exist (a retried or re-run shard); writer w rewrites p0…p11 in 6 commits of 2 rows, all four at once
      await Promise.all(stores.map(async (s, w) => {
        for (let c = 0; c < 6; c++) await s.upsert([row(`p${2 * c}`, w + 1), row(`p${2 * c + 1}`, w + 1)]);
      }));
      const rows = await rowsOf(db);
      expect([...rows.keys()].sort()).toEqual(['seed', ...Array.from({ length: 12 }, (_, i) => `p${i}`)].sort());
      for (const r of rows.values()) expect(r.vector).toEqual(row(r.path, r.size).vector); // one writer's row, whole
      for (const [path, r] of rows) if (path !== 'seed') expect(r.size).toBeGreaterThan(0); // rewritten by a writer
      // Two writers inserting the same new paths at once both commit (LanceDB 0.31): as if so, then dedupe().
      await Promise.all([stores[0].append([row('new0', 1), row('new1', 1)]), stores[1].append([row('new0', 2), row('new1', 2)])]);
      const fresh = await LanceStore.open(db); // a handle reads the table's version as of its opening
      try {
        expect(await fresh.count()).toBe(13 + 4);
        expect(await fresh.dedupe()).toBe(2);
        expect(await fresh.dedupe()).toBe(0);
      } finally {
        fresh.close();
      }
      const after = await rowsOf(db); // fails on a path with two rows
      expect(after.size).toBe(15);
      for (const p of ['new0', 'new1']) expect(after.get(p)!.vector).toEqual(row(p, after.get(p)!.size).vector);
    } finally {
      stores.forEach((s) => s.close());
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
