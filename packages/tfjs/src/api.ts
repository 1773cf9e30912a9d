import {
  type AsyncObjective,
  type CemOptions,
  type CemResult,
  type CemSolver,
  cem as coreCem,
  cemAsync as coreCemAsync,
  createCem as coreCreateCem,
  createDcem as coreCreateDcem,
  dcem as coreDcem,
  dcemAsync as coreDcemAsync,
  disposeCemResult as coreDisposeCemResult,
  lml as coreLml,
  lmlWithDiagnostics as coreLmlWithDiagnostics,
  type LmlDiagnostics,
  type LmlOptions,
  type Objective,
} from '@dcem/core';
import { sparseTopK as lmlSparseTopK, type SparseTopKOptions } from '@dcem/lml';
import { createTfjsBackend, type Tensor } from './backend.js';

/** The backend the bound functions of this package use (the default tfjs namespace). */
export const tfjsBackend = createTfjsBackend();

/** Options of the bound {@link dcem} and {@link cem}: `CemOptions` over `tf.Tensor`. */
export type DcemOptions = CemOptions<Tensor>;
/** Result of the bound {@link dcem} and {@link cem}. */
export type DcemResult = CemResult<Tensor>;

/**
 * The differentiable cross-entropy method on `tf.Tensor` (Amos & Yarats 2020).
 *
 * Minimises f over x ∈ ℝ^dim for `batchSize` problems at once: each iteration
 * samples X = μ + σ ⊙ ε ([batch, numSamples, dim], clamped to the bounds),
 * evaluates v = f(X) ([batch, numSamples]), weights the samples with
 * I = LML_k(−v̂/τ) (k = `numElites`, τ = `temperature`, v̂ the per-row
 * standardised v) and refits μ' = ΣIX/k, σ' = √(ΣI(X − μ')²/k). The solution
 * is differentiable with `tf.grad` / `tf.variableGrads` with respect to
 * everything f depends on. `temperature: null` gives vanilla CEM.
 *
 * @param objective f: samples [batch, numSamples, dim] ↦ values [batch, numSamples], lower is better.
 * @param options See `CemOptions` in `@dcem/core`; `temperature` defaults to 1.
 * @returns `solution` [batch, dim] (the mean clamped to the bounds), `mean`,
 *   `std`, `iterations`, `converged`, `nonFiniteValues`. The caller owns the tensors.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { dcem } from '@dcem/tfjs';
 * const target = tf.tensor1d([1, -2]);
 * const { solution } = dcem((x) => tf.sum(tf.square(tf.sub(x, target)), -1), {
 *   dim: 2, numSamples: 100, numElites: 10, numIterations: 20, seed: 0,
 * });
 * solution.print(); // ≈ [[1, -2]]
 * ```
 */
export function dcem(objective: Objective<Tensor>, options: DcemOptions): DcemResult {
  return coreDcem(tfjsBackend, objective, options);
}

/**
 * Vanilla cross-entropy method on `tf.Tensor`: {@link dcem} with the hard
 * top-k elite indicator (`temperature` defaults to null here).
 *
 * @param objective f: [batch, numSamples, dim] ↦ [batch, numSamples].
 * @param options See `CemOptions` in `@dcem/core`.
 * @example
 * ```ts
 * const { solution } = cem((x) => tf.sum(tf.square(x), -1), { dim: 3, seed: 1 });
 * ```
 */
export function cem(objective: Objective<Tensor>, options: DcemOptions): DcemResult {
  return coreCem(tfjsBackend, objective, options);
}

/**
 * The CEM state machine (init / ask / tell / result) on `tf.Tensor`, for
 * driving the loop yourself. See `createCem` in `@dcem/core`: the same
 * algorithm for the same options, vanilla CEM (hard top-k) unless
 * `temperature` or `selector` say otherwise; {@link createDcem} has DCEM's
 * defaults.
 *
 * @param options Solver options.
 * @example
 * ```ts
 * const solver = createCem({ dim: 2 });
 * let state = solver.init();
 * while (!solver.done(state)) {
 *   const x = solver.ask(state);
 *   const v = tf.tidy(() => tf.sum(tf.square(x), -1));
 *   const next = solver.tell(state, x, v);
 *   tf.dispose([x, v]);
 *   solver.release(state);
 *   state = next;
 * }
 * disposeCemResult(solver.result(state));
 * solver.dispose();
 * ```
 */
export function createCem(options: DcemOptions): CemSolver<Tensor> {
  return coreCreateCem(tfjsBackend, options);
}

/**
 * The DCEM state machine on `tf.Tensor`: {@link createCem} whose default
 * selector is LML with τ = 1 (Amos & Yarats 2020), as `createDcem` in
 * `@dcem/core`.
 *
 * @param options Solver options.
 * @example
 * ```ts
 * const solver = createDcem({ dim: 2, numSamples: 50, numElites: 5 });
 * ```
 */
export function createDcem(options: DcemOptions): CemSolver<Tensor> {
  return coreCreateDcem(tfjsBackend, options);
}

/**
 * Frees every tensor of a result of {@link dcem}, {@link cem} or a solver's
 * `result()`: the solution, mean, std, best sample and value, and elites.
 *
 * @param result The result to free.
 * @example
 * ```ts
 * const result = dcem(f, { dim: 2 });
 * const x = result.solution.arraySync();
 * disposeCemResult(result);
 * ```
 */
