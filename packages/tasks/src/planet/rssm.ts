/**
 * PlaNet's recurrent state-space model (RSSM) over observation vectors:
 * an encoder, a GRU deterministic path, prior and posterior Gaussians over
 * the stochastic state, and observation and reward decoders.
 *
 * @module
 */
import { deriveSeed } from '@dcem/core';
import {
  assertInteger,
  assertKnownOptions,
  assertNonNegative,
  assertObject,
  assertTensorShape,
  describeValue,
} from '@dcem/errors';
import { dense } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import { TASK_SEED_STREAMS } from '../seed-streams.js';
import type { DiagGaussian } from './gaussian.js';
import { gruCell } from './gru.js';
import { tidyObject } from './tidy.js';

export type { DiagGaussian } from './gaussian.js';

/** The sizes of an {@link Rssm}. */
export interface RssmSizes {
  /** O, the length of an observation vector, an integer ≥ 1. */
  observationSize: number;
  /** A, the length of an action vector, an integer ≥ 1. */
  actionSize: number;
  /** D, the GRU's deterministic state, an integer ≥ 1 (PlaNet: 200). */
  deterministic: number;
  /** S, the stochastic state, an integer ≥ 1 (PlaNet: 30). */
  stochastic: number;
  /** The width of every hidden layer and of the embedding, an integer ≥ 1 (PlaNet: 200). */
  hidden: number;
  /** The floor added to every standard deviation, ≥ 0 (PlaNet: 0.1). */
  minStd: number;
}

/**
 * PlaNet's sizes (Hafner et al. 2019): D = 200, S = 30, hidden layers of
 * 200, σ floor 0.1. The observation and action sizes come from the task.
 */
export const PLANET_RSSM_SIZES: Readonly<Omit<RssmSizes, 'observationSize' | 'actionSize'>> = Object.freeze({
  deterministic: 200,
  stochastic: 30,
  hidden: 200,
  minStd: 0.1,
});

const SIZE_NAMES = ['observationSize', 'actionSize', 'deterministic', 'stochastic', 'hidden', 'minStd'];

/** The model's state: the GRU state h [B, D] and the stochastic state s [B, S]. */
export interface RssmState {
  /** h, [B, D]. */
  readonly h: tf.Tensor2D;
  /** s, [B, S]. */
  readonly s: tf.Tensor2D;
}

/** What {@link Rssm.observeStep} returns (new tensors, the caller's to dispose). */
export interface RssmObserveResult {
  /** The posterior state (h', s'). */
  state: RssmState;
  /** p(s' | h'). */
  prior: DiagGaussian;
  /** q(s' | h', e(o)). */
  posterior: DiagGaussian;
}

/** What {@link Rssm.imagineStep} returns (new tensors, the caller's to dispose). */
export interface RssmImagineResult {
  /** The prior state (h', s'). */
  state: RssmState;
  /** p(s' | h'). */
  prior: DiagGaussian;
}

/**
 * PlaNet's RSSM on observation vectors (Hafner et al. 2019, "Learning
 * latent dynamics for planning from pixels", §3, without the pixel
 * decoder). With H the hidden width:
 *
 * - encoder e = relu(W₂ relu(W₁ o)) (H, H);
 * - transition x = relu(W [s, a]) (H), h' = GRU(x, h) (`gruCell` of `@dcem/tfjs`: PyTorch's GRUCell, gates r, z, n);
 * - prior p(s' | h'): relu(W h') (H) → [μ, ρ] (2S), σ = softplus(ρ) + minStd;
 * - posterior q(s' | h', e): relu(W [h', e]) (H) → [μ, ρ], σ = softplus(ρ) + minStd;
 * - observation decoder [h, s] → relu H → relu H → O (linear);
 * - reward decoder [h, s] → relu H → relu H → 1 (linear).
 *
 * Every method returns new tensors, which the caller disposes; the
 * arguments are never disposed. The variables are updated in place by an
 * optimiser (see {@link createAdam}).
 */
