// `resnet50 worker --queue redis://…`: takes shards queued by `resnet50 index … --queue` and embeds
// them into the LanceDB database they name, with the weights (checked by SHA-256), preset and
// precision recorded in the job. BullMQ holds a lock on each shard while it runs, renewed every
// half --lock-seconds; a worker that dies leaves its lock to expire, and then any worker's stalled
// check puts the shard back on the queue. Rows are upserted by path, each commit under the database's
// Redis write lock (write-lock.ts), so a shard embedded twice (a retry, a worker thought dead, two
// workers at once) still leaves one row per image.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Job } from 'bullmq';
import type { Device } from '../api.ts';
import { embedIntoStore, type FileToEmbed, type ImageFailure } from './db-embed.ts';
import { CliError } from './files.ts';
import { bullmq, QUEUE_NAME, SHARD_ATTEMPTS, type ShardJob, type ShardProgress, type ShardResult } from './index-queue.ts';
import { LanceStore } from './lance-store.ts';
import { checkRedis, parseRedisUrl, redact } from './redis.ts';
import { WriteLocks } from './write-lock.ts';
import { checkDevice, checkPreset, LazyModel, positiveInteger, readWeightsFile } from './search.ts';

export const WORKER_USAGE = `usage: resnet50 worker --queue redis://[user:pass@]host:port[/db] [--concurrency 1] [--exit-when-idle]
                       [--lock-seconds 30] [--device webgpu|cpu] [--quiet]
  takes the shards 'resnet50 index <folder> --db <db> --queue …' queued, embeds their images and writes
  the rows to <db> (the machine must read <folder> and <db> at the paths recorded, or <db> is a URI);
  --exit-when-idle: exit once the queue holds no waiting, delayed or running shard; a shard whose
  worker died is run again once its lock (--lock-seconds) has expired; each shard is tried
  ${SHARD_ATTEMPTS} times at most`;

const OPTIONS = {
  queue: { type: 'string' },
  concurrency: { type: 'string', default: '1' },
  'exit-when-idle': { type: 'boolean' },
  'lock-seconds': { type: 'string', default: '30' },
  device: { type: 'string', default: 'webgpu' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Models kept between shards, one per concurrent slot, for the weights of the latest shards. */
class ModelPool {
  private key = '';
  private readonly idle: LazyModel[] = [];

  constructor(private readonly device: Device) {}

  async take(job: ShardJob): Promise<LazyModel> {
    const key = `${job.weights.sha256}/${job.weights.arch}/${job.precision}`;
    if (key !== this.key) {
      this.idle.splice(0).forEach((m) => m.dispose());
      this.key = key;
    }
    const free = this.idle.pop();
    if (free) return free;
    const weights = await readWeightsFile(job.weights.source, { sha256: job.weights.sha256, quiet: true, arch: job.weights.arch });
    return new LazyModel(weights, this.device, checkDevice(this.device, job.precision).precision);
  }

  give(job: ShardJob, model: LazyModel): void {
    if (`${job.weights.sha256}/${job.weights.arch}/${job.precision}` === this.key) this.idle.push(model);
    else model.dispose();
  }

  dispose(): void {
    this.idle.splice(0).forEach((m) => m.dispose());
  }
}

async function locate(root: string, files: ShardJob['files']): Promise<{ found: FileToEmbed[]; missing: ImageFailure[] }> {
  const found: FileToEmbed[] = [];
  const missing: ImageFailure[] = [];
  for (const f of files) {
    const file = join(root, ...f.path.split('/'));
    try {
      const t = await stat(file);
      found.push({ path: f.path, size: t.size, mtimeMs: t.mtimeMs, file });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      missing.push({ path: f.path, reason: `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}` });
    }
  }
  return { found, missing };
}

export async function workerCommand(argv: string[]): Promise<number> {
  try {
    const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
    if (values.help) {
      console.log(WORKER_USAGE);
      return 0;
    }
    if (!values.queue) throw new CliError(`missing --queue redis://host:port\n${WORKER_USAGE}`);
    const target = parseRedisUrl(values.queue);
    const concurrency = positiveInteger(values.concurrency, '--concurrency');
    const lockMs = 1000 * positiveInteger(values['lock-seconds'], '--lock-seconds');
    const { device } = checkDevice(values.device, 'f32');
    const log = (line: string) => values.quiet || process.stderr.write(`resnet50 worker: ${line}\n`);
    await checkRedis(target);
    const locks = await WriteLocks.connect(target);

    const { Worker, Queue } = await bullmq();
    const models = new ModelPool(device);
    const stores = new Map<string, Promise<LanceStore>>();
    let running = 0;
    const processShard = async (job: Job<ShardJob, ShardResult>): Promise<ShardResult> => {
      const d = job.data;
      running++;
      log(`shard ${job.id} started (${d.files.length} file(s), attempt ${job.attemptsMade + 1}/${SHARD_ATTEMPTS})`);
      try {
        const preset = checkPreset(d.preset);
        let store = stores.get(d.db);
        if (!store) stores.set(d.db, (store = LanceStore.open(d.db, { guard: locks.guard(d.db) })));
        const { found, missing } = await locate(d.root, d.files);
        await (await store).delete(missing.map((m) => m.path));
        const model = await models.take(d);
        try {
          const r = await embedIntoStore(await store, found, {
            model,
            preset,
            batch: d.batch,
            chunk: d.batch,
            onChunk: (done, failed) => job.updateProgress({ done: done + missing.length, failed: failed + missing.length } satisfies ShardProgress),
          });
          const failures = [...missing, ...r.failures];
          log(`shard ${job.id} done: ${r.embedded} embedded, ${failures.length} failed`);
          return { embedded: r.embedded, failures };
        } finally {
          models.give(d, model);
        }
      } finally {
        running--;
      }
    };
    const worker = new Worker<ShardJob, ShardResult>(QUEUE_NAME, processShard, {
      connection: { ...target.options, maxRetriesPerRequest: null },
      concurrency,
      lockDuration: lockMs,
      stalledInterval: lockMs,
      maxStalledCount: SHARD_ATTEMPTS - 1,
    });
    worker.on('error', (e) => log(`Redis: ${redact(e.message, target)}`));
    worker.on('failed', (job, e) => job && log(`shard ${job.id} failed (attempt ${job.attemptsMade}/${SHARD_ATTEMPTS}): ${redact(e.message, target)}`));
    log(`waiting for shards on ${target.shown} (concurrency ${concurrency}, lock ${lockMs / 1000} s, device ${device})`);

    const stopped = new Promise<void>((resolveStop) => {
      const stop = () => void worker.close().then(() => resolveStop());
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      if (values['exit-when-idle']) {
        const queue = new Queue(QUEUE_NAME, { connection: target.options });
        const timer = setInterval(async () => {
          if (running > 0) return;
          const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
          if (running === 0 && Object.values(counts).every((n) => n === 0)) {
            clearInterval(timer);
            await queue.close();
            stop();
          }
        }, Math.min(1000, lockMs / 2));
      }
    });
    await stopped;
    models.dispose();
    for (const s of stores.values()) (await s).close();
    locks.close();
    log('exiting');
    return 0;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const known = e instanceof CliError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`resnet50 worker: ${known ? message : `${(e as Error).name ?? 'error'}: ${message}`}\n`);
    return 1;
  }
}
