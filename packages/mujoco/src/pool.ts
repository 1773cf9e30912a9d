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
import { assertInteger, assertOptions, describeValue } from '@dcem/errors';
import { assertState, checkActionRepeat, type EnvState } from './env.js';
import { assertActions } from './errors.js';
import type { FromWorker, RolloutRequest, ToWorker, WorkerInit } from './protocol.js';
import { compileMujoco } from './runtime.js';
import { type TaskName, taskDefinition } from './tasks/index.js';

/** Options of {@link createRolloutPool}. */
export interface RolloutPoolOptions {
  /** Number of worker threads. Default: the number of cores (`os.availableParallelism()`). */
  workers?: number;
  /** Control steps per action of a sequence (the action is held fixed); must divide 1000. Default 1. */
  actionRepeat?: number;
}

/** Options of {@link RolloutPool.rollout}. */
export interface RolloutOptions {
  /** Actions per sequence, H. */
  horizon: number;
  /** Actions' length m; checked against the task's when given. */
  actionDim?: number;
}

/** Counters of a pool since its creation. */
export interface RolloutStats {
  /** Completed `rollout` calls. */
  readonly calls: number;
  /** Sequences simulated. */
  readonly sequences: number;
  /** MuJoCo physics steps taken (sequences × horizon × action repeat × physics steps per control step). */
  readonly physicsSteps: number;
  /** Sequences whose simulation diverged (returned NaN). */
  readonly divergences: number;
  /** Wall time of the completed calls (argument checks included, waiting for an earlier call excluded), in milliseconds. */
  readonly wallMs: number;
  /** Of that, the time the slowest worker of each call spent simulating; `wallMs − simulatorMs` is the pool's overhead. */
  readonly simulatorMs: number;
  /** Workers started again after a crash. */
  readonly respawns: number;
}

/** A pool of rollout workers for one task (see {@link createRolloutPool}). */
export interface RolloutPool {
  /** The task. */
  readonly name: TaskName;
  /** Number of worker threads. */
  readonly workers: number;
  /** Control steps per action. */
  readonly actionRepeat: number;
  /** The task's action length m. */
  readonly actionDim: number;
  /**
   * Simulates action sequences from start states and returns their returns.
   *
   * With S = `states.length` start states and K sequences per start state,
   * `actionSequences` holds count = S·K sequences, [count × H × m] (row-major;
   * sequences 0..K−1 start from `states[0]`, K..2K−1 from `states[1]`, …).
   * Returns R_q = Σ_{h<H} Σ_{r<actionRepeat} reward_{q,h,r} for each sequence q
   * (NaN where the simulation diverged). Calls are queued and run one at a time.
   */
  rollout(
    states: readonly EnvState[],
    actionSequences: Float32Array | Float64Array,
    options: RolloutOptions,
  ): Promise<Float64Array>;
  /** The pool's counters. */
  stats(): RolloutStats;
  /** Terminates the workers; a call in flight rejects. Idempotent. */
  close(): Promise<void>;
}

interface Pending {
  resolve(message: Extract<FromWorker, { type: 'result' }>): void;
  reject(error: Error): void;
}

/** One worker thread and what it is doing. */
class Slot {
  worker: Worker | undefined;
  ready: Promise<void>;
  pending: Pending | undefined;

  constructor(
    readonly index: number,
    private readonly pool: Pool,
  ) {
    this.ready = this.start();
  }