export interface Rssm {
  /** The sizes (defaults filled in). */
  readonly sizes: Readonly<RssmSizes>;
  /** The trainable weights in a fixed order (that of {@link Rssm.variableNames}). */
  readonly variables: readonly tf.Variable[];
  /** A name per variable, e.g. `encoder.0.weight` or `transition.gru.wx`. */
  readonly variableNames: readonly string[];
  /**
   * The filter's start: h = 0, s = 0.
   *
   * @param batch B, an integer ≥ 1.
   */
  initialState(batch: number): RssmState;
  /**
   * One filtering step: h' = GRU(relu(W [s, a]), h), the prior p(s' | h'),
   * the posterior q(s' | h', e(o)), and s' = μq + σq ⊙ noise (μq when
   * `noise` is null).
   *
   * @param state (h [B, D], s [B, S]).
   * @param action a, [B, A]: the action that led to `observation`.
   * @param observation o, [B, O].
   * @param noise ε ~ N(0, I), [B, S], or null.
   */
  observeStep(
    state: RssmState,
    action: tf.Tensor2D,
    observation: tf.Tensor2D,
    noise: tf.Tensor2D | null,
  ): RssmObserveResult;
  /**
   * One step in imagination: h' = GRU(relu(W [s, a]), h), the prior
   * p(s' | h') and s' = μp + σp ⊙ noise (μp when `noise` is null).
   *
   * @param state (h [B, D], s [B, S]).
   * @param action a, [B, A].
   * @param noise ε ~ N(0, I), [B, S], or null.
   */
  imagineStep(state: RssmState, action: tf.Tensor2D, noise: tf.Tensor2D | null): RssmImagineResult;
  /** The predicted reward r̂(h, s), [B]. */
  predictReward(state: RssmState): tf.Tensor1D;
  /** The predicted observation ô(h, s) (the mean of the unit-variance likelihood), [B, O]. */
  decodeObservation(state: RssmState): tf.Tensor2D;
  /** Copies of the weights, in the order of {@link Rssm.variables}. */
  getWeights(): Float32Array[];
  /** Overwrites the weights with copies of `weights` (as {@link Rssm.getWeights} returns them). */
  setWeights(weights: readonly Float32Array[]): void;
  /** Releases the variables; the model cannot be used afterwards. */
  dispose(): void;
}

/**
 * The model's building blocks without argument checks, for the ELBO and
 * imagination (which batch some of them over time). Internal.
 *
 * @internal
 */
export interface RssmParts {
  readonly sizes: Readonly<RssmSizes>;
  /** e(o): [N, O] → [N, H]. */
  encode(observation: tf.Tensor2D): tf.Tensor2D;
  /** h' = GRU(relu(W [s, a]), h): → [B, D]. */
  transition(h: tf.Tensor2D, s: tf.Tensor2D, action: tf.Tensor2D): tf.Tensor2D;
  /** p(s' | h'). */
  prior(h: tf.Tensor2D): DiagGaussian;
  /** q(s' | h', e). */
  posterior(h: tf.Tensor2D, embedding: tf.Tensor2D): DiagGaussian;
  /** ô(h, s): [N, O]. */
  observation(h: tf.Tensor2D, s: tf.Tensor2D): tf.Tensor2D;
  /** r̂(h, s): [N]. */
  reward(h: tf.Tensor2D, s: tf.Tensor2D): tf.Tensor1D;
  /** The weights of the filter's recurrent step (transition, GRU, posterior), for the whole-sequence backward pass. */
  readonly recurrent: RecurrentWeights;
}

/**
 * The weights of one filtering step: x = relu([s, a]·transW + transB),
 * h' = GRU(x, h), [μ, ρ] = relu([h', e]·post0W + post0B)·post1W + post1B.
 * Internal.
 *
 * @internal
 */
export interface RecurrentWeights {
  readonly transW: tf.Variable;
  readonly transB: tf.Variable;
  readonly wx: tf.Variable;
  readonly wh: tf.Variable;
  readonly bx: tf.Variable;
  readonly bh: tf.Variable;
  readonly post0W: tf.Variable;
  readonly post0B: tf.Variable;
  readonly post1W: tf.Variable;
  readonly post1B: tf.Variable;
}

const PARTS = new WeakMap<Rssm, RssmParts>();

/**
 * The building blocks of a model made by {@link createRssm}. Internal.
 *
 * @internal
 */
export function rssmParts(model: Rssm): RssmParts {
  const parts = PARTS.get(model);
  if (parts === undefined) {
    throw new TypeError(`model must be an Rssm made by createRssm, received ${describeValue(model)}`);
  }
  return parts;
}

/** Throws unless `state` is an RssmState of this model's sizes; returns B. */
function checkState(name: string, state: unknown, sizes: RssmSizes): number {
  assertObject(name, state);
  assertTensorShape(`${name}.h`, state.h, [null, sizes.deterministic]);
  const batch = (state.h as tf.Tensor).shape[0] as number;
  assertTensorShape(`${name}.s`, state.s, [batch, sizes.stochastic]);
  return batch;
}

