import { lml } from '@dcem/lml';
import type { Backend } from './backend.js';
import { softmax } from './ops.js';
import { NORMALIZE_EPS } from './options.js';

/**
 * Margin, in units of the selector's input (scores / τ), by which a sample
 * whose objective value is not finite is placed below the worst finite
 * sample. σ(−100) underflows to 0 in float32, so such samples get no weight.
 */
export const NON_FINITE_MARGIN = 100;

/** Scores of a batch of objective values, and how many of them were not finite. */
export interface Scores<T> {
  /** −v̂, [batch, numSamples]: larger is better; non-finite values pushed below every finite one. */
  scores: T;
  /** Number of non-finite objective values, a rank-0 tensor. */
  nonFinite: T;
}

/**
 * Turns objective values v [batch, numSamples] into scores −v̂ (larger is
 * better). With `normalize`, v̂ = (v − mean)/(std + 1e-6) per row with the
 * unbiased std, as the reference; the statistics use only the finite values
 * of the row. A non-finite value (NaN, ±∞) gets the score
 * min(finite scores) − 100·τ (τ = 1 for vanilla CEM), which no selector
 * picks while k finite samples remain, so it never poisons the update.
 *
 * @param backend Tensor operations.
 * @param values Objective values, [batch, numSamples].
 * @param normalize Standardise per row.
 * @param temperature τ of the selector that will consume the scores, or null.
 * @example
 * ```ts
 * const { scores } = valuesToScores(backend, values, true, 1);
 * ```
 */
export function valuesToScores<T>(
  backend: Backend<T>,
  values: T,
  normalize: boolean,
  temperature: number | null,
): Scores<T> {
  const margin = NON_FINITE_MARGIN * (temperature ?? 1);
  const fused = backend.fusedScores?.(values, normalize, NORMALIZE_EPS, margin);
  if (fused !== undefined) return fused;
  const [batch = 0, n = 0] = backend.shape(values);
  const finite = backend.isFinite(values);
  const finiteF = backend.maskToFloat(finite);
  const count = backend.sum(finiteF, 1, true);
  const nonFinite = backend.sub(backend.scalar(batch * n), backend.sum(count, 0, false));
  const zero = backend.scalar(0);
  let v = values;
  if (normalize) {
    const one = backend.scalar(1);
    const mean = backend.div(
      backend.sum(backend.where(finite, values, zero), 1, true),
      backend.maximum(count, one),
    );
    const dev = backend.where(finite, backend.sub(values, mean), zero);
    const variance = backend.div(
      backend.sum(backend.square(dev), 1, true),
      backend.maximum(backend.sub(count, one), one),
    );
    const sd = backend.sqrt(variance);
    v = backend.div(backend.sub(values, mean), backend.add(sd, backend.scalar(NORMALIZE_EPS)));
  }
  const raw = backend.sub(zero, v);
  const inf = backend.fill([batch, n], Number.POSITIVE_INFINITY);
  const worst = backend.stopGradient(backend.min(backend.where(finite, raw, inf), 1, true));
  const penalty = backend.where(
    backend.greater(count, zero),
    backend.sub(worst, backend.scalar(margin)),
    zero,
  );
  const scores = backend.where(finite, raw, backend.add(backend.fill([batch, n], 0), penalty));
  return { scores, nonFinite };
}

/**
 * Hard top-k weights of vanilla CEM: 1 for the k largest scores of each row,
 * 0 elsewhere (ties: lowest index first). Not differentiable.
 *
 * @param backend Tensor operations.
 * @param scores [batch, numSamples], larger is better.
 * @param k Number of elites.
 * @example
 * ```ts
 * const w = hardTopK(backend, scores, 10);
 * ```
 */
export function hardTopK<T>(backend: Backend<T>, scores: T, k: number): T {
  return backend.topkMask(backend.stopGradient(scores), k);
}

/**
 * Softmax weights softmax(scores/τ), the reference's selector when k = 1.
 * They sum to 1 per row.
 *
 * @param backend Tensor operations.
 * @param scores [batch, numSamples], larger is better.
 * @param temperature τ > 0.
 * @example
 * ```ts
 * const w = softmaxWeights(backend, scores, 0.5);
 * ```
 */
export function softmaxWeights<T>(backend: Backend<T>, scores: T, temperature: number): T {
  const z = temperature === 1 ? scores : backend.div(scores, backend.scalar(temperature));
  return softmax(backend, z, 1);
}

/**
 * Soft top-k weights LML_k(scores/τ) of DCEM: entries in (0, 1), rows sum
 * to k, differentiable through the implicit LML gradient.
 *
 * @param backend Tensor operations.
 * @param scores [batch, numSamples], larger is better.
 * @param k Number of elites.
 * @param temperature τ > 0.
 * @param maxIterations Root-finder iterations of the LML projection.
 * @example
 * ```ts
 * const w = lmlWeights(backend, scores, 10, 1);
 * ```
 */
export function lmlWeights<T>(
  backend: Backend<T>,
  scores: T,
  k: number,
  temperature: number,
  maxIterations?: number,
): T {
  return lml(
    backend,
    scores,
    k,
    maxIterations === undefined ? { temperature } : { temperature, maxIterations },
  );
}

/**
 * The elite weights I of one CEM iteration, as the reference chooses them:
 * hard top-k when `temperature` is null (vanilla CEM), softmax when k = 1,
 * LML otherwise.
 *
 * @param backend Tensor operations.
 * @param scores [batch, numSamples], larger is better.
 * @param k Number of elites.
 * @param temperature τ, or null for vanilla CEM.
 * @param lmlIterations Root-finder iterations of the LML projection.
 * @example
 * ```ts
 * const w = eliteWeights(backend, scores, 10, null); // vanilla CEM
 * ```
 */
export function eliteWeights<T>(
  backend: Backend<T>,
  scores: T,
  k: number,
  temperature: number | null,
  lmlIterations?: number,
): T {
  if (temperature === null) return hardTopK(backend, scores, k);
  if (k === 1) return softmaxWeights(backend, scores, temperature);
  return lmlWeights(backend, scores, k, temperature, lmlIterations);
}
