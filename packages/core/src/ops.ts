import type { Backend } from './backend.js';

/**
 * Softmax over `axis`: exp(xᵢ − max x) / Σⱼ exp(xⱼ − max x).
 *
 * @param backend Tensor operations.
 * @param x Scores.
 * @param axis Axis over which the result sums to 1.
 * @example
 * ```ts
 * const w = softmax(backend, scores, 1); // rows sum to 1
 * ```
 */
export function softmax<T>(backend: Backend<T>, x: T, axis: number): T {
  const shifted = backend.sub(x, backend.stopGradient(backend.max(x, axis, true)));
  const e = backend.exp(shifted);
  return backend.div(e, backend.sum(e, axis, true));
}

/**
 * Clamps `x` to [lower, upper]; either bound may be `undefined` (no bound).
 * Clamped entries get a zero gradient.
 *
 * @param backend Tensor operations.
 * @param x Any tensor.
 * @param lower Lower bound, broadcastable to `x`.
 * @param upper Upper bound, broadcastable to `x`.
 * @example
 * ```ts
 * const inBox = clamp(backend, samples, lb, ub);
 * ```
 */
export function clamp<T>(backend: Backend<T>, x: T, lower: T | undefined, upper: T | undefined): T {
  let y = x;
  if (lower !== undefined) y = backend.maximum(y, lower);
  if (upper !== undefined) y = backend.minimum(y, upper);
  return y;
}
