import { assertFiniteNumber, assertInteger, assertObject, describeValue } from '@dcem/errors';
import { energyMlpShapes, type NamedWeight } from './energy-mlp.js';
import type { PlateauState } from './plateau-scheduler.js';
import {
  type RegressionTrainingOptions,
  type ResolvedRegressionTrainingOptions,
  resolveRegressionTrainingOptions,
} from './regression-training-options.js';

/** The `format` tag of a {@link RegressionCheckpoint}. */
export const REGRESSION_CHECKPOINT_FORMAT = 'dcem-regression-checkpoint';
/** The `version` of the {@link RegressionCheckpoint} layout this package writes and reads. */
export const REGRESSION_CHECKPOINT_VERSION = 1;

/** One full-data evaluation during training: the points of the loss curve. */
export interface RegressionEvaluation {
  /** Adam updates done when it was taken. */
  update: number;
  /** Full-data mean squared error (1/n) Σᵢ (ŷ(xᵢ) − yᵢ)². */
  mse: number;
  /** The learning rate in effect after this evaluation (after any plateau cut). */
  learningRate: number;
  /** Wall-clock seconds spent in updates so far, evaluations excluded (summed across resumes). */
  seconds: number;
}

/** Adam's state: its step count and first/second moment estimates, in variable order. */
export interface AdamState {
  /** Steps taken. */
  iterations: number;
  /** The moments: first moments of every variable, then second moments (tfjs's order). */
  moments: NamedWeight[];
}

/** Where training stood when a checkpoint was taken. */
export interface RegressionTrainingState {
  /** Adam updates done. */
  updates: number;
  /** The plateau scheduler's state (learning rate, best MSE, evaluations without improvement). */
  scheduler: PlateauState;
  /** The evaluations so far. */
  history: RegressionEvaluation[];
  /** Adam's state; null before the first update. */
  optimizer: AdamState | null;
}

/**
 * A saved regression model as JSON: the options it was trained with, the
 * energy's weights (values + shapes), and the training state needed to
 * continue exactly where it stopped. Written by
 * {@link RegressionTrainer.checkpoint}, read by {@link parseRegressionCheckpoint}
 * and {@link restoreRegressionTrainer}.
 */
export interface RegressionCheckpoint {
  /** Always {@link REGRESSION_CHECKPOINT_FORMAT}. */
  format: typeof REGRESSION_CHECKPOINT_FORMAT;
  /** Always {@link REGRESSION_CHECKPOINT_VERSION}. */
  version: typeof REGRESSION_CHECKPOINT_VERSION;
  /** The training options (model, architecture, protocol, inference settings). */
  options: ResolvedRegressionTrainingOptions;
  /** θ, the energy's weights (see {@link EnergyMlp.getWeights}). */
  weights: NamedWeight[];
  /** The training state. */
  training: RegressionTrainingState;
  /** Free-form information: creation time, package, anything the writer adds. */
  metadata: Record<string, unknown>;
}

function checkNamedWeights(name: string, value: unknown): NamedWeight[] {
  if (!Array.isArray(value))
    throw new TypeError(`${name} must be an array, received ${describeValue(value)}`);
  return value.map((w, i) => {
    assertObject(`${name}[${i}]`, w);
    if (typeof w.name !== 'string')
      throw new TypeError(`${name}[${i}].name must be a string, received ${describeValue(w.name)}`);
    if (
      !Array.isArray(w.shape) ||
      !w.shape.every((s: unknown) => Number.isInteger(s) && (s as number) >= 0)
    ) {
      throw new TypeError(
        `${name}[${i}].shape must be an array of integers, received ${describeValue(w.shape)}`,
      );
    }
    const size = (w.shape as number[]).reduce((a, b) => a * b, 1);
    if (!Array.isArray(w.values) || w.values.length !== size) {
      throw new RangeError(
        `${name}[${i}].values must hold ${size} numbers, received ${describeValue(w.values)}`,
      );
    }
    if (!w.values.every((v: unknown) => typeof v === 'number' && Number.isFinite(v))) {
      throw new RangeError(`${name}[${i}].values must be finite numbers`);
    }
    return { name: w.name, shape: w.shape as number[], values: w.values as number[] };
  });
}

/**
 * Validates a checkpoint (an object, or its JSON text) and returns it typed.
 * Throws a `TypeError` or `RangeError` that says which field is wrong: an
 * unknown format or version, invalid options, weights whose names or shapes
 * do not match the architecture, a malformed training state.
 *
 * @param input The checkpoint object or JSON text.
 * @example
 * ```ts
 * const checkpoint = parseRegressionCheckpoint(readFileSync('dcem.checkpoint.json', 'utf8'));
 * const trainer = await restoreRegressionTrainer(checkpoint);
 * ```
 */
