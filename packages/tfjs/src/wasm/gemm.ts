// Matrix products on several threads: the SIMD kernels of assembly/gemm.ts
// run on the main thread and on worker threads (node:worker_threads) that
// share one WebAssembly memory. The main thread copies the operands into
// that memory, hands out chunks of the product through atomics in the same
// memory, takes chunks itself, blocks (Atomics.wait) until every chunk is
// done and copies the result out, so that the product is synchronous, as a
// tfjs kernel must be.
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
import { decodeBase64 } from './decode.js';
import { GEMM_WASM_BASE64 } from './gemm.generated.js';

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
const ARENA = 65536;

// Control block slots (i32). GEN: bumped to wake the workers. NEXT: the
// next chunk, (epoch << 16) | chunk. JOB: (epoch << 16) | number of chunks.
// DONE: chunks finished in this job. FAILED: set when a chunk threw. READY:
// chunks whose inputs are in place (the calling thread copies them in while
// the workers start on the first ones). BY_WORKERS: chunks the workers ran,
// ever (for tests). STOP: set when the pool closes.
// 8…: the job (read by runChunk).
const GEN = 0;
const NEXT = 1;
const JOB = 2;
const DONE = 3;
const FAILED = 4;
const READY = 5;
const BY_WORKERS = 6;
const STOP = 7;
const OP = 8;
const A = 9;
const B = 10;
const C = 11;
const BIAS = 12;
const M = 13;
const N = 14;
const K = 15;
const CHUNK = 16;
const PARTIALS = 17;
const COUNT = 18;
const ACT = 19;
const SLOPE = 20;
const COLSUMS = 21;
const STRIDE = 22;
/** τ of OP_LML, a float64 in slots 24 and 25. */
const TEMPERATURE = 24;
const MAX_ITERATIONS = 26;
const WORK = 27;

const OP_ROWS = 1;
const OP_TN = 2;
const OP_SUM = 3;
const OP_SCALE = 4;
const OP_NT = 5;
const OP_LML = 6;
const OP_LML_GRAD = 7;

/** Products with fewer output columns than this run as dot products of rows (OP_NT). */
const NT_MAX_COLUMNS = 4;

/** Rows of A per chunk of a row-wise product. */
const ROWS_PER_CHUNK = 128;
/** Rows of A and B per partial sum of Aᵀ·B (fixed: the result must not depend on the thread count). */
const TN_ROWS = 512;
/** Most partial sums of one Aᵀ·B (beyond, each partial covers more rows). */
const TN_MAX_PARTIALS = 64;
/** Entries per chunk of the sum of partials. */
const SUM_CHUNK = 4096;

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
class Pool {
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
        name: `@dcem/tfjs matMul ${i}`,
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
        `@dcem/tfjs matMul: a kernel failed on a worker thread${this.failure ? `: ${String(this.failure)}` : ''}`,
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
export const THREADS_ENV = 'DCEM_MATMUL_THREADS';

/**
 * The default number of threads: `DCEM_MATMUL_THREADS` when set (an integer
 * ≥ 1; anything else is a RangeError that names it), else one per core.
 */
function defaultThreads(): number {
  const raw = (globalThis as { process?: NodeProcess }).process?.env?.[THREADS_ENV];
  if (raw === undefined || raw === '') return hardwareThreads();
  const n = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || !Number.isSafeInteger(n) || n < 1) {
    throw new RangeError(`${THREADS_ENV} must be an integer ≥ 1, received ${JSON.stringify(raw)}`);
  }
  return n;
}

/** The number of threads products run on (1: the caller's own path). */
export function gemmThreads(): number {
  if (!threadsAvailable()) return 1;
  return configured ?? defaultThreads();
}

/**
 * Sets the number of threads (an integer ≥ 1; 1 switches the pool off;
 * undefined: one per core). A running pool of another size is closed.
 */
export async function setGemmThreads(threads: number | undefined): Promise<void> {
  if (threads !== undefined) assertInteger('threads', threads, 1);
  configured = threads;
  if (pool !== undefined && pool.threads !== gemmThreads()) await closeGemmPool();
}

/** Closes the pool (its workers end); the next threaded product starts a new one. */
export async function closeGemmPool(): Promise<void> {
  const p = pool;
  pool = undefined;
  if (p !== undefined) await p.close();
}

