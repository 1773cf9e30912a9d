import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEnergyMlp, type NamedWeight } from './energy-mlp.js';
import { toFloat64, unrolledGd64 } from './energy-reference.test-utils.js';
import { resolveUnrolledGdOptions, UNROLLED_GD_DEFAULTS, unrolledGdInference } from './unrolled-gd.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const XS = [0.3, 1.7, 3.1, 4.6, 6];
const WEIGHTS = [0.7, -1.2, 0.4, 1.1, -0.5];

/** L(θ) = Σᵦ wᵦ ŷ_θ(xᵦ) in float64, for finite differences. */
function loss64(weights: readonly NamedWeight[], steps: number, stepSize: number): number {
  const ref = toFloat64(weights);
  return XS.reduce((s, x, b) => s + (WEIGHTS[b] as number) * unrolledGd64(ref, x, steps, stepSize), 0);
}

describe('unrolledGdInference', () => {
  it('has the paper’s defaults', () => {
    expect(UNROLLED_GD_DEFAULTS).toEqual({ numIterations: 10, stepSize: 0.1, init: 0 });
  });

  it('runs T steps of y ← y − η ∂E/∂y from y₀ (float64 reference)', () => {
    const mlp = createEnergyMlp({ seed: 4, hiddenSize: 16 });
    const ref = toFloat64(mlp.getWeights());
    const x = tf.tensor1d(XS);
    for (const [steps, stepSize, init] of [
      [10, 0.1, 0],
      [3, 0.5, 2],
      [1, 0.1, -1],
    ] as const) {
      const yHat = unrolledGdInference(mlp, x, { numIterations: steps, stepSize, init });
      const got = yHat.arraySync();
      XS.forEach((xi, b) => {
        expect(Math.abs((got[b] as number) - unrolledGd64(ref, xi, steps, stepSize, init))).toBeLessThan(
          1e-5,
        );
      });
      yHat.dispose();
    }
    x.dispose();
    mlp.dispose();
  });

  it('has a θ-gradient equal to central finite differences (through all 10 steps)', () => {
    const mlp = createEnergyMlp({ seed: 11, hiddenSize: 16 });
    const x = tf.tensor1d(XS);
    const w = tf.tensor1d(WEIGHTS);
    const vars = mlp.variables as tf.Variable[];
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(unrolledGdInference(mlp, x), w)), vars);
    const weights = mlp.getWeights();
    // The output bias does not change ∂E/∂y, so ŷ does not depend on it: tfjs reports no gradient.
    expect(grads[(vars.at(-1) as tf.Variable).name]).toBeUndefined();
    const gradient = (t: number): ArrayLike<number> =>
      grads[(vars[t] as tf.Variable).name]?.dataSync() ??
      new Float32Array((weights[t] as NamedWeight).values.length);
    expect(Math.abs((value.dataSync()[0] as number) - loss64(weights, 10, 0.1))).toBeLessThan(1e-5);
    const h = 1e-5;
    // A few single entries of every tensor ...
    weights.forEach((wt, t) => {
      const g = gradient(t);
      for (const i of [0, Math.floor(wt.values.length / 2), wt.values.length - 1]) {
        const plus = weights.map((v, u) =>
          u === t ? { ...v, values: v.values.map((a, j) => (j === i ? a + h : a)) } : v,
        );
        const minus = weights.map((v, u) =>
          u === t ? { ...v, values: v.values.map((a, j) => (j === i ? a - h : a)) } : v,
        );
        const fd = (loss64(plus, 10, 0.1) - loss64(minus, 10, 0.1)) / (2 * h);
        expect(Math.abs((g[i] as number) - fd)).toBeLessThan(1e-4 * Math.max(1, Math.abs(fd)));
      }
    });
    // ... and the directional derivative along a random direction over all of θ.
    let state = 12345;
    const rand = () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state / 2 ** 32 - 0.5;
    };
    const direction = weights.map((wt) => wt.values.map(() => rand()));
    const shift = (s: number) =>
      weights.map((wt, t) => ({
        ...wt,
        values: wt.values.map((a, j) => a + s * ((direction[t] as number[])[j] as number)),
      }));
    const fd = (loss64(shift(h), 10, 0.1) - loss64(shift(-h), 10, 0.1)) / (2 * h);
    const analytic = weights.reduce((s, _wt, t) => {
      const g = gradient(t);
      return s + (direction[t] as number[]).reduce((a, d, j) => a + d * (g[j] as number), 0);
    }, 0);
    expect(Math.abs(analytic - fd)).toBeLessThan(1e-4 * Math.max(1, Math.abs(fd)));
    tf.dispose([x, w, value, ...Object.values(grads)]);
    mlp.dispose();
  });

  it('validates its options with typed errors and leaks no tensors', () => {
    expect(() => resolveUnrolledGdOptions({ numIterations: 0 })).toThrow(
      /numIterations must be an integer ≥ 1, received 0/,
    );
    expect(() => resolveUnrolledGdOptions({ stepSize: -0.1 })).toThrow(RangeError);
    expect(() => resolveUnrolledGdOptions({ stepSize: -0.1 }, 'gd.')).toThrow(
      /gd\.stepSize must be > 0, received -0.1/,
    );
    expect(() => resolveUnrolledGdOptions({ init: '0' as unknown as number })).toThrow(TypeError);
    const mlp = createEnergyMlp({ seed: 1, hiddenSize: 8 });
    const x = tf.tensor1d([1, 2]);
    expect(() => unrolledGdInference(mlp, tf.zeros([2, 1]))).toThrow(
      /x must be a tf.Tensor of shape \[batch\]/,
    );
    const before = tf.memory().numTensors;
    tf.dispose(unrolledGdInference(mlp, x));
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    mlp.dispose();
  });
});
