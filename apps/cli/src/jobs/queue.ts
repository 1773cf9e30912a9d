import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { type JobSpec, jobId } from '@dcem/tasks';
import { Job, Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';

/** The BullMQ queue every study and worker uses (one Redis can serve many studies: ids are hashes of the jobs). */
export const QUEUE_NAME = 'dcem-jobs';

/** How long to wait for Redis at start before failing with an error that names the URL. */
export const CONNECT_TIMEOUT_MS = 5000;

/** Checks a `--queue` value: a `redis://` or `rediss://` URL. */
export function checkQueueUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`--queue must be a Redis URL such as redis://localhost:6379, received "${url}"`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new TypeError(`--queue must be a redis:// or rediss:// URL, received "${url}"`);
  }
  return url;
}

/** The URL without its password, for messages. */
export function showUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/**
 * Connects to Redis, or fails within `timeoutMs` with an error naming the URL
 * (never a hang): one attempt, no retries. The connection then reconnects by
 * itself if Redis goes away (BullMQ waits for it).
 */
export async function connectRedis(url: string, timeoutMs = CONNECT_TIMEOUT_MS): Promise<Redis> {
  checkQueueUrl(url);
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  probe.on('error', () => {}); // reported below
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        await probe.connect();
        await probe.ping();
      })(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
      }),
    ]);
  } catch (error) {
    probe.disconnect();
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `cannot reach Redis at ${showUrl(url)}: ${reason} (start redis-server there, or run without --queue; see docs/scaling.md)`,
    );
  } finally {
    clearTimeout(timer);
  }
  probe.disconnect();
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  connection.on('error', () => {}); // ioredis reconnects; BullMQ reports lasting failures
  return connection;
}

/** Retries and retention of the jobs a study adds. */
export const JOB_OPTIONS = Object.freeze({
  attempts: 3,
  backoff: { type: 'exponential', delay: 5000 },
  removeOnComplete: { age: 7 * 24 * 3600 },
  removeOnFail: { age: 7 * 24 * 3600 },
});

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
    const job = await Job.fromId(queue, id);
    if (job === undefined) {
      // Removed (finished more than a week ago, or by hand): add it again.
      const spec = pending.get(id);
      if (spec !== undefined) await queue.add(spec.kind, spec, { ...JOB_OPTIONS, jobId: id });
      return;
    }
    const state = await job.getState();
    if (state === 'completed') finishOk(id, job.returnvalue);
    else if (state === 'failed') {
      if (retryOld && (job.finishedOn ?? 0) < started) await job.retry('failed');
      else finishFailed(id, job.failedReason);
    }
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
      if (pending.has(id)) void sweepOne(id);
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

/** Settings of {@link startWorker}. */
export interface WorkerSettings {
  /** Jobs run at once (each on its own worker thread), default 1. */
  concurrency: number;
  /** Rollout threads each MuJoCo job may start (default: cores / concurrency). */
  workers?: number;
  /** How long a job's lock lasts without renewal (ms); the worker renews it every half of it. Default 30 000. */
  lockDuration?: number;
  /** How often this worker looks for jobs whose lock expired (a dead worker's) and returns them to the queue (ms). Default 30 000. */
  stalledInterval?: number;
  /** How many times a job may be found stalled before it fails, default 3. */
  maxStalledCount?: number;
  /** A line for people. */
  log: (line: string) => void;
}

/** A running worker. */
export interface RunningWorker {
  /**
   * Stops taking jobs and waits for the active ones to finish; after
   * `graceMs` (if given), returns the unfinished ones to the queue at once
   * and stops.
   */
  stop(graceMs?: number): Promise<void>;
  /** Resolves when the worker has stopped. */
  closed: Promise<void>;
}

/**
 * Starts a BullMQ worker that runs the jobs of {@link QUEUE_NAME} on worker
 * threads (BullMQ's sandboxed processors: `processor.js`), so that a job that
 * keeps its thread busy for hours does not block the lock renewals, which run
 * on this thread's event loop.
 */
export async function startWorker(url: string, settings: WorkerSettings): Promise<RunningWorker> {
  const connection = await connectRedis(url);
  if (settings.workers !== undefined) process.env.DCEM_JOB_WORKERS = String(settings.workers);
  const processor = fileURLToPath(new URL('./processor.js', import.meta.url));
  const worker = new Worker(QUEUE_NAME, processor, {
    connection,
    concurrency: settings.concurrency,
    useWorkerThreads: true,
    lockDuration: settings.lockDuration ?? 30_000,
    stalledInterval: settings.stalledInterval ?? 30_000,
    maxStalledCount: settings.maxStalledCount ?? 3,
    name: `${hostname()}:${process.pid}`,
  });
  const active = new Map<string, Job>();
  const started = new Map<string, number>();
  worker.on('active', (job) => {
    active.set(job.id as string, job);
    started.set(job.id as string, Date.now());
    settings.log(`started ${job.id} (${job.name}, attempt ${job.attemptsMade + 1})`);
  });
  worker.on('completed', (job) => {
    active.delete(job.id as string);
    const s = ((Date.now() - (started.get(job.id as string) ?? Date.now())) / 1000).toFixed(1);
    settings.log(`completed ${job.id} in ${s} s`);
  });
  worker.on('failed', (job, error) => {
    if (job !== undefined) active.delete(job.id as string);
    settings.log(`failed ${job?.id ?? '?'}: ${error.message}`);
  });
  worker.on('error', (error) => settings.log(`worker error: ${error.message}`));
  await worker.waitUntilReady();
  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  let stopping: Promise<void> | undefined;
  return {
    closed,
    stop(graceMs) {
      stopping ??= (async () => {
        const graceful = worker.close();
        let timer: NodeJS.Timeout | undefined;
        const timedOut =
          graceMs === undefined
            ? new Promise<boolean>(() => {})
            : new Promise<boolean>((resolve) => {
                timer = setTimeout(() => resolve(true), graceMs);
              });
        const late = await Promise.race([graceful.then(() => false), timedOut]);
        clearTimeout(timer);
        if (late) {
          for (const job of active.values()) {
            await job.moveToWait(job.token).catch(() => {});
            settings.log(`returned ${job.id} to the queue`);
          }
          await worker.close(true).catch(() => {});
        }
        connection.disconnect();
        resolveClosed();
      })();
      return stopping;
    },
  };
}
