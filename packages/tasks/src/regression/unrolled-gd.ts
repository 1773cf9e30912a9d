import { assertFiniteNumber, assertInteger, assertObject, assertPositive } from '@dcem/errors';
import * as tf from '@tensorflow/tfjs';
import { stripUndefined } from './dcem-inference.js';
import type { EnergyMlp } from './energy-mlp.js';

/** Settings of the unrolled gradient-descent inference layer. Defaults: the paper's. */
export interface UnrolledGdOptions {
  /** T, gradient steps, an integer ≥ 1. Default 10. */
  numIterations?: number;
  /** η > 0, the step size of y ← y − η ∂E/∂y. Default 0.1. */
  stepSize?: number;
  /** y₀, the starting point. Default 0. */
  init?: number;
}

/** {@link UnrolledGdOptions} with every field filled in. */
export type ResolvedUnrolledGdOptions = Required<UnrolledGdOptions>;

/** Defaults of {@link UnrolledGdOptions}: the paper's regression settings. */
export const UNROLLED_GD_DEFAULTS: Readonly<ResolvedUnrolledGdOptions> = Object.freeze({
  numIterations: 10,
  stepSize: 0.1,
  init: 0,
});

/**
 * Validates unrolled-GD options and fills in the defaults. Throws a
 * `TypeError` or `RangeError` naming the option (prefixed with `prefix`).
 *
 * @param options Options as given (undefined: all defaults).
 * @param prefix Name prefix of the options in messages, for example `'gd.'`.
 * @example
 * ```ts
 * resolveUnrolledGdOptions({ numIterations: 20 }); // { numIterations: 20, stepSize: 0.1, init: 0 }
 * ```
 */
export function resolveUnrolledGdOptions(
  options: UnrolledGdOptions = {},
  prefix = '',
): ResolvedUnrolledGdOptions {
  assertObject(prefix === '' ? 'options' : prefix.slice(0, -1), options);
  const o = { ...UNROLLED_GD_DEFAULTS, ...stripUndefined(options) };
  assertInteger(`${prefix}numIterations`, o.numIterations, 1);
  assertPositive(`${prefix}stepSize`, o.stepSize);
  assertFiniteNumber(`${prefix}init`, o.init);
  return { numIterations: o.numIterations, stepSize: o.stepSize, init: o.init };
}

/**
 * The unrolled gradient-descent inference layer of energy-based regression:
 * y₀ = `init`, y_{t+1} = y_t − η ∂E_θ/∂y(x, y_t) for t < T, ŷ = y_T. The
 * derivative is {@link EnergyMlp.energyGradY}, built from ops, so ŷ is
 * differentiable with respect to θ through all T steps (second-order terms
 * included), like the reference's `higher` differentiable SGD.
 *
 * @param mlp The energy E_θ.
 * @param x Inputs, [batch].
 * @param options T = `numIterations`, η = `stepSize`, y₀ = `init`; see {@link UnrolledGdOptions}.
 * @returns ŷ, [batch]. The caller owns it.
 * @example
 * ```ts
 * const mlp = createEnergyMlp({ seed: 0 });
 * const yHat = unrolledGdInference(mlp, tf.tensor1d([0.5, 1]), { numIterations: 10, stepSize: 0.1 });
 * ```
 */
export function unrolledGdInference(
  mlp: EnergyMlp,
  x: tf.Tensor,
  options: UnrolledGdOptions = {},
): tf.Tensor1D {
  const o = resolveUnrolledGdOptions(options);
  if (!(x instanceof tf.Tensor) || x.rank !== 1) {
    throw new RangeError(
      `x must be a tf.Tensor of shape [batch], received ${x instanceof tf.Tensor ? `[${x.shape.join(', ')}]` : typeof x}`,
    );
  }
  const batch = x.shape[0] as number;
  return tf.tidy(() => {
    const energy = mlp.bind(x);
    let y: tf.Tensor2D = tf.fill([batch, 1], o.init);
    for (let t = 0; t < o.numIterations; t++) {
      y = tf.sub(y, tf.mul(energy.energyGradY(y), o.stepSize));
    }
    return tf.reshape(y, [batch]) as tf.Tensor1D;
  });
}
