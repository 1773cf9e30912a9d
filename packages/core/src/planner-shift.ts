import { describeValue, formatShape } from '@dcem/errors';
import type { Backend } from './backend.js';

/**
 * Shifts control sequences one step forward for a warm start:
 * (u₀, u₁, …, u_{H−1}) ↦ (u₁, …, u_{H−1}, c), with the new last step
 * c = u_{H−1} when `fill` is `'last'`, else c = `fill` (a number, or [m]
 * numbers, one per control dimension).
 *
 * The shift is written as y = S·u + o with a constant 0/1 matrix S [H, H]
 * (S_{t,s} = 1 where y_t takes u_s) and offset o [H, m], one
 * `backend.matMul`: it is exact for finite controls, works on any backend,
 * and is differentiable with respect to `controls` (the gradient of the
 * dropped first step is 0). It costs H² · m multiply-adds per sequence.
 *
 * @param backend Tensor operations.
 * @param controls u, [..., H, m] (rank ≥ 2: for example [batch, H, m] or
 *   kept elites [batch, K, H, m]).
 * @param fill `'last'`, a number or [m] numbers.
 * @returns The shifted sequences, the shape of `controls`.
 * @example
 * ```ts
 * // u = [[0], [1], [2]] (H = 3, m = 1) ↦ [[1], [2], [2]]
 * const next = shiftControls(backend, previous, 'last');
 * ```
 * @see Pinneri et al., "Sample-efficient Cross-Entropy Method for Real-time
 *   Planning" (iCEM, CoRL 2020), which shifts both the mean and the kept elites.
 */
export function shiftControls<T>(
  backend: Backend<T>,
  controls: T,
  fill: 'last' | number | readonly number[],
): T {
  if (controls === null || typeof controls !== 'object') {
    throw new TypeError(`controls must be a tensor [..., H, m], received ${describeValue(controls)}`);
  }
  const shape = backend.shape(controls);
  if (shape.length < 2) {
    throw new RangeError(`controls must have rank ≥ 2 ([..., H, m]), received shape ${formatShape(shape)}`);
  }
  const horizon = shape[shape.length - 2] as number;
  const m = shape[shape.length - 1] as number;
  let tail: readonly number[] | undefined;
  if (fill !== 'last') {
    tail = typeof fill === 'number' ? new Array<number>(m).fill(fill) : fill;
    if (!Array.isArray(tail) || tail.length !== m || !tail.every(Number.isFinite)) {
      throw new TypeError(
        `fill must be 'last', a finite number or ${m} finite numbers (one per control dimension), received ${describeValue(fill)}`,
      );
    }
  }
  const rows = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  // S[t, s] = 1 where y_t takes u_s: s = t + 1, and s = t = H − 1 for 'last'.
  const selection = new Float64Array(horizon * horizon);
  for (let t = 0; t < horizon - 1; t++) selection[t * horizon + t + 1] = 1;
  if (tail === undefined) selection[horizon * horizon - 1] = 1;
  return backend.tidy(() => {
    const u = backend.reshape(controls, [rows, horizon, m]);
    const s = backend.tensor(selection, [horizon, horizon]);
    let y = backend.matMul(s, u); // [rows, H, m]
    if (tail !== undefined) {
      const offset = new Float64Array(horizon * m);
      offset.set(tail, (horizon - 1) * m);
      y = backend.add(y, backend.tensor(offset, [1, horizon, m]));
    }
    return backend.reshape(y, shape);
  });
}
