/**
 * What a rollout worker does, on either kind of worker (internal): load the
 * task's simulation, then answer rollout requests.
 *
 * @module
 */
import type { FromWorker, RolloutRequest, WorkerInit } from './protocol.js';
import { rolloutSequences } from './rollout.js';
import { loadRuntime } from './runtime.js';
import { Simulation } from './simulation.js';
import { taskDefinition } from './tasks/index.js';

/** Sends a message to the pool, transferring the given buffers. */
export type SendToPool = (message: FromWorker, transfer?: ArrayBuffer[]) => void;

/**
 * Loads the simulation of `init.task` from `init.wasm`, says `ready` and
 * returns the handler of rollout requests.
 */
export async function startRolloutWorker(
  init: WorkerInit,
  send: SendToPool,
): Promise<(request: RolloutRequest) => void> {
  const sim = new Simulation(await loadRuntime(init.wasm), taskDefinition(init.task));
  const run = (request: RolloutRequest): void => {
    const start = performance.now();
    try {
      const { returns, divergences } = rolloutSequences(sim, request);
      const physicsSteps = request.count * request.horizon * request.actionRepeat * sim.substeps;
      send(
        {
          type: 'result',
          id: request.id,
          returns,
          divergences,
          physicsSteps,
          busyMs: performance.now() - start,
        },
        [returns.buffer as ArrayBuffer],
      );
    } catch (error) {
      send({
        type: 'error',
        id: request.id,
        message: error instanceof Error ? error.message : String(error),
      });
    }
  };
  send({ type: 'ready', stateSize: sim.stateSize, actionDim: sim.nu });
  return run;
}
