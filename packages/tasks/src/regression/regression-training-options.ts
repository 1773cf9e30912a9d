import { assertInteger, assertObject, assertOpenInterval, assertPositive, describeValue } from '@dcem/errors';
import {
  type DcemInferenceOptions,
  type ResolvedDcemInferenceOptions,
  resolveDcemInferenceOptions,
  stripUndefined,
} from './dcem-inference.js';
import { ENERGY_MLP_DEFAULTS } from './energy-mlp.js';
import { checkRegressionModel, type RegressionModelName } from './regression-model.js';
import {
  type ResolvedUnrolledGdOptions,
  resolveUnrolledGdOptions,
  type UnrolledGdOptions,
} from './unrolled-gd.js';

/**
 * How to train an energy for regression (see {@link createRegressionTrainer}).
 * The defaults are the reference protocol of the DCEM paper's study: one
 * random training point per update group, 3 Adam updates on it, learning rate
 * 1e-3, global gradient-norm clipping at 1, and the learning rate halved when
 * the full-data MSE, evaluated every 100 updates, has not improved for 20
 * evaluations.
 */
export interface RegressionTrainingOptions {
  /** The inference layer to train through: `'dcem'` or `'gd'`. */
  model: RegressionModelName;
  /** Integer seed of the initial weights, the training points and DCEM's noise. Default 0. */
  seed?: number;
  /** Size n of the training set x = linspace(0, 2π, n), an integer ≥ 2. Default 100. */
  numPoints?: number;
  /** Width of the energy's hidden layers. Default 128. */
  hiddenSize?: number;
  /** Number of hidden layers of the energy. Default 3. */
  hiddenLayers?: number;
  /** Adam's initial learning rate, > 0. Default 1e-3. */
  learningRate?: number;
  /** Consecutive Adam updates on the same randomly drawn point(s), an integer ≥ 1. Default 3. */
  innerUpdates?: number;
  /** Training points per update (drawn uniformly with replacement), an integer ≥ 1. Default 1 (the reference). */
  batchSize?: number;
  /** Global gradient-norm bound, > 0; null: no clipping. Default 1. */
  clipNorm?: number | null;
  /** Updates between full-data evaluations (the loss curve and the plateau test), an integer ≥ 1. Default 100. */
  evalEvery?: number;
  /** Evaluations without improvement tolerated before the learning rate is cut. Default 20. */
  plateauPatience?: number;
  /** Learning-rate multiplier on a plateau, in (0, 1). Default 0.5. */
  plateauFactor?: number;
  /** Relative improvement that resets the plateau count, in [0, 1). Default 1e-4 (PyTorch's). */
  plateauThreshold?: number;
  /** DCEM inference settings (model `'dcem'`). */
  dcem?: DcemInferenceOptions;
  /** Unrolled-GD inference settings (model `'gd'`). */
  gd?: UnrolledGdOptions;
}

/** {@link RegressionTrainingOptions} after validation, every field filled in (plain JSON). */
export interface ResolvedRegressionTrainingOptions {
  /** See {@link RegressionTrainingOptions.model}. */
  model: RegressionModelName;
  /** See {@link RegressionTrainingOptions.seed}. */
  seed: number;
  /** See {@link RegressionTrainingOptions.numPoints}. */
  numPoints: number;
  /** See {@link RegressionTrainingOptions.hiddenSize}. */
  hiddenSize: number;
  /** See {@link RegressionTrainingOptions.hiddenLayers}. */
  hiddenLayers: number;
  /** See {@link RegressionTrainingOptions.learningRate}. */
  learningRate: number;
  /** See {@link RegressionTrainingOptions.innerUpdates}. */
  innerUpdates: number;
  /** See {@link RegressionTrainingOptions.batchSize}. */
  batchSize: number;
  /** See {@link RegressionTrainingOptions.clipNorm}. */
  clipNorm: number | null;
  /** See {@link RegressionTrainingOptions.evalEvery}. */
  evalEvery: number;
  /** See {@link RegressionTrainingOptions.plateauPatience}. */
  plateauPatience: number;
  /** See {@link RegressionTrainingOptions.plateauFactor}. */
  plateauFactor: number;
  /** See {@link RegressionTrainingOptions.plateauThreshold}. */
  plateauThreshold: number;
  /** See {@link RegressionTrainingOptions.dcem}. */
  dcem: ResolvedDcemInferenceOptions;
  /** See {@link RegressionTrainingOptions.gd}. */
  gd: ResolvedUnrolledGdOptions;
}

