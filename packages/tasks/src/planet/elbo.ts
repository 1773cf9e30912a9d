/**
 * The world model's training objective: PlaNet's negative ELBO with free
 * nats over a batch of sequences.
 *
 * @module
 */
import {
  assertFiniteNumber,
  assertNonNegative,
  assertObject,
  assertOptions,
  assertTensorShape,
} from '@dcem/errors';
import * as tf from '@tensorflow/tfjs';
import { filterSequence } from './filter.js';
import { freeNatsClip, klDiagGaussian } from './gaussian.js';
import { type Rssm, rssmParts } from './rssm.js';
import { tidyObject } from './tidy.js';

/**
 * B training sequences of L aligned rows (see the data convention of
 * `docs/planet.md`): row t holds the observation, the action that led to
 * it and the reward received with it.
 */
export interface SequenceBatch {
  /** o, [B, L, O]. */
  readonly observations: tf.Tensor3D;
  /** a, [B, L, A]. */
  readonly actions: tf.Tensor3D;
  /** r, [B, L]. */
  readonly rewards: tf.Tensor2D;
}

/** Options of {@link elbo}. */
export interface ElboOptions {
  /** The free nats: each (sequence, step) KL term is max(freeNats, KL); default 3 (PlaNet). */
  freeNats?: number;
}

/** The terms of {@link elbo}, each a mean over the B × L rows. */
export interface ElboTerms {
  /** observation + reward + mean of max(freeNats, KL): the loss to minimise. */
  loss: tf.Scalar;
  /** ½‖o − ô‖², summed over O. */
  observation: tf.Scalar;
  /** ½(r − r̂)². */
  reward: tf.Scalar;
  /** KL(q ‖ p) summed over S, before the free-nats clip. */
  kl: tf.Scalar;
}

/** PlaNet's free nats. */
export const PLANET_FREE_NATS = 3;

const ELBO_OPTIONS = ['freeNats'];

/**
 * Throws unless `batch` is a {@link SequenceBatch} of the model's sizes
 * (a TypeError or RangeError naming the field); returns [B, L]. Internal.
 *
 * @internal
 */
export function checkSequenceBatch(batch: unknown, model: Rssm): [number, number] {
  assertObject('batch', batch);
  const { observationSize: O, actionSize: A } = model.sizes;
  assertTensorShape('batch.observations', batch.observations, [null, null, O]);
  const [b, l] = (batch.observations as tf.Tensor).shape as [number, number, number];
  assertTensorShape('batch.actions', batch.actions, [b, l, A]);
  assertTensorShape('batch.rewards', batch.rewards, [b, l]);
  return [b, l];
}

/**
 * PlaNet's training loss, the negative evidence lower bound with free nats
 * (Hafner et al. 2019, eq. 3), averaged over the batch:
 *
 * loss = mean over (b, t) of [ ½‖o − ô(hₜ, sₜ)‖² + ½(r − r̂(hₜ, sₜ))² + max(freeNats, KL(q(sₜ) ‖ p(sₜ))) ],
 *
 * where each sequence is filtered from h = 0, s = 0 by one observe step
 * per row (hₜ = GRU(relu(W [sₜ₋₁, aₜ]), hₜ₋₁), sₜ = μq + σq ⊙ εₜ), the
 * likelihoods are unit-variance Gaussians (constants dropped), and the KL
 * of the diagonal Gaussians is summed over S. The encoder, the prior and
 * both decoders run once over all B × L rows; only the recurrence is
 * sequential. Differentiable with respect to the model's variables.
 *
 * @param model The model.
 * @param batch The sequences (see {@link SequenceBatch}).
 * @param noise ε, [L, B, S] (standard normal draws), or null for sₜ = μq.
 * @param options See {@link ElboOptions}.
 * @returns The loss and its terms, new scalars (the caller disposes them).
 * @throws TypeError / RangeError for a tensor of the wrong shape, an
 *   unknown option or a negative `freeNats`.
 * @example
 * ```ts
 * const { loss, observation, reward, kl } = elbo(model, batch, tf.randomNormal([L, B, 30]));
 * ```
 */
export function elbo(
  model: Rssm,
  batch: SequenceBatch,
  noise: tf.Tensor3D | null,
  options: ElboOptions = {},
): ElboTerms {
  const parts = rssmParts(model);
  const [b, l] = checkSequenceBatch(batch, model);
  const { observationSize: O, deterministic: D, stochastic: S, hidden: H } = model.sizes;
  if (noise !== null) assertTensorShape('noise', noise, [l, b, S]);
  assertOptions('elbo options', options, ELBO_OPTIONS);
  const freeNats = options.freeNats ?? PLANET_FREE_NATS;
  assertFiniteNumber('freeNats', freeNats);
  assertNonNegative('freeNats', freeNats);
  return tidyObject(() => {
    const rows = b * l;
    const observations = tf.reshape(batch.observations, [rows, O]) as tf.Tensor2D;
    const embedded = tf.reshape(parts.encode(observations), [b, l, H]);
    // The recurrence, step-major ([L, B, ·]); see filter.ts.
    const filtered = filterSequence(
      parts,
      tf.transpose(batch.actions, [1, 0, 2]) as tf.Tensor3D,
      tf.transpose(embedded, [1, 0, 2]) as tf.Tensor3D,
      noise,
    );
    // Rows ordered (b, t), as the targets.
    const flat = (x: tf.Tensor3D, size: number) =>
      tf.reshape(tf.transpose(x, [1, 0, 2]), [rows, size]) as tf.Tensor2D;
    const hAll = flat(filtered.h, D);
    const sAll = flat(filtered.s, S);
    const posterior = { mean: flat(filtered.mean, S), std: flat(filtered.std, S) };
    const prior = parts.prior(hAll);
    const kl = klDiagGaussian(posterior, prior);
    const klLoss = tf.mean(freeNatsClip(kl, freeNats));
    const observation = tf.mul(
      0.5,
      tf.mean(tf.sum(tf.square(tf.sub(parts.observation(hAll, sAll), observations)), 1)),
    );
    const rewardError = tf.sub(parts.reward(hAll, sAll), tf.reshape(batch.rewards, [rows]));
    const reward = tf.mul(0.5, tf.mean(tf.square(rewardError)));
    const loss = tf.add(tf.add(observation, reward), klLoss);
    return {
      loss: loss as tf.Scalar,
      observation: observation as tf.Scalar,
      reward: reward as tf.Scalar,
      kl: tf.mean(kl) as tf.Scalar,
    };
  });
}
