import { assertInteger, assertPositive } from '@dcem/errors';
import { checkRows } from './check-rows.js';
import type { LmlOps } from './lml-ops.js';
import { solveDual } from './solve-dual.js';

/** Options of {@link lml}. */
export interface LmlOptions {
  /**
   * τ > 0. The projection is applied to x / τ: a small τ approaches the hard
   * top-k indicator, a large one spreads the mass. Default 1.
   */
  temperature?: number;
  /**
   * Convergence threshold of the root finder on ν: a row has converged once a
   * Newton step satisfies |Δν| ≤ tolerance · (1 + |ν|). Default 1e-6. Used for
   * the diagnostics of {@link lmlWithDiagnostics}; the generic loop itself
   * always runs `maxIterations` iterations (it never reads back to the host).
   * A backend's fused kernel (`LmlOps.fused.lml`) stops each row on its own
   * once the row is exact to float32 precision.
   */
  tolerance?: number;
  /** Root-finder iterations (at most, on a fused kernel), an integer ≥ 1. Default 16. */
  maxIterations?: number;
}

/** Defaults of {@link LmlOptions}. */
export const LML_DEFAULTS = Object.freeze({
  temperature: 1,
  tolerance: 1e-6,
  maxIterations: 16,
});

/**
 * Value the reference returns in every entry when k ≥ n (the projection is
 * then infeasible or trivial); its gradient is zero.
 */
export const LML_DEGENERATE_FILL = 1 - 1e-5;

/** What {@link lmlWithDiagnostics} returns. */
export interface LmlDiagnostics<T> {
  /** The projection, [batch, n]. */
  value: T;
  /** The dual variable ν of each row, [batch, 1] (x / τ + ν are the logits of `value`). */
  nu: T;
  /** Iterations until every row met the tolerance (maxIterations when some did not). */
  iterations: number;
  /** Per row: did the root finder meet the tolerance? */
  converged: boolean[];
}

interface Resolved {
  temperature: number;
  tolerance: number;
  maxIterations: number;
}

function resolve<T>(ops: LmlOps<T>, x: T, k: number, options: LmlOptions | undefined): Resolved {
  checkRows(ops, x, k);
  const temperature = options?.temperature ?? LML_DEFAULTS.temperature;
  const tolerance = options?.tolerance ?? LML_DEFAULTS.tolerance;
  const maxIterations = options?.maxIterations ?? LML_DEFAULTS.maxIterations;
  assertPositive('temperature', temperature);
  assertPositive('tolerance', tolerance);
  assertInteger('maxIterations', maxIterations, 1);
  return { temperature, tolerance, maxIterations };
}

/**
 * Builds the differentiable map z ↦ LML_k(z) for 2-D z. `onNu` receives the
 * (kept) dual variable when diagnostics are requested.
 */
function projection<T>(
  ops: LmlOps<T>,
  k: number,
  settings: Resolved,
  onDual?: (nu: T, convergedAt: T) => void,
): (z: T) => T {
  return ops.customGrad((z, save) => {
    const [, n = 0] = ops.shape(z);
    if (k >= n) {
      return {
        value: ops.fill(ops.shape(z), LML_DEGENERATE_FILL),
        gradient: (dy) => ops.mul(dy, ops.scalar(0)),
      };
    }
    const dual = solveDual(ops, z, k, {
      tolerance: settings.tolerance,
      maxIterations: settings.maxIterations,
      track: onDual !== undefined,
    });
    const finiteRow = ops.allRows(ops.isFinite(z));
    const y = ops.where(finiteRow, ops.sigmoid(ops.add(z, dual.nu)), ops.fill(ops.shape(z), Number.NaN));
    if (onDual !== undefined && dual.convergedAt !== undefined) {
      onDual(ops.keep(dual.nu), ops.keep(dual.convergedAt));
    }
    save([y]);
    return {
      value: y,
      gradient: (dy, saved) => {
        const yy = saved[0] as T;
        // Implicit VJP: with s = y(1 − y), dz = s ⊙ (g − ⟨s, g⟩ / Σs).
        // A fully saturated row has Σs = 0 and s = 0: its gradient is 0.
        const s = ops.mul(yy, ops.sub(ops.scalar(1), yy));
        const total = ops.sum(s, 1, true);
        const positive = ops.greater(total, ops.scalar(0));
        const safeTotal = ops.where(positive, total, ops.scalar(1));
        const mean = ops.div(ops.sum(ops.mul(s, dy), 1, true), safeTotal);
        return ops.mul(s, ops.sub(dy, mean));
      },
    };
  });
}

