// Embedding spread over workers with BullMQ: `resnet50 index DIR --db PATH --queue redis://…` splits
// the files to embed into shards, enqueues one job per shard on the queue `resnet50-index`, and
// (unless --detach) follows them until the last is done or has failed for good, showing images done
// / total, images/s over all workers and failures. `resnet50 worker` (worker.ts) runs the jobs.
import { randomBytes } from 'node:crypto';
import { SingleBar } from 'cli-progress';
import type { Preset } from '../image/preprocess.ts';
import type { Arch } from '../nn/network.ts';
import type { FileStamp } from '../search/index.ts';
import type { ImageFailure } from './db-embed.ts';
import { redact, type RedisTarget } from './redis.ts';

export const QUEUE_NAME = 'resnet50-index';
/** attempts per shard before its files are reported as failed */
export const SHARD_ATTEMPTS = 3;

/** A job: the files of one shard and the settings to embed them with. */
export interface ShardJob {
  /** the LanceDB database (an absolute path or a URI), as every worker must open it */
  readonly db: string;
  /** the indexed folder, absolute */
  readonly root: string;
  readonly files: readonly FileStamp[];
  /** a weights path (absolute), name or URL, the SHA-256 it must have, and its architecture */
  readonly weights: { readonly source: string; readonly sha256: string; readonly arch?: Arch };
  readonly preset: Preset;
  readonly precision: 'f32' | 'f16';
  readonly batch: number;
}

export interface ShardResult {
  readonly embedded: number;
  readonly failures: readonly ImageFailure[];
}

export interface ShardProgress {
  readonly done: number;
  readonly failed: number;
}

export interface QueueRun {
  readonly embedded: number;
  readonly failures: ImageFailure[];
}

type BullMQ = typeof import('bullmq');
export const bullmq = (): Promise<BullMQ> => import('bullmq');

/** The shards of `files`, `size` files each (the last may be smaller). */
export function shardFiles<T>(files: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < files.length; i += size) out.push(files.slice(i, i + size));
  return out;
}

/** Enqueues the shards (Redis checked by the caller); unless `detach`, waits for all of them, showing progress on stderr. */
export async function runOnQueue(target: RedisTarget, shards: readonly ShardJob[], o: { detach: boolean; quiet: boolean }): Promise<QueueRun | null> {
  const { Queue, Job } = await bullmq();
  const queue = new Queue<ShardJob, ShardResult, 'shard'>(QUEUE_NAME, { connection: target.options });
  queue.on('error', (e) => process.stderr.write(`resnet50 index: Redis: ${redact(e.message, target)}\n`));
  const run = randomBytes(4).toString('hex');
  const total = shards.reduce((n, s) => n + s.files.length, 0);
  try {
    await queue.addBulk(
      shards.map((data, n) => ({
        name: 'shard',
        data,
        opts: { jobId: `${run}-${n}`, attempts: SHARD_ATTEMPTS, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: { age: 7 * 86400 }, removeOnFail: { age: 7 * 86400 } },
      })),
    );
    if (!o.quiet) process.stderr.write(`resnet50 index: ${total} image(s) in ${shards.length} shard(s) queued on ${target.shown} as run ${run}\n`);
    if (o.detach) return null;

    const pending = new Map(shards.map((s, n) => [`${run}-${n}`, s]));
    const progress = new Map<string, ShardProgress>();
    const result: { embedded: number; failures: ImageFailure[] } = { embedded: 0, failures: [] };
    const finished = { done: 0, failed: 0 };
    const started = performance.now();
    const tty = !o.quiet && process.stderr.isTTY === true;
    const bar = tty ? new SingleBar({ format: 'resnet50 index: {bar} {value}/{total} images | {rate} images/s | {failed} failed', hideCursor: true }) : null;
    bar?.start(total, 0, { rate: '-', failed: 0 });
    let lastLine = '';
    let lastAt = 0;
    try {
      while (pending.size > 0) {
        for (const [id, shard] of pending) {
          const job = await Job.fromId<ShardJob, ShardResult>(queue, id);
          const state = job ? await job.getState() : 'unknown';
          if (job && state === 'completed') {
            result.embedded += job.returnvalue.embedded;
            result.failures.push(...job.returnvalue.failures);
            finished.done += shard.files.length;
            finished.failed += job.returnvalue.failures.length;
          } else if (!job || state === 'failed') {
            const why = job ? `its shard failed after ${job.attemptsMade} attempt(s): ${job.failedReason}` : 'its shard was removed from the queue';
            result.failures.push(...shard.files.map((f) => ({ path: f.path, reason: `${f.path}: ${why}` })));
            finished.done += shard.files.length;
            finished.failed += shard.files.length;
          } else {
            const p = job.progress as Partial<ShardProgress> | number;
            if (typeof p === 'object') progress.set(id, { done: p.done ?? 0, failed: p.failed ?? 0 });
            continue;
          }
          pending.delete(id);
          progress.delete(id);
        }
        const inFlight = [...progress.values()].reduce((a, p) => ({ done: a.done + p.done, failed: a.failed + p.failed }), { done: 0, failed: 0 });
        const done = finished.done + inFlight.done;
        const failed = finished.failed + inFlight.failed;
        const seconds = (performance.now() - started) / 1000;
        const rate = done > failed ? ((done - failed) / seconds).toFixed(2) : '-';
        bar?.update(done, { rate, failed });
        const line = `resnet50 index: ${done}/${total} images, ${rate} images/s, ${failed} failed\n`;
        if (!tty && !o.quiet && line !== lastLine && (performance.now() - lastAt > 2000 || pending.size === 0)) {
          process.stderr.write(line);
          lastLine = line;
          lastAt = performance.now();
        }
        if (pending.size > 0) await new Promise((r) => setTimeout(r, 500));
      }
    } finally {
      bar?.stop();
    }
    return result;
  } finally {
    await queue.close();
  }
}
