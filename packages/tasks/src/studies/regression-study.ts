import { assertInteger, assertObject, assertOptionalFunctions } from '@dcem/errors';
import { type EnergySurface, energySurface } from '../regression/energy-surface.js';
import {
  type InnerIterationAblationPoint,
  innerIterationAblation,
} from '../regression/inner-iteration-ablation.js';
import type { RegressionEvaluation } from '../regression/regression-checkpoint.js';
import type { RegressionData } from '../regression/regression-data.js';
import type { RegressionModelName } from '../regression/regression-model.js';
import { createRegressionTrainer, type RegressionTrainer } from '../regression/regression-trainer.js';

/** Settings of {@link runRegressionStudy} (`dcem regression`'s flags). */
export interface RegressionStudySettings {
  /** Models to train, in order. */
  models: readonly RegressionModelName[];
  /** Adam updates per model in this run (0 only when resuming: evaluate the saved models). */
  updates: number;
  /** Seed of everything random (new trainers). */
  seed: number;
  /** Training points per update (1: the reference protocol). */
  batchSize: number;
  /** Consecutive updates on the same points. */
  innerUpdates: number;
  /** Adam's initial learning rate (new trainers). */
  learningRate: number;
  /** Updates between full-data evaluations. */
  evalEvery: number;
  /** Width of the energy's hidden layers (new trainers). */
  hiddenSize: number;
  /** Largest test-time inner-iteration count of the ablation (1…this). */
  ablationMax: number;
  /** DCEM noise seeds averaged per ablation point. */
  ablationSeeds: number;
  /** Call `onCheckpoint` every this many updates (and at the end). */
  checkpointEvery: number;
  /** Grid of the energy surfaces, [x steps, y steps]; default [80, 97]. */
  surfaceGrid?: readonly [number, number];
}

/** Callbacks of {@link runRegressionStudy}; each is optional. */
export interface RegressionStudyCallbacks {
  /**
   * The trainer to continue from for `model` (for example one restored from a
   * checkpoint with `restoreRegressionTrainer`); without it every model starts
   * afresh. The study owns (and disposes) what it returns.
   */
  resume?: (model: RegressionModelName) => RegressionTrainer | Promise<RegressionTrainer>;
  /** Before a model trains, with its trainer (its `updates` so far). */
  onTrainStart?: (model: RegressionModelName, trainer: RegressionTrainer) => void;
  /** After each update: `done` of this run's `updates`, the last full-data MSE (if any) and the learning rate. */
  onUpdate?: (
    model: RegressionModelName,
    done: number,
    mse: number | undefined,
    learningRate: number,
  ) => void;
  /** Every `checkpointEvery` updates and after the last (for example to write a checkpoint). */
  onCheckpoint?: (model: RegressionModelName, trainer: RegressionTrainer) => void | Promise<void>;
  /** After a model trained, with its result so far (no ablation or surface yet). */
  onTrainEnd?: (model: RegressionModelName, trainer: RegressionTrainer, seconds: number) => void;
  /** Ablation progress: `done` of `total` inner-iteration counts evaluated (first with `done` = 0). */
  onAblation?: (model: RegressionModelName, done: number, total: number) => void;
}

/** What {@link runRegressionStudy} found for one model. */
export interface RegressionStudyModel {
  model: RegressionModelName;
  /** Adam updates in total (across resumes). */
  updates: number;
  /** Wall-clock seconds of training in this run. */
  trainSeconds: number;
  /** Training seconds recorded over all runs (evaluations excluded). */
  totalTrainSeconds: number;
  /** Mean wall-clock milliseconds per update in this run (evaluations included). */
  msPerUpdate: number;
  /** The final full-data MSE (fixed evaluation seed). */
  finalMse: number;
  /** Learning rate at the end. */
  learningRate: number;
  /** First update at which the full-data MSE was ≤ 1e-2 (null: never). */
  firstUpdateBelow1e2: number | null;
  /** Every full-data evaluation, oldest first. */
  history: RegressionEvaluation[];
  /** The inner-iteration ablation: every point, and the MSE at the trained count and at the largest. */
  ablation: {
    points: InnerIterationAblationPoint[];
    trained: number;
    mseTrained: number;
    max: number;
    mseMax: number;
    ratio: number;
  };
  /** The paper's goals: MSE ≤ 1e-2, and DCEM robust to more inner iterations while unrolled GD is not. */
  goals: { mseAtMost1e2: boolean; ablation: boolean; ablationRule: string };
  /** E_θ on a grid. */
  surface: EnergySurface;
  /** ŷ at the training inputs. */
  predictions: number[];
}

/** What {@link runRegressionStudy} returns (plain numbers and arrays; no tensors). */
export interface RegressionStudyResult {
  models: RegressionStudyModel[];
  /** The training set (the same for every model). */
  data: RegressionData;
}

