/// <reference lib="dom" />
// Tuning tables (tune.ts) in browsers: IndexedDB database 'resnet50-webgpu', object store 'tuning',
// one record per table key.
import type { TuningStore, TuningTable } from './tune.ts';

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });
}

function open(idb: IDBFactory): Promise<IDBDatabase> {
  const r = idb.open('resnet50-webgpu', 1);
  r.onupgradeneeded = () => r.result.createObjectStore('tuning');
  return request(r);
}

/** The IndexedDB store, or undefined where there is no IndexedDB. */
export function indexedDbTuningStore(idb: IDBFactory | undefined = (globalThis as { indexedDB?: IDBFactory }).indexedDB): TuningStore | undefined {
  if (!idb) return undefined;
  const db = open(idb);
  return {
    where: "IndexedDB 'resnet50-webgpu'",
    async load(key: string) {
      const tx = (await db).transaction('tuning', 'readonly');
      return (await request(tx.objectStore('tuning').get(key))) ?? null;
    },
    async save(key: string, table: TuningTable) {
      const tx = (await db).transaction('tuning', 'readwrite');
      await request(tx.objectStore('tuning').put(table, key));
    },
  };
}
