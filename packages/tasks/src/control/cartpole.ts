import { deriveSeed } from '@dcem/core';
import {
  assertFiniteNumber,
  assertInteger,
  assertPositive,
  assertTensorShape,
  describeValue,
} from '@dcem/errors';
import * as tf from '@tensorflow/tfjs';
import { TASK_SEED_STREAMS } from '../seed-streams.js';
import { checkedRollout, type Dynamics } from './dynamics.js';

/** Physical constants of the cart-pole (mpc.pytorch's `CartpoleDx`). */
export interface CartpoleParams {
  /** g, gravity, default 9.8. */
  gravity: number;
  /** m_c, cart mass, default 1. */
  cartMass: number;
  /** m_p, pole mass, default 0.1. */
  poleMass: number;
  /** l, the pole's half-length, default 0.5. */
  poleLength: number;
  /** Δt, time step, default 0.05. */
  dt: number;
  /** F_max: forces are clamped to [−F_max, F_max], default 100. */
  maxForce: number;
}

/** The cart-pole of the DCEM experiments: g = 9.8, m_c = 1, m_p = 0.1, l = 0.5, Δt = 0.05, |F| ≤ 100. */
export const CARTPOLE_DEFAULTS: Readonly<CartpoleParams> = Object.freeze({
  gravity: 9.8,
  cartMass: 1,
  poleMass: 0.1,
  poleLength: 0.5,
  dt: 0.05,
  maxForce: 100,
});

/**
 * The goal and weights of the cart-pole's quadratic cost in mpc.pytorch:
 * goal (p, ṗ, cos θ, sin θ, θ̇) = (0, 0, 1, 0, 0), state weights
 * (0.1, 0.1, 1, 1, 0.1), control penalty 0.001.
 */
export const CARTPOLE_QUADRATIC_COST = Object.freeze({
  goal: Object.freeze([0, 0, 1, 0, 0]),
  weights: Object.freeze([0.1, 0.1, 1, 1, 0.1]),
  controlPenalty: 0.001,
});

/** The cart-pole as a {@link Dynamics}, with its constants. */
export interface Cartpole extends Dynamics {
  /** The constants in use. */
  readonly params: Readonly<CartpoleParams>;
}

type Parts = [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];

/** One explicit-Euler step on the state's five components (each [..., 1]); `force` is already clamped. */
function stepParts(p: CartpoleParams, [pos, vel, cos, sin, omega]: Parts, force: tf.Tensor): Parts {
  const total = p.cartMass + p.poleMass;
  const ml = p.poleMass * p.poleLength;
  const theta = tf.atan2(sin, cos);
  // a = (F + m_p l θ̇² sin θ) / M
  const a = tf.div(tf.add(force, tf.mul(ml, tf.mul(tf.square(omega), sin))), total);
  // θ̈ = (g sin θ − cos θ · a) / (l (4/3 − m_p cos²θ / M))
  const denominator = tf.mul(p.poleLength, tf.sub(4 / 3, tf.div(tf.mul(p.poleMass, tf.square(cos)), total)));
  const thetaAcc = tf.div(tf.sub(tf.mul(p.gravity, sin), tf.mul(cos, a)), denominator);
  // p̈ = a − m_p l θ̈ cos θ / M
  const posAcc = tf.sub(a, tf.div(tf.mul(ml, tf.mul(thetaAcc, cos)), total));
  const newTheta = tf.add(theta, tf.mul(p.dt, omega));
  return [
    tf.add(pos, tf.mul(p.dt, vel)),
    tf.add(vel, tf.mul(p.dt, posAcc)),
    tf.cos(newTheta),
    tf.sin(newTheta),
    tf.add(omega, tf.mul(p.dt, thetaAcc)),
  ];
}

