import { deriveSeed } from '@dcem/core';
import { assertInteger, assertObject, assertTensorShape, describeValue, perDimension } from '@dcem/errors';
import { dense } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import { TASK_SEED_STREAMS } from '../seed-streams.js';

/** Options of {@link createActionDecoder}. */
export interface ActionDecoderOptions {
  /** d, the latent size, an integer ≥ 1. */
  latentDim: number;
  /** H, the plan horizon the decoder emits, an integer ≥ 1. */
  horizon: number;
  /** m, the control dimension, default 1. */
  controlDim?: number;
  /** Widths of the hidden layers, default [256, 256, 256]. */
  hiddenSizes?: readonly number[];
  /** Lower bound of each control dimension (a number or [m]). */
  lowerBound: number | readonly number[];
  /** Upper bound of each control dimension (a number or [m]), > `lowerBound`. */
  upperBound: number | readonly number[];
  /** Integer seed of the initial weights, default 0. */
  seed?: number;
}

/**
 * A decoder from a latent z ∈ [−1, 1]^d to a control sequence
 * u ∈ [lb, ub]^{H×m}: an MLP d → hidden… → H·m with ELU activations whose
 * output y is mapped into the bounds by u = lb + (ub − lb)·σ(y). Its
 * weights are `tf.Variable`s, trained by {@link trainLatentEmbedding}.
 */
export interface ActionDecoder {
  /** d. */
  readonly latentDim: number;
  /** H. */
  readonly horizon: number;
  /** m. */
  readonly controlDim: number;
  /** [m]. */
  readonly lowerBound: readonly number[];
  /** [m]. */
  readonly upperBound: readonly number[];
  /** The trainable weights W₁, b₁, W₂, b₂, … (W [fan_in, fan_out], b [fan_out]). */
  readonly variables: tf.Variable[];
  /**
   * Decodes latents.
   *
   * @param latent z, [..., d].
   * @returns u, [..., H, m], inside the bounds.
   */
  decode(latent: tf.Tensor): tf.Tensor;
  /** A copy of the weights (for checkpoints), in the order of `variables`. */
  getWeights(): Float32Array[];
  /** Overwrites the weights with a copy from {@link ActionDecoder.getWeights}. */
  setWeights(weights: readonly ArrayLike<number>[]): void;
  /** Releases the variables and constants. */
  dispose(): void;
}

/**
 * Creates a latent action decoder for any control problem (sizes and bounds
 * given): by default that of the DCEM paper's cart-pole study,
 * d → 256 → 256 → 256 → H·m with ELU, output lb + (ub − lb)·σ(·), weights
 * drawn from N(0, (2/√(fan_in + fan_out))²) and zero biases, as the
 * reference initialises it. The world model's latent planner
 * (`@dcem/tasks/planet`, `createPlanetDecoder`) uses it with actions in [−1, 1].
 *
 * @param options See {@link ActionDecoderOptions}.
 * @returns An {@link ActionDecoder}; call `dispose()` when done.
 * @example
 * ```ts
 * const decoder = createActionDecoder({ latentDim: 2, horizon: 20, lowerBound: -100, upperBound: 100, seed: 0 });
 * const u = decoder.decode(tf.zeros([5, 2])); // [5, 20, 1]
 * ```
 */
export function createActionDecoder(options: ActionDecoderOptions): ActionDecoder {
  assertObject('options', options);
  const { latentDim: d, horizon } = options;
  assertInteger('latentDim', d, 1);
  assertInteger('horizon', horizon, 1);
  const m = options.controlDim ?? 1;
  assertInteger('controlDim', m, 1);
  const hidden = options.hiddenSizes ?? [256, 256, 256];
  if (!Array.isArray(hidden)) {
    throw new TypeError(`hiddenSizes must be an array of integers, received ${describeValue(hidden)}`);
  }
  hidden.forEach((h, i) => {
    assertInteger(`hiddenSizes[${i}]`, h, 1);
  });
  const lower = perDimension('lowerBound', options.lowerBound, m);
  const upper = perDimension('upperBound', options.upperBound, m);
  lower.forEach((lo, i) => {
    if (!(lo < (upper[i] as number))) {
      throw new RangeError(`lowerBound must be < upperBound, received ${lo} and ${upper[i]} at ${i}`);
    }
  });
  const seed = options.seed ?? 0;
  assertInteger('seed', seed, Number.MIN_SAFE_INTEGER);

  const sizes = [d, ...hidden, horizon * m];
  const variables: tf.Variable[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const fanIn = sizes[l] as number;
    const fanOut = sizes[l + 1] as number;
    const std = 2 / Math.sqrt(fanIn + fanOut);
    variables.push(
      tf.tidy(() =>
        tf.variable(
          tf.randomNormal([fanIn, fanOut], 0, std, 'float32', deriveSeed(seed, TASK_SEED_STREAMS.weights, l)),
          true,
        ),
      ),
    );
    variables.push(tf.tidy(() => tf.variable(tf.zeros([fanOut]), true)));
  }
  const offset = tf.tidy(() => tf.tile(tf.tensor1d(lower), [horizon]));
  const scale = tf.tidy(() =>
    tf.tile(tf.tensor1d(lower.map((lo, i) => (upper[i] as number) - lo)), [horizon]),
  );
  let disposed = false;
  const layers = variables.length / 2;

  return {
    latentDim: d,
    horizon,
    controlDim: m,
    lowerBound: lower,
    upperBound: upper,
    variables,
    decode(latent) {
      if (disposed) throw new Error('the decoder has been disposed');
      assertTensorShape('latent', latent, ['...', d]);
      return tf.tidy(() => {
        let h = tf.reshape(latent, [-1, d]);
        for (let l = 0; l < layers; l++) {
          h = dense(h, variables[2 * l] as tf.Variable, variables[2 * l + 1] as tf.Variable);
          if (l + 1 < layers) h = tf.elu(h);
        }
        const u = tf.add(offset, tf.mul(scale, tf.sigmoid(h)));
        return tf.reshape(u, [...latent.shape.slice(0, -1), horizon, m]);
      });
    },
    getWeights() {
      return variables.map((v) => Float32Array.from(v.dataSync()));
    },
    setWeights(weights) {
      if (!Array.isArray(weights) || weights.length !== variables.length) {
        throw new TypeError(
          `weights must be an array of ${variables.length} arrays, received ${describeValue(weights)}`,
        );
      }
      variables.forEach((v, i) => {
        const w = weights[i] as ArrayLike<number>;
        if (w === undefined || w.length !== v.size) {
          throw new RangeError(`weights[${i}] must hold ${v.size} numbers, received ${describeValue(w)}`);
        }
        tf.tidy(() => v.assign(tf.tensor(Array.from(w), v.shape, 'float32')));
      });
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      tf.dispose([...variables, offset, scale]);
    },
  };
}
