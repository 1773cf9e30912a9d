import { describeValue } from '@dcem/errors';
import type * as tf from '@tensorflow/tfjs';
import { type DcemInferenceOptions, dcemInference } from './dcem-inference.js';
import type { EnergyMlp } from './energy-mlp.js';
import { type UnrolledGdOptions, unrolledGdInference } from './unrolled-gd.js';

/**
 * The inference layers of the regression study: `'dcem'` (ŷ = DCEM-argmin_y E)
 * and `'gd'` (ŷ = unrolled gradient descent on E).
 */
export type RegressionModelName = 'dcem' | 'gd';

/** Every {@link RegressionModelName}, in the order the study reports them. */
export const REGRESSION_MODELS: readonly RegressionModelName[] = Object.freeze(['dcem', 'gd'] as const);

/**
 * Checks a model name and returns it typed; anything else throws a
 * `RangeError` (a string) or `TypeError` (not a string) that lists the known
 * names.
 *
 * @param name The name to check, for example from a command line.
 * @param what How the value is called in the message. Default `'model'`.
 * @example
 * ```ts
 * checkRegressionModel('dcem'); // 'dcem'
 * checkRegressionModel('mlp');  // RangeError: model must be one of "dcem", "gd", received "mlp"
 * ```
 */
export function checkRegressionModel(name: unknown, what = 'model'): RegressionModelName {
  const known = REGRESSION_MODELS.map((m) => JSON.stringify(m)).join(', ');
  if (typeof name !== 'string')
    throw new TypeError(`${what} must be one of ${known}, received ${describeValue(name)}`);
  if (!(REGRESSION_MODELS as readonly string[]).includes(name)) {
    throw new RangeError(`${what} must be one of ${known}, received ${describeValue(name)}`);
  }
  return name as RegressionModelName;
}

/** Options of {@link predictWithEnergy}. */
export interface PredictWithEnergyOptions {
  /** Inner iterations: overrides `dcem.numIterations` or `gd.numIterations`. */
  numIterations?: number;
  /** Seed of DCEM's sampling noise (unused by `'gd'`). */
  seed?: number;
  /** DCEM settings (model `'dcem'`). */
  dcem?: DcemInferenceOptions;
  /** Unrolled-GD settings (model `'gd'`). */
  gd?: UnrolledGdOptions;
}

/**
 * ŷ(x) through the inference layer `model` on the energy `mlp`:
 * {@link dcemInference} or {@link unrolledGdInference}. Differentiable with
 * respect to the energy's variables.
 *
 * @param model `'dcem'` or `'gd'`.
 * @param mlp The energy E_θ.
 * @param x Inputs, [batch].
 * @param options Inner iterations, seed and per-model settings.
 * @returns ŷ, [batch]. The caller owns it.
 * @example
 * ```ts
 * const yHat = predictWithEnergy('gd', mlp, tf.tensor1d([1, 2]), { numIterations: 20 });
 * ```
 */
export function predictWithEnergy(
  model: RegressionModelName,
  mlp: EnergyMlp,
  x: tf.Tensor,
  options: PredictWithEnergyOptions = {},
): tf.Tensor1D {
  const name = checkRegressionModel(model);
  const iterations = options.numIterations === undefined ? {} : { numIterations: options.numIterations };
  if (name === 'dcem') {
    return dcemInference(mlp, x, {
      ...options.dcem,
      ...iterations,
      ...(options.seed === undefined ? {} : { seed: options.seed }),
    });
  }
  return unrolledGdInference(mlp, x, { ...options.gd, ...iterations });
}
