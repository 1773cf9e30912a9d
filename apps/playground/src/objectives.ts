import * as tf from '@tensorflow/tfjs';

/** A 2-D objective for the page: f(samples [..., 2]) → [...], lower is better. */
export interface Objective {
  name: string;
  /** Plot window: [xmin, xmax, ymin, ymax]. */
  box: [number, number, number, number];
  /** Builds f for parameters θ (only the learnable objective uses them). */
  f: (theta?: tf.Tensor1D) => (samples: tf.Tensor) => tf.Tensor;
}

/** θ of the three-bumps objective: (height, centre x, centre y) for each bump. */
export const BUMPS_THETA = [1, 0, 0, 0.5, 1, 1, 1, -2, 2];

function xy(samples: tf.Tensor): [tf.Tensor, tf.Tensor] {
  return tf.unstack(samples, -1) as [tf.Tensor, tf.Tensor];
}

export const OBJECTIVES: Objective[] = [
  {
    name: 'three bumps (learnable)',
    box: [-3.5, 3.5, -3.5, 3.5],
    f: (theta) => (samples) =>
      tf.tidy(() => {
        const t = theta ?? tf.tensor1d(BUMPS_THETA);
        const [x, y] = xy(samples);
        let v = tf.mul(0.15, tf.mul(x, tf.cos(y)));
        for (let i = 0; i < 3; i++) {
          const [h, cx, cy] = tf.split(tf.slice(t, [3 * i], [3]), 3);
          const d2 = tf.add(tf.square(tf.sub(x, cx as tf.Tensor)), tf.square(tf.sub(y, cy as tf.Tensor)));
          v = tf.sub(v, tf.mul(h as tf.Tensor, tf.exp(tf.neg(d2))));
        }
        return v;
      }),
  },
  {
    name: 'Himmelblau (four minima)',
    box: [-5, 5, -5, 5],
    f: () => (samples) =>
      tf.tidy(() => {
        const [x, y] = xy(samples);
        const a = tf.sub(tf.add(tf.square(x), y), 11);
        const b = tf.sub(tf.add(x, tf.square(y)), 7);
        return tf.log1p(tf.add(tf.square(a), tf.square(b)));
      }),
  },
  {
    name: 'Rosenbrock (curved valley)',
    box: [-2, 2, -1, 3],
    f: () => (samples) =>
      tf.tidy(() => {
        const [x, y] = xy(samples);
        const v = tf.add(tf.square(tf.sub(1, x)), tf.mul(100, tf.square(tf.sub(y, tf.square(x)))));
        return tf.log1p(v);
      }),
  },
  {
    name: 'tilted quadratic',
    box: [-4, 4, -4, 4],
    f: () => (samples) =>
      tf.tidy(() => {
        const [x, y] = xy(samples);
        const u = tf.sub(x, 1.5);
        const w = tf.add(y, 1);
        return tf.add(tf.add(tf.square(u), tf.mul(4, tf.square(w))), tf.mul(1.5, tf.mul(u, w)));
      }),
  },
];
