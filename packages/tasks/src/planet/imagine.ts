/**
 * Rollouts in the world model for planning: the predicted return of many
 * action sequences from one state.
 *
 * @module
 */
import { assertObject, assertTensorShape } from '@dcem/errors';
import { unstack } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import { type Rssm, type RssmState, rssmParts } from './rssm.js';

/**
 * The predicted returns of N action sequences of H steps from one model
 * state: each candidate is rolled out with the prior,
 * hₖ₊₁ = GRU(relu(W [sₖ, aₖ]), hₖ), sₖ₊₁ = μp + σp ⊙ εₖ (μp when `noise`
 * is null), and its return is Σₖ r̂(hₖ₊₁, sₖ₊₁), k = 0 … H − 1. The
 * reward model runs once over all N × H imagined states. The planning
 * cost is its negation.
 *
 * @param model The model.
 * @param start The state to plan from (h [1, D], s [1, S]), e.g. the
 *   filtered posterior; or one state per candidate ([N, D], [N, S]).
 * @param actions The candidates' actions, [N, H, A].
 * @param noise ε, [H, N, S], or null (the prior means).
 * @returns The predicted returns, [N] (the caller disposes them).
 * @throws TypeError / RangeError for an argument of the wrong kind or shape.
 * @example
 * ```ts
 * const returns = imagineReturns(model, state, tf.randomUniform([1000, 12, 6], -1, 1), null); // [1000]
 * ```
 */
export function imagineReturns(
  model: Rssm,
  start: RssmState,
  actions: tf.Tensor3D,
  noise: tf.Tensor3D | null,
): tf.Tensor1D {
  const parts = rssmParts(model);
  const { actionSize: A, deterministic: D, stochastic: S } = model.sizes;
  assertTensorShape('actions', actions, [null, null, A]);
  const [n, horizon] = actions.shape;
  assertObject('start', start);
  assertTensorShape('start.h', start.h, [null, D]);
  const startBatch = start.h.shape[0];
  if (startBatch !== 1 && startBatch !== n) {
    throw new RangeError(
      `start.h must have shape [1, ${D}] or [${n}, ${D}], received [${start.h.shape.join(', ')}]`,
    );
  }
  assertTensorShape('start.s', start.s, [startBatch, S]);
  if (noise !== null) assertTensorShape('noise', noise, [horizon, n, S]);
  return tf.tidy(() => {
    if (horizon === 0) return tf.zeros([n]) as tf.Tensor1D;
    // The start broadcast to every candidate (x + 0 is x; tfjs-wasm's Tile runs element by element in JavaScript).
    let h = (startBatch === n ? start.h : tf.add(tf.zeros([n, D]), start.h)) as tf.Tensor2D;
    let s = (startBatch === n ? start.s : tf.add(tf.zeros([n, S]), start.s)) as tf.Tensor2D;
    const steps = unstack(tf.transpose(actions, [1, 0, 2])) as tf.Tensor2D[];
    const noises = noise === null ? null : (unstack(noise) as tf.Tensor2D[]);
    const hs: tf.Tensor2D[] = [];
    const ss: tf.Tensor2D[] = [];
    for (let k = 0; k < horizon; k++) {
      h = parts.transition(h, s, steps[k] as tf.Tensor2D);
      const p = parts.prior(h);
      const eps = noises?.[k];
      s = eps === undefined ? p.mean : (tf.add(p.mean, tf.mul(p.std, eps)) as tf.Tensor2D);
      hs.push(h);
      ss.push(s);
    }
    const rewards = parts.reward(tf.concat(hs, 0), tf.concat(ss, 0));
    return tf.sum(tf.reshape(rewards, [horizon, n]), 0) as tf.Tensor1D;
  });
}
