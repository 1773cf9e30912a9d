import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CARTPOLE_DEFAULTS,
  cartpoleReturn,
  cartpoleReturnFused,
  cartpoleReward,
  createCartpole,
  sampleCartpoleStates,
} from './cartpole.js';
import { rollout } from './dynamics.js';
import {
  CARTPOLE64,
  cartpoleReturn64,
  cartpoleRollout64,
  centralDifferences,
  maxAbs,
  maxAbsDiff,
} from './dynamics-f64.test-utils.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const T = 20;
/** (p, ṗ, θ, θ̇): near up, near down, sideways and spinning, leaning left. */
const STARTS: [number, number, number, number][] = [
  [0.2, -0.3, 0.1, 0.5],
  [-0.4, 0.1, Math.PI - 0.3, -1],
  [0, 0, 2, 3],
  [0.5, 0.5, -1.2, 0],
];
const X0 = STARTS.map(([p, v, th, w]) => [p, v, Math.cos(th), Math.sin(th), w].map(Math.fround));
/** Forces 130 sin(0.9 t + k): about 40 % beyond ±100, where the clamp acts. */
const FORCES = STARTS.map((_, k) =>
  Array.from({ length: T }, (_, t) => Math.fround(130 * Math.sin(0.9 * t + k))),
);
const asControls = (rows: number[][]) => tf.tensor3d(rows.map((row) => row.map((u) => [u])));

