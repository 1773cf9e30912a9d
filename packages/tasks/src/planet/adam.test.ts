import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAdam, PLANET_ADAM } from './adam.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A few gradient steps' worth of deterministic gradients for variables of shapes [2, 3] and [3]. */
function gradients(step: number): tf.Tensor[] {
  return [
    tf.tensor2d([0.1 * step, -0.2, 0.3, 1, -2 + step, 0.5], [2, 3]),
    tf.tensor1d([Math.sin(step), 0.01, -3 * Math.cos(step)]),
  ];
}

describe('createAdam', () => {
  it('takes the Adam step θ − α m̂/(√v̂ + ε) (checked in float64 for two steps)', () => {
    const x = tf.variable(tf.tensor1d([1, -1, 0.5]));
    const adam = createAdam([x], { learningRate: 0.1, epsilon: 1e-3 });
    const g1 = [0.5, -2, 1e-4];
    const g2 = [-0.25, 1, 3];
    let theta = [1, -1, 0.5].map(Math.fround);
    const m = [0, 0, 0];
    const v = [0, 0, 0];
    [g1, g2].forEach((g, k) => {
      const t = k + 1;
      const grad = tf.tensor1d(g);
      adam.step([grad]);
      grad.dispose();
      theta = theta.map((p, i) => {
        const gi = Math.fround(g[i] as number);
        m[i] = 0.9 * (m[i] as number) + 0.1 * gi;
        v[i] = 0.999 * (v[i] as number) + 0.001 * gi * gi;
        const mHat = (m[i] as number) / (1 - 0.9 ** t);
        const vHat = (v[i] as number) / (1 - 0.999 ** t);
        return p - (0.1 * mHat) / (Math.sqrt(vHat) + 1e-3);
      });
      const got = x.dataSync();
      theta.forEach((want, i) => {
        expect(Math.abs((got[i] as number) - want)).toBeLessThan(2e-6);
      });
    });
    expect(adam.getState().step).toBe(2);
    expect(adam.options).toEqual({ ...PLANET_ADAM, learningRate: 0.1, epsilon: 1e-3 });
    adam.dispose();
    x.dispose();
  });

  it('resumes bit for bit from getState/setState', () => {
    const init = [tf.randomNormal([2, 3], 0, 1, 'float32', 1), tf.randomNormal([3], 0, 1, 'float32', 2)];
    const a = init.map((t) => tf.variable(t));
    const b = init.map((t) => tf.variable(t));
    const adamA = createAdam(a);
    const adamB = createAdam(b);
    const step = (adam: ReturnType<typeof createAdam>, k: number) => {
      const g = gradients(k);
      adam.step(g);
      tf.dispose(g);
    };
    for (let k = 0; k < 3; k++) step(adamA, k);
    // B: restored mid-way from A's weights and state (plain copies), then both go on.
    const state = adamA.getState();
    a.forEach((v, i) => {
      (b[i] as tf.Variable).assign(tf.tensor(v.dataSync().slice(), v.shape));
    });
    adamB.setState(structuredClone(state));
    for (let k = 3; k < 7; k++) {
      step(adamA, k);
      step(adamB, k);
    }
    a.forEach((v, i) => {
      expect(Array.from((b[i] as tf.Variable).dataSync())).toEqual(Array.from(v.dataSync()));
    });
    expect(adamB.getState()).toEqual(adamA.getState());
    expect(adamA.getState().step).toBe(7);
    // A fresh optimiser (not restored) gives other weights: the state matters.
    const c = init.map((t) => tf.variable(t));
    const adamC = createAdam(c);
    for (let k = 3; k < 7; k++) step(adamC, k);
    expect(Array.from((c[0] as tf.Variable).dataSync())).not.toEqual(
      Array.from((a[0] as tf.Variable).dataSync()),
    );
    [adamA, adamB, adamC].forEach((x) => {
      x.dispose();
    });
    tf.dispose([...init, ...a, ...b, ...c]);
  });

  it('rejects bad arguments with typed errors', () => {
    const x = tf.variable(tf.zeros([2]));
    expect(() => createAdam([])).toThrow(TypeError);
    expect(() => createAdam([tf.zeros([2]) as never])).toThrow(/variables\[0\] must be a tf.Variable/);
    expect(() => createAdam([x], { learningrate: 1 } as never)).toThrow(/did you mean "learningRate"/);
    expect(() => createAdam([x], { beta1: 1 })).toThrow(RangeError);
    expect(() => createAdam([x], { epsilon: 0 })).toThrow(/epsilon must be > 0/);
    const adam = createAdam([x]);
    const wrong = tf.zeros([3]);
    expect(() => adam.step([wrong])).toThrow(/grads\[0\] must have shape \[2\], received \[3\]/);
    expect(() => adam.step([])).toThrow(TypeError);
    expect(() => adam.setState({ step: 1, m: [new Float32Array(2)], v: [new Float32Array(3)] })).toThrow(
      /state\.v\[0\] must hold 2 numbers/,
    );
    expect(() => adam.setState({ step: -1, m: [new Float32Array(2)], v: [new Float32Array(2)] })).toThrow(
      RangeError,
    );
    expect(() => adam.setState({ step: 1, m: [[0, 0]] as never, v: [new Float32Array(2)] })).toThrow(
      TypeError,
    );
    adam.dispose();
    expect(() => adam.getState()).toThrow(/disposed/);
    tf.dispose([x, wrong]);
  });
});