export function parseRegressionCheckpoint(input: unknown): RegressionCheckpoint {
  let value: unknown = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw new TypeError(
        `checkpoint is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  assertObject('checkpoint', value);
  if (value.format !== REGRESSION_CHECKPOINT_FORMAT) {
    throw new RangeError(
      `checkpoint.format must be ${JSON.stringify(REGRESSION_CHECKPOINT_FORMAT)}, received ${describeValue(value.format)}`,
    );
  }
  if (value.version !== REGRESSION_CHECKPOINT_VERSION) {
    throw new RangeError(
      `checkpoint.version must be ${REGRESSION_CHECKPOINT_VERSION}, received ${describeValue(value.version)}`,
    );
  }
  assertObject('checkpoint.options', value.options);
  const options = resolveRegressionTrainingOptions(value.options as unknown as RegressionTrainingOptions);
  const weights = checkNamedWeights('checkpoint.weights', value.weights);
  const expected = energyMlpShapes(options.hiddenSize, options.hiddenLayers);
  if (weights.length !== expected.length) {
    throw new RangeError(
      `checkpoint.weights must hold ${expected.length} tensors, received ${weights.length}`,
    );
  }
  expected.forEach(({ name, shape }, i) => {
    const w = weights[i] as NamedWeight;
    if (w.name !== name || w.shape.length !== shape.length || w.shape.some((s, j) => s !== shape[j])) {
      throw new RangeError(
        `checkpoint.weights[${i}] must be ${name} of shape [${shape.join(', ')}], received ${w.name} of shape [${w.shape.join(', ')}]`,
      );
    }
  });

  assertObject('checkpoint.training', value.training);
  const t = value.training;
  assertInteger('checkpoint.training.updates', t.updates, 0);
  assertObject('checkpoint.training.scheduler', t.scheduler);
  const s = t.scheduler;
  assertFiniteNumber('checkpoint.training.scheduler.learningRate', s.learningRate);
  if (s.best !== null) assertFiniteNumber('checkpoint.training.scheduler.best', s.best);
  assertInteger('checkpoint.training.scheduler.badEvaluations', s.badEvaluations, 0);
  assertInteger('checkpoint.training.scheduler.reductions', s.reductions, 0);
  if (!Array.isArray(t.history)) {
    throw new TypeError(`checkpoint.training.history must be an array, received ${describeValue(t.history)}`);
  }
  const history = t.history.map((h, i) => {
    assertObject(`checkpoint.training.history[${i}]`, h);
    for (const key of ['update', 'mse', 'learningRate', 'seconds'] as const) {
      if (typeof h[key] !== 'number') {
        throw new TypeError(
          `checkpoint.training.history[${i}].${key} must be a number, received ${describeValue(h[key])}`,
        );
      }
    }
    return {
      update: h.update,
      mse: h.mse,
      learningRate: h.learningRate,
      seconds: h.seconds,
    } as RegressionEvaluation;
  });
  let optimizer: AdamState | null = null;
  if (t.optimizer !== null) {
    assertObject('checkpoint.training.optimizer', t.optimizer);
    assertInteger('checkpoint.training.optimizer.iterations', t.optimizer.iterations, 0);
    const moments = checkNamedWeights('checkpoint.training.optimizer.moments', t.optimizer.moments);
    if (moments.length !== 0 && moments.length !== 2 * expected.length) {
      throw new RangeError(
        `checkpoint.training.optimizer.moments must hold 0 or ${2 * expected.length} tensors, received ${moments.length}`,
      );
    }
    moments.forEach((m, i) => {
      const shape = (expected[i % expected.length] as { shape: number[] }).shape;
      if (m.shape.length !== shape.length || m.shape.some((d, j) => d !== shape[j])) {
        throw new RangeError(
          `checkpoint.training.optimizer.moments[${i}] must have shape [${shape.join(', ')}], received [${m.shape.join(', ')}]`,
        );
      }
    });
    optimizer = { iterations: t.optimizer.iterations, moments };
  }
  const metadata = value.metadata === undefined ? {} : value.metadata;
  assertObject('checkpoint.metadata', metadata);
  return {
    format: REGRESSION_CHECKPOINT_FORMAT,
    version: REGRESSION_CHECKPOINT_VERSION,
    options,
    weights,
    training: {
      updates: t.updates,
      scheduler: {
        learningRate: s.learningRate,
        best: s.best as number | null,
        badEvaluations: s.badEvaluations,
        reductions: s.reductions,
      },
      history,
      optimizer,
    },
    metadata,
  };
}
