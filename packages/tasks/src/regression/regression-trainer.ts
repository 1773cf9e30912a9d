import { assertInteger, assertObject, describeValue } from '@dcem/errors';
import * as tf from '@tensorflow/tfjs';
import { createEnergyMlp, type EnergyMlp, type NamedWeight } from './energy-mlp.js';
import { clipByGlobalNorm } from './gradient-clipping.js';
import { PlateauScheduler } from './plateau-scheduler.js';
import { hash32, randomIndex, STREAM } from './random.js';
import {
  parseRegressionCheckpoint,
  REGRESSION_CHECKPOINT_FORMAT,
  REGRESSION_CHECKPOINT_VERSION,
  type RegressionCheckpoint,
  type RegressionEvaluation,
} from './regression-checkpoint.js';
import { type RegressionData, regressionData } from './regression-data.js';
import { predictWithEnergy } from './regression-model.js';
import {
  type RegressionTrainingOptions,
  type ResolvedRegressionTrainingOptions,
  resolveRegressionTrainingOptions,
} from './regression-training-options.js';

/** Adam whose learning rate can be changed between steps (tfjs keeps it protected). */
class AdjustableAdam extends tf.AdamOptimizer {
  setLearningRate(value: number): void {
    this.learningRate = value;
  }
}

/** What one Adam update did. */
export interface RegressionUpdate {
  /** Adam updates done, this one included. */
  update: number;
  /** The training loss of this update: the MSE over its batch of points. */
  loss: number;
  /** ‖∂loss/∂θ‖ before clipping. */
  gradNorm: number;
  /** False when the loss or gradient was not finite: the update was then skipped (θ unchanged). */
  applied: boolean;
  /** The full-data evaluation taken after this update, when `update` is a multiple of `evalEvery`. */
  evaluation?: RegressionEvaluation;
}

/** Callbacks of {@link RegressionTrainer.train}; they may not dispose anything of the trainer. */
export interface RegressionTrainCallbacks {
  /** After every Adam update. */
  onUpdate?: (update: RegressionUpdate) => void;
  /** After every full-data evaluation (also the initial one at update 0). */
  onEvaluation?: (evaluation: RegressionEvaluation) => void;
}

/** Options of {@link RegressionTrainer.evaluate} and {@link RegressionTrainer.predict}. */
export interface RegressionEvaluateOptions {
  /** Inner iterations of the inference layer (default: the trained number). */
  numIterations?: number;
  /** Seed of DCEM's noise (default: the trainer's fixed evaluation seed). */
  seed?: number;
}

/**
 * Trains an energy E_θ(x, y) so that the inference layer's ŷ(x) fits
 * y = x·sin x, by differentiating the loss through the inner optimiser (DCEM
 * or unrolled GD). Create with {@link createRegressionTrainer} or
 * {@link restoreRegressionTrainer}; `dispose()` when done.
 */
export interface RegressionTrainer {
  /** The validated options. */
  readonly options: ResolvedRegressionTrainingOptions;
  /** The energy being trained (owned by the trainer). */
  readonly mlp: EnergyMlp;
  /** The training set. */
  readonly data: RegressionData;
  /** Adam updates done so far. */
  readonly updates: number;
  /** Adam's current learning rate. */
  readonly learningRate: number;
  /** Full-data evaluations so far, oldest first. */
  readonly history: readonly RegressionEvaluation[];
  /**
   * One Adam update: draws the update's point(s) (the same points for
   * `innerUpdates` consecutive updates), computes
   * loss = mean_b (ŷ(x_b) − y_b)², its gradient with `tf.variableGrads`,
   * clips it by global norm and applies Adam. Every `evalEvery` updates it
   * evaluates the full-data MSE and lets the plateau scheduler act.
   */
  update(): RegressionUpdate;
  /**
   * Runs `updates` more Adam updates (with an initial evaluation at update 0
   * on a fresh trainer).
   *
   * @param updates An integer ≥ 0.
   * @param callbacks Progress callbacks.
   * @returns The last evaluation.
   */
  train(updates: number, callbacks?: RegressionTrainCallbacks): RegressionEvaluation;
  /**
   * Full-data MSE (1/n) Σᵢ (ŷ(xᵢ) − yᵢ)², all n points in one batch. With
   * DCEM the noise is drawn from a fixed evaluation seed unless `seed` is given.
   */
  evaluate(options?: RegressionEvaluateOptions): number;
  /** ŷ at the given inputs (one batch); see {@link RegressionEvaluateOptions}. */
  predict(x: readonly number[], options?: RegressionEvaluateOptions): number[];
  /** The model and training state as JSON-ready data (reads everything back from the backend). */
  checkpoint(metadata?: Record<string, unknown>): Promise<RegressionCheckpoint>;
  /** Releases the energy's variables and the optimizer's state. */
  dispose(): void;
}

