/**
 * Messages between the rollout pool and its workers (internal).
 *
 * @module
 */
import type { RolloutSlice } from './rollout.js';
import type { WasmModule } from './runtime.js';
import type { TaskName } from './tasks/index.js';

/** What a worker receives when it starts. */
export interface WorkerInit {
  readonly task: TaskName;
  readonly wasm: WasmModule;
}

/** A slice of a rollout call: sequences `first .. first + count` of the call. */
export interface RolloutRequest extends RolloutSlice {
  readonly type: 'rollout';
  readonly id: number;
}

/** Test hook: makes the worker die (an uncaught exception or `process.exit`). */
export interface FailRequest {
  readonly type: 'fail';
  readonly how: 'throw' | 'exit';
}

/** A Web Worker's first message (Node's workers get {@link WorkerInit} as `workerData`). */
export interface InitRequest extends WorkerInit {
  readonly type: 'init';
}

/** Messages to a worker. */
export type ToWorker = RolloutRequest | FailRequest | InitRequest;

/** Messages from a worker. */
export type FromWorker =
  | { readonly type: 'ready'; readonly stateSize: number; readonly actionDim: number }
  | {
      readonly type: 'result';
      readonly id: number;
      readonly returns: Float64Array;
      readonly divergences: number;
      readonly physicsSteps: number;
      /** Milliseconds spent inside the simulation loop. */
      readonly busyMs: number;
    }
  | { readonly type: 'error'; readonly id: number; readonly message: string };
