// The public control of the threads that @dcem/tfjs runs work on: large
// matrix products (matMul, dense), LML on large inputs, and the normals
// drawn ahead in seeded solves. The pool is pool.ts, its jobs gemm.ts and
// lml-rows.ts, the worker that draws ahead normals-ahead.ts.

import { closeAhead } from './normals-ahead.js';
import { closePool, poolThreads, setPoolThreads } from './pool.js';

/**
 * Sets how many threads @dcem/tfjs uses on the tfjs `cpu` and `wasm`
 * backends in Node.js: the calling thread plus `threads − 1` worker threads
 * (`node:worker_threads`) that share one WebAssembly memory. They run
 *
 * - large products of {@link matMul} and {@link dense}: a product of an
 *   [m, k] by a [k, n] matrix goes to the threads when m, n, k ≥ 8 and
 *   m·n·k ≥ 2²² (smaller ones, and every product on one thread, run
 *   `tf.matMul`); a {@link dense} layer always runs as fused kernels in
 *   Node.js, on the threads when m·n·max(k, 32) ≥ 2²², else on the calling
 *   thread;
 * - LML (and its gradient) on inputs of 32 768 entries or more;
 * - in seeded CEM/DCEM solves, the next iteration's normals, drawn on one
 *   worker while the objective is evaluated (the same numbers as drawn in
 *   place).
 *
 * Results do not depend on the number of threads (products differ from
 * `tf.matMul`'s by float32 rounding only). With one thread, all of this
 * runs on the calling thread.
 *
 * The default is the environment variable `DCEM_THREADS` when it is set (an
 * integer ≥ 1; anything else is a RangeError naming it; the former name
 * `DCEM_MATMUL_THREADS` is still read when `DCEM_THREADS` is unset, for one
 * release), else one per core (`os.availableParallelism()`).
 *
 * The workers are created on first use and do not keep the process alive;
 * {@link closeThreads} ends them. Browsers (no blocking wait on the main
 * thread) always use one thread.
 *
 * @param threads An integer ≥ 1, or undefined for the default
 *   (`DCEM_THREADS`, else one per core).
 * @returns A promise that settles once a pool of another size is closed.
 * @throws TypeError / RangeError when `threads` is not an integer ≥ 1.
 * @example
 * ```ts
 * import { setThreads, threads } from '@dcem/tfjs';
 * await setThreads(2);
 * console.log(threads()); // 2 in Node.js, 1 in a browser
 * ```
 */
export async function setThreads(threads?: number): Promise<void> {
  await setPoolThreads(threads);
  if (poolThreads() === 1) await closeAhead();
}

/**
 * The number of threads @dcem/tfjs uses here (see {@link setThreads}): the
 * value given to {@link setThreads}, else `DCEM_THREADS`, else one per core
 * in Node.js, and 1 where worker threads cannot share memory with a blocking
 * caller (browsers).
 *
 * @returns An integer ≥ 1.
 * @example
 * ```ts
 * import { threads } from '@dcem/tfjs';
 * console.log(threads());
 * ```
 */
export function threads(): number {
  return poolThreads();
}

/**
 * Ends the worker threads of {@link matMul}, {@link dense}, LML and the
 * draws made ahead (they never keep a process alive, but a long-running
 * program may want them gone). The next large product or seeded solve
 * starts new ones.
 *
 * @returns A promise that settles when every worker has exited.
 * @example
 * ```ts
 * import { closeThreads } from '@dcem/tfjs';
 * await closeThreads();
 * ```
 */
export async function closeThreads(): Promise<void> {
  await Promise.all([closePool(), closeAhead()]);
}

/**
 * The former name of {@link setThreads} (the threads run more than matrix
 * products).
 *
 * @deprecated Use {@link setThreads}; this alias will be removed after one release.
 * @param count An integer ≥ 1, or undefined for the default.
 * @returns A promise that settles once a pool of another size is closed.
 */
export function setMatMulThreads(count?: number): Promise<void> {
  return setThreads(count);
}

/**
 * The former name of {@link threads}.
 *
 * @deprecated Use {@link threads}; this alias will be removed after one release.
 * @returns An integer ≥ 1.
 */
export function matMulThreads(): number {
  return threads();
}

/**
 * The former name of {@link closeThreads}.
 *
 * @deprecated Use {@link closeThreads}; this alias will be removed after one release.
 * @returns A promise that settles when every worker has exited.
 */
export function closeMatMulThreads(): Promise<void> {
  return closeThreads();
}
