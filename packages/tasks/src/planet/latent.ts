/**
 * Latent planning in the world model (the DCEM paper's §5.2.2, step 2): a
 * decoder from z ∈ [−1, 1]^d to an H-step action sequence, DCEM over z
 * through the model's imagined return, and the decoder's online training
 * from replay posterior states (phase 2 of the paper's Alg. 3). The decoder,
 * the latent planner and the gradient through DCEM are those of the
 * cart-pole embedding (`createActionDecoder`, `planLatent`,
 * `latentPlanGradients` of `@dcem/tasks`); this module supplies the world
 * model's cost and states.
 *
 * @module
 */
import {
  assertInteger,
  assertObject,
  assertOptions,
  assertPositive,
  assertTensorShape,
  describeValue,
} from '@dcem/errors';
import { deriveSeed } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import { type ActionDecoder, createActionDecoder } from '../control/latent-decoder.js';
import { latentPlanGradients } from '../control/latent-trainer.js';
import type { ControlCost } from '../control/planner.js';
import { TASK_SEED_STREAMS } from '../seed-streams.js';
import type { Adam } from './adam.js';
import { imagineReturns } from './imagine.js';
import type { ReplayBuffer } from './replay.js';
import { sequenceBatchTensors } from './replay.js';
import type { Rssm, RssmState } from './rssm.js';
import type { LatentMode, PlanetLatentSettings, PlanetPlannerConfig } from './settings.js';

/**
 * The latent action decoder of a world-model run: `createActionDecoder`
 * with d = `latent.dim`, the given hidden widths, H steps of the model's A
 * actions in [−1, 1], weights seeded by `seed` (the loop passes
 * `deriveSeed(seed, TASK_SEED_STREAMS.planetDecoderWeights, 0)`).
 *
 * @param model The world model (for A).
 * @param horizon H.
 * @param latent `dim` and `hiddenSizes` (see `PlanetLatentSettings`).
 * @param seed The integer seed of the initial weights.
 * @returns The decoder; call `dispose()` when done.
 * @example
 * ```ts
 * const decoder = createPlanetDecoder(model, 12, { dim: 2, hiddenSizes: [64, 64] }, 0);
 * ```
 */
export function createPlanetDecoder(
  model: Rssm,
  horizon: number,
  latent: Pick<PlanetLatentSettings, 'dim' | 'hiddenSizes'>,
  seed: number,
): ActionDecoder {
  assertObject('model', model);
  assertObject('latent', latent);
  return createActionDecoder({
    latentDim: latent.dim,
    horizon,
    controlDim: model.sizes.actionSize,
    hiddenSizes: latent.hiddenSizes,
    lowerBound: -1,
    upperBound: 1,
    seed,
  });
}

/**
 * The planning cost of the world model from M start states, as the latent
 * planner takes it: for controls u [M, N, H, A], candidate (m, n) is
 * imagined from start m (`imagineReturns`) and costs
 * c = −Σ_{k<H} r̂(h_{k+1}, s_{k+1}); returns [M, N]. Imagined states are
 * sampled from the prior with ε [H, M·N, S] of the c-th call drawn with
 * `tf.randomNormal(…, deriveSeed(seed, TASK_SEED_STREAMS.planetLatentNoise, c))`
 * (c counts this cost's calls from 0), or the prior means with
 * `imagination: 'mean'`. Differentiable in u (and in the model's weights).
 *
 * @param model The world model.
 * @param start The start states (h [M, D], s [M, S]); read, not disposed (keep them alive while the cost is used).
 * @param seed The integer base seed of the imagined noise.
 * @param imagination `sample` (PlaNet) or `mean`.
 * @returns The cost.
 * @example
 * ```ts
 * const cost = planetLatentCost(model, start, 0, 'sample');
 * const c = cost(tf.zeros([M, 5, 12, A])); // [M, 5]
 * ```
 */
