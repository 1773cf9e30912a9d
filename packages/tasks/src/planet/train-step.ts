/**
 * One training update of the world model.
 *
 * @module
 */
import {
  assertFiniteNumber,
  assertInteger,
  assertNonNegative,
  assertObject,
  assertOptions,
  assertPositive,
} from '@dcem/errors';
import * as tf from '@tensorflow/tfjs';
import type { Adam } from './adam.js';
import { checkSequenceBatch, elbo, PLANET_FREE_NATS, type SequenceBatch } from './elbo.js';
import type { Rssm } from './rssm.js';

/** Options of {@link trainStep}. */
export interface TrainStepOptions {
  /** The free nats of the ELBO, default 3 (PlaNet). */
  freeNats?: number;
  /** The gradient's global norm is clipped to this, default 1000 (PlaNet). */
  clipNorm?: number;
}

/** What {@link trainStep} returns: plain numbers, measured before the update. */
export interface TrainStepResult {
  /** The loss (see {@link elbo}). */
  loss: number;
  /** The observation term. */
  observation: number;
  /** The reward term. */
  reward: number;
  /** The mean KL before the free-nats clip. */
  kl: number;
  /** The gradient's global norm before clipping. */
  gradNorm: number;
}

/** PlaNet's gradient-norm clip. */
export const PLANET_CLIP_NORM = 1000;

const TRAIN_OPTIONS = ['freeNats', 'clipNorm'];

/**
 * One update of the world model: the ELBO's gradient with respect to every
 * variable (latent noise ε ~ N(0, I) [L, B, S] drawn with
 * `tf.randomNormal(…, seed)`, so the same seed and weights give the same
 * update), its global norm ‖g‖ = √(Σ‖gᵢ‖²) clipped to `clipNorm` as
 * TensorFlow's `clip_by_global_norm` does (g · clipNorm / max(‖g‖, clipNorm)),
 * then one step of `optimizer`.
 *
 * @param model The model (its variables are updated in place).
 * @param optimizer An Adam over `model.variables`, in that order.
 * @param batch The training sequences (not disposed).
 * @param seed The integer seed of the latent noise (the loop uses
 *   `deriveSeed(seed, TASK_SEED_STREAMS.planetLatentNoise, update)`).
 * @param options See {@link TrainStepOptions}.
 * @returns The loss, its terms and the gradient norm, as numbers.
 * @throws TypeError / RangeError for a bad argument or option, or an
 *   optimiser over other variables.
 * @example
 * ```ts
 * const adam = createAdam(model.variables);
 * const { loss } = trainStep(model, adam, batch, deriveSeed(0, TASK_SEED_STREAMS.planetLatentNoise, 0));
 * ```
 */
export function trainStep(
  model: Rssm,
  optimizer: Adam,
  batch: SequenceBatch,
  seed: number,
  options: TrainStepOptions = {},
): TrainStepResult {
  const [b, l] = checkSequenceBatch(batch, model);
  assertObject('optimizer', optimizer);
  const vars = model.variables;
  if (
    !Array.isArray(optimizer.variables) ||
    optimizer.variables.length !== vars.length ||
    optimizer.variables.some((v, i) => v !== vars[i])
  ) {
    throw new TypeError(
      'optimizer must update model.variables, in their order (createAdam(model.variables))',
    );
  }
  assertInteger('seed', seed, Number.MIN_SAFE_INTEGER);
  assertOptions('trainStep options', options, TRAIN_OPTIONS);
  const freeNats = options.freeNats ?? PLANET_FREE_NATS;
  assertFiniteNumber('freeNats', freeNats);
  assertNonNegative('freeNats', freeNats);
  const clipNorm = options.clipNorm ?? PLANET_CLIP_NORM;
  assertPositive('clipNorm', clipNorm);
  let kept: tf.Scalar[] = [];
  try {
    const values = tf.tidy(() => {
      const noise = tf.randomNormal([l, b, model.sizes.stochastic], 0, 1, 'float32', seed) as tf.Tensor3D;
      const { value, grads } = tf.variableGrads(() => {
        const e = elbo(model, batch, noise, { freeNats });
        // Kept past variableGrads' scope for the result, disposed below.
        kept = [tf.keep(e.observation), tf.keep(e.reward), tf.keep(e.kl)];
        return e.loss;
      }, vars as tf.Variable[]);
      const list = vars.map((v) => grads[v.name] as tf.Tensor);
      const norm = tf.sqrt(tf.addN(list.map((g) => tf.sum(tf.square(g)))));
      const scale = tf.div(clipNorm, tf.maximum(norm, clipNorm));
      optimizer.step(list.map((g) => tf.mul(g, scale)));
      return tf.stack([value, ...kept, norm]);
    });
    const data = values.dataSync();
    values.dispose();
    return {
      loss: data[0] as number,
      observation: data[1] as number,
      reward: data[2] as number,
      kl: data[3] as number,
      gradNorm: data[4] as number,
    };
  } finally {
    tf.dispose(kept);
  }
}
