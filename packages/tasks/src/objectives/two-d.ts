import * as tf from '@tensorflow/tfjs';

/** A 2-D test objective f: samples [..., 2] ↦ values [...] (lower is better). */
export interface Objective2D {
  /** Short identifier, for example `"bumps"`. */
  id: string;
  /** Human-readable title. */
  title: string;
  /** Plot window [xmin, xmax, ymin, ymax]. */
  box: [number, number, number, number];
  /**
   * Builds f. Only `bumps` uses `theta` (its 9 parameters, see
   * {@link BUMPS_THETA}); the others ignore it.
   */
  f: (theta?: tf.Tensor1D) => (samples: tf.Tensor) => tf.Tensor;
}

/**
 * θ of the three-bumps objective of the DCEM paper's notebook:
 * (height, centre x, centre y) for each of three Gaussian bumps.
 */
export const BUMPS_THETA: readonly number[] = Object.freeze([1, 0, 0, 0.5, 1, 1, 1, -2, 2]);

function split(samples: tf.Tensor): [tf.Tensor, tf.Tensor] {
  return tf.unstack(samples, -1) as [tf.Tensor, tf.Tensor];
}

/**
 * The three-bumps objective of the DCEM notebook,
 * f(x, y) = 0.15·x·cos y − Σᵢ₌₀..₂ θ[3i]·exp(−(x − θ[3i+1])² − (y − θ[3i+2])²),
 * differentiable in θ.
 *
 * @param theta The 9 parameters, default {@link BUMPS_THETA}.
 * @returns f: samples [..., 2] ↦ [...].
 * @example
 * ```ts
 * const f = threeBumps();
 * f(tf.tensor3d([[[0, 0]]])).print(); // ≈ [[-1.07]]
 * ```
 */
export function threeBumps(theta?: tf.Tensor1D): (samples: tf.Tensor) => tf.Tensor {
  return (samples) =>
    tf.tidy(() => {
      const t = theta ?? tf.tensor1d([...BUMPS_THETA]);
      const [x, y] = split(samples);
      let v = tf.mul(0.15, tf.mul(x, tf.cos(y)));
      for (let i = 0; i < 3; i++) {
        const [h, cx, cy] = tf.split(tf.slice(t, [3 * i], [3]), 3) as [tf.Tensor, tf.Tensor, tf.Tensor];
        const d2 = tf.add(tf.square(tf.sub(x, cx)), tf.square(tf.sub(y, cy)));
        v = tf.sub(v, tf.mul(h, tf.exp(tf.neg(d2))));
      }
      return v;
    });
}

/**
 * Built-in 2-D objectives for demos: the paper's three bumps, Himmelblau's
 * function (four global minima), Rosenbrock's valley and a tilted quadratic.
 * Himmelblau and Rosenbrock are shown as log(1 + f) to keep their range
 * readable; their minimisers are unchanged.
 */
export const OBJECTIVES_2D: Readonly<
  Record<'bumps' | 'himmelblau' | 'rosenbrock' | 'quadratic', Objective2D>
> = Object.freeze({
  bumps: {
    id: 'bumps',
    title: 'three bumps (the DCEM notebook)',
    box: [-3.5, 3.5, -3.5, 3.5],
    f: threeBumps,
  },
  himmelblau: {
    id: 'himmelblau',
    title: 'Himmelblau, log(1 + f) (four minima)',
    box: [-5, 5, -5, 5],
    f: () => (samples) =>
      tf.tidy(() => {
        const [x, y] = split(samples);
        const a = tf.sub(tf.add(tf.square(x), y), 11);
        const b = tf.sub(tf.add(x, tf.square(y)), 7);
        return tf.log1p(tf.add(tf.square(a), tf.square(b)));
      }),
  },
  rosenbrock: {
    id: 'rosenbrock',
    title: 'Rosenbrock, log(1 + f) (curved valley)',
    box: [-2, 2, -1, 3],
    f: () => (samples) =>
      tf.tidy(() => {
        const [x, y] = split(samples);
        return tf.log1p(tf.add(tf.square(tf.sub(1, x)), tf.mul(100, tf.square(tf.sub(y, tf.square(x))))));
      }),
  },
  quadratic: {
    id: 'quadratic',
    title: 'tilted quadratic',
    box: [-4, 4, -4, 4],
    f: () => (samples) =>
      tf.tidy(() => {
        const [x, y] = split(samples);
        const u = tf.sub(x, 1.5);
        const w = tf.add(y, 1);
        return tf.add(tf.add(tf.square(u), tf.mul(4, tf.square(w))), tf.mul(1.5, tf.mul(u, w)));
      }),
  },
});

/** The identifiers of {@link OBJECTIVES_2D}. */
export type Objective2DId = keyof typeof OBJECTIVES_2D;