/** Live worker threads of the pool (0 when closed). */
export function gemmWorkerCount(): number {
  return pool?.workerCount ?? 0;
}

/** Chunks that the running pool's workers (not the calling thread) have run (0 when closed). */
export function gemmWorkerChunks(): number {
  return pool?.chunksByWorkers ?? 0;
}

/**
 * The pool for a product on `threads` threads: the running one when it has
 * that many or more (its extra workers are not woken for this product),
 * else a new one.
 */
function getPool(threads: number): Pool {
  if (pool === undefined || pool.threads < threads) {
    const old = pool;
    pool = new Pool(threads);
    if (old !== undefined) void old.close();
  }
  pool.participants = threads;
  return pool;
}

function align(bytes: number): number {
  return Math.ceil(bytes / 64) * 64;
}

/** Activations the kernels apply (the codes of assembly/gemm.ts). */
export const ACTIVATIONS = Object.freeze({ linear: 0, relu: 1, softplus: 2 });
/** An activation name. */
export type ActivationName = keyof typeof ACTIVATIONS;

/** Rows of A and B per partial sum of an Aᵀ·B whose operands have m rows (a function of m only). */
function tnRows(m: number): number {
  return Math.max(TN_ROWS, Math.ceil(m / TN_MAX_PARTIALS));
}

/** The number of partial sums (each [k, n], or [k + 1, n] with column sums) that an Aᵀ·B keeps for operands of m rows. */
export function tnPartialCount(m: number): number {
  return Math.ceil(m / tnRows(m));
}

/** Writes the transpose ([cols, rows]) of the row-major [rows, cols] matrix `src` into `dst`. */
function writeTransposed(dst: Float32Array, src: Float32Array, rows: number, cols: number): void {
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) dst[j * rows + i] = src[i * cols + j] as number;
}

/**
 * A `prepare` for {@link Pool.parallel}: for chunk t, entries
 * [t·per, (t+1)·per) of each source (clipped to its view) go into the view.
 */
