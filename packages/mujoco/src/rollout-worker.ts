/**
 * A rollout worker: one MuJoCo model and data for one task, running slices
 * of a pool's rollout calls (internal; started by `createRolloutPool`).
 *
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { FromWorker, RolloutRequest, ToWorker, WorkerInit } from './protocol.js';
import { rolloutSequences } from './rollout.js';
import { loadRuntime } from './runtime.js';
import { Simulation } from './simulation.js';
import { taskDefinition } from './tasks/index.js';

const port = parentPort;
if (port === null) throw new Error('rollout-worker must run in a worker thread');
const init = workerData as WorkerInit;
const sim = new Simulation(await loadRuntime(init.wasm), taskDefinition(init.task));
const send = (message: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(message, transfer);

function run(request: RolloutRequest): void {
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
    send({ type: 'error', id: request.id, message: error instanceof Error ? error.message : String(error) });
  }
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'rollout') run(message);
  else if (message.how === 'exit') process.exit(7);
  else throw new Error('worker failure requested by a test');
});
send({ type: 'ready', stateSize: sim.stateSize, actionDim: sim.nu });