/**
 * The cart-pole of mpc.pytorch (`CartpoleDx`), batched and differentiable.
 * State x = (p, ṗ, cos θ, sin θ, θ̇) with θ = 0 the pole up; control
 * F = horizontal force, clamped to [−F_max, F_max]. One explicit Euler step
 * (every right-hand side uses the old state), with M = m_c + m_p:
 *
 * θ = atan2(sin θ, cos θ),
 * a = (F + m_p l θ̇² sin θ)/M,
 * θ̈ = (g sin θ − cos θ·a) / (l (4/3 − m_p cos²θ/M)),
 * p̈ = a − m_p l θ̈ cos θ/M,
 * p' = p + Δt ṗ, ṗ' = ṗ + Δt p̈, θ' = θ + Δt θ̇, θ̇' = θ̇ + Δt θ̈,
 * x' = (p', ṗ', cos θ', sin θ', θ̇').
 *
 * (sin θ and cos θ on the right are the state's own entries.)
 *
 * @param params Constants to override (see {@link CARTPOLE_DEFAULTS}).
 * @returns A {@link Cartpole}: `step(state [..., 5], control [..., 1])` → [..., 5].
 * @example
 * ```ts
 * const cartpole = createCartpole();
 * const next = cartpole.step(tf.tensor2d([[0, 0, 1, 0, 0]]), tf.tensor2d([[10]]));
 * ```
 */
export function createCartpole(params: Partial<CartpoleParams> = {}): Cartpole {
  if (params === null || typeof params !== 'object') {
    throw new TypeError(`params must be an object, received ${describeValue(params)}`);
  }
  const p: CartpoleParams = { ...CARTPOLE_DEFAULTS, ...params };
  assertFiniteNumber('params.gravity', p.gravity);
  for (const key of ['cartMass', 'poleMass', 'poleLength', 'dt', 'maxForce'] as const) {
    assertPositive(`params.${key}`, p[key]);
  }
  return {
    name: 'cartpole',
    stateDim: 5,
    controlDim: 1,
    lowerBound: [-p.maxForce],
    upperBound: [p.maxForce],
    params: Object.freeze(p),
    step(state, control) {
      assertTensorShape('state', state, ['...', 5]);
      assertTensorShape('control', control, ['...', 1]);
      return tf.tidy(() => {
        const parts = tf.split(state, 5, -1) as Parts;
        const force = tf.clipByValue(control, -p.maxForce, p.maxForce);
        return tf.concat(stepParts(p, parts, force), -1);
      });
    },
  };
}

/**
 * The per-step reward of the DCEM cart-pole embedding experiment
 * (`exps/cartpole_emb.py`): r(x, u) = cos θ − 0.1 p² − 1e-5 u².
 *
 * @param state x, [..., 5].
 * @param control u, [..., 1] (as given, not clamped, as the reference).
 * @returns r, [...] (the broadcast leading shape).
 * @example
 * ```ts
 * const r = cartpoleReward(tf.tensor2d([[0, 0, 1, 0, 0]]), tf.tensor2d([[0]])); // [1]
 * ```
 */
export function cartpoleReward(state: tf.Tensor, control: tf.Tensor): tf.Tensor {
  assertTensorShape('state', state, ['...', 5]);
  assertTensorShape('control', control, ['...', 1]);
  return tf.tidy(() => {
    const [pos, , cos] = tf.split(state, 5, -1) as Parts;
    return tf.squeeze(reward(pos, cos, control), [-1]);
  });
}

function reward(pos: tf.Tensor, cos: tf.Tensor, control: tf.Tensor): tf.Tensor {
  return tf.sub(tf.sub(cos, tf.mul(0.1, tf.square(pos))), tf.mul(1e-5, tf.square(control)));
}

/**
 * The return of a control sequence in the cart-pole embedding experiment:
 * R = Σ_{t=0}^{T−1} r(x_t, u_t) with x_{t+1} = f(x_t, u_t) (the start state
 * is rewarded, the last state is not). The cost the experiment minimises is
 * −R. Written on the state's components, without stacking the states, as
 * this is the hot path of the embedding training.
 *
 * @param cartpole The system (its constants and force bound).
 * @param initialState x₀, [..., 5]; broadcasts against the controls' leading axes.
 * @param controls u_{0:T}, [..., T, 1].
 * @returns R, [...] (the broadcast leading shape).
 * @example
 * ```ts
 * const cartpole = createCartpole();
 * const R = cartpoleReturn(cartpole, sampleCartpoleStates(4, 0), tf.zeros([4, 20, 1])); // [4]
 * ```
 */
