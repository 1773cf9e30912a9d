import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Job, Worker } from 'bullmq';
import { connectRedis, QUEUE_NAME } from './redis.js';

/** Settings of {@link startWorker}. */
export interface WorkerSettings {
  /** Jobs run at once (each on its own worker thread), default 1. */
  concurrency: number;
  /** Rollout threads each MuJoCo job may start (default: cores / concurrency). */
  workers?: number;
  /**
   * A folder where long jobs (PlaNet runs) keep their checkpoints, one
   * subfolder per job id; on a volume shared by the workers, a job retried on
   * another machine resumes there. Default: none (a retry starts again).
   */
  state?: string;
  /** Whether jobs print their own lines (a PlaNet run's episodes), prefixed with the job id. Default false. */
  jobLogs?: boolean;
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
  if (settings.state !== undefined) process.env.DCEM_JOB_STATE = resolve(settings.state);
  if (settings.jobLogs === true) process.env.DCEM_JOB_LOGS = '1';
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
          void worker.close(true).catch(() => {}); // the threads end with the process
        }
        connection.disconnect();
        resolveClosed();
      })();
      return stopping;
    },
  };
}
