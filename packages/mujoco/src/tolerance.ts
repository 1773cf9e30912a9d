/**
 * The DeepMind Control Suite's reward shaping: a soft indicator of whether a
 * number lies within bounds.
 *
 * @module
 */

/** The shapes of {@link tolerance}'s fall-off outside the bounds. */
export type Sigmoid =
  | 'gaussian'
  | 'hyperbolic'
  | 'long_tail'
  | 'reciprocal'
  | 'cosine'
  | 'linear'
  | 'quadratic'
  | 'tanh_squared';

const SIGMOIDS: readonly Sigmoid[] = [
  'gaussian',
  'hyperbolic',
  'long_tail',
  'reciprocal',
  'cosine',
  'linear',
  'quadratic',
  'tanh_squared',
];

/** Options of {@link tolerance}. */
export interface ToleranceOptions {
  /** Inclusive target interval [lower, upper]; either end may be infinite. Default [0, 0]. */
  bounds?: readonly [number, number];
  /** Distance from the nearest bound at which the value equals `valueAtMargin`; 0 gives a hard indicator. Default 0. */
  margin?: number;
  /** Shape of the fall-off. Default `'gaussian'`. */
  sigmoid?: Sigmoid;
  /** Value at distance `margin` from the bounds, in (0, 1) ([0, 1) for linear, cosine and quadratic). Default 0.1. */
  valueAtMargin?: number;
}

/**
 * Sigmoid s(d) with s(0) = 1 and s(1) = `valueAt1`, for a scaled distance d ≥ 0.
 * Each shape fixes its scale c from s(1) = v: gaussian exp(−(cd)²/2) with
 * c = √(−2 ln v); hyperbolic 1/cosh(cd), c = arccosh(1/v); long_tail
 * 1/((cd)² + 1), c = √(1/v − 1); reciprocal 1/(c|d| + 1), c = 1/v − 1; cosine
 * (1 + cos(π cd))/2 for |cd| < 1, c = arccos(2v − 1)/π; linear 1 − cd for
 * |cd| < 1, c = 1 − v; quadratic 1 − (cd)² for |cd| < 1, c = √(1 − v);
 * tanh_squared 1 − tanh²(cd), c = artanh(√(1 − v)).
 */
function sigmoidValue(d: number, valueAt1: number, sigmoid: Sigmoid): number {
  switch (sigmoid) {
    case 'gaussian': {
      const c = Math.sqrt(-2 * Math.log(valueAt1));
      return Math.exp(-0.5 * (d * c) ** 2);
    }
    case 'hyperbolic':
      return 1 / Math.cosh(d * Math.acosh(1 / valueAt1));
    case 'long_tail': {
      const c = Math.sqrt(1 / valueAt1 - 1);
      return 1 / ((d * c) ** 2 + 1);
    }
    case 'reciprocal':
      return 1 / (Math.abs(d) * (1 / valueAt1 - 1) + 1);
    case 'cosine': {
      const x = (d * Math.acos(2 * valueAt1 - 1)) / Math.PI;
      return Math.abs(x) < 1 ? (1 + Math.cos(Math.PI * x)) / 2 : 0;
    }
    case 'linear': {
      const x = d * (1 - valueAt1);
      return Math.abs(x) < 1 ? 1 - x : 0;
    }
    case 'quadratic': {
      const x = d * Math.sqrt(1 - valueAt1);
      return Math.abs(x) < 1 ? 1 - x * x : 0;
    }
    case 'tanh_squared':
      return 1 - Math.tanh(d * Math.atanh(Math.sqrt(1 - valueAt1))) ** 2;
  }
}

/**
 * Returns 1 when `x` lies within `bounds` and falls off smoothly outside:
 * with d = distance from `x` to the nearest bound divided by `margin`,
 * tolerance(x) = 1 inside [lower, upper], s(d) outside, where s is the chosen
 * `sigmoid` scaled so that s(1) = `valueAtMargin` (with `margin` = 0 it is
 * the hard indicator of the interval). This is `rewards.tolerance` of the
 * DeepMind Control Suite, from which every task's reward is built.
 *
 * @param x - The value to judge (a number; NaN gives NaN).
 * @param options - Bounds, margin, sigmoid and value at the margin.
 * @returns A number in [0, 1].
 * @throws RangeError if lower > upper, margin < 0, `valueAtMargin` is out of its range or the sigmoid is unknown.
 * @example
 * ```ts
 * import { tolerance } from '@dcem/mujoco';
 * // cheetah-run's reward for a speed of 5 m/s: 0.5
 * tolerance(5, { bounds: [10, Infinity], margin: 10, valueAtMargin: 0, sigmoid: 'linear' });
 * ```
 * @see Tassa et al., "DeepMind Control Suite", 2018 (arXiv:1801.00690), section on rewards.
 */
export function tolerance(x: number, options: ToleranceOptions = {}): number {
  const [lower, upper] = options.bounds ?? [0, 0];
  const margin = options.margin ?? 0;
  const sigmoid = options.sigmoid ?? 'gaussian';
  const valueAtMargin = options.valueAtMargin ?? 0.1;
  if (!(lower <= upper)) {
    throw new RangeError(`tolerance: bounds must satisfy lower ≤ upper, received [${lower}, ${upper}]`);
  }
  if (!(margin >= 0)) throw new RangeError(`tolerance: margin must be ≥ 0, received ${margin}`);
  if (!SIGMOIDS.includes(sigmoid)) {
    throw new RangeError(
      `tolerance: unknown sigmoid ${JSON.stringify(sigmoid)}; valid: ${SIGMOIDS.join(', ')}`,
    );
  }
  const allowsZero = sigmoid === 'linear' || sigmoid === 'cosine' || sigmoid === 'quadratic';
  if (!(allowsZero ? valueAtMargin >= 0 && valueAtMargin < 1 : valueAtMargin > 0 && valueAtMargin < 1)) {
    throw new RangeError(
      `tolerance: valueAtMargin must be in ${allowsZero ? '[0, 1)' : '(0, 1)'} for the ${sigmoid} sigmoid, received ${valueAtMargin}`,
    );
  }
  if (Number.isNaN(x)) return Number.NaN;
  if (lower <= x && x <= upper) return 1;
  if (margin === 0) return 0;
  const d = (x < lower ? lower - x : x - upper) / margin;
  return sigmoidValue(d, valueAtMargin, sigmoid);
}
