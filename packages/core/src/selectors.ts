import { describeValue, formatShape } from '@dcem/errors';
import { lml, sparseTopK } from '@dcem/lml';
import type { Backend } from './backend.js';
import { softmax } from './ops.js';
import { assertSelector, type SelectorFunction, type SelectorName } from './selector-names.js';

/** The added constant of the normalisation v̂ = (v − mean)/(std + 1e-6), as the reference. */
export const NORMALIZE_EPS = 1e-6;

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

/** How {@link valuesToScores} turns values into scores. */
export interface ScoreOptions {
  /** Standardise the values per row (v̂ = (v − mean)/(std + 1e-6)), default true. */
  normalize?: boolean;
  /** τ of the selector that will consume the scores, or null (vanilla CEM), default null. */
  temperature?: number | null;
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
 * @param options `normalize` (default true) and the selector's `temperature` (default null).
 * @example
 * ```ts
 * const { scores } = valuesToScores(backend, values, { normalize: true, temperature: 1 });
 * ```
 */
export function valuesToScores<T>(backend: Backend<T>, values: T, options: ScoreOptions = {}): Scores<T> {
  const normalize = options.normalize ?? true;
  const temperature = options.temperature ?? null;
  const margin = NON_FINITE_MARGIN * (temperature ?? 1);
  const fused = backend.fused?.scores?.(values, normalize, NORMALIZE_EPS, margin);
  if (fused !== undefined) return fused;
  const [batch = 0, n = 0] = backend.shape(values);
  const finite = backend.isFinite(values);
  const finiteF = backend.maskToFloat(finite);
  const count = backend.sum(finiteF, 1, true);
  const nonFinite = backend.sub(backend.scalar(batch * n), backend.reshape(backend.sum(count, 0, false), []));
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
 * MPPI's weights (Williams et al. 2017), scaled to the solver's convention:
 * I = k · softmax(s/τ) over all N samples, so rows sum to k and
 * μ' = Σ IᵢXᵢ/k = Σ softmax(s/τ)ᵢ Xᵢ. Differentiable.
 *
 * @param backend Tensor operations.
 * @param scores s, [batch, numSamples], larger is better.
 * @param k Number of elites (only the scale of the weights).
 * @param temperature τ > 0 (mbrl-lib's `gamma` is 1/τ).
 * @example
 * ```ts
 * const w = scaledSoftmaxWeights(backend, scores, 10, 0.5); // rows sum to 10
 * ```
 */
export function scaledSoftmaxWeights<T>(backend: Backend<T>, scores: T, k: number, temperature: number): T {
  const w = softmaxWeights(backend, scores, temperature);
  return k === 1 ? w : backend.mul(w, backend.scalar(k));
}

/**
 * TD-MPC2's weights (Hansen et al., ICLR 2024): a softmax over the k best
 * samples only, Iᵢ = k · e^{(sᵢ − s_max)/τ} / Σ_{j ∈ top-k} e^{(sⱼ − s_max)/τ}
 * for i among the k best and 0 elsewhere; rows sum to k. The choice of the
 * top k has no gradient; the weights are differentiable in the scores.
 * TD-MPC2's `temperature` multiplies the values: it is 1/τ here.
 *
 * @param backend Tensor operations.
 * @param scores s, [batch, numSamples], larger is better.
 * @param k Number of elites.
 * @param temperature τ > 0.
 * @example
 * ```ts
 * const w = eliteSoftmaxWeights(backend, scores, 64, 2); // zero outside the 64 best
 * ```
 */
export function eliteSoftmaxWeights<T>(backend: Backend<T>, scores: T, k: number, temperature: number): T {
  const mask = hardTopK(backend, scores, k);
  const z = temperature === 1 ? scores : backend.div(scores, backend.scalar(temperature));
  const shifted = backend.sub(z, backend.stopGradient(backend.max(z, 1, true)));
  const e = backend.mul(backend.exp(shifted), mask);
  return backend.mul(backend.div(e, backend.sum(e, 1, true)), backend.scalar(k));
}

/**
 * Sparse soft top-k weights: the Euclidean projection of s/τ onto
 * {0 ≤ y ≤ 1, Σy = k} (`sparseTopK` of `@dcem/lml`; Sander et al., ICML
 * 2023). Exact zeros and ones, rows sum to k, differentiable.
 *
 * @param backend Tensor operations.
 * @param scores s, [batch, numSamples], larger is better.
 * @param k Number of elites.
 * @param temperature τ > 0.
 * @example
 * ```ts
 * const w = sparseWeights(backend, scores, 10, 1);
 * ```
 */
export function sparseWeights<T>(backend: Backend<T>, scores: T, k: number, temperature: number): T {
  return sparseTopK(backend, scores, k, { temperature });
}

/**
 * Checks the output of a user selector: shape [batch, n] always; with
 * `debug`, also finite, ≥ 0 and rows summing to k (relative tolerance
 * 1e-3), which takes one synchronous host read.
 */
function checkSelectorWeights<T>(
  backend: Backend<T>,
  name: string,
  weights: unknown,
  batch: number,
  n: number,
  k: number,
  debug: boolean,
): T {
  if (weights === null || typeof weights !== 'object') {
    throw new TypeError(
      `${name} must return a tensor of shape ${formatShape([batch, n])}, received ${describeValue(weights)}`,
    );
  }
  const w = weights as T;
  const shape = backend.shape(w);
  if (shape.length !== 2 || shape[0] !== batch || shape[1] !== n) {
    throw new RangeError(
      `${name} must return weights of shape ${formatShape([batch, n])}, received ${formatShape(shape)}`,
    );
  }
  if (!debug) return w;
  const values = backend.readSync(w);
  for (let r = 0; r < batch; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const v = values[r * n + i] as number;
      if (!Number.isFinite(v)) {
        throw new RangeError(`${name} returned a non-finite weight (${describeValue(v)}) in row ${r}`);
      }
      if (v < 0) {
        throw new RangeError(`${name} returned a negative weight (${describeValue(v)}) in row ${r}`);
      }
      sum += v;
    }
    if (!(Math.abs(sum - k) <= 1e-3 * k)) {
      throw new RangeError(`${name} must return rows that sum to k = ${k}, row ${r} sums to ${sum}`);
    }
  }
  return w;
}

/**
 * The elite weights of one iteration for a resolved selector: the built-in
 * ones by name, or a user {@link SelectorFunction} whose output is checked.
 *
 * @param backend Tensor operations.
 * @param scores s, [batch, numSamples], larger is better.
 * @param k Number of elites.
 * @param selector A {@link SelectorName} or a {@link SelectorFunction}.
 * @param temperature τ (a number for every soft selector; may be null for
 *   `'hard'` and user functions).
 * @param lmlIterations Root-finder iterations of the LML projection.
 * @param debug Check the values a selector function returns (finite, ≥ 0,
 *   rows summing to k: one synchronous read); default false, which checks
 *   their shape only (the solver passes its `debug` option).
 * @returns I, [batch, numSamples], rows summing to k.
 * @example
 * ```ts
 * const w = selectWeights(backend, scores, 10, 'elite-softmax', 0.5);
 * ```
 */
export function selectWeights<T>(
  backend: Backend<T>,
  scores: T,
  k: number,
  selector: SelectorName | SelectorFunction<T>,
  temperature: number | null,
  lmlIterations?: number,
  debug = false,
): T {
  if (typeof selector === 'function') {
    const [batch = 0, n = 0] = backend.shape(scores);
    const name = `selector function ${selector.name === '' ? '(anonymous)' : JSON.stringify(selector.name)}`;
    return checkSelectorWeights(backend, name, selector(scores, k, temperature), batch, n, k, debug);
  }
  if (selector === 'hard') return hardTopK(backend, scores, k);
  if (temperature === null) {
    throw new TypeError(`selector ${JSON.stringify(selector)} needs a temperature > 0, received null`);
  }
  switch (selector) {
    case 'lml':
      return lmlWeights(backend, scores, k, temperature, lmlIterations);
    case 'sparse':
      return sparseWeights(backend, scores, k, temperature);
    case 'softmax':
      return scaledSoftmaxWeights(backend, scores, k, temperature);
    case 'elite-softmax':
      return eliteSoftmaxWeights(backend, scores, k, temperature);
    default:
      assertSelector(selector);
      throw new TypeError(`selector ${describeValue(selector)} is not handled`);
  }
}