export function cartpoleReturn(cartpole: Cartpole, initialState: tf.Tensor, controls: tf.Tensor): tf.Tensor {
  const { leading, horizon } = checkedRollout(cartpole, initialState, controls);
  if (horizon < 1)
    throw new RangeError(`controls must hold at least one step, received [${controls.shape.join(', ')}]`);
  const p = cartpole.params;
  return tf.tidy(() => {
    let parts = tf.split(tf.broadcastTo(initialState, [...leading, 5]), 5, -1) as Parts;
    const us = tf.split(controls, horizon, -2).map((u) => tf.squeeze(u, [-2]));
    let total: tf.Tensor | undefined;
    us.forEach((u, t) => {
      const r = reward(parts[0], parts[2], u);
      total = total === undefined ? r : tf.add(total, r);
      if (t < horizon - 1) parts = stepParts(p, parts, tf.clipByValue(u, -p.maxForce, p.maxForce));
    });
    return tf.squeeze(total as tf.Tensor, [-1]);
  });
}

/**
 * Random start states of the cart-pole embedding experiment:
 * p, ṗ ~ U(−0.5, 0.5), θ ~ U(−π, π), θ̇ ~ U(−1, 1), as (p, ṗ, cos θ, sin θ, θ̇).
 *
 * @param count How many states, an integer ≥ 1.
 * @param seed Integer seed (the same seed gives the same states).
 * @returns [count, 5].
 * @example
 * ```ts
 * const validation = sampleCartpoleStates(100, 12345);
 * ```
 */
export function sampleCartpoleStates(count: number, seed: number): tf.Tensor2D {
  assertInteger('count', count, 1);
  assertInteger('seed', seed, Number.MIN_SAFE_INTEGER);
  return tf.tidy(() => {
    const u = tf.randomUniform(
      [count, 4],
      0,
      1,
      'float32',
      deriveSeed(seed, TASK_SEED_STREAMS.cartpoleStates),
    );
    const [a, b, c, d] = tf.split(u, 4, 1) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    const theta = tf.mul(Math.PI, tf.sub(tf.mul(2, c), 1));
    return tf.concat(
      [tf.sub(a, 0.5), tf.sub(b, 0.5), tf.cos(theta), tf.sin(theta), tf.sub(tf.mul(2, d), 1)],
      1,
    ) as tf.Tensor2D;
  });
}

/** Forward pass of one trajectory in float64; fills `trace` (6 numbers per step: p, v, c, s, w, F) when given. */
function returnOfTrajectory(
  p: CartpoleParams,
  x0: Float32Array | Float64Array,
  x0Offset: number,
  u: Float32Array | Float64Array,
  uOffset: number,
  horizon: number,
  trace?: Float64Array,
): number {
  const total = p.cartMass + p.poleMass;
  const ml = p.poleMass * p.poleLength;
  let pos = x0[x0Offset] as number;
  let vel = x0[x0Offset + 1] as number;
  let cos = x0[x0Offset + 2] as number;
  let sin = x0[x0Offset + 3] as number;
  let omega = x0[x0Offset + 4] as number;
  let ret = 0;
  for (let t = 0; t < horizon; t++) {
    const raw = u[uOffset + t] as number;
    const force = Math.min(Math.max(raw, -p.maxForce), p.maxForce);
    if (trace !== undefined) trace.set([pos, vel, cos, sin, omega, force], 6 * t);
    ret += cos - 0.1 * pos * pos - 1e-5 * raw * raw;
    if (t === horizon - 1) break;
    const theta = Math.atan2(sin, cos);
    const a = (force + ml * omega * omega * sin) / total;
    const den = p.poleLength * (4 / 3 - (p.poleMass * cos * cos) / total);
    const thetaAcc = (p.gravity * sin - cos * a) / den;
    const posAcc = a - (ml * thetaAcc * cos) / total;
    const newTheta = theta + p.dt * omega;
    pos += p.dt * vel;
    vel += p.dt * posAcc;
    cos = Math.cos(newTheta);
    sin = Math.sin(newTheta);
    omega += p.dt * thetaAcc;
  }
  return ret;
}

