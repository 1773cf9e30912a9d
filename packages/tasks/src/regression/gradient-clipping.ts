/**
 * Global gradient-norm clipping (internal), as PyTorch's
 * `clip_grad_norm_(parameters, maxNorm)`.
 *
 * @module
 */
import * as tf from '@tensorflow/tfjs';

/**
 * Scales a list of gradients by c = min(1, maxNorm / (‖g‖ + 1e-6)), with
 * ‖g‖ = √(Σ ‖gᵢ‖²) over all of them. Returns new tensors (the caller owns
 * them and the inputs) and the norm before clipping. `maxNorm` = ∞ leaves the
 * values unchanged (still copies).
 */
export function clipByGlobalNorm(
  grads: readonly tf.Tensor[],
  maxNorm: number,
): { clipped: tf.Tensor[]; norm: number } {
  const normTensor = tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))));
  const norm = normTensor.dataSync()[0] as number;
  normTensor.dispose();
  const coefficient = Number.isFinite(maxNorm) ? Math.min(1, maxNorm / (norm + 1e-6)) : 1;
  const clipped = grads.map((g) => tf.tidy(() => (coefficient === 1 ? g.clone() : tf.mul(g, coefficient))));
  return { clipped, norm };
}
