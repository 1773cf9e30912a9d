import { assertTensorShape, isTensorLike } from '@dcem/errors';
import * as tf from '@tensorflow/tfjs';

/**
 * A batched, differentiable discrete-time system x_{t+1} = f(x_t, u_t)
 * written with TensorFlow.js ops, so `tf.grad` differentiates rollouts with
 * respect to the controls, the initial state and anything `step` closes
 * over. {@link createPendulum} and {@link createCartpole} build the two
 * systems of the DCEM paper.
 *
 * @example
 * ```ts
 * const pendulum = createPendulum();
 * const x1 = pendulum.step(tf.tensor2d([[1, 0, 0]]), tf.tensor2d([[2]])); // [1, 3]
 * ```
 */
export interface Dynamics {
  /** A short name (`'pendulum'`, `'cartpole'`). */
  readonly name: string;
  /** n_x, the size of the last axis of a state. */
  readonly stateDim: number;
  /** m, the size of the last axis of a control. */
  readonly controlDim: number;
  /** Lower bound of each control dimension, [m]; `step` clamps controls to it. */
  readonly lowerBound: readonly number[];
  /** Upper bound of each control dimension, [m]. */
  readonly upperBound: readonly number[];
  /**
   * One step: x' = f(x, clamp(u, lowerBound, upperBound)).
   *
   * @param state x, [..., n_x].
   * @param control u, [..., m] (broadcast against the state's leading axes).
   * @returns x', [..., n_x] with the broadcast leading shape.
   */
  step(state: tf.Tensor, control: tf.Tensor): tf.Tensor;
}

/** The broadcast of two leading shapes (numpy rules), or an error naming both. */
export function broadcastLeading(a: readonly number[], b: readonly number[], what: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) {
      throw new RangeError(
        `${what}: leading shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`,
      );
    }
    out.push(x === 1 ? y : x);
  }
  return out;
}

/**
 * Rolls a control sequence out from an initial state:
 * x_{t+1} = f(x_t, u_t) for t = 0 … T − 1.
 *
 * @param dynamics The system f.
 * @param initialState x₀, [..., n_x]; its leading axes broadcast against the
 *   controls' (for example x₀ [batch, 1, n_x] with controls
 *   [batch, samples, T, m]).
 * @param controls u_{0:T}, [..., T, m].
 * @returns The states x_{0:T+1}, [..., T + 1, n_x] (x₀ first, broadcast).
 * @example
 * ```ts
 * const states = rollout(createPendulum(), tf.tensor2d([[1, 0, 0]]), tf.zeros([1, 50, 1])); // [1, 51, 3]
 * ```
 */
export function rollout(dynamics: Dynamics, initialState: tf.Tensor, controls: tf.Tensor): tf.Tensor {
  const { leading, states } = checkedRollout(dynamics, initialState, controls);
  return tf.tidy(() => tf.stack(states(), leading.length));
}

/**
 * Validates a rollout's arguments and returns the per-step states lazily
 * (internal helper shared by {@link rollout} and the cost functions).
 */
export function checkedRollout(
  dynamics: Dynamics,
  initialState: tf.Tensor,
  controls: tf.Tensor,
): { leading: number[]; horizon: number; states: () => tf.Tensor[] } {
  if (!isTensorLike(initialState) || initialState.rank < 1) {
    assertTensorShape('initialState', initialState, [null]);
  }
  if (!isTensorLike(controls) || controls.rank < 2) assertTensorShape('controls', controls, [null, null]);
  const nx = initialState.shape[initialState.rank - 1];
  if (nx !== dynamics.stateDim) {
    throw new RangeError(
      `initialState must have ${dynamics.stateDim} entries on its last axis (${dynamics.name}), received [${initialState.shape.join(', ')}]`,
    );
  }
  const m = controls.shape[controls.rank - 1];
  if (m !== dynamics.controlDim) {
    throw new RangeError(
      `controls must have ${dynamics.controlDim} entries on their last axis (${dynamics.name}), received [${controls.shape.join(', ')}]`,
    );
  }
  const horizon = controls.shape[controls.rank - 2] ?? 0;
  const leading = broadcastLeading(
    initialState.shape.slice(0, -1),
    controls.shape.slice(0, -2),
    'rollout(initialState, controls)',
  );
  return {
    leading,
    horizon,
    states: () => {
      let x = tf.broadcastTo(initialState, [...leading, dynamics.stateDim]);
      const us = tf.unstack(controls, controls.rank - 2);
      const out = [x];
      for (const u of us) {
        x = dynamics.step(x, u);
        out.push(x);
      }
      return out;
    },
  };
}
