import { assertInteger, assertOptions, assertPositive } from '@dcem/errors';
import { checkRows } from './check-rows.js';
import type { LmlOps } from './lml-ops.js';

/** Options of {@link sparseTopK}. */
export interface SparseTopKOptions {
  /**
   * τ > 0. The projection is applied to x / τ: a small τ gives the hard
   * top-k indicator, a large one spreads the mass. Default 1.
   */
  temperature?: number;
  /**
   * Iterations of the safeguarded Newton search for the threshold ν, an
   * integer ≥ 1. Default 16. The search has a fixed length (it never reads
   * back to the host); a row is exact once an iteration has landed on the
   * linear piece that holds the root, after which further iterations leave
   * it unchanged. See {@link sparseTopK}.
   */
  maxIterations?: number;
}

/** Defaults of {@link SparseTopKOptions}. */
export const SPARSE_TOP_K_DEFAULTS = Object.freeze({
  temperature: 1,
  maxIterations: 16,
});

const OPTION_NAMES: readonly string[] = Object.keys(SPARSE_TOP_K_DEFAULTS);

/**
 * A Newton step that moves ν by less than this (relative to 1 + |ν|) is
 * accepted even when rounding places it just outside the bracket: it is the
 * exact solve on ν's own free set, i.e. the root to working precision.
 */
const STAY_TOLERANCE = 1e-6;

interface Resolved {
  temperature: number;
  maxIterations: number;
}

function resolve<T>(ops: LmlOps<T>, x: T, k: number, options: SparseTopKOptions | undefined): Resolved {
  checkRows(ops, x, k);
  assertOptions('sparseTopK options', options, OPTION_NAMES);
  const temperature = options?.temperature ?? SPARSE_TOP_K_DEFAULTS.temperature;
  const maxIterations = options?.maxIterations ?? SPARSE_TOP_K_DEFAULTS.maxIterations;
  assertPositive('temperature', temperature);
  assertInteger('maxIterations', maxIterations, 1);
  return { temperature, maxIterations };
}

/**
 * The threshold ν of every row of a 2-D `z` (1 ≤ k < n): the root of
 * g(ν) = Σᵢ clip(zᵢ + ν, 0, 1) = k, shape [batch, 1].
 *
 * g is continuous, non-decreasing and piecewise linear with slope |F(ν)|, the
 * number of free entries 0 < zᵢ + ν < 1. With z₍ⱼ₎ the j-th largest entry,
 * g(−z₍ₖ₊₁₎) ≤ k (only the k largest can be positive) and g(1 − z₍ₖ₎) ≥ k
 * (the k largest are all 1), so the root lies in [−z₍ₖ₊₁₎, 1 − z₍ₖ₎]; when
 * z₍ₖ₎ − z₍ₖ₊₁₎ ≥ 1 that interval is empty and ν = 1 − z₍ₖ₎ gives the hard
 * top-k exactly.
 *
 * Each iteration takes the Newton step, which on a piecewise-linear g is the
 * exact solve on the current free set F and saturated set U = {zᵢ + ν ≥ 1}:
 * ν' = (k − |U| − Σ_F zᵢ) / |F| (Cominetti, Mascarenhas & Silva 2014, for the
 * continuous quadratic knapsack problem). A step that leaves the bracket, or
 * an empty F, bisects instead. Once ν lies on the linear piece that holds the
 * root, ν' is the root and stays there.
 */