  start(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const init: WorkerInit = { task: this.pool.name, wasm: this.pool.wasm };
      // Workers inherit Node's flags, except those that only make sense for the main script.
      const execArgv = process.execArgv.filter(
        (a) => !a.startsWith('--input-type') && !a.startsWith('--eval'),
      );
      const worker = new Worker(this.pool.script, { workerData: init, execArgv });
      this.worker = worker;
      let started = false;
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'ready') {
          started = true;
          this.pool.stateSize = message.stateSize;
          this.pool.actionDim = message.actionDim;
          worker.unref();
          resolve();
          return;
        }
        const pending = this.pending;
        this.pending = undefined;
        if (pending === undefined) return;
        if (message.type === 'result') pending.resolve(message);
        else pending.reject(new Error(`rollout worker ${this.index} failed: ${message.message}`));
      });
      const fail = (why: string) => {
        if (this.worker !== worker) return;
        this.worker = undefined;
        const error = new Error(`rollout worker ${this.index} ${why}`);
        if (!started) reject(error);
        const pending = this.pending;
        this.pending = undefined;
        pending?.reject(error);
        if (started) this.pool.onCrash(this);
      };
      worker.on('error', (error) => fail(`crashed: ${error.message}`));
      worker.on('exit', (code) =>
        fail(this.pool.closed ? 'stopped: the pool was closed' : `exited unexpectedly with code ${code}`),
      );
    });
  }

  run(request: RolloutRequest): Promise<Extract<FromWorker, { type: 'result' }>> {
    const worker = this.worker;
    if (worker === undefined) return Promise.reject(new Error(`rollout worker ${this.index} is not running`));
    return new Promise((resolve, reject) => {
      worker.ref();
      const done = () => this.worker?.unref();
      this.pending = {
        resolve: (m) => {
          done();
          resolve(m);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      };
      const message: ToWorker = request;
      worker.postMessage(message, [request.actions.buffer as ArrayBuffer]);
    });
  }

  async terminate(): Promise<void> {
    const worker = this.worker;
    if (worker !== undefined) await worker.terminate();
  }
}

