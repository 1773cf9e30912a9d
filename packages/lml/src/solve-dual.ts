import type { LmlOps } from './lml-ops.js';

/** Settings of the dual root finder. */
export interface DualSolveSettings {
  /** Convergence threshold on the Newton step: |Δν| ≤ tolerance · max(1, |ν|). */
  tolerance: number;
  /** Number of root-finder iterations; all of them run (no host reads inside the loop). */
  maxIterations: number;
  /** Track per-row convergence (a few extra ops per iteration). */
  track: boolean;
}

/** Tensors produced by {@link solveDual}. */
export interface DualSolution<T> {
  /** The root ν of each row, shape [batch, 1]. */
  nu: T;
  /** With tracking: per row, the first iteration (1-based) whose step met the tolerance, or 0 if none. */
  convergedAt?: T;
}

/**
 * The bracket [lo, hi] that holds the root ν of g(ν) = Σᵢ σ(xᵢ + ν) − k for
 * every n and 1 ≤ k < n. With x₍ⱼ₎ the j-th largest entry of the row:
 *
 * - at ν = −x₍ₖ₎ − log(n − k + 1), the k − 1 largest terms are each < 1 and
 *   the other n − k + 1 are each < 1/(n − k + 1), so g(lo) < 0;
 * - at ν = −x₍ₖ₊₁₎ + log(k + 1), the k + 1 largest terms are each
 *   > 1 − 1/(k + 1), so g(hi) > 0.
 *
 * (The reference's fixed ±7 margin is this bound for n − k ≈ 1100 and fails
 * beyond it.)
 */
export function dualBracket<T>(ops: LmlOps<T>, x: T, k: number): { lo: T; hi: T } {
  const n = ops.shape(x)[1] ?? 0;
  const top = ops.topkValues(x, k + 1);
  const kth = ops.sliceColumns(top, k - 1, 1);
  const next = ops.sliceColumns(top, k, 1);
  const lo = ops.sub(ops.scalar(-Math.log(n - k + 1)), kth);
  const hi = ops.sub(ops.scalar(Math.log(k + 1)), next);
  return { lo, hi };
}

/**
 * Solves Σᵢ σ(xᵢ + ν) = k for ν in every row of a 2-D `x` (1 ≤ k < n).
 *
 * Safeguarded Newton on a log-transformed equation: left of the root
 * (S = Σσ < k) it takes the Newton step of log S = log k, right of it the
 * step of log(n − S) = log(n − k). Both are nearly linear in ν far from the
 * root, where plain Newton on g crawls or overshoots. A step that leaves the
 * current bracket, or is not finite, is replaced by bisection, so the
 * iteration never diverges. The loop has a fixed length and never reads
 * tensors back to the host.
 */
export function solveDual<T>(ops: LmlOps<T>, x: T, k: number, settings: DualSolveSettings): DualSolution<T> {
  const n = ops.shape(x)[1] ?? 0;
  const kT = ops.scalar(k);
  const logK = ops.scalar(Math.log(k));
  const nT = ops.scalar(n);
  const logNK = ops.scalar(Math.log(n - k));
  const zero = ops.scalar(0);
  const half = ops.scalar(0.5);
  const one = ops.scalar(1);
  const tol = ops.scalar(settings.tolerance);

  let { lo, hi } = dualBracket(ops, x, k);
  let nu = ops.mul(ops.add(lo, hi), half);
  let convergedAt = settings.track ? ops.fill(ops.shape(nu), 0) : undefined;

  for (let it = 1; it <= settings.maxIterations; it++) {
    const next = ops.tidy(() => {
      const y = ops.sigmoid(ops.add(x, nu));
      const s = ops.sum(y, 1, true);
      const d = ops.sum(ops.mul(y, ops.sub(one, y)), 1, true);
      const g = ops.sub(s, kT);
      const below = ops.less(g, zero);
      const above = ops.greater(g, zero);
      const newLo = ops.where(above, lo, nu);
      const newHi = ops.where(below, hi, nu);
      const rest = ops.sub(nT, s);
      const stepLeft = ops.div(ops.mul(ops.sub(logK, ops.log(s)), s), d);
      const stepRight = ops.div(ops.mul(ops.sub(ops.log(rest), logNK), rest), d);
      const step = ops.where(ops.equal(g, zero), zero, ops.where(below, stepLeft, stepRight));
      const candidate = ops.add(nu, step);
      const inside = ops.logicalAnd(
        ops.isFinite(candidate),
        ops.logicalAnd(ops.greater(candidate, newLo), ops.less(candidate, newHi)),
      );
      const mid = ops.mul(ops.add(newLo, newHi), half);
      // A step that rounds to 0 means ν is on the root to working precision.
      // ν is then one end of the bracket, so the strict test above rejects
      // the candidate: keep ν instead of bisecting into the stale other half.
      // (A candidate landing on the other end still bisects, which breaks the
      // 2-cycles Newton falls into at the noise level of g in float32.)
      const newNu = ops.where(ops.equal(candidate, nu), nu, ops.where(inside, candidate, mid));
      const out: Record<string, T> = { lo: newLo, hi: newHi, nu: newNu };
      if (convergedAt !== undefined) {
        const scale = ops.add(one, ops.abs(newNu));
        const small = ops.less(ops.abs(ops.sub(newNu, nu)), ops.mul(tol, scale));
        const fresh = ops.logicalAnd(small, ops.equal(convergedAt, zero));
        out.convergedAt = ops.where(fresh, ops.scalar(it), convergedAt);
      }
      return out;
    });
    ops.dispose(lo);
    ops.dispose(hi);
    ops.dispose(nu);
    lo = next.lo as T;
    hi = next.hi as T;
    nu = next.nu as T;
    if (convergedAt !== undefined) {
      ops.dispose(convergedAt);
      convergedAt = next.convergedAt as T;
    }
  }
  ops.dispose(lo);
  ops.dispose(hi);
  return convergedAt === undefined ? { nu } : { nu, convergedAt };
}
