/**
 * The rollout pool on a browser's Web Workers (the `@dcem/mujoco/web`
 * entry): the same pool as `createRolloutPool`, its workers started by the
 * page, which knows where its bundler put the worker script.
 *
 * @module
 */
import { assertInteger, assertOptions, describeValue } from '@dcem/errors';
import { checkActionRepeat } from './env.js';
import { type RolloutPool, startPoolOn, type WorkerHost } from './pool-core.js';
import type { FromWorker, RolloutRequest, ToWorker } from './protocol.js';
import { startRolloutWorker } from './rollout-worker-core.js';
import { compileMujoco, useCompiledMujoco as setCompiled, type WasmModule } from './runtime.js';
import { type TaskName, taskDefinition } from './tasks/index.js';

/** What the pool needs of a Web Worker (the DOM's `Worker`). */
export interface WebWorkerLike {
  /** Posts a message, transferring the listed buffers. */
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  /** Called with each message event (a `MessageEvent`; its `data` is read). */
  // biome-ignore lint/suspicious/noExplicitAny: the DOM's MessageEvent, which this package's types do not include.
  onmessage: ((event: any) => void) | null;
  /** Called when the worker's script throws or fails to load (an `ErrorEvent`; its `message` is read). */
  // biome-ignore lint/suspicious/noExplicitAny: the DOM's ErrorEvent, as above.
  onerror: ((event: any) => void) | null;
  /** Stops the worker at once. */
  terminate(): void;
}

/** The global scope of a dedicated Web Worker, as {@link serveRollouts} uses it. */
export interface WorkerScopeLike {
  /** Posts a message to the page (or the worker that started this one). */
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  /** Called with each message event. */
  onmessage: ((event: { data: unknown }) => void) | null;
}

/** Options of {@link createWebRolloutPool}. */
export interface WebRolloutPoolOptions {
  /**
   * Starts one Web Worker whose script calls {@link serveRollouts}, for
   * example `() => new Worker(new URL('./rollout.worker.ts', import.meta.url), { type: 'module' })`.
   */
  createWorker: () => WebWorkerLike;
  /** Number of workers. Default: `navigator.hardwareConcurrency` (4 where it is unknown). */
  workers?: number;
  /** Control steps per action of a sequence (the action is held fixed); must divide 1000. Default 1. */
  actionRepeat?: number;
}

function webHost(createWorker: () => WebWorkerLike): WorkerHost {
  return (init, events) => {
    const worker = createWorker();
    let stopped = false;
    worker.onmessage = (event: { data: unknown }) => events.message(event.data as FromWorker);
    worker.onerror = (event: { message?: string; preventDefault?(): void }) => {
      event.preventDefault?.();
      if (stopped) return;
      stopped = true;
      worker.terminate();
      events.error(new Error(event.message ?? 'the worker script failed'));
    };
    const first: ToWorker = { type: 'init', ...init };
    worker.postMessage(first, []);
    return {
      postMessage: (message: ToWorker, transfer?: ArrayBuffer[]) =>
        worker.postMessage(message, transfer ?? []),
      idle: () => {},
      busy: () => {},
      terminate: async () => {
        if (stopped) return;
        stopped = true;
        worker.terminate();
        // A Web Worker has no exit event: report it, as Node does after terminate().
        events.exit(0);
      },
    };
  };
}

/**
 * Starts a pool of Web Workers that simulate action sequences of one task in
 * parallel: {@link RolloutPool} as `createRolloutPool` of `@dcem/mujoco`
 * makes it on Node's worker threads (same results, bit for bit), for pages.
 * Each worker's script must call {@link serveRollouts}; the compiled MuJoCo
 * module given to {@link useCompiledMujoco} (or compiled by
 * {@link compileMujocoFrom}) is posted to every worker, so it is fetched and
 * compiled once. Plain Web Workers need no cross-origin isolation.
 *
 * @param name - One of `TASK_NAMES`.
 * @param options - How to start a worker, how many, and the action repeat.
 * @returns A promise of the started pool; `close()` terminates the workers.
 * @throws RangeError for an unknown task, a worker count < 1 or an action repeat not dividing 1000; TypeError for unknown options or a missing `createWorker`.
 * @example
 * ```ts
 * import { compileMujocoFrom, createWebRolloutPool } from '@dcem/mujoco/web';
 * import wasmUrl from '@mujoco/mujoco/mujoco.wasm?url';
 * await compileMujocoFrom(wasmUrl);
 * const pool = await createWebRolloutPool('cheetah-run', {
 *   actionRepeat: 4,
 *   createWorker: () => new Worker(new URL('./rollout.worker.ts', import.meta.url), { type: 'module' }),
 * });
 * ```
 */
