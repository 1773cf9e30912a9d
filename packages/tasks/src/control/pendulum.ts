import { deriveSeed, SEED_STREAMS } from '@dcem/core';
import { assertFiniteNumber, assertInteger, assertPositive } from '@dcem/lml';
import { assertTensorShape, describeArgument, isTensor } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import type { Dynamics } from './dynamics.js';

/**
 * Physical constants of the pendulum (mpc.pytorch's `PendulumDx`). The
 * defaults are the simple pendulum of the DCEM experiments.
 */
export interface PendulumParams {
  /** g, gravity, default 10. */
  gravity: number;
  /** m, mass, default 1. */
  mass: number;
  /** l, length, default 1. */
  length: number;
  /** Δt, time step, default 0.05. */
  dt: number;
  /** u_max: torques are clamped to [−u_max, u_max], default 2. */
  maxTorque: number;
  /** d, damping of the non-simple variant (multiplies the angle θ, as the reference), default 0. */
  damping: number;
  /** b, angle offset of the non-simple variant (gravity acts on sin(θ + b)), default 0. */
  angleOffset: number;
}

/** The simple pendulum of the DCEM experiments: g = 10, m = 1, l = 1, Δt = 0.05, |u| ≤ 2. */
export const PENDULUM_DEFAULTS: Readonly<PendulumParams> = Object.freeze({
  gravity: 10,
  mass: 1,
  length: 1,
  dt: 0.05,
  maxTorque: 2,
  damping: 0,
  angleOffset: 0,
});

/**
 * The goal and weights of the pendulum's quadratic cost in mpc.pytorch:
 * goal (cos θ, sin θ, θ̇) = (1, 0, 0), state weights (1, 1, 0.1), control penalty 0.001.
 */
export const PENDULUM_QUADRATIC_COST = Object.freeze({
  goal: Object.freeze([1, 0, 0]),
  weights: Object.freeze([1, 1, 0.1]),
  controlPenalty: 0.001,
});

/** The pendulum as a {@link Dynamics}, with its constants. */
export interface Pendulum extends Dynamics {
  /** The constants in use. */
  readonly params: Readonly<PendulumParams>;
}

/**
 * The torque-limited pendulum of mpc.pytorch (`PendulumDx`), batched and
 * differentiable. State x = (cos θ, sin θ, θ̇) with θ = 0 upright; control
 * u = torque, clamped to [−u_max, u_max]. One semi-implicit Euler step:
 *
 * θ = atan2(sin θ, cos θ),
 * θ̇' = θ̇ + Δt·(3g/(2l)·sin(θ + b) + 3u/(m l²) − d·θ),
 * θ' = θ + Δt·θ̇',
 * x' = (cos θ', sin θ', θ̇').
 *
 * With the defaults (d = b = 0) this is the simple pendulum of the DCEM
 * paper's swing-up example.
 *
 * @param params Constants to override (see {@link PENDULUM_DEFAULTS}).
 * @returns A {@link Pendulum}: `step(state [..., 3], control [..., 1])` → [..., 3].
 * @example
 * ```ts
 * const pendulum = createPendulum();
 * const next = pendulum.step(tf.tensor2d([[0, 1, 0]]), tf.tensor2d([[5]])); // torque clamped to 2
 * ```
 */
export function createPendulum(params: Partial<PendulumParams> = {}): Pendulum {
  if (params === null || typeof params !== 'object') {
    throw new TypeError(`params must be an object, received ${describeArgument(params)}`);
  }
  const p: PendulumParams = { ...PENDULUM_DEFAULTS, ...params };
  for (const key of ['gravity', 'damping', 'angleOffset'] as const)
    assertFiniteNumber(`params.${key}`, p[key]);
  for (const key of ['mass', 'length', 'dt', 'maxTorque'] as const) assertPositive(`params.${key}`, p[key]);
  const gravityGain = (3 * p.gravity) / (2 * p.length);
  const torqueGain = 3 / (p.mass * p.length * p.length);
  const simple = p.damping === 0 && p.angleOffset === 0;
  return {
    name: 'pendulum',
    stateDim: 3,
    controlDim: 1,
    lowerBound: [-p.maxTorque],
    upperBound: [p.maxTorque],
    params: Object.freeze(p),
    step(state, control) {
      assertTensorShape('state', state, ['...', 3]);
      assertTensorShape('control', control, ['...', 1]);
      return tf.tidy(() => {
        const [cos, sin, velocity] = tf.split(state, 3, -1) as [tf.Tensor, tf.Tensor, tf.Tensor];
        const u = tf.clipByValue(control, -p.maxTorque, p.maxTorque);
        const theta = tf.atan2(sin, cos);
        let acc = tf.add(
          tf.mul(gravityGain, tf.sin(simple ? theta : tf.add(theta, p.angleOffset))),
          tf.mul(torqueGain, u),
        );
        if (!simple) acc = tf.sub(acc, tf.mul(p.damping, theta));
        const newVelocity = tf.add(velocity, tf.mul(p.dt, acc));
        const newTheta = tf.add(theta, tf.mul(p.dt, newVelocity));
        return tf.concat([tf.cos(newTheta), tf.sin(newTheta), newVelocity], -1);
      });
    },
  };
}