function solveThreshold<T>(ops: LmlOps<T>, z: T, k: number, maxIterations: number): T {
  const zero = ops.scalar(0);
  const one = ops.scalar(1);
  const half = ops.scalar(0.5);
  const kT = ops.scalar(k);
  const stay = ops.scalar(STAY_TOLERANCE);

  const top = ops.topkValues(z, k + 1);
  const kth = ops.sliceColumns(top, k - 1, 1);
  const next = ops.sliceColumns(top, k, 1);
  let hi = ops.sub(one, kth);
  const below = ops.sub(zero, next);
  // A gap ≥ 1 between the k-th and (k+1)-th entries leaves lo ≥ hi: ν = hi
  // is then a root (the hard top-k) with an empty free set, and stays put.
  const degenerate = ops.less(hi, below);
  let lo = ops.where(degenerate, hi, below);
  let nu = ops.where(degenerate, hi, ops.mul(ops.add(lo, hi), half));

  // Full-size constants: `where` with broadcast operands tiles them on every
  // call in tfjs, which cost more than the rest of the iteration.
  const zeros = ops.fill(ops.shape(z), 0);
  const ones = ops.fill(ops.shape(z), 1);
  for (let it = 0; it < maxIterations; it++) {
    const out = ops.tidy(() => {
      // Comparisons against full-size operands (no broadcasting: tfjs's
      // broadcasting comparisons are slow on wasm).
      const t = ops.add(z, nu);
      const positive = ops.greater(t, zeros);
      const belowOne = ops.less(t, ones);
      // c = |U| + Σ_F z: 1 for a saturated entry, z for a free one, 0
      // otherwise; count = |F|. (Nested `where`s instead of a logical and:
      // fewer full-size passes.)
      const c = ops.sum(ops.where(belowOne, ops.where(positive, z, zeros), ones), 1, true);
      const count = ops.sum(ops.where(belowOne, ops.where(positive, ones, zeros), zeros), 1, true);
      const g = ops.add(c, ops.mul(count, nu));
      const newLo = ops.where(ops.less(g, kT), nu, lo);
      const newHi = ops.where(ops.greater(g, kT), nu, hi);
      const hasFree = ops.greater(count, zero);
      // The exact solve on ν's free set (the Newton step).
      const candidate = ops.div(ops.sub(kT, c), ops.where(hasFree, count, one));
      const inBracket = ops.logicalAnd(
        ops.logicalAnd(ops.greater(candidate, newLo), ops.less(candidate, newHi)),
        ops.isFinite(candidate),
      );
      // Rounding can put the root a hair outside [lo, hi]: a candidate that
      // barely moves ν is ν's own exact solve, so it is accepted anyway.
      const near = ops.less(ops.abs(ops.sub(candidate, nu)), ops.mul(stay, ops.add(one, ops.abs(nu))));
      const newton = ops.logicalAnd(hasFree, ops.logicalAnd(ops.isFinite(candidate), inBracket));
      const accept = ops.logicalAnd(hasFree, ops.logicalAnd(ops.isFinite(candidate), near));
      const mid = ops.mul(ops.add(newLo, newHi), half);
      // An empty free set with g = k: ν is a root already (a hard top-k row).
      const rootWithoutFree = ops.logicalAnd(ops.equal(g, kT), ops.equal(count, zero));
      const newNu = ops.where(
        rootWithoutFree,
        nu,
        ops.where(newton, candidate, ops.where(accept, candidate, mid)),
      );
      return { lo: newLo, hi: newHi, nu: newNu };
    });
    ops.dispose(lo);
    ops.dispose(hi);
    ops.dispose(nu);
    lo = out.lo as T;
    hi = out.hi as T;
    nu = out.nu as T;
  }
  ops.dispose(lo);
  ops.dispose(hi);
  return nu;
}

/** clip(v, 0, 1), element-wise (exact: no arithmetic on the clipped entries). */
function clipUnit<T>(ops: LmlOps<T>, v: T): T {
  const shape = ops.shape(v);
  const zeros = ops.fill(shape, 0);
  const ones = ops.fill(shape, 1);
  return ops.where(ops.less(v, zeros), zeros, ops.where(ops.greater(v, ones), ones, v));
}

