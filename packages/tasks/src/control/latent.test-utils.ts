// Shared by the latent decoder, planner and trainer tests.
import * as tf from '@tensorflow/tfjs';
import { cartpoleReturnFused, createCartpole } from './cartpole.js';
import { type ActionDecoder, createActionDecoder } from './latent-decoder.js';

const cartpole = createCartpole();

/** The cart-pole plan cost −R from initial states x₀. */
export const costFor = (x0: tf.Tensor) => (u: tf.Tensor) => tf.neg(cartpoleReturnFused(cartpole, x0, u));

/** A small decoder (two hidden layers of 32) over H = 20 scalar controls in [−100, 100]. */
export function small(seed = 1, latentDim = 2): ActionDecoder {
  return createActionDecoder({
    latentDim,
    horizon: 20,
    hiddenSizes: [32, 32],
    lowerBound: -100,
    upperBound: 100,
    seed,
  });
}
