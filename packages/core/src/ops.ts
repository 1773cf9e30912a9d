import type { Backend } from './backend.js';

/**
 * Mean over `axis`.
 *
 * @param backend Tensor operations.
 * @param x Any tensor.
 * @param axis Axis to reduce (negative counts from the end).
 * @param keepDims Keep the reduced axis with size 1.
 * @example
 * ```ts
 * const m = mean(backend, values, 1, true); // [batch, 1]
 * ```
 */
export function mean<T>(backend: Backend<T>, x: T, axis: number, keepDims: boolean): T {
  const size = axisSize(backend, x, axis);
  return backend.div(backend.sum(x, axis, keepDims), backend.scalar(size));
}

/**
 * Standard deviation over `axis`: the unbiased estimate √(Σ(x − x̄)² / (n − 1))
 * when `unbiased` (the default, as the reference's normalisation), else
 * divided by n.
 *
 * @param backend Tensor operations.
 * @param x Any tensor.
 * @param axis Axis to reduce.
 * @param keepDims Keep the reduced axis with size 1.
 * @param unbiased Divide by n − 1 instead of n.
 * @example
 * ```ts
 * const s = std(backend, values, 1, true); // [batch, 1]
 * ```
 */
export function std<T>(backend: Backend<T>, x: T, axis: number, keepDims: boolean, unbiased = true): T {
  const n = axisSize(backend, x, axis);
  const centred = backend.sub(x, mean(backend, x, axis, true));
  const ss = backend.sum(backend.square(centred), axis, keepDims);
  return backend.sqrt(backend.div(ss, backend.scalar(unbiased ? n - 1 : n)));
}

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

/**
 * Frobenius norm of `x` (the square root of the sum of all squared entries),
 * as a rank-0 tensor.
 *
 * @param backend Tensor operations.
 * @param x Any tensor.
 * @example
 * ```ts
 * const change = frobeniusNorm(backend, backend.sub(newMean, oldMean));
 * ```
 */
export function frobeniusNorm<T>(backend: Backend<T>, x: T): T {
  const size = backend.shape(x).reduce((a, b) => a * b, 1);
  const flat = backend.reshape(x, [size]);
  return backend.sqrt(backend.sum(backend.square(flat), 0, false));
}

function axisSize<T>(backend: Backend<T>, x: T, axis: number): number {
  const shape = backend.shape(x);
  const a = axis < 0 ? shape.length + axis : axis;
  const size = shape[a];
  if (size === undefined) {
    throw new RangeError(`axis ${axis} is out of range for a tensor of rank ${shape.length}`);
  }
  return size;
}
