// BullMQ's sandboxed processor: each `dcem worker` runs its jobs in worker
// threads that load this file, so a CPU-heavy job never blocks the worker's
// main thread, which renews the job's lock and talks to Redis.
import { join } from 'node:path';
import { BACKEND_ORDER, type BackendName, useBackend } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import { type SandboxedJob, UnrecoverableError } from 'bullmq';
import { JOBS } from './registry.js';

tf.enableProdMode();

/** Runs one job: checks its specification (a malformed one fails at once, never retried), then runs it. */
export default async function processJob(job: SandboxedJob): Promise<unknown> {
  let parsed: ReturnType<typeof JOBS.parse>;
  try {
    parsed = JOBS.parse(job.data);
  } catch (error) {
    // A typed error (TypeError, RangeError) about the specification: retrying cannot help.
    const e = error instanceof Error ? error : new Error(String(error));
    throw new UnrecoverableError(`malformed job specification (${e.name}): ${e.message}`);
  }
  const { backend } = parsed.spec;
  if (backend !== undefined) {
    if (!(BACKEND_ORDER as readonly string[]).includes(backend)) {
      throw new UnrecoverableError(
        `malformed job specification (RangeError): unknown tfjs backend "${backend}"`,
      );
    }
    if (tf.getBackend() !== backend) await useBackend(backend as BackendName);
  }
  const workers = process.env.DCEM_JOB_WORKERS;
  const state = process.env.DCEM_JOB_STATE;
  const logs = process.env.DCEM_JOB_LOGS === '1';
  let last = 0;
  return JOBS.run(parsed.spec, {
    ...(workers !== undefined ? { workers: Number(workers) } : {}),
    ...(state !== undefined && job.id !== undefined ? { stateDir: join(state, job.id) } : {}),
    ...(logs ? { log: (line: string) => console.log(`${new Date().toISOString()} ${job.id}: ${line}`) } : {}),
    onProgress: (fraction) => {
      const now = Date.now();
      if (now - last < 500 && fraction < 1) return;
      last = now;
      void job.updateProgress(fraction);
    },
  });
}
