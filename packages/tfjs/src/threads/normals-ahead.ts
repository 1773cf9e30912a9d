// Normal draws made ahead on a worker thread (Node.js): while the caller
// evaluates the objective of CEM iteration t, a worker draws the normals of
// iteration t + 1 (their seed and shape are known in advance), and the next
// `randomNormal` with that seed and shape copies them instead of drawing.
// The worker runs the same WebAssembly kernel on the same streams, so the
// numbers are exactly those drawn on the calling thread.
//
// One request is in flight at a time. A draw that nobody asks for (the solve
// converged first) is dropped; asking for another seed or shape draws on the
// calling thread as usual.

import { kernelsModule } from '../kernels/simd.js';
import { seedStates, zigguratTables } from '../kernels/ziggurat.js';
import {
  type NodeWorker,
  nodeModule,
  type SharedMemory,
  sharedMemory,
  threadsAvailable,
  type WorkerThreadsModule,
} from './pool.js';

const PAGE = 65536;
/** Most draws one request may hold (64 Mi floats, 256 MiB). */
const MAX_PAGES = 4096;
// Control slots (i32) at the start of the shared memory. REQUEST: the last
// request's number; DONE: the last finished one's; COUNT: its number of
// draws; STOP: set when the worker is to end; READY: set by the worker once
// it can draw; STATES…: the 16 words of the streams (seedStates). The draws
// follow at byte DRAWS.
const REQUEST = 0;
const DONE = 1;
const COUNT = 2;
const STOP = 3;
const READY = 4;
const STATES = 8;
const DRAWS = 128;
/**
 * Longest wait for a draw (ms): a worker that takes longer is taken for
 * dead (it cannot report an error while the caller blocks), and the caller
 * draws in place from then on.
 */
const PATIENCE_MS = 2000;

// The worker: instantiates the kernels (own memory, as on the main thread:
// tables at 65536, then the streams, a spill area and the draws), then
// sleeps until a request, draws, copies the draws into the shared memory
// and signals DONE.
const WORKER_SOURCE = `'use strict';
// getBuiltinModule, not require: the code runs as an ES module where the
// parent ran with --input-type=module (workers inherit execArgv).
const { workerData } = process.getBuiltinModule('node:worker_threads');
const { module, shared, width, edge, accept } = workerData;
const k = new WebAssembly.Instance(module, {
  host: { exp: Math.exp, log: Math.log },
  env: { abort() { throw new Error('normals kernel aborted'); } },
}).exports;
const TABLES = 65536;
const tableBytes = width.byteLength + edge.byteLength + accept.byteLength;
const pStates = TABLES + Math.ceil(tableBytes / 16) * 16;
const pSpill = pStates + 64;
const pOut = pSpill + 112;
function reserve(end) {
  const missing = end - k.memory.buffer.byteLength;
  if (missing > 0) k.memory.grow(Math.ceil(missing / 65536));
}
reserve(pOut);
new Float64Array(k.memory.buffer, TABLES, width.length).set(width);
new Float64Array(k.memory.buffer, TABLES + width.byteLength, edge.length).set(edge);
new Uint32Array(k.memory.buffer, TABLES + width.byteLength + edge.byteLength, accept.length).set(accept);
const ctl = new Int32Array(shared.buffer, 0, ${STATES + 16});
Atomics.store(ctl, ${READY}, 1);
for (;;) {
  Atomics.wait(ctl, ${REQUEST}, Atomics.load(ctl, ${DONE}));
  if (Atomics.load(ctl, ${STOP}) === 1) break;
  const request = Atomics.load(ctl, ${REQUEST});
  const n = ctl[${COUNT}];
  reserve(pOut + n * 4);
  new Int32Array(k.memory.buffer, pStates, 16).set(ctl.subarray(${STATES}, ${STATES + 16}));
  k.normals(pOut, n, pStates, TABLES, pSpill);
  new Float32Array(shared.buffer, ${DRAWS}, n).set(new Float32Array(k.memory.buffer, pOut, n));
  Atomics.store(ctl, ${DONE}, request);
  Atomics.notify(ctl, ${DONE});
}
`;

class Ahead {
  private readonly shared: SharedMemory;
  private readonly ctl: Int32Array;
  private worker: NodeWorker | undefined;
  private failed = false;
  private pending: { count: number; seed: number; request: number } | undefined;