export function planetLatentCost(
  model: Rssm,
  start: RssmState,
  seed: number,
  imagination: LatentMode = 'sample',
): ControlCost {
  assertObject('model', model);
  assertObject('start', start);
  const { actionSize: A, deterministic: D, stochastic: S } = model.sizes;
  assertTensorShape('start.h', start.h, [null, D]);
  const m = start.h.shape[0];
  assertTensorShape('start.s', start.s, [m, S]);
  assertInteger('seed', seed, Number.MIN_SAFE_INTEGER);
  if (imagination !== 'sample' && imagination !== 'mean') {
    throw new RangeError(`imagination must be "sample" or "mean", received ${describeValue(imagination)}`);
  }
  let calls = 0;
  return (controls: tf.Tensor): tf.Tensor => {
    assertTensorShape('controls', controls, [m, null, null, A]);
    const [, n, horizon] = controls.shape as [number, number, number, number];
    const noiseSeed = deriveSeed(seed, TASK_SEED_STREAMS.planetLatentNoise, calls);
    calls++;
    return tf.tidy(() => {
      const noise =
        imagination === 'sample'
          ? (tf.randomNormal([horizon, m * n, S], 0, 1, 'float32', noiseSeed) as tf.Tensor3D)
          : null;
      // One start per candidate (x + 0 is x; broadcasting instead of Tile).
      const starts: RssmState =
        m === 1
          ? start
          : {
              h: tf.reshape(tf.add(tf.zeros([m, n, D]), tf.expandDims(start.h, 1)), [
                m * n,
                D,
              ]) as tf.Tensor2D,
              s: tf.reshape(tf.add(tf.zeros([m, n, S]), tf.expandDims(start.s, 1)), [
                m * n,
                S,
              ]) as tf.Tensor2D,
            };
      const returns = imagineReturns(
        model,
        starts,
        tf.reshape(controls, [m * n, horizon, A]) as tf.Tensor3D,
        noise,
      );
      return tf.reshape(tf.neg(returns), [m, n]);
    });
  };
}

/**
 * Replay posterior states: `count` sequences of `length` rows sampled from
 * the buffer (`replay.sample(count, length, deriveSeed(seed, planetBatch, 0))`),
 * each filtered from h = 0, s = 0 by one `observeStep` per row (posterior
 * samples with ε [length, count, S] from
 * `tf.randomNormal(…, deriveSeed(seed, planetFilter, 0))`, or the posterior
 * means with `filter: 'mean'`); the state after each sequence's last row.
 * No gradient is kept.
 *
 * @param model The world model.
 * @param replay The replay buffer (episodes of ≥ `length` rows).
 * @param count M, sequences (states) to return.
 * @param length Rows filtered per sequence.
 * @param seed The integer base seed.
 * @param filter `sample` (PlaNet) or `mean`.
 * @returns h [M, D] and s [M, S] (the caller disposes them).
 * @example
 * ```ts
 * const start = replayPosteriorStates(model, replay, 8, 50, deriveSeed(0, TASK_SEED_STREAMS.planetDecoderStep, 0), 'sample');
 * ```
 */
export function replayPosteriorStates(
  model: Rssm,
  replay: ReplayBuffer,
  count: number,
  length: number,
  seed: number,
  filter: LatentMode = 'sample',
): RssmState {
  assertObject('model', model);
  assertObject('replay', replay);
  assertInteger('count', count, 1);
  assertInteger('length', length, 1);
  assertInteger('seed', seed, Number.MIN_SAFE_INTEGER);
  if (filter !== 'sample' && filter !== 'mean') {
    throw new RangeError(`filter must be "sample" or "mean", received ${describeValue(filter)}`);
  }
  const data = replay.sample(count, length, deriveSeed(seed, TASK_SEED_STREAMS.planetBatch, 0));
  const batch = sequenceBatchTensors(data);
  try {
    return tf.tidy(() => {
      const S = model.sizes.stochastic;
      const noise =
        filter === 'sample'
          ? tf.unstack(
              tf.randomNormal(
                [length, count, S],
                0,
                1,
                'float32',
                deriveSeed(seed, TASK_SEED_STREAMS.planetFilter, 0),
              ),
            )
          : null;
      const observations = tf.unstack(tf.transpose(batch.observations, [1, 0, 2]));
      const actions = tf.unstack(tf.transpose(batch.actions, [1, 0, 2]));
      let state = model.initialState(count);
      for (let t = 0; t < length; t++) {
        const r = model.observeStep(
          state,
          actions[t] as tf.Tensor2D,
          observations[t] as tf.Tensor2D,
          noise === null ? null : (noise[t] as tf.Tensor2D),
        );
        state = r.state;
      }
      return { h: state.h, s: state.s };
    });
  } finally {
    tf.dispose([batch.observations, batch.actions, batch.rewards]);
  }
}

/** Options of {@link planetDecoderStep}. */
export interface PlanetDecoderStepOptions {
  /** The latent planner (`planetPlannerConfig('latent', …)`); its horizon must be the decoder's. */
  plan: PlanetPlannerConfig;
  /**
   * The integer base seed of the step: the solver's noise comes from
   * `deriveSeed(deriveSeed(seed, planetPlanner, 0), planetLatentPlan, 0)` and
   * the imagined noise from `planetLatentCost(…, deriveSeed(seed, planetPlanner, 0))`.
   */
  seed: number;
  /** Imagined latent states: `sample` (PlaNet, default) or `mean`. */
  imagination?: LatentMode;
  /** The gradient's global norm is clipped to this (default 1). */
  clipNorm?: number;
}

/** What {@link planetDecoderStep} returns (measured before the step). */
export interface PlanetDecoderStepResult {
  /** The mean planned cost −Σ r̂ over the start states, at the decoder before the step. */
  cost: number;
  /** The gradient's global norm before clipping. */
  gradientNorm: number;
  /** Whether a step was taken (false when the gradient was not finite). */
  stepped: boolean;
}

