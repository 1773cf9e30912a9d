import { describeValue } from '@dcem/errors';

/**
 * The built-in elite selectors, by name (the `selector` option of
 * `CemOptions`). Every one returns weights I [batch, numSamples] ≥ 0 whose
 * rows sum to k, so the refit μ' = Σ IᵢXᵢ/k is a weighted mean:
 * - `'hard'`: vanilla CEM, 1 on the k best samples (`hardTopK`);
 * - `'lml'`: DCEM, LML_k(s/τ) (Amos & Yarats 2020; `lmlWeights`);
 * - `'sparse'`: the sparse soft top-k, the Euclidean projection of s/τ onto
 *   the capped simplex (Sander et al. 2023; `sparseWeights`);
 * - `'softmax'`: MPPI, k·softmax(s/τ) over every sample (`scaledSoftmaxWeights`);
 * - `'elite-softmax'`: TD-MPC2, a softmax over the k best samples only
 *   (`eliteSoftmaxWeights`).
 */
export type SelectorName = 'hard' | 'lml' | 'sparse' | 'softmax' | 'elite-softmax';

/** The names of {@link SelectorName}, in one place. */
export const SELECTOR_NAMES: readonly SelectorName[] = Object.freeze([
  'hard',
  'lml',
  'sparse',
  'softmax',
  'elite-softmax',
]);

/**
 * A user-written elite selector: maps scores s [batch, numSamples] (larger is
 * better; the solver's −v̂) to weights [batch, numSamples] that are finite,
 * ≥ 0 and sum to k in every row (checked on every call: one host read). It
 * receives the number of elites k and the temperature τ (`null` when none
 * was given). Build it from the backend's operations to keep the solve
 * differentiable.
 */
export type SelectorFunction<T> = (scores: T, k: number, temperature: number | null) => T;

/**
 * Checks a `selector` option: a {@link SelectorName} or a function. The one
 * place that writes this check and its message.
 *
 * @throws TypeError naming the valid selectors and the value received.
 */
export function assertSelector(value: unknown): asserts value is SelectorName | SelectorFunction<unknown> {
  if (typeof value === 'function' || (SELECTOR_NAMES as readonly unknown[]).includes(value)) return;
  throw new TypeError(
    `selector must be one of ${SELECTOR_NAMES.map((n) => JSON.stringify(n)).join(', ')} or a function, received ${describeValue(value)}`,
  );
}