  constructor(wt: WorkerThreadsModule) {
    this.shared = sharedMemory(1, MAX_PAGES);
    this.ctl = new Int32Array(this.shared.buffer, 0, STATES + 16);
    const { width, edge, accept } = zigguratTables();
    const worker = new wt.Worker(WORKER_SOURCE, {
      eval: true,
      name: '@dcem/tfjs normals',
      workerData: {
        module: kernelsModule(),
        shared: this.shared,
        width,
        edge,
        accept,
      },
    });
    // A worker that fails leaves every draw to the calling thread.
    worker.on('error', () => {
      this.failed = true;
    });
    worker.unref();
    this.worker = worker;
  }

  /** Waits until the worker has finished request `request`; false if it failed or took too long instead. */
  private waitFor(request: number): boolean {
    const deadline = Date.now() + PATIENCE_MS;
    for (;;) {
      if (this.failed) return false;
      const done = Atomics.load(this.ctl, DONE);
      if (done === request) return true;
      const left = deadline - Date.now();
      if (left <= 0) {
        this.failed = true;
        return false;
      }
      Atomics.wait(this.ctl, DONE, done, Math.min(left, 50));
    }
  }

  request(count: number, seed: number): boolean {
    if (this.failed || this.worker === undefined || count * 4 + DRAWS > MAX_PAGES * PAGE) return false;
    // Until the worker has started, the caller draws in place.
    if (Atomics.load(this.ctl, READY) !== 1) return false;
    // The worker reads the control slots and writes the draws: wait for the last request first.
    if (!this.waitFor(Atomics.load(this.ctl, REQUEST))) return false;
    const missing = DRAWS + count * 4 - this.shared.buffer.byteLength;
    if (missing > 0) this.shared.grow(Math.ceil(missing / PAGE));
    this.ctl[COUNT] = count;
    this.ctl.set(new Int32Array(seedStates(seed).buffer), STATES);
    const request = (Atomics.load(this.ctl, REQUEST) + 1) | 0;
    this.pending = { count, seed, request };
    Atomics.store(this.ctl, REQUEST, request);
    Atomics.notify(this.ctl, REQUEST);
    return true;
  }

  take(out: Float32Array, seed: number): boolean {
    const p = this.pending;
    if (p === undefined || p.count !== out.length || p.seed !== seed) return false;
    this.pending = undefined;
    if (!this.waitFor(p.request)) return false;
    out.set(new Float32Array(this.shared.buffer, DRAWS, p.count));
    served++;
    return true;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.pending = undefined;
    if (worker === undefined) return;
    Atomics.store(this.ctl, STOP, 1);
    Atomics.add(this.ctl, REQUEST, 1);
    Atomics.notify(this.ctl, REQUEST);
    await worker.terminate();
  }

  get alive(): boolean {
    return this.worker !== undefined && !this.failed;
  }
}

let ahead: Ahead | undefined;
let served = 0;

/**
 * Starts drawing `count` standard normals from the streams of `seed` on the
 * worker (started on first use). Returns false where no worker can run.
 */
export function drawAhead(count: number, seed: number): boolean {
  if (!threadsAvailable()) return false;
  if (ahead === undefined) {
    const wt = nodeModule<WorkerThreadsModule>('node:worker_threads');
    if (wt === undefined) return false;
    try {
      ahead = new Ahead(wt);
    } catch {
      // No WebAssembly SIMD (the kernels do not compile): draws stay in place.
      return false;
    }
  }
  return ahead.request(count, seed);
}

/**
 * Fills `out` with the draws requested by {@link drawAhead} when they are
 * for `seed` and `out.length` (waiting for the worker if need be) and
 * returns true; otherwise returns false and leaves `out` alone.
 */
export function takeAhead(out: Float32Array, seed: number): boolean {
  return ahead?.take(out, seed) ?? false;
}

/** Ends the worker (the next {@link drawAhead} starts a new one). */
export async function closeAhead(): Promise<void> {
  const a = ahead;
  ahead = undefined;
  if (a !== undefined) await a.close();
}

/** Live workers drawing ahead (0 or 1). */
export function aheadWorkerCount(): number {
  return ahead?.alive === true ? 1 : 0;
}

/** Draws served from the worker since the process started (for tests). */
export function aheadServedCount(): number {
  return served;
}
