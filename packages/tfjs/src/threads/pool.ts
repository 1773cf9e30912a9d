// The thread pool: the SIMD kernels of assembly/gemm-simd.ts (matrix
// products, see gemm.ts; LML by rows, see lml-rows.ts) run on the main
// thread and on worker threads (node:worker_threads) that share one
// WebAssembly memory. The main thread copies the operands into that memory,
// hands out chunks of the job through atomics in the same memory, takes
// chunks itself, blocks (Atomics.wait) until every chunk is done and copies
// the result out, so that the job is synchronous, as a tfjs kernel must be.
//
// Where it runs: Node.js ≥ 20.16 (process.getBuiltinModule). Browsers do not
// let the main thread block on Atomics.wait, and share memory with workers
// only on cross-origin-isolated pages, so there `threadsAvailable()` is
// false and callers keep their one-thread path.
//
// Results do not depend on the number of threads: a chunk's output is the
// same whichever thread computes it, and the row ranges of the partial sums
// of Aᵀ·B depend only on the shapes.
import { assertInteger } from '@dcem/errors';
import { decodeBase64 } from '../wasm/decode.js';
import { GEMM_WASM_BASE64 } from '../wasm/gemm-simd.generated.js';

// The few WebAssembly, atomics and Node globals used here (typed locally:
// this package compiles without the DOM and Node type libraries).
/** A shared WebAssembly.Memory. */
export interface SharedMemory {
  readonly buffer: SharedArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => SharedMemory;
};

/** What this package uses of a node:worker_threads Worker. */
export interface NodeWorker {
  unref(): void;
  terminate(): Promise<number>;
  on(event: 'error', listener: (error: unknown) => void): void;
}
/** What this package uses of node:worker_threads. */
export interface WorkerThreadsModule {
  Worker: new (source: string, options: { eval: true; workerData: unknown; name?: string }) => NodeWorker;
}
interface OsModule {
  availableParallelism?: () => number;
  cpus(): unknown[];
}
interface NodeProcess {
  getBuiltinModule?: (id: string) => unknown;
  env?: Record<string, string | undefined>;
}

interface GemmExports {
  runChunk(job: number, t: number): void;
  dataEnd(): number;
}

const PAGE = 65536;
/** The shared memory's maximum (as compiled: 16384 pages, 1 GiB). */
const MAX_BYTES = 16384 * PAGE;
/** Byte offset of the control block (below the arrays). */
const CTRL = 1024;
/** Byte offset of the first array (the kernels' constants lie between the control block and here). */
export const ARENA = 65536;

// Control block slots (i32). GEN: bumped to wake the workers. NEXT: the
// next chunk, (epoch << 16) | chunk. JOB: (epoch << 16) | number of chunks.
// DONE: chunks finished in this job. FAILED: set when a chunk threw. READY:
// chunks whose inputs are in place (the calling thread copies them in while
// the workers start on the first ones). BY_WORKERS: chunks the workers ran,
// ever (for tests). STOP: set when the pool closes.
// 8…: the job (read by runChunk; exported for gemm.ts and lml-rows.ts, and
// checked against assembly/gemm-simd.ts by gemm-layout.test.ts).
const GEN = 0;
const NEXT = 1;
const JOB = 2;
const DONE = 3;
const FAILED = 4;
const READY = 5;
const BY_WORKERS = 6;
const STOP = 7;
export const OP = 8;
export const A = 9;
export const B = 10;
export const C = 11;
export const BIAS = 12;
export const M = 13;
export const N = 14;
export const K = 15;
export const CHUNK = 16;
export const PARTIALS = 17;
export const COUNT = 18;
export const ACT = 19;
export const SLOPE = 20;
export const COLSUMS = 21;
export const STRIDE = 22;
/** τ of OP_LML, a float64 in slots 24 and 25. */
export const TEMPERATURE = 24;
export const MAX_ITERATIONS = 26;
export const WORK = 27;

export const OP_ROWS = 1;
export const OP_TN = 2;
export const OP_SUM = 3;
export const OP_SCALE = 4;
export const OP_NT = 5;
export const OP_LML = 6;
export const OP_LML_GRAD = 7;
export const OP_GRU = 8;
export const OP_GRU_GRAD = 9;
export const OP_TN_SPLIT = 10;