function build(
  o: ResolvedRegressionTrainingOptions,
  restored?: RegressionCheckpoint,
  optimizerReady?: (optimizer: AdjustableAdam, mlp: EnergyMlp) => Promise<void>,
): { trainer: RegressionTrainer; ready: Promise<void> } {
  const data = regressionData(o.numPoints);
  const mlp = createEnergyMlp({ hiddenSize: o.hiddenSize, hiddenLayers: o.hiddenLayers, seed: o.seed });
  if (restored !== undefined) {
    try {
      mlp.setWeights(restored.weights);
    } catch (error) {
      mlp.dispose();
      throw error;
    }
  }
  const scheduler = new PlateauScheduler(
    {
      factor: o.plateauFactor,
      patience: o.plateauPatience,
      threshold: o.plateauThreshold,
      minLearningRate: 0,
    },
    o.learningRate,
    restored?.training.scheduler,
  );
  // PyTorch's Adam defaults (β₁ 0.9, β₂ 0.999, ε 1e-8).
  const optimizer = new AdjustableAdam(scheduler.learningRate, 0.9, 0.999, 1e-8);
  const variables = mlp.variables;
  const allX = tf.tensor1d(data.x);
  const allY = tf.tensor1d(data.y);
  const evaluationSeed = hash32(o.seed, STREAM.evaluation);
  let updates = restored?.training.updates ?? 0;
  const history: RegressionEvaluation[] = restored === undefined ? [] : [...restored.training.history];
  let seconds = history.at(-1)?.seconds ?? 0;
  let disposed = false;

  const alive = () => {
    if (disposed) throw new Error('this RegressionTrainer has been disposed');
  };
  const inference = (x: tf.Tensor, options: RegressionEvaluateOptions) =>
    predictWithEnergy(o.model, mlp, x, {
      dcem: o.dcem,
      gd: o.gd,
      ...(options.numIterations === undefined ? {} : { numIterations: options.numIterations }),
      seed: options.seed ?? evaluationSeed,
    });
  const checkEvaluateOptions = (options: RegressionEvaluateOptions) => {
    assertObject('options', options);
    if (options.numIterations !== undefined) assertInteger('numIterations', options.numIterations, 1);
    if (options.seed !== undefined) assertInteger('seed', options.seed, Number.MIN_SAFE_INTEGER);
  };

  const evaluate = (options: RegressionEvaluateOptions = {}): number => {
    alive();
    checkEvaluateOptions(options);
    const mse = tf.tidy(() => tf.mean(tf.square(tf.sub(inference(allX, options), allY))));
    const value = mse.dataSync()[0] as number;
    mse.dispose();
    return value;
  };

  const record = (): RegressionEvaluation => {
    const mse = evaluate();
    if (updates > 0) {
      scheduler.step(mse);
      optimizer.setLearningRate(scheduler.learningRate);
    }
    const evaluation = { update: updates, mse, learningRate: scheduler.learningRate, seconds };
    history.push(evaluation);
    return evaluation;
  };

  const update = (): RegressionUpdate => {
    alive();
    const started = Date.now();
    const u = updates;
    const group = Math.floor(u / o.innerUpdates);
    const indices = Array.from({ length: o.batchSize }, (_, i) =>
      randomIndex(o.numPoints, o.seed, STREAM.point, group, i),
    );
    const xs = tf.tensor1d(indices.map((i) => data.x[i] as number));
    const ys = tf.tensor1d(indices.map((i) => data.y[i] as number));
    let loss = Number.NaN;
    let gradNorm = Number.NaN;
    let applied = false;
    try {
      const { value, grads } = tf.variableGrads(
        () =>
          tf.tidy(() => {
            const yHat = predictWithEnergy(o.model, mlp, xs, {
              dcem: o.dcem,
              gd: o.gd,
              seed: hash32(o.seed, STREAM.dcem, u),
            });
            return tf.mean(tf.square(tf.sub(yHat, ys))) as tf.Scalar;
          }),
        variables as tf.Variable[],
      );
      loss = value.dataSync()[0] as number;
      value.dispose();
      const ordered = variables.map((v) => grads[v.name] ?? tf.zerosLike(v));
      const { clipped, norm } = clipByGlobalNorm(ordered, o.clipNorm ?? Number.POSITIVE_INFINITY);
      tf.dispose(ordered);
      tf.dispose(Object.values(grads));
      gradNorm = norm;
      if (Number.isFinite(loss) && Number.isFinite(norm)) {
        optimizer.applyGradients(
          variables.map((v, i) => ({ name: v.name, tensor: clipped[i] as tf.Tensor })),
        );
        applied = true;
      }
      tf.dispose(clipped);
    } finally {
      tf.dispose([xs, ys]);
    }
    updates = u + 1;
    seconds += (Date.now() - started) / 1000;
    const result: RegressionUpdate = { update: updates, loss, gradNorm, applied };
    if (updates % o.evalEvery === 0) result.evaluation = record();
    return result;
  };

  const trainer: RegressionTrainer = {
    options: o,
    mlp,
    data,
    get updates() {
      return updates;
    },
    get learningRate() {
      return scheduler.learningRate;
    },
    get history() {
      return history;
    },
    update,
    train(count, callbacks = {}) {
      alive();
      assertInteger('updates', count, 0);
      assertObject('callbacks', callbacks);
      if (history.length === 0) {
        const initial = record();
        callbacks.onEvaluation?.(initial);
      }
      for (let i = 0; i < count; i++) {
        const r = update();
        callbacks.onUpdate?.(r);
        if (r.evaluation !== undefined) callbacks.onEvaluation?.(r.evaluation);
      }
      return history.at(-1) as RegressionEvaluation;
    },
    evaluate,
    predict(x, options = {}) {
      alive();
      checkEvaluateOptions(options);
      if (!Array.isArray(x) || !x.every((v) => typeof v === 'number' && Number.isFinite(v))) {
        throw new TypeError(`x must be an array of finite numbers, received ${describeValue(x)}`);
      }
      if (x.length === 0) return [];
      const xs = tf.tensor1d(x as number[]);
      const yHat = tf.tidy(() => inference(xs, options));
      const values = Array.from(yHat.dataSync());
      tf.dispose([xs, yHat]);
      return values;
    },
    async checkpoint(metadata = {}) {
      alive();
      assertObject('metadata', metadata);
      const weights = await optimizer.getWeights();
      const [iter, ...moments] = weights;
      const iterations = iter === undefined ? 0 : ((await iter.tensor.data())[0] as number);
      iter?.tensor.dispose();
      const momentValues: NamedWeight[] = moments.map((m) => ({
        name: m.name,
        shape: [...m.tensor.shape],
        values: Array.from(m.tensor.dataSync()),
      }));
      return {
        format: REGRESSION_CHECKPOINT_FORMAT,
        version: REGRESSION_CHECKPOINT_VERSION,
        options: JSON.parse(JSON.stringify(o)) as ResolvedRegressionTrainingOptions,
        weights: mlp.getWeights(),
        training: {
          updates,
          scheduler: scheduler.state,
          history: history.map((h) => ({ ...h })),
          optimizer:
            momentValues.length === 0 && iterations === 0 ? null : { iterations, moments: momentValues },
        },
        metadata: { package: '@dcem/tasks', createdAt: new Date().toISOString(), ...metadata },
      };
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      mlp.dispose();
      optimizer.dispose();
      tf.dispose([allX, allY]);
    },
  };
  const ready = optimizerReady === undefined ? Promise.resolve() : optimizerReady(optimizer, mlp);
  return { trainer, ready };
}

