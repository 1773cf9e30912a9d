import * as tf from '@tensorflow/tfjs';

/** θ of the reference notebook's three-bumps objective: (height, centre x, centre y) per bump. */
export const BUMPS_THETA = [1, 0, 0, 0.5, 1, 1, 1, -2, 2];

/**
 * The 2-D three-bumps objective of the DCEM notebook,
 * f(x, y) = 0.15·x·cos y − Σᵢ θ[3i]·exp(−(x − θ[3i+1])² − (y − θ[3i+2])²),
 * evaluated on samples [..., 2] and returning [...].
 */
export function bumps(theta: tf.Tensor1D): (samples: tf.Tensor) => tf.Tensor {
  return (samples) =>
    tf.tidy(() => {
      const [x, y] = tf.unstack(samples, -1) as [tf.Tensor, tf.Tensor];
      let f = tf.mul(0.15, tf.mul(x, tf.cos(y)));
      for (let i = 0; i < 3; i++) {
        const [h, cx, cy] = tf.split(tf.slice(theta, [3 * i], [3]), 3) as [tf.Tensor, tf.Tensor, tf.Tensor];
        const d2 = tf.add(tf.square(tf.sub(x, cx)), tf.square(tf.sub(y, cy)));
        f = tf.sub(f, tf.mul(h, tf.exp(tf.neg(d2))));
      }
      return f;
    });
}