export function disposeCemResult(result: DcemResult): void {
  coreDisposeCemResult(tfjsBackend, result);
}

/**
 * The LML projection (soft top-k) on `tf.Tensor`: y = LML_k(x/τ), i.e.
 * y = σ(x/τ + ν) with ν such that every row sums to k, with its implicit
 * gradient for `tf.grad`.
 *
 * @param x Scores, [batch, n].
 * @param k Entries to select per row, an integer ≥ 1 (k ≥ n gives 1 − 1e-5 everywhere, as the reference).
 * @param options `temperature` τ (default 1), `tolerance`, `maxIterations`.
 * @returns [batch, n], entries in (0, 1), rows summing to k.
 * @example
 * ```ts
 * const y = lml(tf.tensor2d([[3, 1, 2, 0]]), 2); // ≈ [[0.84, 0.16, 0.5, 0.5]]-like, row sum 2
 * ```
 */
export function lml(x: Tensor, k: number, options?: LmlOptions): Tensor {
  return coreLml(tfjsBackend, x, k, options);
}

/**
 * {@link lml} plus the root finder's diagnostics: ν, the iterations used and
 * per-row convergence.
 *
 * @param x Scores, [batch, n].
 * @param k Entries to select per row.
 * @param options As {@link lml}.
 * @example
 * ```ts
 * const { value, iterations, converged } = lmlWithDiagnostics(x, 10);
 * ```
 */
export function lmlWithDiagnostics(x: Tensor, k: number, options?: LmlOptions): LmlDiagnostics<Tensor> {
  return coreLmlWithDiagnostics(tfjsBackend, x, k, options);
}

/**
 * The sparse soft top-k of Sander et al., "Fast, Differentiable and Sparse
 * Top-k: a Convex Analysis Perspective" (ICML 2023), p = 2, on `tf.Tensor`:
 * each row of `x` is projected, divided by τ, onto the capped simplex
 * {0 ≤ y ≤ 1, Σy = k}, so y = clip(x/τ + ν, 0, 1) with the threshold ν of
 * each row found exactly. Unlike {@link lml} the output has exact zeros and
 * ones and is the hard top-k indicator once τ is small. The gradient is the
 * closed form dx = 1_F ⊙ (g − mean_F(g)) / τ on the free set
 * F = {0 < y < 1}, for `tf.grad`. See `sparseTopK` in `@dcem/lml`.
 *
 * @param x Scores, [batch, n].
 * @param k Entries to select per row, an integer ≥ 1 (k ≥ n gives 1 everywhere).
 * @param options `temperature` τ > 0 (default 1), `maxIterations` of the threshold search (default 16).
 * @returns [batch, n], entries in [0, 1], rows summing to k; rows holding NaN or ±∞ come back NaN.
 * @example
 * ```ts
 * const y = sparseTopK(tf.tensor2d([[2, 0.5, 0.2, -1]]), 2); // [[1, 0.65, 0.35, 0]]
 * ```
 */
export function sparseTopK(x: Tensor, k: number, options?: SparseTopKOptions): Tensor {
  return lmlSparseTopK(tfjsBackend, x, k, options);
}

/**
 * {@link dcem} without synchronous reads: it resolves after awaited reads
 * (`tensor.data()`), never `dataSync` or `readSync`, so it runs on WebGPU
 * in a browser, where reads can only be asynchronous, and never blocks the
 * thread on the GPU. Early stopping (`earlyStopping`), when asked for,
 * awaits the convergence flag; the result's `iterations`, `converged` and
 * `nonFiniteValues` are plain values read before it resolves. The
 * objective may return a Promise of the values (a simulator).
 *
 * @param objective f: samples [batch, numSamples, dim] ↦ values [batch, numSamples], or a Promise of them.
 * @param options See {@link DcemOptions}; `temperature` defaults to 1.
 * @returns The result; the caller owns its tensors ({@link disposeCemResult}).
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { dcemAsync, disposeCemResult } from '@dcem/tfjs';
 * const result = await dcemAsync((x) => tf.sum(tf.square(x), -1), { dim: 2, seed: 0 });
 * console.log(await result.solution.data(), result.iterations);
 * disposeCemResult(result);
 * ```
 */
export function dcemAsync(objective: AsyncObjective<Tensor>, options: DcemOptions): Promise<DcemResult> {
  return coreDcemAsync(tfjsBackend, objective, options);
}

/**
 * {@link cem} without synchronous reads (see {@link dcemAsync}): vanilla
 * CEM's defaults, awaited reads only.
 *
 * @param objective f: samples [batch, numSamples, dim] ↦ values [batch, numSamples], or a Promise of them.
 * @param options See {@link DcemOptions}; `temperature` defaults to null (hard top-k).
 * @returns The result; the caller owns its tensors ({@link disposeCemResult}).
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { cemAsync } from '@dcem/tfjs';
 * const { solution } = await cemAsync((x) => tf.sum(tf.square(x), -1), { dim: 2, seed: 0 });
 * ```
 */
export function cemAsync(objective: AsyncObjective<Tensor>, options: DcemOptions): Promise<DcemResult> {
  return coreCemAsync(tfjsBackend, objective, options);
}