/** The compiled worker script (tests that run the sources use the built copy). */
function workerUrl(): URL {
  const here = new URL('./rollout-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  return new URL('../dist/rollout-worker.js', import.meta.url);
}

const ZERO_STATS: RolloutStats = {
  calls: 0,
  sequences: 0,
  physicsSteps: 0,
  divergences: 0,
  wallMs: 0,
  simulatorMs: 0,
  respawns: 0,
};

class Pool implements RolloutPool {
  readonly name: TaskName;
  readonly workers: number;
  readonly actionRepeat: number;
  actionDim = 0;
  readonly wasm: object;
  /** The worker script (tests substitute a failing one). */
  readonly script: URL;
  stateSize = 0;
  closed = false;
  private closeReason: Error | undefined;
  private readonly slots: Slot[];
  private queue: Promise<unknown> = Promise.resolve();
  private counters: { -readonly [K in keyof RolloutStats]: number } = { ...ZERO_STATS };
  private nextId = 0;

  constructor(name: TaskName, workers: number, actionRepeat: number, wasm: object, script: URL) {
    this.script = script;
    this.name = name;
    this.workers = workers;
    this.actionRepeat = actionRepeat;
    this.wasm = wasm;
    this.slots = Array.from({ length: workers }, (_, i) => new Slot(i, this));
  }

  async started(): Promise<void> {
    try {
      await Promise.all(this.slots.map((s) => s.ready));
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  onCrash(slot: Slot): void {
    if (this.closed) return;
    this.counters.respawns++;
    slot.ready = slot.start();
    slot.ready.catch((error: unknown) => {
      // A worker that cannot start again shuts the pool down.
      this.closeReason = error instanceof Error ? error : new Error(String(error));
      void this.close();
    });
  }

  rollout(
    states: readonly EnvState[],
    actionSequences: Float32Array | Float64Array,
    options: RolloutOptions,
  ): Promise<Float64Array> {
    try {
      this.assertOpen();
      const t0 = performance.now();
      const call = this.validate(states, actionSequences, options);
      const validationMs = performance.now() - t0;
      const result = this.queue.then(() => this.run(call, validationMs));
      this.queue = result.catch(() => undefined);
      return result;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private assertOpen(): void {
    if (this.closed) {
      const why = this.closeReason === undefined ? 'close() was called' : this.closeReason.message;
      throw new Error(`the ${this.name} rollout pool is closed (${why})`);
    }
  }

  private validate(
    states: readonly EnvState[],
    actions: Float32Array | Float64Array,
    options: RolloutOptions,
  ) {
    if (!Array.isArray(states) || states.length === 0) {
      throw new TypeError(`states must be a non-empty array of EnvState, received ${describeValue(states)}`);
    }
    const task = taskDefinition(this.name);
    states.forEach((s, i) => {
      assertState(`states[${i}]`, s, task, this.stateSize);
    });
    if (!(actions instanceof Float32Array || actions instanceof Float64Array)) {
      throw new TypeError(
        `actionSequences must be a Float32Array or Float64Array, received ${describeValue(actions)}`,
      );
    }
    if (options === null || typeof options !== 'object') {
      throw new TypeError(
        `rollout options must be an object with a horizon, received ${describeValue(options)}`,
      );
    }
    assertOptions('rollout options', options, ['horizon', 'actionDim']);
    assertInteger('options.horizon', options.horizon, 1);
    const m = this.actionDim;
    if (options.actionDim !== undefined && options.actionDim !== m) {
      throw new RangeError(
        `options.actionDim must be ${m} for ${this.name}, received ${describeValue(options.actionDim)}`,
      );
    }
    const H = options.horizon;
    const count = actions.length / (H * m);
    if (!Number.isInteger(count) || count === 0 || count % states.length !== 0) {
      throw new RangeError(
        `actionSequences must have length count × horizon × actionDim = count × ${H} × ${m}, with count a positive multiple of states.length = ${states.length}; received length ${actions.length}`,
      );
    }
    assertActions(actions, 0, actions.length, (i) => {
      const q = Math.floor(i / (H * m));
      return `actionSequences[${i}] (sequence ${q}, step ${Math.floor(i / m) % H}, actuator ${i % m})`;
    });
    return { states, actions, H, count, perState: count / states.length };
  }

  private async run(
    call: {
      states: readonly EnvState[];
      actions: Float32Array | Float64Array;
      H: number;
      count: number;
      perState: number;
    },
    validationMs: number,
  ): Promise<Float64Array> {
    this.assertOpen();
    const start = performance.now();
    await Promise.all(this.slots.map((s) => s.ready));
    const { states, actions, H, count, perState } = call;
    const m = this.actionDim;
    const used = Math.min(this.workers, count);
    const id = this.nextId++;
    const parts = [];
    for (let w = 0; w < used; w++) {
      const first = Math.floor((w * count) / used);
      const end = Math.floor(((w + 1) * count) / used);
      const slice = actions.slice(first * H * m, end * H * m);
      const request: RolloutRequest = {
        type: 'rollout',
        id,
        states,
        perState,
        first,
        count: end - first,
        horizon: H,
        actionRepeat: this.actionRepeat,
        actions: slice,
      };
      parts.push((this.slots[w] as Slot).run(request).then((r) => ({ first, r })));
    }
    const settled = await Promise.allSettled(parts);
    const returns = new Float64Array(count);
    let busy = 0;
    let steps = 0;
    let divergences = 0;
    for (const s of settled) {
      if (s.status === 'rejected') throw s.reason;
      returns.set(s.value.r.returns, s.value.first);
      busy = Math.max(busy, s.value.r.busyMs);
      steps += s.value.r.physicsSteps;
      divergences += s.value.r.divergences;
    }
    const c = this.counters;
    c.calls++;
    c.sequences += count;
    c.physicsSteps += steps;
    c.divergences += divergences;
    c.wallMs += performance.now() - start + validationMs;
    c.simulatorMs += busy;
    return returns;
  }

  stats(): RolloutStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.terminate()));
  }

  /** Test hook: makes worker `index` die. */
  fail(index: number, how: 'throw' | 'exit'): void {
    const message: ToWorker = { type: 'fail', how };
    this.slots[index]?.worker?.postMessage(message);
  }
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
  const task = taskDefinition(name);
  assertOptions('createRolloutPool options', options, ['workers', 'actionRepeat']);
  const workers = options?.workers ?? availableParallelism();
  assertInteger('options.workers', workers, 1);
  const actionRepeat = checkActionRepeat('options.actionRepeat', options?.actionRepeat);
  const wasm = await compileMujoco();
  const pool = new Pool(task.name as TaskName, workers, actionRepeat, wasm, script);
  await pool.started();
  return pool;
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