/**
 * The Limited Multi-Label projection (Amos, Koltun & Kolter 2019), a soft
 * top-k: for each row x of `x` it returns
 *
 *   y = argmin_{0<y<1} −(x/τ)ᵀy − H_b(y)  subject to  1ᵀy = k,
 *
 * with H_b the binary entropy. The solution is y = σ(x/τ + ν) with ν the
 * root of Σᵢ σ(xᵢ/τ + ν) = k, found by a safeguarded Newton iteration
 * inside a bracket valid for every n and k. The gradient is the closed-form
 * implicit vector–Jacobian product dx = s ⊙ (g − ⟨s, g⟩/Σs)/τ with
 * s = y ⊙ (1 − y), registered through the backend's `customGrad`.
 *
 * Edge cases: for k ≥ n every entry is 1 − 1e-5 (the reference's value) with
 * zero gradient; a fully saturated row has zero gradient; a row that holds a
 * NaN or ±∞ comes back as NaN (other rows are unaffected).
 *
 * Where `ops` has a fused kernel for it (`fused.lml`; the tfjs backend has one
 * on its cpu and wasm backends), the whole projection and its gradient run
 * as that kernel, with the same root finder in float64; otherwise it is
 * composed from the operations of {@link LmlOps}.
 *
 * @param ops The tensor operations (a `Backend` of `@dcem/core` is one).
 * @param x Scores, shape [batch, n].
 * @param k Number of entries to select per row, an integer ≥ 1 (`k` in the paper).
 * @param options Temperature τ and root-finder settings.
 * @returns y, shape [batch, n], entries in (0, 1), rows summing to k (for k < n).
 *
 * @example
 * ```ts
 * import { lml } from '@dcem/lml';
 * const y = lml(ops, x, 2, { temperature: 0.5 }); // ops: an LmlOps over your tensors
 * ```
 */
export function lml<T>(ops: LmlOps<T>, x: T, k: number, options?: LmlOptions): T {
  const settings = resolve(ops, x, k, options);
  if (k < (ops.shape(x)[1] ?? 0)) {
    const y = ops.fused?.lml?.(x, k, settings.temperature, settings.maxIterations);
    if (y !== undefined) return y;
  }
  return ops.tidy(() => {
    const z = settings.temperature === 1 ? x : ops.div(x, ops.scalar(settings.temperature));
    return projection(ops, k, settings)(z);
  });
}

/**
 * {@link lml} plus what the root finder did: the dual variable ν, the number
 * of iterations until every row met the tolerance and which rows converged.
 * Reads two small tensors back to the host after the solve. The caller owns
 * `value` and `nu`.
 *
 * @param ops The tensor operations.
 * @param x Scores, shape [batch, n].
 * @param k Number of entries to select per row, an integer ≥ 1.
 * @param options Temperature τ and root-finder settings.
 *
 * @example
 * ```ts
 * const { value, iterations, converged } = lmlWithDiagnostics(ops, x, 10);
 * ```
 */
export function lmlWithDiagnostics<T>(
  ops: LmlOps<T>,
  x: T,
  k: number,
  options?: LmlOptions,
): LmlDiagnostics<T> {
  const settings = resolve(ops, x, k, options);
  let nu: T | undefined;
  let convergedAt: T | undefined;
  const value = ops.tidy(() => {
    const z = settings.temperature === 1 ? x : ops.div(x, ops.scalar(settings.temperature));
    return projection(ops, k, settings, (v, c) => {
      nu = v;
      convergedAt = c;
    })(z);
  });
  const [batch = 0, n = 0] = ops.shape(x);
  if (nu === undefined || convergedAt === undefined) {
    // k ≥ n: nothing to solve.
    return {
      value,
      nu: ops.fill([batch, 1], k >= n ? Number.POSITIVE_INFINITY : Number.NaN),
      iterations: 0,
      converged: new Array<boolean>(batch).fill(true),
    };
  }
  const at = Array.from(ops.readSync(convergedAt));
  ops.dispose(convergedAt);
  const converged = at.map((v) => v > 0);
  const iterations = converged.every(Boolean) ? Math.max(0, ...at) : settings.maxIterations;
  return { value, nu, iterations, converged };
}