function checkNoise(noise: unknown, batch: number, sizes: RssmSizes): void {
  if (noise === null || noise === undefined) return;
  assertTensorShape('noise', noise, [batch, sizes.stochastic]);
}

/**
 * Creates PlaNet's RSSM (see {@link Rssm}) with seeded initial weights:
 * the dense layers' weights Glorot-uniform, U(±√(6 / (fan_in + fan_out))),
 * with zero biases; the GRU's four tensors U(±1/√D) as PyTorch's `GRUCell`
 * initialises them. Variable i is drawn from
 * `deriveSeed(seed, TASK_SEED_STREAMS.planetWeights, i)`.
 *
 * @param sizes O and A, and any of {@link PLANET_RSSM_SIZES} to override.
 * @param seed The integer seed of the initial weights.
 * @returns The model; call `dispose()` when done.
 * @throws TypeError for a size that is not an integer, an unknown size name
 *   or a seed that is not an integer; RangeError for a size < 1 or a negative `minStd`.
 * @example
 * ```ts
 * const model = createRssm({ observationSize: 5, actionSize: 1 }, 0);
 * const state = model.initialState(1);
 * ```
 */
export function createRssm(
  sizes: Partial<RssmSizes> & { observationSize: number; actionSize: number },
  seed: number,
): Rssm {
  assertObject('sizes', sizes);
  assertKnownOptions('RSSM size', sizes, SIZE_NAMES);
  const full: RssmSizes = Object.freeze({ ...PLANET_RSSM_SIZES, ...sizes });
  for (const name of ['observationSize', 'actionSize', 'deterministic', 'stochastic', 'hidden'] as const) {
    assertInteger(`sizes.${name}`, full[name], 1);
  }
  assertNonNegative('sizes.minStd', full.minStd);
  assertInteger('seed', seed, Number.MIN_SAFE_INTEGER);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, received ${seed}`);
  const { observationSize: O, actionSize: A, deterministic: D, stochastic: S, hidden: H, minStd } = full;

  const names: string[] = [];
  const variables: tf.Variable[] = [];
  const add = (name: string, shape: number[], init: 'glorot' | 'zeros' | 'gru'): tf.Variable => {
    const index = variables.length;
    const v = tf.tidy(() => {
      if (init === 'zeros') return tf.variable(tf.zeros(shape), true);
      const s = deriveSeed(seed, TASK_SEED_STREAMS.planetWeights, index);
      const limit =
        init === 'gru' ? 1 / Math.sqrt(D) : Math.sqrt(6 / ((shape[0] as number) + (shape[1] as number)));
      return tf.variable(tf.randomUniform(shape, -limit, limit, 'float32', s), true);
    });
    names.push(name);
    variables.push(v);
    return v;
  };
  const layer = (name: string, fanIn: number, fanOut: number) => ({
    w: add(`${name}.weight`, [fanIn, fanOut], 'glorot') as tf.Variable<tf.Rank.R2>,
    b: add(`${name}.bias`, [fanOut], 'zeros') as tf.Variable<tf.Rank.R1>,
  });
  const enc0 = layer('encoder.0', O, H);
  const enc1 = layer('encoder.1', H, H);
  const trans = layer('transition.input', S + A, H);
  const gru = {
    wx: add('transition.gru.wx', [H, 3 * D], 'gru') as tf.Variable<tf.Rank.R2>,
    wh: add('transition.gru.wh', [D, 3 * D], 'gru') as tf.Variable<tf.Rank.R2>,
    bx: add('transition.gru.bx', [3 * D], 'gru') as tf.Variable<tf.Rank.R1>,
    bh: add('transition.gru.bh', [3 * D], 'gru') as tf.Variable<tf.Rank.R1>,
  };
  const prior0 = layer('prior.0', D, H);
  const prior1 = layer('prior.1', H, 2 * S);
  const post0 = layer('posterior.0', D + H, H);
  const post1 = layer('posterior.1', H, 2 * S);
  const obs0 = layer('observation.0', D + S, H);
  const obs1 = layer('observation.1', H, H);
  const obs2 = layer('observation.2', H, O);
  const rew0 = layer('reward.0', D + S, H);
  const rew1 = layer('reward.1', H, H);
  const rew2 = layer('reward.2', H, 1);

  const relu = { activation: 'relu' } as const;
  const gaussian = (out: tf.Tensor2D): DiagGaussian => ({
    mean: tf.slice(out, [0, 0], [-1, S]),
    std: tf.add(tf.softplus(tf.slice(out, [0, S], [-1, S])), minStd) as tf.Tensor2D,
  });
  const parts: RssmParts = {
    sizes: full,
    recurrent: {
      transW: trans.w,
      transB: trans.b,
      wx: gru.wx,
      wh: gru.wh,
      bx: gru.bx,
      bh: gru.bh,
      post0W: post0.w,
      post0B: post0.b,
      post1W: post1.w,
      post1B: post1.b,
    },
    encode: (o) => tf.tidy(() => dense(dense(o, enc0.w, enc0.b, relu), enc1.w, enc1.b, relu)),
    transition: (h, s, a) =>
      tf.tidy(() => {
        const x = dense(tf.concat([s, a], 1), trans.w, trans.b, relu);
        return gruCell(x, h, gru.wx, gru.wh, gru.bx, gru.bh);
      }),
    prior: (h) => tidyObject(() => gaussian(dense(dense(h, prior0.w, prior0.b, relu), prior1.w, prior1.b))),
    posterior: (h, e) =>
      tidyObject(() =>
        gaussian(dense(dense(tf.concat([h, e], 1), post0.w, post0.b, relu), post1.w, post1.b)),
      ),
    observation: (h, s) =>
      tf.tidy(() => {
        const x = dense(dense(tf.concat([h, s], 1), obs0.w, obs0.b, relu), obs1.w, obs1.b, relu);
        return dense(x, obs2.w, obs2.b);
      }),
    reward: (h, s) =>
      tf.tidy(() => {
        const x = dense(dense(tf.concat([h, s], 1), rew0.w, rew0.b, relu), rew1.w, rew1.b, relu);
        return tf.reshape(dense(x, rew2.w, rew2.b), [-1]) as tf.Tensor1D;
      }),
  };

  let disposed = false;
  const alive = () => {
    if (disposed) throw new Error('the Rssm has been disposed');
  };
  const sample = (g: DiagGaussian, noise: tf.Tensor2D | null | undefined): tf.Tensor2D =>
    noise === null || noise === undefined
      ? tf.clone(g.mean)
      : (tf.add(g.mean, tf.mul(g.std, noise)) as tf.Tensor2D);

  const model: Rssm = {
    sizes: full,
    variables,
    variableNames: Object.freeze(names),
    initialState(batch) {
      alive();
      assertInteger('batch', batch, 1);
      return { h: tf.zeros([batch, D]), s: tf.zeros([batch, S]) };
    },
    observeStep(state, action, observation, noise) {
      alive();
      const batch = checkState('state', state, full);
      assertTensorShape('action', action, [batch, A]);
      assertTensorShape('observation', observation, [batch, O]);
      checkNoise(noise, batch, full);
      return tidyObject(() => {
        const h = parts.transition(state.h, state.s, action);
        const prior = parts.prior(h);
        const posterior = parts.posterior(h, parts.encode(observation));
        return { state: { h, s: sample(posterior, noise) }, prior, posterior };
      });
    },
    imagineStep(state, action, noise) {
      alive();
      const batch = checkState('state', state, full);
      assertTensorShape('action', action, [batch, A]);
      checkNoise(noise, batch, full);
      return tidyObject(() => {
        const h = parts.transition(state.h, state.s, action);
        const prior = parts.prior(h);
        return { state: { h, s: sample(prior, noise) }, prior };
      });
    },
    predictReward(state) {
      alive();
      checkState('state', state, full);
      return parts.reward(state.h, state.s);
    },
    decodeObservation(state) {
      alive();
      checkState('state', state, full);
      return parts.observation(state.h, state.s);
    },
    getWeights() {
      alive();
      return variables.map((v) => Float32Array.from(v.dataSync()));
    },
    setWeights(weights) {
      alive();
      if (!Array.isArray(weights) || weights.length !== variables.length) {
        throw new TypeError(
          `weights must be an array of ${variables.length} Float32Arrays, received ${describeValue(weights)}`,
        );
      }
      weights.forEach((w, i) => {
        if (!(w instanceof Float32Array)) {
          throw new TypeError(`weights[${i}] must be a Float32Array, received ${describeValue(w)}`);
        }
        const size = (variables[i] as tf.Variable).size;
        if (w.length !== size) {
          throw new RangeError(
            `weights[${i}] (${names[i]}) must hold ${size} numbers, received ${describeValue(w)}`,
          );
        }
      });
      variables.forEach((v, i) => {
        tf.tidy(() => v.assign(tf.tensor(Float32Array.from(weights[i] as Float32Array), v.shape, 'float32')));
      });
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      tf.dispose(variables);
    },
  };
  PARTS.set(model, parts);
  return model;
}