function chunkCopier(
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

/**
 * C = act(A·B + bias) on `threads` threads (the main thread included),
 * A: [m, k], B: [k, n], bias: [n] or undefined, written to `out` ([m, n]);
 * with `slope`, the activation's derivative act′(A·B + bias) too (for the
 * backward pass).
 * Returns false (and writes nothing) when
 * the operands do not fit the shared memory.
 */
export function gemm(
  a: Float32Array,
  b: Float32Array,
  bias: Float32Array | undefined,
  m: number,
  n: number,
  k: number,
  out: Float32Array,
  threads: number,
  activation: ActivationName = 'linear',
  slope?: Float32Array,
): boolean {
  if (slope !== undefined && activation === 'linear')
    throw new Error('gemm: a linear layer has no slope to write');
  const p = getPool(threads);
  const pa = ARENA;
  const pb = pa + align(m * k * 4);
  const pBias = pb + align(k * n * 4);
  const pc = pBias + align(n * 4);
  const pSlope = pc + align(m * n * 4);
  if (!p.reserve(pSlope + (slope === undefined ? 0 : m * n * 4))) return false;
  const narrow = n < NT_MAX_COLUMNS;
  if (narrow) {
    // Bᵀ ([n, k]): its rows are B's columns.
    writeTransposed(p.f32(pb, k * n), b, k, n);
  } else {
    p.f32(pb, k * n).set(b.subarray(0, k * n));
  }
  if (bias !== undefined) p.f32(pBias, n).set(bias.subarray(0, n));
  p.setJob({
    [OP]: narrow ? OP_NT : OP_ROWS,
    [A]: pa,
    [B]: pb,
    [C]: pc,
    [BIAS]: bias === undefined ? 0 : pBias,
    [M]: m,
    [N]: n,
    [K]: k,
    [CHUNK]: ROWS_PER_CHUNK,
    [ACT]: ACTIVATIONS[activation],
    [SLOPE]: slope === undefined ? 0 : pSlope,
  });
  // A's rows go in chunk by chunk while the workers start on the first ones.
  p.parallel(Math.ceil(m / ROWS_PER_CHUNK), chunkCopier([[p.f32(pa, m * k), a, ROWS_PER_CHUNK * k]]));
  out.set(p.f32(pc, m * n));
  if (slope !== undefined) slope.set(p.f32(pSlope, m * n));
  return true;
}

/** Runs Aᵀ·B (with the column sums of B when `colSums`) for operands already in the memory; the result lands at `pc`. */
function tnJobs(
  p: Pool,
  pa: number,
  pb: number,
  pp: number,
  pc: number,
  m: number,
  n: number,
  k: number,
  colSums: boolean,
  prepare?: (t: number) => void,
): void {
  const rows = tnRows(m);
  const count = Math.ceil(m / rows);
  const stride = (colSums ? k + 1 : k) * n * 4;
  p.setJob({
    [OP]: OP_TN,
    [A]: pa,
    [B]: pb,
    [M]: m,
    [N]: n,
    [K]: k,
    [CHUNK]: rows,
    [PARTIALS]: pp,
    [STRIDE]: stride,
    [COLSUMS]: colSums ? 1 : 0,
  });
  p.parallel(count, prepare);
  const entries = stride / 4;
  p.setJob({
    [OP]: OP_SUM,
    [C]: pc,
    [M]: entries,
    [CHUNK]: SUM_CHUNK,
    [PARTIALS]: pp,
    [COUNT]: count,
    [STRIDE]: stride,
  });
  p.parallel(Math.ceil(entries / SUM_CHUNK));
}

/**
 * C = Aᵀ·B on `threads` threads, A: [m, k], B: [m, n], written to `out`
 * ([k, n]): partial sums over fixed row ranges of A and B, then their sum in
 * order. Returns false when the operands do not fit the shared memory.
 */
export function gemmTn(
  a: Float32Array,
  b: Float32Array,
  m: number,
  n: number,
  k: number,
  out: Float32Array,
  threads: number,
): boolean {
  const p = getPool(threads);
  const pa = ARENA;
  const pb = pa + align(m * k * 4);
  const pp = pb + align(m * n * 4);
  const pc = pp + align(tnPartialCount(m) * k * n * 4);
  if (!p.reserve(pc + k * n * 4)) return false;
  // Partial t sums rows [t·r, (t+1)·r) of A and B: they go in as it needs them.
  const r = tnRows(m);
  tnJobs(
    p,
    pa,
    pb,
    pp,
    pc,
    m,
    n,
    k,
    false,
    chunkCopier([
      [p.f32(pa, m * k), a, r * k],
      [p.f32(pb, m * n), b, r * n],
    ]),
  );
  out.set(p.f32(pc, k * n));
  return true;
}

/**
 * The backward pass of a dense layer h = act(x·W + b) on `threads` threads:
 * with δ = g ⊙ act′(z) (z = x·W + b; `slope` holds act′(z) from the forward
 * pass, undefined for a linear layer, where δ = g), dx = δ·Wᵀ ([m, k],
 * skipped when `dx` is undefined), dW = xᵀ·δ ([k, n]) and db = Σᵣ δ ([n]).
 * x: [m, k], W: [k, n], g and slope: [m, n]. Returns false when the
 * operands do not fit the shared memory.
 */
export function denseBackward(
  x: Float32Array,
  w: Float32Array,
  g: Float32Array,
  slope: Float32Array | undefined,
  m: number,
  n: number,
  k: number,
  dx: Float32Array | undefined,
  dw: Float32Array,
  db: Float32Array,
  threads: number,
): boolean {
  const p = getPool(threads);
  const pg = ARENA;
  const ps = pg + align(m * n * 4);
  const px = ps + align(slope === undefined ? 0 : m * n * 4);
  const pwt = px + align(m * k * 4);
  const pdx = pwt + align(k * n * 4);
  const pp = pdx + align(dx === undefined ? 0 : m * k * 4);
  const pc = pp + align(tnPartialCount(m) * (k + 1) * n * 4);
  if (!p.reserve(pc + (k + 1) * n * 4)) return false;
  if (slope !== undefined) {
    // δ = g ⊙ slope, with g and the slope copied in as the chunks need them.
    const per = SUM_CHUNK * 4;
    p.setJob({
      [OP]: OP_SCALE,
      [A]: ps,
      [C]: pg,
      [M]: m * n,
      [CHUNK]: per,
    });
    p.parallel(
      Math.ceil((m * n) / per),
      chunkCopier([
        [p.f32(pg, m * n), g, per],
        [p.f32(ps, m * n), slope, per],
      ]),
    );
  } else {
    p.f32(pg, m * n).set(g.subarray(0, m * n));
  }
  if (dx !== undefined) {
    // dx = δ·Wᵀ: few columns (k small) as dot products with W's rows,
    // otherwise by register blocks, with Wᵀ ([n, k]) written transposed.
    const narrow = k < NT_MAX_COLUMNS;
    const wt = p.f32(pwt, k * n);
    if (narrow) wt.set(w.subarray(0, k * n));
    else writeTransposed(wt, w, k, n);
    p.setJob({
      [OP]: narrow ? OP_NT : OP_ROWS,
      [A]: pg,
      [B]: pwt,
      [C]: pdx,
      [BIAS]: 0,
      [M]: m,
      [N]: k,
      [K]: n,
      [CHUNK]: ROWS_PER_CHUNK,
      [ACT]: ACTIVATIONS.linear,
      [SLOPE]: 0,
    });
    p.parallel(Math.ceil(m / ROWS_PER_CHUNK));
    dx.set(p.f32(pdx, m * k));
  }
  // x goes in as the partial sums of xᵀ·δ need its rows.
  tnJobs(p, px, pg, pp, pc, m, n, k, true, chunkCopier([[p.f32(px, m * k), x, tnRows(m) * k]]));
  dw.set(p.f32(pc, k * n));
  db.set(p.f32(pc + k * n * 4, n));
  return true;
}

/** Entries per chunk of a by-rows job (whole rows, at least one). */
const LML_ENTRIES_PER_CHUNK = 8192;

/**
 * Runs a by-rows job (OP_LML, OP_LML_GRAD) over `rows` rows of n entries:
 * the `inputs` ([rows, n] each) go in chunk by chunk while the workers start
 * on the first chunks (A, then B), the result comes back from C into `out`;
 * each chunk gets `workPerChunk` bytes of scratch at WORK. Returns false (and
 * writes nothing) when the arrays do not fit the shared memory.
 */
function byRows(
  threads: number,
  op: number,
  rows: number,
  n: number,
  inputs: readonly Float32Array[],
  out: Float32Array,
  temperature: number,
  slots: Record<number, number> = {},
  workPerChunk = 0,
): boolean {
  const p = getPool(threads);
  const per = Math.max(1, Math.floor(LML_ENTRIES_PER_CHUNK / n));
  const chunks = Math.ceil(rows / per);
  const size = rows * n;
  const at = (i: number) => ARENA + i * align(size * 4);
  const pc = at(inputs.length);
  const pWork = at(inputs.length + 1);
  if (!p.reserve(pWork + chunks * workPerChunk)) return false;
  p.setJob({
    [OP]: op,
    [A]: at(0),
    [B]: inputs.length > 1 ? at(1) : 0,
    [C]: pc,
    [M]: rows,
    [N]: n,
    [CHUNK]: per,
    [WORK]: pWork,
    ...slots,
  });
  p.setJobFloat64(TEMPERATURE, temperature);
  p.parallel(chunks, chunkCopier(inputs.map((source, i) => [p.f32(at(i), size), source, per * n] as const)));
  out.set(p.f32(pc, size));
  return true;
}

/**
 * y = LML_k(x/τ) by rows (x, y: [rows, n]) on `threads` threads, with the
 * algorithm of `lmlForward` (src/fused-math.ts) in WebAssembly. Returns
 * false (and writes nothing) when the arrays do not fit the shared memory.
 */
export function lmlRowsThreaded(
  x: Float32Array,
  rows: number,
  n: number,
  k: number,
  temperature: number,
  maxIterations: number,
  y: Float32Array,
  threads: number,
): boolean {
  // Scratch per chunk: 3·n float64 (the row's z, its selection copy and e).
  return byRows(
    threads,
    OP_LML,
    rows,
    n,
    [x],
    y,
    temperature,
    { [K]: k, [MAX_ITERATIONS]: maxIterations },
    n * 24,
  );
}

/**
 * dx = the VJP of LML_k(x/τ) at y for the upstream gradient dy (all
 * [rows, n]) on `threads` threads, with the operations of `lmlBackward`
 * (src/fused-math.ts) in WebAssembly: the same numbers, bit for bit. Returns
 * false (and writes nothing) when the arrays do not fit the shared memory.
 */
export function lmlGradRowsThreaded(
  y: Float32Array,
  dy: Float32Array,
  rows: number,
  n: number,
  temperature: number,
  dx: Float32Array,
  threads: number,
): boolean {
  return byRows(threads, OP_LML_GRAD, rows, n, [y, dy], dx, temperature);
}