/**
 * Reverse-mode (adjoint) pass of one trajectory: adds dy·∂R/∂u into `du`
 * and dy·∂R/∂x₀ into `dx0`, from the forward `trace`.
 */
function adjointOfTrajectory(
  p: CartpoleParams,
  u: Float32Array | Float64Array,
  uOffset: number,
  horizon: number,
  trace: Float64Array,
  dy: number,
  du: Float32Array,
  dx0: Float64Array,
  dx0Offset: number,
): void {
  const total = p.cartMass + p.poleMass;
  const ml = p.poleMass * p.poleLength;
  // Adjoint of x_{t+1} (∂R/∂x_{t+1}); there is no x_T term.
  let P = 0;
  let V = 0;
  let C = 0;
  let S = 0;
  let W = 0;
  for (let t = horizon - 1; t >= 0; t--) {
    const o = 6 * t;
    const pos = trace[o] as number;
    const cos = trace[o + 2] as number;
    const sin = trace[o + 3] as number;
    const omega = trace[o + 4] as number;
    const force = trace[o + 5] as number;
    const raw = u[uOffset + t] as number;
    // Reward r_t = cos − 0.1 p² − 1e-5 u².
    let nP = -0.2 * pos;
    let nV = 0;
    let nC = 1;
    let nS = 0;
    let nW = 0;
    let U = -2e-5 * raw;
    if (t < horizon - 1) {
      const theta = Math.atan2(sin, cos);
      const newTheta = theta + p.dt * omega;
      const nextCos = Math.cos(newTheta);
      const nextSin = Math.sin(newTheta);
      const a = (force + ml * omega * omega * sin) / total;
      const den = p.poleLength * (4 / 3 - (p.poleMass * cos * cos) / total);
      const num = p.gravity * sin - cos * a;
      const thetaAcc = num / den;
      // p' = p + Δt v, v' = v + Δt p̈, θ' = θ + Δt θ̇, θ̇' = θ̇ + Δt θ̈, (c', s') = (cos θ', sin θ').
      nP += P;
      nV += V + p.dt * P;
      const PA = p.dt * V; // adjoint of p̈
      const TH = -nextSin * C + nextCos * S; // adjoint of θ' (= of θ)
      nW += W + p.dt * TH;
      let A = p.dt * W; // adjoint of θ̈
      // p̈ = a − (ml/M) θ̈ c
      let Aa = PA;
      A += (-ml / total) * cos * PA;
      nC += (-ml / total) * thetaAcc * PA;
      // θ̈ = num / den
      const Num = A / den;
      const Den = (-A * thetaAcc) / den;
      // num = g s − c a
      nS += p.gravity * Num;
      nC += -a * Num;
      Aa += -cos * Num;
      // den = l (4/3 − m_p c² / M)
      nC += Den * p.poleLength * ((-2 * p.poleMass * cos) / total);
      // a = (F + ml θ̇² s) / M
      const F = Aa / total;
      nW += (Aa * ml * 2 * omega * sin) / total;
      nS += (Aa * ml * omega * omega) / total;
      // θ = atan2(s, c)
      const r2 = cos * cos + sin * sin;
      nS += (TH * cos) / r2;
      nC += (-TH * sin) / r2;
      // F = clamp(u, −F_max, F_max): the gradient passes where −F_max ≤ u ≤ F_max (as tf.clipByValue).
      if (raw >= -p.maxForce && raw <= p.maxForce) U += F;
    }
    du[uOffset + t] = dy * U;
    P = nP;
    V = nV;
    C = nC;
    S = nS;
    W = nW;
  }
  dx0[dx0Offset] = (dx0[dx0Offset] as number) + dy * P;
  dx0[dx0Offset + 1] = (dx0[dx0Offset + 1] as number) + dy * V;
  dx0[dx0Offset + 2] = (dx0[dx0Offset + 2] as number) + dy * C;
  dx0[dx0Offset + 3] = (dx0[dx0Offset + 3] as number) + dy * S;
  dx0[dx0Offset + 4] = (dx0[dx0Offset + 4] as number) + dy * W;
}