/**
 * Creates a trainer for the DCEM paper's regression study: a fresh energy
 * MLP (seeded), Adam, the plateau scheduler and the training data
 * x = linspace(0, 2π, n), y = x·sin x. Updates are deterministic given the
 * seed: the training points of update u and DCEM's noise are functions of
 * (seed, u), so a run resumed from a checkpoint continues like the
 * uninterrupted run.
 *
 * @param options See {@link RegressionTrainingOptions}; only `model` is required.
 * @example
 * ```ts
 * import { createRegressionTrainer } from '@dcem/tasks';
 * const trainer = createRegressionTrainer({ model: 'dcem', seed: 0 });
 * const last = trainer.train(300, { onEvaluation: (e) => console.log(e.update, e.mse) });
 * console.log(trainer.evaluate({ numIterations: 20 })); // MSE with 20 inner iterations
 * trainer.dispose();
 * ```
 */
export function createRegressionTrainer(options: RegressionTrainingOptions): RegressionTrainer {
  return build(resolveRegressionTrainingOptions(options)).trainer;
}

/**
 * Settings that may change when training resumes from a checkpoint: the
 * protocol and the inference settings, not the model or the architecture.
 */
export type RegressionResumeOverrides = Partial<
  Omit<RegressionTrainingOptions, 'model' | 'numPoints' | 'hiddenSize' | 'hiddenLayers' | 'learningRate'>
