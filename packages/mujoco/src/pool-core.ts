/**
 * The rollout pool's logic, independent of the kind of worker (internal):
 * `pool.ts` starts it on Node's `worker_threads`, `pool-web.ts` on a
 * browser's Web Workers, through the small {@link WorkerHost} interface.
 *
 * @module
 */
import { assertInteger, assertOptions, describeValue } from '@dcem/errors';
import { assertState, type EnvState } from './env.js';
import { assertActions } from './errors.js';
import type { FromWorker, RolloutRequest, ToWorker, WorkerInit } from './protocol.js';
import { type TaskName, taskDefinition } from './tasks/index.js';

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

/** What a worker reports to its pool. */
export interface WorkerEvents {
  /** A message from the worker. */
  message(message: FromWorker): void;
  /** The worker failed (an uncaught exception, or it could not load). */
  error(error: Error): void;
  /** The worker stopped (Node: its exit code; after `terminate`). */
  exit(code: number): void;
}

/** A started worker, as the pool uses it. */
export interface WorkerHandle {
  /** Sends a message, transferring the given buffers. */
  postMessage(message: ToWorker, transfer?: ArrayBuffer[]): void;
  /** Lets the process exit while this worker is idle (Node only; a no-op elsewhere). */
  idle(): void;
  /** Keeps the process alive while this worker works (Node only; a no-op elsewhere). */
  busy(): void;
  /** Stops the worker; `exit` is reported afterwards. */
  terminate(): Promise<void>;
}

/** Starts one worker of a pool for a task: Node's worker_threads or a Web Worker. */
export type WorkerHost = (init: WorkerInit, events: WorkerEvents) => WorkerHandle;

interface Pending {
  resolve(message: Extract<FromWorker, { type: 'result' }>): void;
  reject(error: Error): void;
}

/** One worker and what it is doing. */
class Slot {
  worker: WorkerHandle | undefined;
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
      let worker: WorkerHandle | undefined;
      let started = false;
      const fail = (why: string) => {
        if (worker === undefined || this.worker !== worker) return;
        this.worker = undefined;
        const error = new Error(`rollout worker ${this.index} ${why}`);
        if (!started) reject(error);
        const pending = this.pending;
        this.pending = undefined;
        pending?.reject(error);
        if (started) this.pool.onCrash(this);
      };
      worker = this.pool.host(init, {
        message: (message: FromWorker) => {
          if (message.type === 'ready') {
            started = true;
            this.pool.stateSize = message.stateSize;
            this.pool.actionDim = message.actionDim;
            worker?.idle();
            resolve();
            return;
          }
          const pending = this.pending;
          this.pending = undefined;
          if (pending === undefined) return;
          if (message.type === 'result') pending.resolve(message);
          else pending.reject(new Error(`rollout worker ${this.index} failed: ${message.message}`));
        },
        error: (error) => fail(`crashed: ${error.message}`),
        exit: (code) =>
          fail(this.pool.closed ? 'stopped: the pool was closed' : `exited unexpectedly with code ${code}`),
      });
      this.worker = worker;
    });
  }

  run(request: RolloutRequest): Promise<Extract<FromWorker, { type: 'result' }>> {
    const worker = this.worker;
    if (worker === undefined) return Promise.reject(new Error(`rollout worker ${this.index} is not running`));
    return new Promise((resolve, reject) => {
      worker.busy();
      const done = () => this.worker?.idle();
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

const ZERO_STATS: RolloutStats = {
  calls: 0,
  sequences: 0,
  physicsSteps: 0,
  divergences: 0,
  wallMs: 0,
  simulatorMs: 0,
  respawns: 0,
};

/** A pool of workers (internal: made by `startPoolOn`). */
export class Pool implements RolloutPool {
  readonly name: TaskName;
  readonly workers: number;
  readonly actionRepeat: number;
  actionDim = 0;
  readonly wasm: object;
  /** Starts a worker. */
  readonly host: WorkerHost;
  stateSize = 0;
  closed = false;
  private closeReason: Error | undefined;
  private readonly slots: Slot[];
  private queue: Promise<unknown> = Promise.resolve();
  private counters: { -readonly [K in keyof RolloutStats]: number } = { ...ZERO_STATS };
  private nextId = 0;

  constructor(name: TaskName, workers: number, actionRepeat: number, wasm: object, host: WorkerHost) {
    this.host = host;
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
 * Starts a pool of `workers` workers made by `host` (internal), each loading
 * `wasm` for task `name`; resolves once every worker is ready.
 */
export async function startPoolOn(
  name: TaskName,
  workers: number,
  actionRepeat: number,
  wasm: object,
  host: WorkerHost,
): Promise<RolloutPool> {
  const task = taskDefinition(name);
  const pool = new Pool(task.name as TaskName, workers, actionRepeat, wasm, host);
  await pool.started();
  return pool;
}
