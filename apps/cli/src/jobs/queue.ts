import { type JobSpec, jobId } from '@dcem/tasks';
import { Job, Queue, QueueEvents } from 'bullmq';
import { connectRedis, JOB_OPTIONS, QUEUE_NAME, showUrl } from './redis.js';

/** Progress of a queued study, for its progress bar. */
export interface QueueProgress {
  done: number;
  total: number;
  /** Jobs running now, with their progress in [0, 1]. */
  running: Map<string, number>;
}

/** What {@link runOnQueue} collected. */
export interface QueueOutcome {
  /** Results by id. */
  results: Map<string, unknown>;
  /** Jobs that failed for good, with the reason. */
  failed: Map<string, string>;
}

/** Options of {@link runOnQueue}. */
export interface RunOnQueueOptions {
  /** Each result as it arrives (append it to the study's file). */
  onResult?: (id: string, spec: JobSpec, result: unknown) => void;
  /** Whenever a job starts, progresses or ends. */
  onProgress?: (progress: QueueProgress) => void;
  /** Seconds between sweeps of the pending jobs' states (besides the queue's events), default 5. */
  sweepSeconds?: number;
  /** Give up when Redis has been unreachable this long (seconds), default 300. */
  giveUpSeconds?: number;
}

/**
 * Enqueues a study's jobs (ids: their hashes; a job already in the queue is
 * not added twice, one that failed before is retried) and waits until every
 * one has ended, collecting the results from the queue's events (and a
 * periodic sweep, in case events were missed while Redis was away).
 */
export async function runOnQueue(
  url: string,
  specs: readonly JobSpec[],
  options: RunOnQueueOptions = {},
): Promise<QueueOutcome> {
  const connection = await connectRedis(url);
  const queue = new Queue(QUEUE_NAME, { connection });
  const eventsConnection = connection.duplicate();
  eventsConnection.on('error', () => {});
  const events = new QueueEvents(QUEUE_NAME, { connection: eventsConnection });
  const pending = new Map<string, JobSpec>();
  for (const spec of specs) pending.set(jobId(spec), spec);
  const total = pending.size;
  const results = new Map<string, unknown>();
  const failed = new Map<string, string>();
  const running = new Map<string, number>();
  const report = () => options.onProgress?.({ done: results.size + failed.size, total, running });
  let wake: () => void = () => {};
  const finishOk = (id: string, value: unknown) => {
    const spec = pending.get(id);
    if (spec === undefined) return;
    pending.delete(id);
    running.delete(id);
    results.set(id, value);
    options.onResult?.(id, spec, value);
    report();
    wake();
  };
  const finishFailed = (id: string, reason: string) => {
    if (!pending.has(id)) return;
    pending.delete(id);
    running.delete(id);
    failed.set(id, reason);
    report();
    wake();
  };
  const started = Date.now();
  // Jobs that were already in the queue: finished ones give their result now; failed ones run again.
  const sweepOne = async (id: string, retryOld = false) => {
    // The state first, then the job: a job read first may finish before its state is asked, and would then
    // look completed with the return value it had before (none).
    const state = await queue.getJobState(id);
    if (state === 'unknown') {
      // Removed (finished more than a week ago, or by hand): add it again.
      const spec = pending.get(id);
      if (spec !== undefined) await queue.add(spec.kind, spec, { ...JOB_OPTIONS, jobId: id });
      return;
    }
    if (state !== 'completed' && state !== 'failed') return;
    const job = await Job.fromId(queue, id);
    if (job === undefined) return; // removed in between: the next sweep adds it again
    if (state === 'completed') finishOk(id, job.returnvalue);
    else if (retryOld && (job.finishedOn ?? 0) < started) await job.retry('failed');
    else finishFailed(id, job.failedReason);
  };
  try {
    await events.waitUntilReady();
    events.on('active', ({ jobId: id }) => {
      if (pending.has(id)) {
        running.set(id, 0);
        report();
      }
    });
    events.on('progress', ({ jobId: id, data }) => {
      if (pending.has(id) && typeof data === 'number') {
        running.set(id, data);
        report();
      }
    });
    events.on('completed', ({ jobId: id }) => {
      if (pending.has(id)) sweepOne(id).catch(() => {}); // the periodic sweep tries again
    });
    events.on('failed', ({ jobId: id, failedReason }) => finishFailed(id, failedReason));
    await queue.addBulk(
      [...pending].map(([id, spec]) => ({
        name: spec.kind,
        data: spec,
        opts: { ...JOB_OPTIONS, jobId: id },
      })),
    );
    report();
    for (const id of [...pending.keys()]) await sweepOne(id, true);
    const sweepMs = (options.sweepSeconds ?? 5) * 1000;
    const giveUpMs = (options.giveUpSeconds ?? 300) * 1000;
    let lastContact = Date.now();
    while (pending.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, sweepMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (pending.size === 0) break;
      try {
        await withTimeout(
          (async () => {
            for (const id of [...pending.keys()]) await sweepOne(id);
          })(),
          sweepMs + 10_000,
        );
        lastContact = Date.now();
      } catch (error) {
        if (Date.now() - lastContact > giveUpMs) {
          throw new Error(
            `lost Redis at ${showUrl(url)} for ${Math.round((Date.now() - lastContact) / 1000)} s ` +
              `(${error instanceof Error ? error.message : String(error)}); ${results.size} results collected, ` +
              'the jobs stay queued: run the same command again to collect them',
          );
        }
      }
    }
    return { results, failed };
  } finally {
    // The events' connection blocks in XREAD for up to 10 s: drop it first so that closing is immediate.
    eventsConnection.disconnect();
    await events.close().catch(() => {});
    await queue.close().catch(() => {});
    connection.disconnect();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