>;

/**
 * Rebuilds a trainer from a {@link RegressionCheckpoint} (or its JSON text):
 * the weights, Adam's moments, the scheduler and the history, so that
 * training continues where it stopped and evaluation gives what the saved
 * model gave.
 *
 * @param checkpoint The checkpoint, validated with {@link parseRegressionCheckpoint}.
 * @param overrides Protocol settings to change from here on (for example `evalEvery` or `batchSize`).
 * @example
 * ```ts
 * const saved = JSON.stringify(await trainer.checkpoint());
 * const again = await restoreRegressionTrainer(saved);
 * again.train(1000);
 * ```
 */
export async function restoreRegressionTrainer(
  checkpoint: RegressionCheckpoint | string,
  overrides: RegressionResumeOverrides = {},
): Promise<RegressionTrainer> {
  const parsed = parseRegressionCheckpoint(checkpoint);
  assertObject('overrides', overrides);
  for (const key of ['model', 'numPoints', 'hiddenSize', 'hiddenLayers', 'learningRate']) {
    if (key in overrides) throw new RangeError(`overrides cannot change ${key} of a saved model`);
  }
  const o = resolveRegressionTrainingOptions({
    ...parsed.options,
    ...overrides,
    dcem: { ...parsed.options.dcem, ...overrides.dcem },
    gd: { ...parsed.options.gd, ...overrides.gd },
  });
  const saved = parsed.training.optimizer;
  const { trainer, ready } = build(o, parsed, async (optimizer) => {
    if (saved === null) return;
    const tensors = saved.moments.map((m) => ({
      name: m.name,
      tensor: tf.tensor(m.values, m.shape, 'float32'),
    }));
    const iter = { name: 'iter', tensor: tf.scalar(saved.iterations, 'int32') };
    try {
      await optimizer.setWeights([iter, ...tensors]);
    } finally {
      tf.dispose([iter.tensor, ...tensors.map((t) => t.tensor)]);
    }
  });
  try {
    await ready;
  } catch (error) {
    trainer.dispose();
    throw error;
  }
  return trainer;
}