/** Defaults of {@link RegressionTrainingOptions} (the reference protocol), without the model. */
export const REGRESSION_TRAINING_DEFAULTS = Object.freeze({
  seed: 0,
  numPoints: 100,
  hiddenSize: ENERGY_MLP_DEFAULTS.hiddenSize,
  hiddenLayers: ENERGY_MLP_DEFAULTS.hiddenLayers,
  learningRate: 1e-3,
  innerUpdates: 3,
  batchSize: 1,
  clipNorm: 1 as number | null,
  evalEvery: 100,
  plateauPatience: 20,
  plateauFactor: 0.5,
  plateauThreshold: 1e-4,
});

/**
 * Validates training options and fills in the defaults. Every problem throws
 * a `TypeError` (wrong kind of value) or `RangeError` (out of range) whose
 * message names the option and the value received.
 *
 * @param options The options as given.
 * @returns Plain JSON with every field set.
 * @example
 * ```ts
 * resolveRegressionTrainingOptions({ model: 'gd', batchSize: 8 }).innerUpdates; // 3
 * resolveRegressionTrainingOptions({ model: 'gd', batchSize: 0 }); // RangeError: batchSize must be an integer ≥ 1, received 0
 * ```
 */
export function resolveRegressionTrainingOptions(
  options: RegressionTrainingOptions,
): ResolvedRegressionTrainingOptions {
  assertObject('options', options);
  const model = checkRegressionModel(options.model);
  const o = { ...REGRESSION_TRAINING_DEFAULTS, ...stripUndefined(options) };
  assertInteger('seed', o.seed, Number.MIN_SAFE_INTEGER);
  assertInteger('numPoints', o.numPoints, 2);
  assertInteger('hiddenSize', o.hiddenSize, 1);
  assertInteger('hiddenLayers', o.hiddenLayers, 1);
  assertPositive('learningRate', o.learningRate);
  assertInteger('innerUpdates', o.innerUpdates, 1);
  assertInteger('batchSize', o.batchSize, 1);
  if (o.clipNorm !== null) assertPositive('clipNorm', o.clipNorm);
  assertInteger('evalEvery', o.evalEvery, 1);
  assertInteger('plateauPatience', o.plateauPatience, 0);
  assertOpenInterval('plateauFactor', o.plateauFactor, 0, 1);
  if (typeof o.plateauThreshold !== 'number' || !(o.plateauThreshold >= 0 && o.plateauThreshold < 1)) {
    const bad = describeValue(o.plateauThreshold);
    if (typeof o.plateauThreshold !== 'number')
      throw new TypeError(`plateauThreshold must be a number, received ${bad}`);
    throw new RangeError(`plateauThreshold must be in [0, 1), received ${bad}`);
  }
  return {
    model,
    seed: o.seed,
    numPoints: o.numPoints,
    hiddenSize: o.hiddenSize,
    hiddenLayers: o.hiddenLayers,
    learningRate: o.learningRate,
    innerUpdates: o.innerUpdates,
    batchSize: o.batchSize,
    clipNorm: o.clipNorm,
    evalEvery: o.evalEvery,
    plateauPatience: o.plateauPatience,
    plateauFactor: o.plateauFactor,
    plateauThreshold: o.plateauThreshold,
    dcem: resolveDcemInferenceOptions(options.dcem, 'dcem.'),
    gd: resolveUnrolledGdOptions(options.gd, 'gd.'),
  };
}
