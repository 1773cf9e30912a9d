import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { rollout } from './dynamics.js';
import { maxAbsDiff } from './dynamics-f64.test-utils.js';
import {
  createPendulum,
  pendulumSwingUpCost,
  pendulumSwingUpCostFused,
  samplePendulumStates,
} from './pendulum.js';
import { rolloutCost } from './planner.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('pendulumSwingUpCostFused', () => {
  for (const params of [{}, { damping: 0.3, angleOffset: 0.2 }]) {
    it(`computes the rollout cost of pendulumSwingUpCost and its gradient (${JSON.stringify(params)})`, () => {
      const pendulum = createPendulum(params);
      const x0 = samplePendulumStates(3, 4);
      // Torques partly outside the bound ±2, where the clamp stops the gradient of the dynamics.
      const u = tf.randomUniform([3, 5, 12, 1], -2.6, 2.6, 'float32', 11);
      const before = tf.memory().numTensors;
      const reference = (x: tf.Tensor, v: tf.Tensor) => rolloutCost(pendulum, x, pendulumSwingUpCost)(v);
      const want = reference(x0, u);
      const got = pendulumSwingUpCostFused(pendulum, x0, u);
      expect(got.shape).toEqual([3, 5]);
      expect(maxAbsDiff(got.dataSync(), want.dataSync())).toBeLessThan(2e-5);
      const weights = tf.randomNormal([3, 5], 0, 1, 'float32', 5);
      const loss = (f: typeof reference) => (x: tf.Tensor, v: tf.Tensor) => tf.sum(tf.mul(weights, f(x, v)));
      const [gx, gu] = tf.grads(loss(reference))([x0, u]);
      const [fx, fu] = tf.grads(loss((x, v) => pendulumSwingUpCostFused(pendulum, x, v)))([x0, u]);
      const scale = Math.max(...Array.from((gu as tf.Tensor).dataSync(), Math.abs));
      expect(scale).toBeGreaterThan(0);
      expect(maxAbsDiff((fu as tf.Tensor).dataSync(), (gu as tf.Tensor).dataSync())).toBeLessThan(
        1e-4 * scale + 1e-7,
      );
      const sx = Math.max(...Array.from((gx as tf.Tensor).dataSync(), Math.abs));
      expect(maxAbsDiff((fx as tf.Tensor).dataSync(), (gx as tf.Tensor).dataSync())).toBeLessThan(
        1e-4 * sx + 1e-6,
      );
      tf.dispose([want, got, weights, gx, gu, fx, fu] as tf.Tensor[]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x0, u]);
    });
  }

  it('weights the state terms and the torque as given (mpc.pytorch’s weights), value and gradient', () => {
    const pendulum = createPendulum();
    const x0 = samplePendulumStates(2, 7);
    const u = tf.randomUniform([2, 4, 9, 1], -2.5, 2.5, 'float32', 3);
    const q = [1, 1, 0.1];
    const weights = { state: q, control: 0.001 };
    // C = (1/(3(T+1))) Σ_t Σ_i q_i (x_ti − g_i)² + r (1/T) Σ_t u_t², from the tfjs rollout.
    const reference = (x: tf.Tensor, v: tf.Tensor) =>
      tf.tidy(() => {
        const states = rollout(pendulum, tf.expandDims(x, 1), v); // [2, 4, 10, 3]
        const d = tf.mul(tf.squaredDifference(states, tf.tensor1d([1, 0, 0])), tf.tensor1d(q));
        return tf.add(tf.mean(d, [-2, -1]), tf.mul(0.001, tf.mean(tf.square(v), [-2, -1])));
      });
    const got = pendulumSwingUpCostFused(pendulum, x0, u, weights);
    const want = reference(x0, u);
    expect(maxAbsDiff(got.dataSync(), want.dataSync())).toBeLessThan(2e-5);
    const [gx, gu] = tf.grads((x: tf.Tensor, v: tf.Tensor) => tf.sum(reference(x, v)))([x0, u]);
    const [fx, fu] = tf.grads((x: tf.Tensor, v: tf.Tensor) =>
      tf.sum(pendulumSwingUpCostFused(pendulum, x, v, weights)),
    )([x0, u]);
    const su = Math.max(...Array.from((gu as tf.Tensor).dataSync(), Math.abs));
    expect(maxAbsDiff((fu as tf.Tensor).dataSync(), (gu as tf.Tensor).dataSync())).toBeLessThan(
      1e-4 * su + 1e-7,
    );
    const sx = Math.max(...Array.from((gx as tf.Tensor).dataSync(), Math.abs));
    expect(maxAbsDiff((fx as tf.Tensor).dataSync(), (gx as tf.Tensor).dataSync())).toBeLessThan(
      1e-4 * sx + 1e-6,
    );
    expect(() => pendulumSwingUpCostFused(pendulum, x0, u, { state: [1, 1], control: 0 })).toThrow(
      /weights.state must be an array of 3 numbers/,
    );
    expect(() => pendulumSwingUpCostFused(pendulum, x0, u, { state: [1, -1, 1], control: 0 })).toThrow(
      /weights.state\[1\] must be/,
    );
    tf.dispose([x0, u, got, want, gx, gu, fx, fu] as tf.Tensor[]);
  });

  it('rejects bad shapes naming the argument', () => {
    const pendulum = createPendulum();
    const x0 = tf.zeros([2, 3]);
    expect(() => pendulumSwingUpCostFused(pendulum, tf.zeros([2, 5]), tf.zeros([2, 1, 3, 1]))).toThrow(
      /initialStates must have shape \[\*, 3\]/,
    );
    expect(() => pendulumSwingUpCostFused(pendulum, x0, tf.zeros([3, 1, 3, 1]))).toThrow(
      /controls must have shape \[2, \*, \*, 1\]/,
    );
    expect(() => pendulumSwingUpCostFused(pendulum, x0, tf.zeros([2, 1, 0, 1]))).toThrow(
      /controls must hold at least one step/,
    );
    x0.dispose();
  });
});
