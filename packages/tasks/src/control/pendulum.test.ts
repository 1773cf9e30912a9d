import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { rollout } from './dynamics.js';
import {
  centralDifferences,
  maxAbs,
  maxAbsDiff,
  PENDULUM64,
  pendulumCost64,
  pendulumRollout64,
} from './dynamics-f64.test-utils.js';
import {
  createPendulum,
  PENDULUM_DEFAULTS,
  pendulumState,
  pendulumSwingUpCost,
  samplePendulumStates,
} from './pendulum.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const T = 20;
/** Fixed start angles and velocities: near up, near down, fast, at rest sideways. */
const STARTS: [number, number][] = [
  [0.3, -1],
  [Math.PI - 0.2, 2],
  [-2.5, 5],
  [1, 0],
];
/** Torques 3 sin(0.7 t + k): about half of them beyond ±2, so the clamp acts. */
const CONTROLS = STARTS.map((_, k) =>
  Array.from({ length: T }, (_, t) => Math.fround(3 * Math.sin(0.7 * t + k))),
);
const X0 = STARTS.map(([th, w]) => [Math.fround(Math.cos(th)), Math.fround(Math.sin(th)), Math.fround(w)]);

describe('createPendulum', () => {
  it('rolls out 20 steps as the float64 re-derivation of the reference equations, clamps included', () => {
    const clamped = CONTROLS.flat().filter((u) => Math.abs(u) > 2).length;
    expect(clamped).toBeGreaterThan(20);
    const pendulum = createPendulum();
    const states = tf.tidy(() =>
      rollout(pendulum, tf.tensor2d(X0), tf.tensor3d(CONTROLS.map((row) => row.map((u) => [u])))).arraySync(),
    ) as number[][][];
    expect([states.length, states[0]?.length, states[0]?.[0]?.length]).toEqual([4, T + 1, 3]);
    X0.forEach((x0, k) => {
      const expected = pendulumRollout64(x0, CONTROLS[k] as number[]);
      // float32: ~1e-7 relative rounding per operation, amplified at most ~30× over
      // 20 steps (the step's Jacobian has eigenvalues ≈ 1 ± Δt√(3g/2l) ≈ 1 ± 0.19).
      // Errors observed: ≤ 2.1e-6 on |θ̇| ≤ 7.5; bound: 2e-5·(1 + |x|).
      for (let t = 0; t <= T; t++) {
        for (let i = 0; i < 3; i++) {
          const want = expected[t]?.[i] as number;
          const got = states[k]?.[t]?.[i] as number;
          expect(Math.abs(got - want)).toBeLessThanOrEqual(2e-5 * (1 + Math.abs(want)));
        }
      }
    });
  });

  it('matches the non-simple variant (damping on θ, angle offset) and other constants', () => {
    const c = { ...PENDULUM64, g: 9.81, m: 0.8, l: 1.3, d: 0.4, b: 0.1 };
    const pendulum = createPendulum({
      gravity: 9.81,
      mass: 0.8,
      length: 1.3,
      damping: 0.4,
      angleOffset: 0.1,
    });
    // Start near the top and stay off the atan2 branch cut at ±π (the damping term multiplies the wrapped θ).
    const x0 = [Math.fround(Math.cos(0.2)), Math.fround(Math.sin(0.2)), Math.fround(-0.5)];
    const us = Array.from({ length: T }, (_, t) => Math.fround(0.8 * Math.cos(0.4 * t)));
    const got = tf.tidy(() =>
      rollout(pendulum, tf.tensor1d(x0), tf.tensor2d(us.map((u) => [u]))).arraySync(),
    ) as number[][];
    const want = pendulumRollout64(x0, us, c);
    expect(maxAbsDiff(got.flat(), want.flat())).toBeLessThan(2e-5); // observed 3.3e-7
  });

  it('gives the gradient of the swing-up cost w.r.t. the controls that central differences give in float64', () => {
    const pendulum = createPendulum();
    const x0 = tf.tensor2d(X0);
    const u = tf.tensor3d(CONTROLS.map((row) => row.map((v) => [v])));
    const grad = tf.tidy(() =>
      tf
        .grad((controls: tf.Tensor) =>
          tf.sum(pendulumSwingUpCost(rollout(pendulum, x0, controls), controls)),
        )(u)
        .arraySync(),
    ) as number[][][];
    X0.forEach((start, k) => {
      const fd = centralDifferences((us) => pendulumCost64(start, us), CONTROLS[k] as number[], 1e-6);
      const g = (grad[k] as number[][]).map((v) => v[0] as number);
      // A clamped torque moves nothing in the dynamics: its gradient is the
      // control penalty's alone, ∂(1e-4·mean u²)/∂u = 2e-4·u/T.
      (CONTROLS[k] as number[]).forEach((v, t) => {
        if (Math.abs(v) > 2 + 1e-6) {
          expect(Math.abs((g[t] as number) - (2e-4 * v) / T)).toBeLessThan(1e-10);
          expect(Math.abs((fd[t] as number) - (2e-4 * v) / T)).toBeLessThan(1e-8);
        }
      });
      // float32 backward through 20 steps (~1e-7 rounding, amplified ≤ ~30×) vs
      // float64 FD (truncation O(h²) ≈ 1e-12): observed ≤ 3e-7 of max|g|; bound 1e-5.
      expect(maxAbsDiff(g, fd)).toBeLessThan(1e-5 * maxAbs(fd));
    });
    tf.dispose([x0, u]);
  });

  it('broadcasts the state against the controls and does not leak', () => {
    const pendulum = createPendulum();
    const before = tf.memory().numTensors;
    const x = tf.tidy(() => pendulum.step(tf.tensor2d([[1, 0, 0]]), tf.zeros([4, 1])));
    expect(x.shape).toEqual([4, 3]);
    x.dispose();
    const r = tf.tidy(() =>
      rollout(pendulum, tf.tensor3d([[[1, 0, 0]], [[0, 1, 0]]]), tf.zeros([2, 5, 7, 1])),
    );
    expect(r.shape).toEqual([2, 5, 8, 3]);
    r.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects bad constants and shapes with messages that name them', () => {
    expect(() => createPendulum({ mass: 0 })).toThrow(/params.mass must be > 0, received 0/);
    expect(() => createPendulum({ gravity: Number.NaN })).toThrow(/params.gravity must be a finite number/);
    const pendulum = createPendulum();
    expect(() => pendulum.step(tf.zeros([2, 4]), tf.zeros([2, 1]))).toThrow(
      /state must have shape \[…, 3\], received \[2, 4\]/,
    );
    expect(() => pendulum.step(tf.zeros([2, 3]), tf.zeros([2, 2]))).toThrow(/control must have shape/);
    expect(() => rollout(pendulum, tf.zeros([2, 3]), tf.zeros([3, 5, 1]))).toThrow(/do not broadcast/);
    expect(() => rollout(pendulum, tf.zeros([2, 5]), tf.zeros([2, 5, 1]))).toThrow(
      /initialState must have 3 entries/,
    );
  });
});