export async function createWebRolloutPool(
  name: TaskName,
  options: WebRolloutPoolOptions,
): Promise<RolloutPool> {
  taskDefinition(name);
  if (options === null || typeof options !== 'object' || typeof options.createWorker !== 'function') {
    throw new TypeError(
      `createWebRolloutPool options must be an object with a createWorker function, received ${describeValue(options)}`,
    );
  }
  assertOptions('createWebRolloutPool options', options, ['createWorker', 'workers', 'actionRepeat']);
  const concurrency = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator
    ?.hardwareConcurrency;
  const workers = options.workers ?? (concurrency !== undefined && concurrency > 0 ? concurrency : 4);
  assertInteger('options.workers', workers, 1);
  const actionRepeat = checkActionRepeat('options.actionRepeat', options.actionRepeat);
  const wasm = await compileMujoco();
  return startPoolOn(name, workers, actionRepeat, wasm, webHost(options.createWorker));
}

/**
 * The body of a rollout Web Worker: call it once in the worker's script
 * (`serveRollouts(self)`). It waits for the pool's first message (the task
 * and the compiled MuJoCo module), loads the simulation, and then answers the
 * pool's rollout requests.
 *
 * @param scope - The worker's global scope (`self`).
 * @example
 * ```ts
 * // rollout.worker.ts
 * import { serveRollouts } from '@dcem/mujoco/web';
 * serveRollouts(self);
 * ```
 */
export function serveRollouts(scope: WorkerScopeLike): void {
  const send = (message: FromWorker, transfer?: ArrayBuffer[]) => scope.postMessage(message, transfer ?? []);
  let run: Promise<(request: RolloutRequest) => void> | undefined;
  scope.onmessage = (event) => {
    const message = event.data as ToWorker;
    if (message.type === 'init') {
      run ??= startRolloutWorker(message, send);
      // A worker that cannot load fails as a thrown error, which the pool sees as `onerror`.
      run.catch((error: unknown) => {
        setTimeout(() => {
          throw error;
        });
      });
    } else if (message.type === 'rollout') {
      const request = message;
      void run?.then((r) => r(request));
    } else if (message.how === 'throw') {
      setTimeout(() => {
        throw new Error('worker failure requested by a test');
      });
    }
  };
}

/**
 * Fetches and compiles MuJoCo's WebAssembly (`@mujoco/mujoco/mujoco.wasm`,
 * the single-thread build) from `url` and makes it this thread's module (see
 * {@link useCompiledMujoco}). A bundler gives the URL, e.g. Vite's
 * `import wasmUrl from '@mujoco/mujoco/mujoco.wasm?url'`.
 *
 * @param url - Where the page's host serves `mujoco.wasm`.
 * @returns The compiled module (post it to other workers, which pass it to {@link useCompiledMujoco}).
 */
export async function compileMujocoFrom(url: string): Promise<WasmModule> {
  if (typeof url !== 'string') {
    throw new TypeError(`url must be a string, received ${describeValue(url)}`);
  }
  const api = (globalThis as unknown as { WebAssembly: { compile(bytes: ArrayBuffer): Promise<WasmModule> } })
    .WebAssembly;
  const fetchFn = (
    globalThis as unknown as {
      fetch(url: string): Promise<{ ok: boolean; status: number; arrayBuffer(): Promise<ArrayBuffer> }>;
    }
  ).fetch;
  const response = await fetchFn(url);
  if (!response.ok)
    throw new Error(`could not fetch MuJoCo’s WebAssembly from ${url}: HTTP ${response.status}`);
  const wasm = await api.compile(await response.arrayBuffer());
  useCompiledMujoco(wasm);
  return wasm;
}

/**
 * Makes `wasm`, a compiled `@mujoco/mujoco/mujoco.wasm`, the module this
 * thread's environments (`makeEnv`) and pools use. Call it before the first
 * `makeEnv` in a page or a worker.
 *
 * @param wasm - A `WebAssembly.Module` (from {@link compileMujocoFrom}, or posted by another thread).
 */
export function useCompiledMujoco(wasm: WasmModule): void {
  if (wasm === null || typeof wasm !== 'object') {
    throw new TypeError(`wasm must be a compiled WebAssembly.Module, received ${describeValue(wasm)}`);
  }
  setCompiled(wasm);
}