/** The differentiable map z ↦ the capped-simplex projection of z, for 2-D z. */
function projection<T>(ops: LmlOps<T>, k: number, maxIterations: number): (z: T) => T {
  return ops.customGrad((z, save) => {
    const shape = ops.shape(z);
    const n = shape[1] ?? 0;
    const finiteRow = ops.allRows(ops.isFinite(z));
    const nan = ops.fill(shape, Number.NaN);
    if (k >= n) {
      // The capped simplex {0 ≤ y ≤ 1, Σy = k} is the single point 1 when
      // k = n (and empty for k > n, where selecting everything is the limit).
      return {
        value: ops.where(finiteRow, ops.fill(shape, 1), nan),
        gradient: (dy) => ops.mul(dy, ops.scalar(0)),
      };
    }
    const nu = solveThreshold(ops, z, k, maxIterations);
    const y = ops.where(finiteRow, clipUnit(ops, ops.add(z, nu)), nan);
    save([y]);
    return {
      value: y,
      gradient: (dy, saved) => {
        const yy = saved[0] as T;
        // The Jacobian is diag(1_F) − 1_F 1_Fᵀ / |F| on the free set
        // F = {0 < y < 1}: dz = 1_F ⊙ (g − mean_F(g)); zero when F is empty.
        const zero = ops.scalar(0);
        const one = ops.scalar(1);
        const zeros = ops.fill(ops.shape(yy), 0);
        const ones = ops.fill(ops.shape(yy), 1);
        const free = ops.where(ops.logicalAnd(ops.greater(yy, zeros), ops.less(yy, ones)), ones, zeros);
        const count = ops.sum(free, 1, true);
        const safeCount = ops.where(ops.greater(count, zero), count, one);
        const mean = ops.div(ops.sum(ops.mul(free, dy), 1, true), safeCount);
        return ops.mul(free, ops.sub(dy, mean));
      },
    };
  });
}

/**
 * The sparse soft top-k of Sander, Puigcerver, Djolonga, Peyré & Blondel,
 * "Fast, Differentiable and Sparse Top-k: a Convex Analysis Perspective"
 * (ICML 2023), in its p = 2 (Euclidean) form: for each row x of `x` it
 * returns the Euclidean projection of x/τ onto the capped simplex
 *
 *   y = argmin_{0 ≤ y ≤ 1, 1ᵀy = k} ‖y − x/τ‖²,
 *
 * the convex hull of the k-hot vectors. The solution is
 * y = clip(x/τ + ν, 0, 1), with the threshold ν the root of the
 * piecewise-linear Σᵢ clip(xᵢ/τ + ν, 0, 1) = k. Unlike {@link lml}, the
 * output has exact zeros and ones: entries far below the k-th largest get 0,
 * entries far above it get 1, and as τ → 0 (once the gap between the k-th
 * and (k + 1)-th largest entries of x/τ reaches 1) it is exactly the hard
 * top-k indicator.
 *
 * The forward pass is exact: ν is found by a safeguarded Newton search
 * inside the bracket [−z₍ₖ₊₁₎, 1 − z₍ₖ₎] (z = x/τ, z₍ⱼ₎ its j-th largest
 * entry), each Newton step being the exact solve on the current free set;
 * on a piecewise-linear sum it lands on the root in a few steps (at most 8
 * on the inputs we tried, n up to 10⁴) and stays there. The loop has a fixed
 * length `maxIterations` and never reads back to the host. The gradient is
 * closed form on the free set F = {i : 0 < yᵢ < 1}:
 *
 *   dx = 1_F ⊙ (g − mean_F(g)) / τ   (zero when F is empty),
 *
 * registered through the backend's `customGrad`.
 *
 * Edge cases: for k ≥ n every entry is exactly 1 (the only point of the
 * capped simplex when k = n; {@link lml} returns 1 − 1e-5 there, the LML
 * reference's value), with zero gradient; a row that holds a NaN or ±∞ comes
 * back as NaN (other rows are unaffected), also when k ≥ n.
 *
 * @param ops The tensor operations (a `Backend` of `@dcem/core` is one).
 * @param x Scores, shape [batch, n].
 * @param k Number of entries to select per row, an integer ≥ 1.
 * @param options Temperature τ and the number of search iterations.
 * @returns y, shape [batch, n], entries in [0, 1], rows summing to min(k, n).
 *
 * @example
 * ```ts
 * import { sparseTopK } from '@dcem/lml';
 * const y = sparseTopK(ops, x, 2, { temperature: 0.5 }); // ops: an LmlOps over your tensors
 * ```
 */
export function sparseTopK<T>(ops: LmlOps<T>, x: T, k: number, options?: SparseTopKOptions): T {
  const { temperature, maxIterations } = resolve(ops, x, k, options);
  return ops.tidy(() => {
    const z = temperature === 1 ? x : ops.div(x, ops.scalar(temperature));
    return projection(ops, k, maxIterations)(z);
  });
}
