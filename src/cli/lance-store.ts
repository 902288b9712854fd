// The LanceDB index store (`resnet50 index … --db PATH`): a LanceDB database (a local folder, or any
// URI LanceDB opens: s3://, gs://, az://, a shared disk) holding two tables:
//   images    path (utf8, relative to the indexed folder, '/'-separated; the key rows are upserted by),
//             size (bytes), mtime_ms (float64), vector (fixed-size list of F32, L2-normalised)
//   settings  key, value (utf8): format, weights_sha256, weights_path, preset, precision, root, device
// Rows are written with merge-insert on `path`, so writing a file's row twice (a rerun, a retried
// shard, two workers) leaves one row: each write first moves the handle to the table's latest
// version (a handle does not see later commits otherwise), and runs under the store's write guard,
// which for the queue's writers is a Redis lock per database (write-lock.ts) so that two writers
// never insert the same new path at the same moment. Above a row threshold an IVF-PQ index
// (cosine) is built over `vector`; searches use it with a refine step (exact distances of the best
// nprobes × refine candidates), or scan every row with `exact`.
import type { Connection, Table } from '@lancedb/lancedb';
import { createRequire } from 'node:module';
import type { FixedSizeList, Float32 as Float32Type, Float64 as Float64Type, Schema as SchemaType, Table as ArrowTableType } from 'apache-arrow';
import type { FileStamp } from '../search/index.ts';
import { CliError } from './files.ts';
import type { WriteGuard } from './write-lock.ts';

export const IMAGES_TABLE = 'images';
const SETTINGS_TABLE = 'settings';
export const STORE_FORMAT = 'resnet50-lancedb-index/1';

/** Rows from which `index` builds the vector index */
export const ANN_THRESHOLD = 100_000;
/** Search defaults (tuned with `resnet50 bench search`, see README) */
export const DEFAULT_NPROBES = 32;
export const DEFAULT_REFINE_FACTOR = 100;

export interface StoreSettings {
  readonly weightsSha256: string;
  readonly weightsPath: string;
  readonly preset: string;
  readonly precision: string;
  /** the indexed folder: relative to the database's parent folder for a local database, else absolute */
  readonly root: string;
  readonly device: string;
}

export interface StoreRow extends FileStamp {
  readonly vector: Float32Array;
}

export interface Hit {
  readonly path: string;
  readonly score: number;
}

export interface SearchSettings {
  readonly exact?: boolean;
  readonly nprobes?: number;
  readonly refineFactor?: number;
}

type LanceModule = typeof import('@lancedb/lancedb');
let lance: Promise<LanceModule> | null = null;
/** LanceDB, loaded on first use with its Rust logging turned down to errors (it warns on stderr otherwise). */
function lancedb(): Promise<LanceModule> {
  process.env.LANCEDB_LOG ??= 'error';
  return (lance ??= import('@lancedb/lancedb'));
}

// Apache Arrow as LanceDB loads it (require): Arrow objects from another copy of the module (its ESM
// build) fail LanceDB's instanceof checks.
// Loaded on first use, as LanceDB is: the commands that only read the usage text skip both.
let arrowModule: typeof import('apache-arrow') | null = null;
const arrow = () => (arrowModule ??= createRequire(import.meta.url)('apache-arrow') as typeof import('apache-arrow'));

const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;

function imagesSchema(dim: number): SchemaType {
  const { Field, FixedSizeList: FixedSizeListType, Float32, Float64, Schema, Utf8 } = arrow();
  return new Schema([
    new Field('path', new Utf8(), false),
    new Field('size', new Float64(), false),
    new Field('mtime_ms', new Float64(), false),
    new Field('vector', new FixedSizeListType(dim, new Field('item', new Float32(), true)), false),
  ]);
}

/** Rows as an Arrow table of the images schema, built column by column (vectors copied once). */
function arrowRows(rows: readonly StoreRow[], dim: number): ArrowTableType {
  const { Float32, makeData, RecordBatch, Struct, Table: ArrowTable, Utf8, vectorFromArray } = arrow();
  const schema = imagesSchema(dim);
  const n = rows.length;
  const flat = new Float32Array(n * dim);
  rows.forEach((r, i) => flat.set(r.vector, i * dim));
  const [, sizeField, mtimeField, vectorField] = schema.fields;
  const paths = vectorFromArray(rows.map((r) => r.path), new Utf8()).data[0];
  const children = [
    paths,
    makeData({ type: sizeField.type as Float64Type, length: n, nullCount: 0, data: Float64Array.from(rows, (r) => r.size) }),
    makeData({ type: mtimeField.type as Float64Type, length: n, nullCount: 0, data: Float64Array.from(rows, (r) => r.mtimeMs) }),
    makeData({ type: vectorField.type as FixedSizeList<Float32Type>, length: n, nullCount: 0, child: makeData({ type: new Float32(), length: n * dim, nullCount: 0, data: flat }) }),
  ];
  return new ArrowTable(schema, [new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children }))]);
}

