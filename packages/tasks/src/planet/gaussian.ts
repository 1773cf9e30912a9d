/**
 * Diagonal Gaussians of the world model: their KL divergence and PlaNet's
 * free-nats clip.
 *
 * @module
 */
import { assertFiniteNumber, assertNonNegative, assertTensorShape, formatShape } from '@dcem/errors';
import * as tf from '@tensorflow/tfjs';

/** A batch of diagonal Gaussians N(mean, diag(std²)), each [B, S]. */
export interface DiagGaussian {
  /** μ, [B, S]. */
  readonly mean: tf.Tensor2D;
  /** σ > 0, [B, S]. */
  readonly std: tf.Tensor2D;
}

/**
 * The KL divergence KL(q ‖ p) between diagonal Gaussians, summed over the
 * last axis:
 *
 * KL = Σᵢ [ log σpᵢ − log σqᵢ + (σqᵢ² + (μqᵢ − μpᵢ)²) / (2 σpᵢ²) − ½ ].
 *
 * @param q The first Gaussian (PlaNet: the posterior), mean and std [..., S].
 * @param p The second (PlaNet: the prior), of the same shape.
 * @returns KL per row, [...] (the shape without the last axis).
 * @throws TypeError when a field is not a tensor; RangeError when the shapes differ.
 * @example
 * ```ts
 * const kl = klDiagGaussian(posterior, prior); // [B]
 * ```
 */
export function klDiagGaussian(
  q: { readonly mean: tf.Tensor; readonly std: tf.Tensor },
  p: { readonly mean: tf.Tensor; readonly std: tf.Tensor },
): tf.Tensor {
  assertTensorShape('q.mean', q?.mean, ['...', null]);
  const shape = q.mean.shape;
  const pattern = [...shape];
  assertTensorShape('q.std', q.std, pattern);
  assertTensorShape('p.mean', p?.mean, pattern);
  assertTensorShape('p.std', p.std, pattern);
  if (shape.length === 0) throw new RangeError(`q.mean must have rank ≥ 1, received ${formatShape(shape)}`);
  return tf.tidy(() => {
    const varQ = tf.square(q.std);
    const varP = tf.square(p.std);
    const diff = tf.sub(q.mean, p.mean);
    const terms = tf.add(
      tf.sub(tf.log(p.std), tf.log(q.std)),
      tf.sub(tf.div(tf.add(varQ, tf.square(diff)), tf.mul(2, varP)), 0.5),
    );
    return tf.sum(terms, -1);
  });
}

/**
 * PlaNet's free nats: max(freeNats, kl) elementwise, so that a KL already
 * below `freeNats` nats gets no gradient (the gradient of the clipped value
 * is 0 there and that of `kl` above it).
 *
 * @param kl The KL divergences, any shape.
 * @param freeNats The clip, a finite number ≥ 0 (PlaNet: 3).
 * @returns max(freeNats, kl), the shape of `kl`.
 * @throws TypeError when `kl` is not a tensor or `freeNats` not a number; RangeError when `freeNats` < 0 or not finite.
 */
export function freeNatsClip(kl: tf.Tensor, freeNats: number): tf.Tensor {
  assertTensorShape('kl', kl, ['...']);
  assertFiniteNumber('freeNats', freeNats);
  assertNonNegative('freeNats', freeNats);
  return tf.tidy(() => tf.maximum(kl, tf.scalar(freeNats)));
}