describe('createCartpole', () => {
  it('rolls out 20 steps as the float64 re-derivation of the reference equations, clamps included', () => {
    expect(FORCES.flat().filter((u) => Math.abs(u) > 100).length).toBeGreaterThan(20);
    const cartpole = createCartpole();
    const states = tf.tidy(() =>
      rollout(cartpole, tf.tensor2d(X0), asControls(FORCES)).arraySync(),
    ) as number[][][];
    expect([states.length, states[0]?.length, states[0]?.[0]?.length]).toEqual([4, T + 1, 5]);
    X0.forEach((x0, k) => {
      const want = cartpoleRollout64(x0, FORCES[k] as number[]);
      // float32 rounding (~6e-8 relative per op) grows along the rollout with
      // the forces' effect (|x| reaches ~40 here): observed ≤ 3.7e-6·(1 + |x|)
      // (5.5e-5 absolute on values up to 28); bound 1e-5·(1 + |x|).
      for (let t = 0; t <= T; t++) {
        for (let i = 0; i < 5; i++) {
          const w = want[t]?.[i] as number;
          expect(Math.abs((states[k]?.[t]?.[i] as number) - w)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(w)));
        }
      }
    });
  });

  it('computes the embedding return Σ_{t<T} cos θ − 0.1 p² − 1e-5 u² as the float64 re-derivation', () => {
    const cartpole = createCartpole();
    const ops = tf.tidy(() =>
      Array.from(cartpoleReturn(cartpole, tf.tensor2d(X0), asControls(FORCES)).dataSync()),
    );
    const fused = tf.tidy(() =>
      Array.from(
        cartpoleReturnFused(cartpole, tf.tensor2d(X0), tf.expandDims(asControls(FORCES), 1)).dataSync(),
      ),
    );
    const want = X0.map((x0, k) => cartpoleReturn64(x0, FORCES[k] as number[]));
    // Returns are sums of 20 terms of size ≤ ~2.3 (incl. 1e-5·130²): observed 3e-6 (ops, float32), 5e-7 (fused).
    expect(maxAbsDiff(ops, want)).toBeLessThan(2e-5 * (1 + maxAbs(want)));
    // The fused version runs in float64: only the final rounding to float32 remains.
    expect(maxAbsDiff(fused, want)).toBeLessThan(2e-7 * (1 + maxAbs(want)));
  });

  it('gives the gradient of the return w.r.t. forces and start state that float64 central differences give', () => {
    const cartpole = createCartpole();
    const x0 = tf.tensor2d(X0);
    const u = asControls(FORCES);
    const [gx, gu] = tf.tidy(() =>
      tf
        .grads((x: tf.Tensor, controls: tf.Tensor) => tf.sum(cartpoleReturn(cartpole, x, controls)))([x0, u])
        .map((g) => g.arraySync()),
    ) as [number[][], number[][][]];
    const [fx, fu] = tf.tidy(() =>
      tf
        .grads((x: tf.Tensor, controls: tf.Tensor) =>
          tf.sum(cartpoleReturnFused(cartpole, x, tf.expandDims(controls, 1))),
        )([x0, u])
        .map((g) => g.arraySync()),
    ) as [number[][], number[][][]];
    X0.forEach((start, k) => {
      const forces = FORCES[k] as number[];
      const fdU = centralDifferences((us) => cartpoleReturn64(start, us), forces, 1e-6);
      const fdX = centralDifferences((x) => cartpoleReturn64(x, forces), start, 1e-6);
      const opsU = (gu[k] as number[][]).map((v) => v[0] as number);
      const fusedU = (fu[k] as number[][]).map((v) => v[0] as number);
      // A clamped force moves nothing: only the penalty −1e-5 u² acts, −2e-5 u.
      forces.forEach((v, t) => {
        if (Math.abs(v) > 100) {
          expect(Math.abs((opsU[t] as number) + 2e-5 * v)).toBeLessThan(1e-9);
          expect(Math.abs((fusedU[t] as number) + 2e-5 * v)).toBeLessThan(1e-9);
        }
      });
      // tfjs autodiff in float32 (observed ≤ 2.3e-5 of max|g|, from the start
      // hanging down and spinning) and the fused adjoint in float64 (observed
      // ≤ 6e-8) against FD with h = 1e-6 (truncation and rounding ≲ 1e-9).
      expect(maxAbsDiff(opsU, fdU)).toBeLessThan(1e-4 * maxAbs(fdU));
      expect(maxAbsDiff(gx[k] as number[], fdX)).toBeLessThan(1e-4 * maxAbs(fdX));
      expect(maxAbsDiff(fusedU, fdU)).toBeLessThan(1e-6 * maxAbs(fdU));
      expect(maxAbsDiff(fx[k] as number[], fdX)).toBeLessThan(1e-6 * maxAbs(fdX));
    });
    tf.dispose([x0, u]);
  });

  it('fused: one start state per batch row, several plans each; upstream gradients are weighted', () => {
    const cartpole = createCartpole();
    const x0 = tf.tensor2d(X0.slice(0, 2));
    const u = tf.tensor4d(
      [0, 1].map((b) =>
        [0, 1, 2].map((s) => Array.from({ length: 6 }, (_, t) => [40 * Math.sin(t + s + 3 * b)])),
      ),
    );
    const w = tf.tensor2d([
      [1, -2, 0.5],
      [0, 3, 1],
    ]);
    const a = tf.tidy(() =>
      tf.grads((x: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(w, cartpoleReturnFused(cartpole, x, c))))([
        x0,
        u,
      ]),
    );
    const b = tf.tidy(() =>
      tf.grads((x: tf.Tensor, c: tf.Tensor) =>
        tf.sum(tf.mul(w, cartpoleReturn(cartpole, tf.expandDims(x, 1), c))),
      )([x0, u]),
    );
    expect(maxAbsDiff(a[0]?.dataSync() ?? [], b[0]?.dataSync() ?? [])).toBeLessThan(1e-4);
    expect(maxAbsDiff(a[1]?.dataSync() ?? [], b[1]?.dataSync() ?? [])).toBeLessThan(1e-5);
    expect(() => cartpoleReturnFused(cartpole, x0, tf.zeros([3, 2, 6, 1]))).toThrow(
      /controls must have shape \[2, numSamples/,
    );
    tf.dispose([x0, u, w, ...a, ...b]);
  });

  it('rewards cos θ − 0.1 p² − 1e-5 u² and validates its inputs', () => {
    const r = cartpoleReward(tf.tensor2d([[2, 0, 0.5, Math.sqrt(0.75), 0]]), tf.tensor2d([[100]]));
    expect(r.dataSync()[0]).toBeCloseTo(0.5 - 0.4 - 0.1, 6);
    r.dispose();
    const cartpole = createCartpole();
    expect(() => cartpole.step(tf.zeros([5]), tf.zeros([2]))).toThrow(/control must have shape \[…, 1\]/);
    expect(() => cartpoleReturn(cartpole, tf.zeros([5]), tf.zeros([0, 1]))).toThrow(/at least one step/);
    expect(() => createCartpole({ poleLength: -1 })).toThrow(/params.poleLength must be > 0/);
    expect(CARTPOLE_DEFAULTS.maxForce).toBe(CARTPOLE64.fMax);
  });
});

describe('sampleCartpoleStates', () => {
  it('draws p, ṗ ∈ [−0.5, 0.5], θ ∈ [−π, π], θ̇ ∈ [−1, 1], deterministically', () => {
    const a = sampleCartpoleStates(300, 0);
    const b = sampleCartpoleStates(300, 0);
    expect(a.shape).toEqual([300, 5]);
    const rows = a.arraySync() as number[][];
    for (const [p, v, c, s, w] of rows as [number, number, number, number, number][]) {
      expect(Math.abs(p)).toBeLessThanOrEqual(0.5);
      expect(Math.abs(v)).toBeLessThanOrEqual(0.5);
      expect(Math.abs(w)).toBeLessThanOrEqual(1);
      expect(Math.abs(c * c + s * s - 1)).toBeLessThan(1e-6);
    }
    // θ covers the whole circle: both halves and both signs.
    expect(rows.some((r) => (r[2] as number) < -0.9)).toBe(true);
    expect(rows.some((r) => (r[2] as number) > 0.9)).toBe(true);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    tf.dispose([a, b]);
  });
});