/**
 * The energy-based regression study of the DCEM paper (§5.1) as a function:
 * trains each requested model (DCEM or unrolled-GD inference), runs the
 * inner-iteration ablation and computes the energy surfaces and the paper's
 * goals, and returns all of it as values. It prints and writes nothing:
 * checkpoints are handed to `onCheckpoint`, and `dcem regression` writes the
 * files and figures from what it returns.
 *
 * @param settings See {@link RegressionStudySettings}.
 * @param callbacks Optional progress, resume and checkpoint callbacks.
 * @returns See {@link RegressionStudyResult}.
 * @example
 * ```ts
 * const r = await runRegressionStudy({
 *   models: ['gd'], updates: 200, seed: 0, batchSize: 1, innerUpdates: 3, learningRate: 1e-3,
 *   evalEvery: 100, hiddenSize: 32, ablationMax: 3, ablationSeeds: 1, checkpointEvery: 1000,
 * });
 * console.log(r.models[0]?.finalMse);
 * ```
 */
export async function runRegressionStudy(
  settings: RegressionStudySettings,
  callbacks: RegressionStudyCallbacks = {},
): Promise<RegressionStudyResult> {
  const s = settings;
  assertObject('settings', s);
  assertObject('callbacks', callbacks);
  if (!Array.isArray(s.models) || s.models.length === 0) {
    throw new TypeError('settings.models must be a non-empty array of model names');
  }
  assertInteger('settings.updates', s.updates, 0);
  assertInteger('settings.checkpointEvery', s.checkpointEvery, 1);
  assertInteger('settings.ablationMax', s.ablationMax, 1);
  assertOptionalFunctions(
    callbacks,
    ['resume', 'onTrainStart', 'onUpdate', 'onCheckpoint', 'onTrainEnd', 'onAblation'],
    'callbacks.',
  );
  const trainers: { model: RegressionModelName; trainer: RegressionTrainer; seconds: number }[] = [];
  try {
    for (const model of s.models) {
      const trainer =
        callbacks.resume === undefined
          ? createRegressionTrainer({
              model,
              seed: s.seed,
              batchSize: s.batchSize,
              innerUpdates: s.innerUpdates,
              learningRate: s.learningRate,
              evalEvery: s.evalEvery,
              hiddenSize: s.hiddenSize,
            })
          : await callbacks.resume(model);
      const entry = { model, trainer, seconds: 0 };
      trainers.push(entry);
      callbacks.onTrainStart?.(model, trainer);
      const start = trainer.updates;
      let mse = trainer.history.at(-1)?.mse;
      const began = Date.now();
      // Train in chunks so that checkpoints are handed out as we go.
      let done = 0;
      while (done < s.updates) {
        const chunk = Math.min(s.checkpointEvery - ((start + done) % s.checkpointEvery), s.updates - done);
        trainer.train(chunk, {
          onUpdate: (u) => callbacks.onUpdate?.(model, u.update - start, mse, trainer.learningRate),
          onEvaluation: (e) => {
            mse = e.mse;
          },
        });
        done += chunk;
        await callbacks.onCheckpoint?.(model, trainer);
      }
      if (s.updates === 0) trainer.train(0);
      callbacks.onUpdate?.(model, s.updates, mse, trainer.learningRate);
      entry.seconds = (Date.now() - began) / 1000;
      callbacks.onTrainEnd?.(model, trainer, entry.seconds);
    }

    const iterations = Array.from({ length: s.ablationMax }, (_, i) => i + 1);
    const results: RegressionStudyModel[] = [];
    for (const { model, trainer, seconds } of trainers) {
      callbacks.onAblation?.(model, 0, iterations.length);
      const points = innerIterationAblation(trainer, {
        iterations,
        seeds: s.ablationSeeds,
        onPoint: (_p, index) => callbacks.onAblation?.(model, index + 1, iterations.length),
      });
      const trained =
        model === 'dcem' ? trainer.options.dcem.numIterations : trainer.options.gd.numIterations;
      const at = (n: number) => points.find((p) => p.iterations === n)?.mse ?? Number.NaN;
      const mseTrained = at(trained);
      const mseMax = at(s.ablationMax);
      const ratio = mseMax / mseTrained;
      const last = trainer.history.at(-1);
      const below = trainer.history.find((h) => h.mse <= 1e-2);
      results.push({
        model,
        updates: trainer.updates,
        trainSeconds: seconds,
        totalTrainSeconds: last?.seconds ?? 0,
        msPerUpdate: s.updates > 0 ? (1000 * seconds) / s.updates : 0,
        finalMse: last?.mse ?? Number.NaN,
        learningRate: trainer.learningRate,
        firstUpdateBelow1e2: below?.update ?? null,
        history: [...trainer.history],
        ablation: { points, trained, mseTrained, max: s.ablationMax, mseMax, ratio },
        goals: {
          mseAtMost1e2: (last?.mse ?? Number.POSITIVE_INFINITY) <= 1e-2,
          ablation: model === 'dcem' ? ratio <= 3 : ratio >= 10,
          ablationRule:
            model === 'dcem'
              ? `MSE at ${s.ablationMax} ≤ 3 × MSE at ${trained}`
              : `MSE at ${s.ablationMax} ≥ 10 × MSE at ${trained}`,
        },
        surface: energySurface(trainer.mlp, {
          xSteps: s.surfaceGrid?.[0] ?? 80,
          ySteps: s.surfaceGrid?.[1] ?? 97,
        }),
        predictions: trainer.predict(trainer.data.x),
      });
    }
    const data = trainers[0]?.trainer.data as RegressionData;
    return { models: results, data: { x: [...data.x], y: [...data.y] } };
  } finally {
    for (const { trainer } of trainers) trainer.dispose();
  }
}