const settingsSchema = () => {
  const { Field, Schema, Utf8 } = arrow();
  return new Schema([new Field('key', new Utf8(), false), new Field('value', new Utf8(), false)]);
};

/** Lance commits are optimistic: a writer that lost a race to another's commit retries. */
async function retryConflicts<T>(what: string, f: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await f();
    } catch (e) {
      const message = (e as Error).message ?? '';
      if (attempt >= 20 || !/conflict|retry|concurrent|commit/i.test(message)) throw new CliError(`${what}: ${message}`);
      await new Promise((r) => setTimeout(r, Math.min(2000, 20 * 2 ** attempt) * (0.5 + Math.random())));
    }
  }
}

export class LanceStore {
  private images: Table | null;

  private constructor(
    readonly uri: string,
    private readonly db: Connection,
    images: Table | null,
    private readonly guard: WriteGuard,
  ) {
    this.images = images;
  }

  /** `guard` runs every write (without one, writes are not serialised with other processes'). */
  static async open(uri: string, o: { guard?: WriteGuard } = {}): Promise<LanceStore> {
    const { connect } = await lancedb();
    let db: Connection;
    try {
      db = await connect(uri);
    } catch (e) {
      throw new CliError(`cannot open the LanceDB database ${uri}: ${(e as Error).message}`);
    }
    const names = await db.tableNames();
    return new LanceStore(uri, db, names.includes(IMAGES_TABLE) ? await db.openTable(IMAGES_TABLE) : null, o.guard ?? ((commit) => commit()));
  }

  /** Moves the images table to its latest version (or opens it, once another writer has made it). */
  private async refresh(): Promise<void> {
    if (this.images) await this.images.checkoutLatest();
    else if ((await this.db.tableNames()).includes(IMAGES_TABLE)) this.images = await this.db.openTable(IMAGES_TABLE);
  }

  /** Runs `commit` under the write guard, on the table's latest version. */
  private write<T>(commit: () => Promise<T>): Promise<T> {
    return this.guard(async () => {
      await this.refresh();
      return commit();
    });
  }

  async settings(): Promise<StoreSettings | null> {
    if (!(await this.db.tableNames()).includes(SETTINGS_TABLE)) return null;
    const rows = (await (await this.db.openTable(SETTINGS_TABLE)).query().toArray()) as { key: string; value: string }[];
    const kv = new Map(rows.map((r) => [r.key, r.value]));
    if (kv.get('format') !== STORE_FORMAT) throw new CliError(`${this.uri}: not a resnet50 index database (its settings table has format ${kv.get('format') ?? 'none'})`);
    const get = (k: string) => kv.get(k) ?? '';
    return { weightsSha256: get('weights_sha256'), weightsPath: get('weights_path'), preset: get('preset'), precision: get('precision'), root: get('root'), device: get('device') };
  }

  async writeSettings(s: StoreSettings): Promise<void> {
    const rows = Object.entries({ format: STORE_FORMAT, weights_sha256: s.weightsSha256, weights_path: s.weightsPath, preset: s.preset, precision: s.precision, root: s.root, device: s.device }).map(
      ([key, value]) => ({ key, value }),
    );
    await this.guard(async () => {
      const table = await this.db.createEmptyTable(SETTINGS_TABLE, settingsSchema(), { mode: 'create', existOk: true });
      await retryConflicts(`cannot write the settings of ${this.uri}`, () => table.mergeInsert('key').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(rows));
    });
  }

  /** Drops every image row (other weights or settings make them all stale). */
  async clear(): Promise<void> {
    await this.write(async () => {
      if (!this.images) return;
      await this.db.dropTable(IMAGES_TABLE);
      this.images = null;
    });
  }

  async count(): Promise<number> {
    return this.images ? this.images.countRows() : 0;
  }

  async dim(): Promise<number | null> {
    if (!this.images) return null;
    const type = (await this.images.schema()).fields.find((f) => f.name === 'vector')?.type as FixedSizeList | undefined;
    return type?.listSize ?? null;
  }

  /** The stamp of every row. */
  async stamps(): Promise<FileStamp[]> {
    if (!this.images) return [];
    const rows = (await this.images.query().select(['path', 'size', 'mtime_ms']).toArray()) as { path: string; size: number; mtime_ms: number }[];
    return rows.map((r) => ({ path: r.path, size: r.size, mtimeMs: r.mtime_ms }));
  }

  /** The rows of `paths` (all rows when omitted), vectors included. */
  async rows(paths?: readonly string[]): Promise<StoreRow[]> {
    if (!this.images) return [];
    let q = this.images.query().select(['path', 'size', 'mtime_ms', 'vector']);
    if (paths) q = q.where(`path IN (${paths.map(sqlString).join(', ')})`);
    const rows = (await q.toArray()) as { path: string; size: number; mtime_ms: number; vector: { toArray(): Float32Array } }[];
    return rows.map((r) => ({ path: r.path, size: r.size, mtimeMs: r.mtime_ms, vector: Float32Array.from(r.vector.toArray()) }));
  }

