// Matrix products on the thread pool (pool.ts): C = act(A·B + bias), Aᵀ·B
// and a dense layer's backward pass, by the SIMD kernels of
// assembly/gemm-simd.ts. Each call copies its operands into the pool's
// shared memory, writes the job into the control block and runs its chunks
// on every thread; results do not depend on the number of threads (the row
// ranges of the partial sums of Aᵀ·B depend only on the shapes).
import {
  A,
  ACT,
  ARENA,
  align,
  B,
  BIAS,
  C,
  CHUNK,
  COLSUMS,
  COUNT,
  chunkCopier,
  getPool,
  K,
  M,
  N,
  OP,
  OP_NT,
  OP_ROWS,
  OP_SCALE,
  OP_SUM,
  OP_TN,
  OP_TN_SPLIT,
  PARTIALS,
  type Pool,
  SLOPE,
  STRIDE,
} from './pool.js';

/** Products with fewer output columns than this run as dot products of rows (OP_NT). */
const NT_MAX_COLUMNS = 4;
/** Rows of A per chunk of a row-wise product. */
export const ROWS_PER_CHUNK = 128;
/** Rows of A and B per partial sum of Aᵀ·B (fixed: the result must not depend on the thread count). */
const TN_ROWS = 512;
/** Most partial sums of one Aᵀ·B (beyond, each partial covers more rows). */
const TN_MAX_PARTIALS = 64;
/** Fewest output rows per chunk when one partial of Aᵀ·B is shared among the threads. */
const TN_SPLIT_MIN_ROWS = 8;
/** Entries per chunk of the sum of partials. */
const SUM_CHUNK = 4096;

/** Activations the kernels apply (the codes of assembly/gemm-simd.ts). */
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
export function writeTransposed(dst: Float32Array, src: Float32Array, rows: number, cols: number): void {
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) dst[j * rows + i] = src[i * cols + j] as number;
}

/** A product for {@link gemm}. */
export interface GemmJob {
  /** A, [m, k] row-major. */
  a: Float32Array;
  /** B, [k, n]. */
  b: Float32Array;
  /** The bias, [n], or undefined for none. */
  bias?: Float32Array | undefined;
  /** Rows of A. */
  m: number;
  /** Columns of B. */
  n: number;
  /** Columns of A, rows of B. */
  k: number;
  /** Receives C, [m, n]. */
  out: Float32Array;
  /** Threads to run on (the calling thread included). */
  threads: number;
  /** The activation (default linear). */
  activation?: ActivationName;
  /** Receives act′(A·B + bias), [m, n] (not for a linear layer). */
  slope?: Float32Array | undefined;
}

/**
 * C = act(A·B + bias) on `threads` threads (the main thread included),
 * A: [m, k], B: [k, n], bias: [n] or undefined, written to `out` ([m, n]);
 * with `slope`, the activation's derivative act′(A·B + bias) too (for the
 * backward pass).
 * Returns false (and writes nothing) when
 * the operands do not fit the shared memory.
 */