/**
 * Takes and runs chunks of the current job until none is left (the main
 * thread's loop, which starts once every chunk is ready; WORKER_SOURCE has
 * the workers' copy, which waits for a chunk's inputs).
 */
function work(ctl: Int32Array, run: (job: number, t: number) => void, job: number): void {
  for (;;) {
    const next = Atomics.load(ctl, NEXT);
    const current = Atomics.load(ctl, JOB);
    if (next >>> 16 !== current >>> 16 || (next & 0xffff) >= (current & 0xffff)) return;
    if (Atomics.compareExchange(ctl, NEXT, next, next + 1) !== next) continue;
    try {
      run(job, next & 0xffff);
    } catch {
      Atomics.store(ctl, FAILED, 1);
    }
    Atomics.add(ctl, DONE, 1);
    Atomics.notify(ctl, DONE);
  }
}

// A worker: instantiates the kernels on the shared memory, then sleeps on
// GEN and runs the chunks of every job it wakes for, until STOP. Its loop is
// `work` above, written out with the slots' numbers (source text, so that
// it survives bundlers and coverage instrumentation of this file).
const WORKER_SOURCE = `'use strict';
// getBuiltinModule, not require: the code runs as an ES module where the
// parent ran with --input-type=module (workers inherit execArgv).
const { workerData } = process.getBuiltinModule('node:worker_threads');
const { module, memory, ctrl } = workerData;
const run = new WebAssembly.Instance(module, { env: { memory } }).exports.runChunk;
const ctl = new Int32Array(memory.buffer, ctrl, 32);
function work() {
  for (;;) {
    const next = Atomics.load(ctl, ${NEXT});
    const current = Atomics.load(ctl, ${JOB});
    if (next >>> 16 !== current >>> 16 || (next & 0xffff) >= (current & 0xffff)) return;
    if (Atomics.compareExchange(ctl, ${NEXT}, next, next + 1) !== next) continue;
    const t = next & 0xffff;
    for (;;) {
      const ready = Atomics.load(ctl, ${READY});
      if (ready > t) break;
      Atomics.wait(ctl, ${READY}, ready);
    }
    try {
      run(ctrl, t);
    } catch {
      Atomics.store(ctl, ${FAILED}, 1);
    }
    Atomics.add(ctl, ${BY_WORKERS}, 1);
    Atomics.add(ctl, ${DONE}, 1);
    Atomics.notify(ctl, ${DONE});
  }
}
for (;;) {
  const gen = Atomics.load(ctl, ${GEN});
  if (Atomics.load(ctl, ${STOP}) === 1) break;
  work();
  Atomics.wait(ctl, ${GEN}, gen);
}
`;

/** A Node.js built-in module, or undefined outside Node (≥ 20.16). */
export function nodeModule<T>(id: string): T | undefined {
  const proc = (globalThis as { process?: NodeProcess }).process;
  if (typeof proc?.getBuiltinModule !== 'function') return undefined;
  try {
    return proc.getBuiltinModule(id) as T | undefined;
  } catch {
    return undefined;
  }
}

/** The number of logical cores Node reports, or 1 outside Node. */
export function hardwareThreads(): number {
  const os = nodeModule<OsModule>('node:os');
  if (os === undefined) return 1;
  const n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.floor(n));
}

let available: boolean | undefined;

/**
 * Whether this runtime can run products on several threads (Node with
 * worker_threads and shared memory). Asked on every product, answered once.
 */
export function threadsAvailable(): boolean {
  available ??=
    typeof SharedArrayBuffer === 'function' &&
    typeof Atomics === 'object' &&
    nodeModule<WorkerThreadsModule>('node:worker_threads') !== undefined;
  return available;
}

/** A shared WebAssembly.Memory of `initial` pages, growable to `maximum`. */
export function sharedMemory(initial: number, maximum: number): SharedMemory {
  return new WebAssembly.Memory({ initial, maximum, shared: true });
}

let compiled: object | undefined;

/**
 * The kernels' module, compiled once per thread: instances of one module
 * share its machine code, so a new pool starts with the optimised code
 * that the last one's products brought about (V8 compiles WebAssembly
 * quickly first, and optimises a function once it has run a while).
 */