/**
 * One online decoder step (the DCEM paper's Alg. 3, phase 2): from each of
 * the M start states DCEM solves ẑ_m = argmin_z C_m(decode_θ(z)) with
 * C_m the model's planning cost ({@link planetLatentCost}), and the decoder
 * takes one Adam step along ∇_θ mean_m C_m(decode_θ(ẑ_m(θ))), the gradient
 * flowing back through the DCEM iterations (`latentPlanGradients`), its
 * global norm clipped to `clipNorm` (g · min(1, clip / (‖g‖ + 10⁻⁶)), as the
 * cart-pole embedding's trainer does). The model is not changed.
 *
 * @param model The world model.
 * @param decoder The decoder (updated in place).
 * @param optimizer An Adam over `decoder.variables`, in that order.
 * @param start The start states (h [M, D], s [M, S]); not disposed.
 * @param options See {@link PlanetDecoderStepOptions}.
 * @returns The cost before the step and the gradient norm.
 * @example
 * ```ts
 * const adam = createAdam(decoder.variables, { learningRate: 1e-4, epsilon: 1e-8 });
 * const { cost } = planetDecoderStep(model, decoder, adam, start, { plan: planetPlannerConfig('latent'), seed: 0 });
 * ```
 */
export function planetDecoderStep(
  model: Rssm,
  decoder: ActionDecoder,
  optimizer: Adam,
  start: RssmState,
  options: PlanetDecoderStepOptions,
): PlanetDecoderStepResult {
  assertObject('model', model);
  checkDecoder('decoder', decoder, model, options?.plan?.horizon);
  assertObject('optimizer', optimizer);
  if (
    !Array.isArray(optimizer.variables) ||
    optimizer.variables.length !== decoder.variables.length ||
    optimizer.variables.some((v, i) => v !== decoder.variables[i])
  ) {
    throw new TypeError('optimizer must update decoder.variables, in their order');
  }
  assertOptions('planetDecoderStep options', options, ['plan', 'seed', 'imagination', 'clipNorm']);
  assertObject('options.plan', options.plan);
  if (options.plan.planner !== 'latent') {
    throw new RangeError(
      `options.plan must be a latent planner (planetPlannerConfig('latent')), received planner ${describeValue(options.plan.planner)}`,
    );
  }
  assertInteger('options.seed', options.seed, Number.MIN_SAFE_INTEGER);
  const clipNorm = options.clipNorm ?? 1;
  assertPositive('options.clipNorm', clipNorm);
  const plannerSeed = deriveSeed(options.seed, TASK_SEED_STREAMS.planetPlanner, 0);
  const cost = planetLatentCost(model, start, plannerSeed, options.imagination ?? 'sample');
  const m = start.h.shape[0] as number;
  const {
    cost: value,
    grads,
    gradientNorm,
  } = latentPlanGradients(decoder, cost, m, {
    solver: {
      ...options.plan.solver,
      seed: deriveSeed(plannerSeed, TASK_SEED_STREAMS.planetLatentPlan, 0),
    },
  });
  try {
    const scale = Number.isFinite(gradientNorm) ? Math.min(1, clipNorm / (gradientNorm + 1e-6)) : 0;
    if (scale > 0) {
      tf.tidy(() => {
        optimizer.step(grads.map((g) => tf.mul(g, scale)));
      });
    }
    return { cost: value, gradientNorm, stepped: scale > 0 };
  } finally {
    tf.dispose(grads);
  }
}

/**
 * Throws unless `decoder` is an `ActionDecoder` for the model's actions in
 * [−1, 1] over `horizon` steps (when given). Internal.
 *
 * @internal
 */
export function checkDecoder(name: string, decoder: unknown, model: Rssm, horizon?: number): void {
  if (
    decoder === null ||
    typeof decoder !== 'object' ||
    typeof (decoder as ActionDecoder).decode !== 'function' ||
    !Array.isArray((decoder as ActionDecoder).variables)
  ) {
    throw new TypeError(`${name} must be an ActionDecoder, received ${describeValue(decoder)}`);
  }
  const d = decoder as ActionDecoder;
  if (d.controlDim !== model.sizes.actionSize) {
    throw new RangeError(
      `${name} must emit the model's ${model.sizes.actionSize} actions per step, it emits ${d.controlDim}`,
    );
  }
  if (horizon !== undefined && d.horizon !== horizon) {
    throw new RangeError(`${name} must emit the plan's ${horizon} steps, it emits ${d.horizon}`);
  }
  if (d.lowerBound.some((b) => b !== -1) || d.upperBound.some((b) => b !== 1)) {
    throw new RangeError(`${name} must emit actions in [−1, 1] (the model's action bounds)`);
  }
}
