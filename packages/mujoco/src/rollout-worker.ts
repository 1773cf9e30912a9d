/**
 * A rollout worker on Node's worker_threads: one MuJoCo model and data for
 * one task, running slices of a pool's rollout calls (internal; started by
 * `createRolloutPool`).
 *
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';
import { startRolloutWorker } from './rollout-worker-core.js';

const port = parentPort;
if (port === null) throw new Error('rollout-worker must run in a worker thread');
const run = await startRolloutWorker(workerData as WorkerInit, (message: FromWorker, transfer) =>
  port.postMessage(message, transfer),
);

port.on('message', (message: ToWorker) => {
  if (message.type === 'rollout') run(message);
  else if (message.type === 'init') return;
  else if (message.how === 'exit') process.exit(7);
  else throw new Error('worker failure requested by a test');
});