function gemmModule(): object {
  compiled ??= new WebAssembly.Module(decodeBase64(GEMM_WASM_BASE64));
  return compiled;
}

/** The pool: the shared memory, the main thread's instance and the workers. */
export class Pool {
  readonly threads: number;
  private readonly memory: SharedMemory;
  private readonly ctl: Int32Array;
  private readonly run: (job: number, t: number) => void;
  private workers: NodeWorker[];
  private epoch = 0;
  private failure: unknown;
  /** Threads that take part in the next jobs (the main thread and participants − 1 workers are woken). */
  participants = 1;

  constructor(threads: number) {
    const wt = nodeModule<WorkerThreadsModule>('node:worker_threads');
    if (wt === undefined) throw new Error('gemm pool: node:worker_threads is not available');
    const module = gemmModule();
    this.memory = new WebAssembly.Memory({ initial: 2, maximum: MAX_BYTES / PAGE, shared: true });
    const exports = new WebAssembly.Instance(module, { env: { memory: this.memory } }).exports as GemmExports;
    if (exports.dataEnd() > ARENA) throw new Error('gemm pool: the kernels’ constants overlap the arrays');
    this.run = exports.runChunk;
    this.ctl = new Int32Array(this.memory.buffer, CTRL, 32);
    this.threads = threads;
    this.workers = [];
    for (let i = 1; i < threads; i++) {
      const worker = new wt.Worker(WORKER_SOURCE, {
        eval: true,
        name: `@dcem/tfjs thread ${i}`,
        workerData: { module, memory: this.memory, ctrl: CTRL },
      });
      // A worker that fails to start or dies leaves its chunks to the others
      // (the main thread takes every chunk nobody took); remember why.
      worker.on('error', (error) => {
        this.failure = error;
      });
      worker.unref();
      this.workers.push(worker);
    }
  }

  /** Bytes the memory must hold for arrays up to `end`; false when beyond the maximum. */
  reserve(end: number): boolean {
    if (end > MAX_BYTES) return false;
    const missing = end - this.memory.buffer.byteLength;
    if (missing > 0) this.memory.grow(Math.ceil(missing / PAGE));
    return true;
  }

  f32(at: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, at, length);
  }

  i32(at: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, at, length);
  }

  /**
   * Runs `chunks` chunks of the job written in the job slots, on every
   * thread. With `prepare`, the calling thread first calls prepare(t) for
   * t = 0, 1, … (copying chunk t's inputs into the memory) while the workers
   * run the chunks already prepared, then takes chunks itself.
   */
  parallel(chunks: number, prepare?: (t: number) => void): void {
    const ctl = this.ctl;
    this.epoch = (this.epoch + 1) & 0x7fff;
    const woken = this.workers.length > 0 && this.participants > 1;
    Atomics.store(ctl, DONE, 0);
    Atomics.store(ctl, FAILED, 0);
    Atomics.store(ctl, READY, prepare === undefined || !woken ? chunks : 0);
    if (prepare !== undefined && !woken) for (let t = 0; t < chunks; t++) prepare(t);
    Atomics.store(ctl, JOB, (this.epoch << 16) | chunks);
    Atomics.store(ctl, NEXT, this.epoch << 16);
    if (woken) {
      Atomics.add(ctl, GEN, 1);
      Atomics.notify(ctl, GEN, this.participants - 1);
      if (prepare !== undefined) {
        try {
          for (let t = 0; t < chunks; t++) {
            prepare(t);
            Atomics.store(ctl, READY, t + 1);
            Atomics.notify(ctl, READY);
          }
        } catch (error) {
          // Release the workers (they run what they hold), then report.
          Atomics.store(ctl, FAILED, 1);
          Atomics.store(ctl, READY, chunks);
          Atomics.notify(ctl, READY);
          this.failure = error;
        }
      }
    }
    work(ctl, this.run, CTRL);
    for (;;) {
      const done = Atomics.load(ctl, DONE);
      if (done >= chunks) break;
      Atomics.wait(ctl, DONE, done);
    }
    if (Atomics.load(ctl, FAILED) !== 0) {
      throw new Error(
        `@dcem/tfjs threads: a kernel failed on a worker thread${this.failure ? `: ${String(this.failure)}` : ''}`,
      );
    }
  }

  setJob(values: Record<number, number>): void {
    for (const [slot, value] of Object.entries(values)) this.ctl[Number(slot)] = value;
  }

  /** Writes a float64 into the job slots `slot` and `slot + 1` (8-byte aligned). */
  setJobFloat64(slot: number, value: number): void {
    new Float64Array(this.memory.buffer, CTRL + slot * 4, 1)[0] = value;
  }

  async close(): Promise<void> {
    Atomics.store(this.ctl, STOP, 1);
    Atomics.add(this.ctl, GEN, 1);
    Atomics.notify(this.ctl, GEN);
    const workers = this.workers;
    this.workers = [];
    await Promise.all(workers.map((w) => w.terminate()));
  }

  get workerCount(): number {
    return this.workers.length;
  }

  get chunksByWorkers(): number {
    return Atomics.load(this.ctl, BY_WORKERS);
  }
}