export function gemm(job: GemmJob): boolean {
  const { a, b, bias, m, n, k, out, threads, activation = 'linear', slope } = job;
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

/** An Aᵀ·B whose operands are (or are being copied) in the pool's memory, A: [m, k] at `pa`, B: [m, n] at `pb`. */
export interface TnJob {
  pa: number;
  pb: number;
  /** Where the partial sums go. */
  pp: number;
  /** Where the result goes. */
  pc: number;
  m: number;
  n: number;
  k: number;
  /** Whether to append the column sums of B (row k of the result). */
  colSums: boolean;
  /** Copies the inputs of chunk t in (see {@link Pool.parallel}). */
  prepare?: (t: number) => void;
}

/** Runs Aᵀ·B (with the column sums of B when `colSums`) for operands already in the memory; the result lands at `pc`. */
export function tnJobs(p: Pool, job: TnJob): void {
  const { pa, pb, pp, pc, m, n, k, colSums, prepare } = job;
  const rows = tnRows(m);
  const count = Math.ceil(m / rows);
  if (count === 1 && p.participants > 1 && k >= 2 * TN_SPLIT_MIN_ROWS) {
    // One partial (few rows): its output rows are shared among the threads
    // instead, each entry summed as the one partial would sum it.
    const per = Math.ceil(k / p.participants / 4) * 4;
    p.setJob({
      [OP]: OP_TN_SPLIT,
      [A]: pa,
      [B]: pb,
      [C]: pc,
      [M]: m,
      [N]: n,
      [K]: k,
      [CHUNK]: per,
      [COLSUMS]: colSums ? 1 : 0,
    });
    p.parallel(Math.ceil(k / per), prepare);
    return;
  }
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

/** A product for {@link gemmTn}. */
export interface GemmTnJob {
  /** A, [m, k]. */
  a: Float32Array;
  /** B, [m, n]. */
  b: Float32Array;
  /** Rows of A and B. */
  m: number;
  /** Columns of B. */
  n: number;
  /** Columns of A. */
  k: number;
  /** Receives Aᵀ·B, [k, n]. */
  out: Float32Array;
  /** Threads to run on. */
  threads: number;
}

/**
 * C = Aᵀ·B on `threads` threads, A: [m, k], B: [m, n], written to `out`
 * ([k, n]): partial sums over fixed row ranges of A and B, then their sum in
 * order. Returns false when the operands do not fit the shared memory.
 */
export function gemmTn(job: GemmTnJob): boolean {
  const { a, b, m, n, k, out, threads } = job;
  const p = getPool(threads);
  const pa = ARENA;
  const pb = pa + align(m * k * 4);
  const pp = pb + align(m * n * 4);
  const pc = pp + align(tnPartialCount(m) * k * n * 4);
  if (!p.reserve(pc + k * n * 4)) return false;
  // Partial t sums rows [t·r, (t+1)·r) of A and B: they go in as it needs them.
  const r = tnRows(m);
  tnJobs(p, {
    pa,
    pb,
    pp,
    pc,
    m,
    n,
    k,
    colSums: false,
    prepare: chunkCopier([
      [p.f32(pa, m * k), a, r * k],
      [p.f32(pb, m * n), b, r * n],
    ]),
  });
  out.set(p.f32(pc, k * n));
  return true;
}

/** A backward pass for {@link denseBackward}. */
export interface DenseBackwardJob {
  /** The layer's input x, [m, k]. */
  x: Float32Array;
  /** The weight W, [k, n]. */
  w: Float32Array;
  /** The upstream gradient g, [m, n]. */
  g: Float32Array;
  /** act′(z) from the forward pass, [m, n], or undefined for a linear layer. */
  slope: Float32Array | undefined;
  /** Rows of x. */
  m: number;
  /** Columns of W. */
  n: number;
  /** Columns of x. */
  k: number;
  /** Receives dx, [m, k], or undefined to skip it. */
  dx: Float32Array | undefined;
  /** Receives dW, [k, n]. */
  dw: Float32Array;
  /** Receives db, [n]. */
  db: Float32Array;
  /** Threads to run on. */
  threads: number;
}

/**
 * The backward pass of a dense layer h = act(x·W + b) on `threads` threads:
 * with δ = g ⊙ act′(z) (z = x·W + b; `slope` holds act′(z) from the forward
 * pass, undefined for a linear layer, where δ = g), dx = δ·Wᵀ ([m, k],
 * skipped when `dx` is undefined), dW = xᵀ·δ ([k, n]) and db = Σᵣ δ ([n]).
 * x: [m, k], W: [k, n], g and slope: [m, n]. Returns false when the
 * operands do not fit the shared memory.
 */
export function denseBackward(job: DenseBackwardJob): boolean {
  const { x, w, g, slope, m, n, k, dx, dw, db, threads } = job;
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
  tnJobs(p, {
    pa: px,
    pb: pg,
    pp,
    pc,
    m,
    n,
    k,
    colSums: true,
    prepare: chunkCopier([[p.f32(px, m * k), x, tnRows(m) * k]]),
  });
  dw.set(p.f32(pc, k * n));
  db.set(p.f32(pc + k * n * 4, n));
  return true;
}
