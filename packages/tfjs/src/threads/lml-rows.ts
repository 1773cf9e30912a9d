// LML and its gradient by rows on the thread pool (pool.ts), by the
// WebAssembly twins (assembly/lml-simd.ts) of lmlForward and lmlBackward
// (src/kernels/math.ts): each chunk is a run of whole rows.
import type { LmlBackwardArgs, LmlForwardArgs } from '../kernels/math.js';
import {
  A,
  ARENA,
  align,
  B,
  C,
  CHUNK,
  chunkCopier,
  getPool,
  K,
  M,
  MAX_ITERATIONS,
  N,
  OP,
  OP_LML,
  OP_LML_GRAD,
  TEMPERATURE,
  WORK,
} from './pool.js';

/** Entries per chunk of a by-rows job (whole rows, at least one). */
const LML_ENTRIES_PER_CHUNK = 8192;

/** A by-rows job for {@link byRows}. */
interface ByRowsJob {
  threads: number;
  /** OP_LML or OP_LML_GRAD. */
  op: number;
  rows: number;
  n: number;
  /** [rows, n] each: A, then B. */
  inputs: readonly Float32Array[];
  /** Receives C, [rows, n]. */
  out: Float32Array;
  temperature: number;
  /** Further job slots. */
  slots?: Record<number, number>;
  /** Scratch bytes per chunk. */
  workPerChunk?: number;
}

/**
 * Runs a by-rows job (OP_LML, OP_LML_GRAD) over `rows` rows of n entries:
 * the `inputs` ([rows, n] each) go in chunk by chunk while the workers start
 * on the first chunks (A, then B), the result comes back from C into `out`;
 * each chunk gets `workPerChunk` bytes of scratch at WORK. Returns false (and
 * writes nothing) when the arrays do not fit the shared memory.
 */
function byRows(job: ByRowsJob): boolean {
  const { threads, op, rows, n, inputs, out, temperature, slots = {}, workPerChunk = 0 } = job;
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
 * y = LML_k(x/τ) by rows (x, y: [rows, n]; `steps` is not written) on `threads` threads, with the
 * algorithm of `lmlForward` (src/kernels/math.ts) in WebAssembly. Returns
 * false (and writes nothing) when the arrays do not fit the shared memory.
 */
export function lmlRowsThreaded(args: LmlForwardArgs<Float32Array>, threads: number): boolean {
  const { x, rows, n, k, temperature, maxIterations, y } = args;
  // Scratch per chunk: 3·n float64 (the row's z, its selection copy and e).
  return byRows({
    threads,
    op: OP_LML,
    rows,
    n,
    inputs: [x],
    out: y,
    temperature,
    slots: { [K]: k, [MAX_ITERATIONS]: maxIterations },
    workPerChunk: n * 24,
  });
}

/**
 * dx = the VJP of LML_k(x/τ) at y for the upstream gradient dy (all
 * [rows, n]) on `threads` threads, with the operations of `lmlBackward`
 * (src/kernels/math.ts) in WebAssembly: the same numbers, bit for bit. Returns
 * false (and writes nothing) when the arrays do not fit the shared memory.
 */
export function lmlGradRowsThreaded(args: LmlBackwardArgs<Float32Array>, threads: number): boolean {
  const { y, dy, rows, n, temperature, dx } = args;
  return byRows({ threads, op: OP_LML_GRAD, rows, n, inputs: [y, dy], out: dx, temperature });
}