  /** Inserts or replaces rows by path (creating the table on the first write). */
  async upsert(rows: readonly StoreRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.write(async () => {
      const { table, arrow } = await this.prepare(rows);
      await retryConflicts(`cannot write rows to ${this.uri}`, () => table.mergeInsert('path').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(arrow));
    });
  }

  /** Appends rows whose paths are not in the table yet (a bulk load: no lookup by path). */
  async append(rows: readonly StoreRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.write(() => this.add(rows));
  }

  private async add(rows: readonly StoreRow[]): Promise<void> {
    const { table, arrow } = await this.prepare(rows);
    await retryConflicts(`cannot write rows to ${this.uri}`, () => table.add(arrow));
  }

  private async prepare(rows: readonly StoreRow[]) {
    const dim = rows[0].vector.length;
    if (!this.images) {
      this.images = await this.db.createEmptyTable(IMAGES_TABLE, imagesSchema(dim), { mode: 'create', existOk: true });
    }
    const have = await this.dim();
    if (have !== dim) throw new CliError(`the model gives ${dim}-d embeddings, ${this.uri} holds ${have}-d`);
    return { table: this.images, arrow: arrowRows(rows, dim) };
  }

  async delete(paths: readonly string[]): Promise<void> {
    if (paths.length > 0) await this.write(() => this.remove(paths));
  }

  private async remove(paths: readonly string[]): Promise<void> {
    const table = this.images;
    if (!table) return;
    for (let i = 0; i < paths.length; i += 500) {
      const part = paths.slice(i, i + 500);
      await retryConflicts(`cannot delete rows from ${this.uri}`, () => table.delete(`path IN (${part.map(sqlString).join(', ')})`));
    }
  }

  /**
   * Collapses rows that share a path to one (as one guarded write). Two writers that insert the same
   * new path at the same moment both commit (LanceDB's merge-insert does not see the other's row):
   * this happens only to writers without the queue's write lock, two `index --db` runs at once.
   * Returns how many rows were removed.
   */
  dedupe(): Promise<number> {
    return this.write(() => this.collapse());
  }

  private async collapse(): Promise<number> {
    const seen = new Set<string>();
    const twice = new Set<string>();
    let total = 0;
    for (const { path } of await this.stamps()) {
      total++;
      if (seen.has(path)) twice.add(path);
      else seen.add(path);
    }
    if (twice.size === 0) return 0;
    const one = new Map<string, StoreRow>();
    for (const r of await this.rows([...twice])) one.set(r.path, r);
    await this.remove([...twice]);
    await this.add([...one.values()]);
    return total - seen.size;
  }

  /** The name of the index over `vector`, or null. */
  private async vectorIndex(): Promise<string | null> {
    if (!this.images) return null;
    return (await this.images.listIndices()).find((ix) => ix.columns.includes('vector'))?.name ?? null;
  }

  async hasVectorIndex(): Promise<boolean> {
    return (await this.vectorIndex()) !== null;
  }

  /**
   * With at least `threshold` rows: builds the IVF-PQ index (cosine; √rows partitions, dim/16
   * sub-vectors), or folds rows written since (by this process or by workers) into the existing
   * one. Returns what it did. Not under the write guard: it adds or removes no row, and a long
   * build must not hold the workers' commits up (Lance retries an index commit that raced one).
   */
  async maintainIndex(threshold: number): Promise<'built' | 'updated' | 'none'> {
    await this.refresh();
    const table = this.images;
    if (!table) return 'none';
    const name = await this.vectorIndex();
    if (name !== null) {
      if (!(await table.indexStats(name))?.numUnindexedRows) return 'none';
      await retryConflicts(`cannot update the vector index of ${this.uri}`, () => table.optimize());
      return 'updated';
    }
    const rows = await table.countRows();
    if (rows < threshold) return 'none';
    const dim = (await this.dim())!;
    const { Index } = await lancedb();
    const numSubVectors = [16, 8, 4, 2, 1].map((w) => dim / w).find((n) => Number.isInteger(n) && dim / n >= 8) ?? 1;
    await table.createIndex('vector', {
      config: Index.ivfPq({ distanceType: 'cosine', numPartitions: Math.max(1, Math.round(Math.sqrt(rows))), numSubVectors }),
    });
    return 'built';
  }

  /** The k rows nearest each query by cosine similarity, best first (score = 1 − cosine distance). */
  async search(query: Float32Array, k: number, o: SearchSettings = {}): Promise<Hit[]> {
    if (!this.images) return [];
    let q = this.images.vectorSearch(query).distanceType('cosine').limit(k).select(['path', '_distance']);
    if (o.exact) q = q.bypassVectorIndex();
    else q = q.nprobes(o.nprobes ?? DEFAULT_NPROBES).refineFactor(o.refineFactor ?? DEFAULT_REFINE_FACTOR);
    const rows = (await q.toArray()) as { path: string; _distance: number }[];
    return rows.map((r) => ({ path: r.path, score: 1 - r._distance }));
  }

  close(): void {
    this.images?.close();
    this.db.close();
  }
}
