// The public control of the threads that matMul and dense run large
// products on (src/wasm/gemm.ts does the work).
import { closeGemmPool, gemmThreads, setGemmThreads } from './wasm/gemm.js';
import { closeAhead } from './wasm/normals-ahead.js';

/**
 * Sets how many threads {@link matMul} and {@link dense} use for large
 * products on the tfjs `cpu` and `wasm` backends in Node.js: the calling
 * thread plus `threads − 1` worker threads (`node:worker_threads`) that share
 * one WebAssembly memory. The default is the environment variable
 * `DCEM_MATMUL_THREADS` when it is set (an integer ≥ 1; anything else is a
 * RangeError naming it), else one per core (`os.availableParallelism()`).
 * A product of an [m, k] by a [k, n] matrix goes to the threads when
 * m, n, k ≥ 8 and m·n·k ≥ 2²² (smaller ones, and every product on one
 * thread, run `tf.matMul`); a {@link dense} layer always runs as fused
 * kernels in Node.js, on the threads when m·n·max(k, 32) ≥ 2²², else on the
 * calling thread. Results do not depend on the number of threads, and
 * differ from `tf.matMul`'s by float32 rounding only.
 *
 * The same threads run LML on inputs of 32 768 entries or more, and, in
 * seeded CEM/DCEM solves, one worker draws the next iteration's normals
 * while the objective is evaluated (the same numbers as drawn in place).
 * With one thread, all of this runs on the calling thread.
 *
 * The workers are created on the first such product and do not keep the
 * process alive; {@link closeMatMulThreads} ends them. Browsers (no blocking
 * wait on the main thread) always use one thread.
 *
 * @param threads An integer ≥ 1, or undefined for the default
 *   (`DCEM_MATMUL_THREADS`, else one per core).
 * @returns A promise that settles once a pool of another size is closed.
 * @throws TypeError / RangeError when `threads` is not an integer ≥ 1.
 * @example
 * ```ts
 * import { setMatMulThreads, matMulThreads } from '@dcem/tfjs';
 * await setMatMulThreads(2);
 * console.log(matMulThreads()); // 2 in Node.js, 1 in a browser
 * ```
 */
export async function setMatMulThreads(threads?: number): Promise<void> {
  await setGemmThreads(threads);
  if (gemmThreads() === 1) await closeAhead();
}

/**
 * The number of threads {@link matMul} and {@link dense} use for large
 * products here: the value given to {@link setMatMulThreads}, else one per
 * core in Node.js, and 1 where worker threads cannot share memory with a
 * blocking caller (browsers).
 *
 * @returns An integer ≥ 1.
 * @example
 * ```ts
 * import { matMulThreads } from '@dcem/tfjs';
 * console.log(matMulThreads());
 * ```
 */
export function matMulThreads(): number {
  return gemmThreads();
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
 * import { closeMatMulThreads } from '@dcem/tfjs';
 * await closeMatMulThreads();
 * ```
 */
export async function closeMatMulThreads(): Promise<void> {
  await Promise.all([closeGemmPool(), closeAhead()]);
}