let configured: number | undefined;
let pool: Pool | undefined;

/** The environment variable that sets the default number of threads (Node.js). */
export const THREADS_ENV = 'DCEM_THREADS';

/** The former name of {@link THREADS_ENV}, read when that is unset (deprecated; to be removed after one release). */
export const DEPRECATED_THREADS_ENV = 'DCEM_MATMUL_THREADS';

/**
 * The default number of threads: `DCEM_THREADS` when set, else the
 * deprecated `DCEM_MATMUL_THREADS` when set (an integer ≥ 1; anything else
 * is a RangeError that names the variable), else one per core.
 */
function defaultThreads(): number {
  const env = (globalThis as { process?: NodeProcess }).process?.env;
  let name = THREADS_ENV;
  let raw = env?.[name];
  if (raw === undefined || raw === '') {
    name = DEPRECATED_THREADS_ENV;
    raw = env?.[name];
  }
  if (raw === undefined || raw === '') return hardwareThreads();
  const n = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(n) || n < 1) {
    throw new RangeError(`${name} must be an integer ≥ 1, received ${JSON.stringify(raw)}`);
  }
  return n;
}

/** The number of threads the pool's jobs run on (1: the caller's own path). */
export function poolThreads(): number {
  if (!threadsAvailable()) return 1;
  return configured ?? defaultThreads();
}

/**
 * Sets the number of threads (an integer ≥ 1; 1 switches the pool off;
 * undefined: one per core). A running pool of another size is closed.
 */
export async function setPoolThreads(threads: number | undefined): Promise<void> {
  if (threads !== undefined) assertInteger('threads', threads, 1);
  configured = threads;
  if (pool !== undefined && pool.threads !== poolThreads()) await closePool();
}

/** Closes the pool (its workers end); the next threaded product starts a new one. */
export async function closePool(): Promise<void> {
  const p = pool;
  pool = undefined;
  if (p !== undefined) await p.close();
}

/** Live worker threads of the pool (0 when closed). */
export function poolWorkerCount(): number {
  return pool?.workerCount ?? 0;
}

/** Chunks that the running pool's workers (not the calling thread) have run (0 when closed). */
export function poolWorkerChunks(): number {
  return pool?.chunksByWorkers ?? 0;
}

/**
 * The pool for a product on `threads` threads: the running one when it has
 * that many or more (its extra workers are not woken for this product),
 * else a new one.
 */
export function getPool(threads: number): Pool {
  if (pool === undefined || pool.threads < threads) {
    const old = pool;
    pool = new Pool(threads);
    if (old !== undefined) void old.close();
  }
  pool.participants = threads;
  return pool;
}

export function align(bytes: number): number {
  return Math.ceil(bytes / 64) * 64;
}

/**
 * A `prepare` for {@link Pool.parallel}: for chunk t, entries
 * [t·per, (t+1)·per) of each source (clipped to its view) go into the view.
 */
export function chunkCopier(
  copies: ReadonlyArray<readonly [Float32Array, Float32Array, number]>,
): (t: number) => void {
  return (t) => {
    for (const [view, source, per] of copies) {
      const e0 = t * per;
      const e1 = Math.min(view.length, e0 + per);
      if (e0 < e1) view.set(source.subarray(e0, e1), e0);
    }
  };
}