/**
 * {@link cartpoleReturn} as one fused operation: the rollouts run in
 * float64 JavaScript on the host and the gradient is the exact adjoint
 * (reverse-mode derivative of the same Euler steps), registered with
 * `tf.customGrad`. It computes the same function (to float32 rounding) with
 * three tensor operations instead of ~40 per step, which makes DCEM over
 * rollouts several times faster on the cpu/wasm backends (on WebGL it
 * reads the controls back from the GPU). Differentiable with respect to the
 * controls and the initial states, not the constants.
 *
 * @param cartpole The system (its constants and force bound).
 * @param initialStates x₀, [batch, 5].
 * @param controls u, [batch, numSamples, T, 1] (T ≥ 1): numSamples plans per initial state.
 * @returns R, [batch, numSamples].
 * @example
 * ```ts
 * const cost = (u: tf.Tensor) => tf.neg(cartpoleReturnFused(cartpole, x0, u)); // a ControlCost for plan()
 * ```
 */
export function cartpoleReturnFused(
  cartpole: Cartpole,
  initialStates: tf.Tensor,
  controls: tf.Tensor,
): tf.Tensor {
  assertTensorShape('initialStates', initialStates, [null, '...', 5]);
  if (initialStates.rank !== 2) {
    throw new RangeError(
      `initialStates must have shape [batch, 5], received [${initialStates.shape.join(', ')}]`,
    );
  }
  const batch = initialStates.shape[0] as number;
  assertTensorShape('controls', controls, [null, null, null, '...', 1]);
  if (controls.rank !== 4 || controls.shape[0] !== batch || (controls.shape[2] as number) < 1) {
    throw new RangeError(
      `controls must have shape [${batch}, numSamples, T ≥ 1, 1], received [${controls.shape.join(', ')}]`,
    );
  }
  const samples = controls.shape[1] as number;
  const horizon = controls.shape[2] as number;
  const p = cartpole.params;
  const fused = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x0, u, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([x0, u]);
    const xs = x0.dataSync() as Float32Array;
    const us = u.dataSync() as Float32Array;
    const out = new Float32Array(batch * samples);
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < samples; i++) {
        const j = b * samples + i;
        out[j] = returnOfTrajectory(p, xs, 5 * b, us, j * horizon, horizon);
      }
    }
    return {
      value: tf.tensor2d(out, [batch, samples]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, su] = saved as [tf.Tensor, tf.Tensor];
        const xv = sx.dataSync() as Float32Array;
        const uv = su.dataSync() as Float32Array;
        const dyv = dy.dataSync() as Float32Array;
        const du = new Float32Array(uv.length);
        const dx0 = new Float64Array(batch * 5);
        const trace = new Float64Array(6 * horizon);
        for (let b = 0; b < batch; b++) {
          for (let i = 0; i < samples; i++) {
            const j = b * samples + i;
            returnOfTrajectory(p, xv, 5 * b, uv, j * horizon, horizon, trace);
            adjointOfTrajectory(p, uv, j * horizon, horizon, trace, dyv[j] as number, du, dx0, 5 * b);
          }
        }
        return [tf.tensor2d(Float32Array.from(dx0), [batch, 5]), tf.tensor(du, su.shape, 'float32')];
      },
    };
  });
  return (fused as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor)(initialStates, controls);
}
