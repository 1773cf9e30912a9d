/**
 * Batched rollouts on a pool of worker threads, each with its own MuJoCo
 * model and data.
 *
 * @module
 */

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { assertInteger, assertOptions } from '@dcem/errors';
import { checkActionRepeat } from './env.js';
import { Pool, type RolloutPool, startPoolOn, type WorkerHost } from './pool-core.js';
import type { FromWorker, ToWorker } from './protocol.js';
import { compileMujoco } from './runtime.js';
import { type TaskName, taskDefinition } from './tasks/index.js';

export type { RolloutOptions, RolloutPool, RolloutStats } from './pool-core.js';

/** Options of {@link createRolloutPool}. */
export interface RolloutPoolOptions {
  /** Number of worker threads. Default: the number of cores (`os.availableParallelism()`). */
  workers?: number;
  /** Control steps per action of a sequence (the action is held fixed); must divide 1000. Default 1. */
  actionRepeat?: number;
}

/** Node's worker_threads as a {@link WorkerHost}: each worker runs `script`. */
function threadHost(script: URL): WorkerHost {
  return (init, events) => {
    // Workers inherit Node's flags, except those that only make sense for the main script.
    const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type') && !a.startsWith('--eval'));
    const worker = new Worker(script, { workerData: init, execArgv });
    worker.on('message', (message: FromWorker) => events.message(message));
    worker.on('error', (error) => events.error(error));
    worker.on('exit', (code) => events.exit(code));
    return {
      postMessage: (message: ToWorker, transfer?: ArrayBuffer[]) => worker.postMessage(message, transfer),
      idle: () => worker.unref(),
      busy: () => worker.ref(),
      terminate: async () => {
        await worker.terminate();
      },
    };
  };
}

/** The compiled worker script (tests that run the sources use the built copy). */
function workerUrl(): URL {
  const here = new URL('./rollout-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  return new URL('../dist/rollout-worker.js', import.meta.url);
}

/**
 * Starts a pool of worker threads that simulate action sequences of one task
 * in parallel, each worker holding its own MuJoCo model and data (the
 * WebAssembly module is compiled once and shared). This is the fast path for
 * planners that use the simulator as their model: a cost over action
 * sequences [batch, N, H, m] is a thin wrapper around `pool.rollout`.
 *
 * The pool must be closed with `close()`. Idle workers do not keep the
 * process alive. A worker that crashes rejects the call in flight with an
 * error naming it and is started again, so the pool stays usable; if it cannot
 * start again, or a worker fails while the pool starts, the pool shuts down.
 * Results are bit-for-bit those of a main-thread {@link MujocoEnv} stepped with
 * the same actions from the same state.
 *
 * @param name - One of {@link TASK_NAMES}.
 * @param options - Number of workers and action repeat.
 * @returns A promise of the started pool.
 * @throws RangeError for an unknown task, a worker count < 1 or an action repeat not dividing 1000.
 * @example
 * ```ts
 * import { createRolloutPool, makeEnv } from '@dcem/mujoco';
 * const env = await makeEnv('cartpole-swingup', { seed: 0 });
 * const pool = await createRolloutPool('cartpole-swingup', { workers: 2, actionRepeat: 8 });
 * const horizon = 3;
 * const sequences = new Float32Array(4 * horizon * pool.actionDim).fill(0.5); // 4 sequences
 * const returns = await pool.rollout([env.getState()], sequences, { horizon });
 * await pool.close();
 * env.dispose();
 * ```
 */
export function createRolloutPool(name: TaskName, options?: RolloutPoolOptions): Promise<RolloutPool> {
  return startPool(name, options, workerUrl());
}

async function startPool(
  name: TaskName,
  options: RolloutPoolOptions | undefined,
  script: URL,
): Promise<RolloutPool> {
  taskDefinition(name);
  assertOptions('createRolloutPool options', options, ['workers', 'actionRepeat']);
  const workers = options?.workers ?? availableParallelism();
  assertInteger('options.workers', workers, 1);
  const actionRepeat = checkActionRepeat('options.actionRepeat', options?.actionRepeat);
  const wasm = await compileMujoco();
  return startPoolOn(name, workers, actionRepeat, wasm, threadHost(script));
}

/** Test hook (not exported from the package): a pool whose workers run `script`. */
export function createRolloutPoolWithScript(
  name: TaskName,
  options: RolloutPoolOptions | undefined,
  script: URL,
): Promise<RolloutPool> {
  return startPool(name, options, script);
}

/** Test hook (not exported from the package): makes worker `index` of `pool` die. */
export function failWorkerForTesting(pool: RolloutPool, index: number, how: 'throw' | 'exit'): void {
  if (!(pool instanceof Pool)) throw new TypeError('expected a pool made by createRolloutPool');
  pool.fail(index, how);
}
