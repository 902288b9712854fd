// The Deno tuning store (src/platform/deno-tuning-cache.ts): <RESNET50_CACHE>/tuning/<key>.json written
// atomically and read back, a missing table is none, non-JSON is an error naming the file, and a folder
// Deno may not write to is one error naming the flag. Run by `npm run test:deno`.
import { denoTuningCacheDir, denoTuningStore } from '../../src/platform/deno-tuning-cache.ts';
import type { TuningTable } from '../../src/kernels/webgpu/tune.ts';

declare const Deno: {
  test(name: string, fn: () => Promise<void> | void): void;
  env: { get(name: string): string | undefined; set(name: string, value: string): void; delete(name: string): void };
  makeTempDir(opts: { dir: string; prefix: string }): Promise<string>;
  readDir(path: string): AsyncIterable<{ name: string }>;
  writeTextFile(path: string, text: string): Promise<void>;
  remove(path: string, opts: { recursive: boolean }): Promise<void>;
};

function assert(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert(pattern.test((e as Error).message), `error '${(e as Error).message}' does not match ${pattern}`);
    return;
  }
  throw new Error(`expected an error matching ${pattern}`);
}

Deno.test('Deno tuning store: $RESNET50_CACHE/tuning/<key>.json, atomic, read back; missing, non-JSON and unwritable folders', async () => {
  const cache = await Deno.makeTempDir({ dir: '/tmp', prefix: 'r50-deno-tuning-' });
  const before = Deno.env.get('RESNET50_CACHE');
  try {
    Deno.env.set('RESNET50_CACHE', cache);
    const dir = denoTuningCacheDir();
    assert(dir === `${cache}/tuning`, `tuning folder ${dir}`);
    const store = denoTuningStore(dir)!;
    assert((await store.load('k1')) === null, 'a missing table is none');
    const table = { format: 'resnet50-webgpu-tuning', version: 1, layers: [{ shape: 'm7n5k3', kernel: 'gemm_sg' }] } as unknown as TuningTable;
    await store.save('k1', table);
    const names: string[] = [];
    for await (const e of Deno.readDir(`${cache}/tuning`)) names.push(e.name);
    assert(JSON.stringify(names) === '["k1.json"]', `files after save: ${names}`); // no temporary file left
    assert(JSON.stringify(await store.load('k1')) === JSON.stringify(table), 'read back');
    await Deno.writeTextFile(`${cache}/tuning/k2.json`, '{not json');
    await rejects(store.load('k2'), new RegExp(`${cache}/tuning/k2\\.json is not JSON`));
    // Outside the folders the test may write to (as a user's cache without --allow-write):
    await rejects(denoTuningStore('/r50-not-writable/tuning')!.save('k1', table), /cannot save the tuning table in \/r50-not-writable\/tuning: run Deno with --allow-read=.* --allow-write=/);
  } finally {
    if (before === undefined) Deno.env.delete('RESNET50_CACHE');
    else Deno.env.set('RESNET50_CACHE', before);
    await Deno.remove(cache, { recursive: true });
  }
});