/**
 * The pendulum state (cos θ, sin θ, θ̇) from an angle and an angular velocity.
 *
 * @param theta θ, any shape S (θ = 0 is upright).
 * @param thetaDot θ̇, the same shape S.
 * @returns [...S, 3].
 * @example
 * ```ts
 * const x0 = pendulumState(tf.tensor1d([Math.PI]), tf.tensor1d([0])); // hanging down, [1, 3]
 * ```
 */
export function pendulumState(theta: tf.Tensor, thetaDot: tf.Tensor): tf.Tensor {
  if (!isTensor(theta)) throw new TypeError(`theta must be a tensor, received ${describeArgument(theta)}`);
  assertTensorShape('thetaDot', thetaDot, theta.shape);
  return tf.tidy(() => tf.stack([tf.cos(theta), tf.sin(theta), thetaDot], -1));
}

/**
 * Random start states of the DCEM repository's pendulum example:
 * θ ~ U(−π/4, π/4), θ̇ ~ U(−4, 4), as (cos θ, sin θ, θ̇).
 *
 * @param count How many states, an integer ≥ 1.
 * @param seed Integer seed (the same seed gives the same states).
 * @returns [count, 3].
 * @example
 * ```ts
 * const x0 = samplePendulumStates(12, 0); // the notebook's 12 swing-ups
 * ```
 */
export function samplePendulumStates(count: number, seed: number): tf.Tensor2D {
  assertInteger('count', count, 1);
  assertInteger('seed', seed, Number.MIN_SAFE_INTEGER);
  return tf.tidy(() => {
    const theta = tf.randomUniform(
      [count],
      -Math.PI / 4,
      Math.PI / 4,
      'float32',
      deriveSeed(seed, SEED_STREAMS.pendulumAngle),
    );
    const thetaDot = tf.randomUniform(
      [count],
      -4,
      4,
      'float32',
      deriveSeed(seed, SEED_STREAMS.pendulumVelocity),
    );
    return pendulumState(theta, thetaDot) as tf.Tensor2D;
  });
}

/**
 * The rollout cost of the DCEM repository's pendulum swing-up example: the
 * mean squared distance to the upright goal over all T + 1 states and the
 * 3 state dimensions, plus 1e-4 times the mean squared torque:
 *
 * C = (1/(3(T+1))) Σ_{t=0}^{T} ‖x_t − (1, 0, 0)‖² + 1e-4·(1/T) Σ_{t<T} u_t².
 *
 * @param states x_{0:T+1}, [..., T + 1, 3] (as {@link rollout} returns).
 * @param controls u_{0:T}, [..., T, 1] (the torques as planned; the planner keeps them within bounds).
 * @returns C, [...].
 * @example
 * ```ts
 * const cost = pendulumSwingUpCost(rollout(pendulum, x0, u), u);
 * ```
 */
export function pendulumSwingUpCost(states: tf.Tensor, controls: tf.Tensor): tf.Tensor {
  assertTensorShape('states', states, [null, '...', 3]);
  assertTensorShape('controls', controls, [null, '...', 1]);
  return tf.tidy(() => {
    const goal = tf.tensor1d([1, 0, 0]);
    const stateTerm = tf.mean(tf.squaredDifference(states, goal), [-2, -1]);
    const controlTerm = tf.mean(tf.square(controls), [-2, -1]);
    return tf.add(stateTerm, tf.mul(1e-4, controlTerm));
  });
}