describe('pendulumSwingUpCost', () => {
  it('is the mean squared distance to upright over states and dimensions plus 1e-4 mean u²', () => {
    // Two states: upright and hanging with θ̇ = 2; one torque of 2.
    const states = tf.tensor3d([
      [
        [1, 0, 0],
        [-1, 0, 2],
      ],
    ]);
    const controls = tf.tensor3d([[[2]]]);
    const c = pendulumSwingUpCost(states, controls);
    expect(c.shape).toEqual([1]);
    expect(c.dataSync()[0]).toBeCloseTo((0 + 4 + 4) / 6 + 1e-4 * 4, 6);
    tf.dispose([states, controls, c]);
  });
});

describe('samplePendulumStates', () => {
  it('draws θ ∈ [−π/4, π/4], θ̇ ∈ [−4, 4] as unit (cos, sin) pairs, deterministically (seed 0 too)', () => {
    const a = samplePendulumStates(200, 0);
    const b = samplePendulumStates(200, 0);
    const c = samplePendulumStates(200, 1);
    expect(a.shape).toEqual([200, 3]);
    const rows = a.arraySync();
    for (const [cos, sin, w] of rows as [number, number, number][]) {
      expect(Math.abs(Math.atan2(sin, cos))).toBeLessThanOrEqual(Math.PI / 4 + 1e-6);
      expect(Math.abs(cos * cos + sin * sin - 1)).toBeLessThan(1e-6);
      expect(Math.abs(w)).toBeLessThanOrEqual(4);
    }
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(maxAbsDiff(a.dataSync(), c.dataSync())).toBeGreaterThan(0.1);
    tf.dispose([a, b, c]);
  });

  it('pendulumState builds (cos θ, sin θ, θ̇)', () => {
    const x = pendulumState(tf.tensor1d([0, Math.PI / 2]), tf.tensor1d([1, -1]));
    expect(maxAbsDiff(x.dataSync(), [1, 0, 1, 0, 1, -1])).toBeLessThan(1e-6);
    expect(() => pendulumState(tf.tensor1d([0, 1]), tf.tensor1d([1]))).toThrow(
      /thetaDot must have shape \[2\]/,
    );
    expect(PENDULUM_DEFAULTS.maxTorque).toBe(2);
    x.dispose();
  });
});
