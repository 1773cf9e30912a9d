import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { maxAbs, maxAbsDiff } from './dynamics-f64.test-utils.js';
import { small } from './latent.test-utils.js';
import { createActionDecoder } from './latent-decoder.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('createActionDecoder', () => {
  it('frees everything it made on dispose', () => {
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) small(i).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('maps latents [..., d] to control sequences [..., H, m] inside the bounds', () => {
    const decoder = createActionDecoder({
      latentDim: 3,
      horizon: 6,
      controlDim: 2,
      lowerBound: [-1, 0],
      upperBound: [1, 10],
      seed: 4,
    });
    const z = tf.randomUniform([2, 5, 3], -1, 1, 'float32', 3);
    const u = decoder.decode(z);
    expect(u.shape).toEqual([2, 5, 6, 2]);
    const [first, second] = tf.unstack(u, 3) as [tf.Tensor, tf.Tensor];
    expect(tf.min(first).dataSync()[0]).toBeGreaterThanOrEqual(-1);
    expect(tf.max(first).dataSync()[0]).toBeLessThanOrEqual(1);
    expect(tf.min(second).dataSync()[0]).toBeGreaterThanOrEqual(0);
    expect(tf.max(second).dataSync()[0]).toBeLessThanOrEqual(10);
    tf.dispose([z, u, first, second]);
    decoder.dispose();
  });

  it('initialises W ~ N(0, (2/√(fan_in + fan_out))²) and b = 0, reproducibly from the seed', () => {
    const a = createActionDecoder({ latentDim: 2, horizon: 20, lowerBound: -100, upperBound: 100, seed: 0 });
    const b = createActionDecoder({ latentDim: 2, horizon: 20, lowerBound: -100, upperBound: 100, seed: 0 });
    const c = createActionDecoder({ latentDim: 2, horizon: 20, lowerBound: -100, upperBound: 100, seed: 1 });
    expect(a.variables.map((v) => v.shape)).toEqual([
      [2, 256],
      [256],
      [256, 256],
      [256],
      [256, 256],
      [256],
      [256, 20],
      [20],
    ]);
    const w = a.getWeights();
    const big = w[2] as Float32Array; // 256 × 256
    const mean = big.reduce((s, v) => s + v, 0) / big.length;
    const std = Math.sqrt(big.reduce((s, v) => s + (v - mean) ** 2, 0) / big.length);
    // 65 536 draws: the sample std is within ~0.6 % of σ = 2/√512 (three standard errors: 1 %).
    expect(Math.abs(std / (2 / Math.sqrt(512)) - 1)).toBeLessThan(0.01);
    expect(Math.abs(mean)).toBeLessThan(0.01 * std);
    expect(maxAbs(w[1] as Float32Array)).toBe(0);
    expect(maxAbsDiff(w[0] as Float32Array, b.getWeights()[0] as Float32Array)).toBe(0);
    expect(maxAbsDiff(w[0] as Float32Array, c.getWeights()[0] as Float32Array)).toBeGreaterThan(0.01);
    c.setWeights(w);
    expect(maxAbsDiff(c.getWeights()[2] as Float32Array, big)).toBe(0);
    for (const d of [a, b, c]) d.dispose();
  });

  it('back-propagates through its dense layers exactly as tfjs’s own matMul gradient', () => {
    const decoder = small(2);
    const z = tf.randomUniform([7, 2], -1, 1, 'float32', 5);
    const weights = tf.randomNormal([7, 20, 1], 0, 1, 'float32', 6);
    const mine = tf.variableGrads(
      () => tf.sum(tf.mul(weights, decoder.decode(z))) as tf.Scalar,
      decoder.variables,
    );
    const v = decoder.variables;
    const plain = tf.variableGrads(() => {
      let h: tf.Tensor = z;
      for (let l = 0; l < 3; l++) {
        h = tf.add(tf.matMul(h, v[2 * l] as tf.Tensor), v[2 * l + 1] as tf.Tensor);
        if (l < 2) h = tf.elu(h);
      }
      const u = tf.reshape(tf.add(-100, tf.mul(200, tf.sigmoid(h))), [7, 20, 1]);
      return tf.sum(tf.mul(weights, u)) as tf.Scalar;
    }, v);
    expect(
      Math.abs((mine.value.dataSync()[0] as number) - (plain.value.dataSync()[0] as number)),
    ).toBeLessThan(1e-3);
    for (const x of v) {
      const a = mine.grads[x.name] as tf.Tensor;
      const b = plain.grads[x.name] as tf.Tensor;
      expect(maxAbsDiff(a.dataSync(), b.dataSync())).toBeLessThan(1e-5 * Math.max(1, maxAbs(b.dataSync())));
    }
    tf.dispose([
      z,
      weights,
      mine.value,
      plain.value,
      ...Object.values(mine.grads),
      ...Object.values(plain.grads),
    ]);
    decoder.dispose();
  });

  it('rejects bad options', () => {
    const ok = { latentDim: 2, horizon: 5, lowerBound: -1, upperBound: 1 };
    expect(() => createActionDecoder({ ...ok, latentDim: 0 })).toThrow(
      /latentDim must be an integer ≥ 1, received 0/,
    );
    expect(() => createActionDecoder({ ...ok, hiddenSizes: [8, 0] })).toThrow(
      /hiddenSizes\[1\] must be an integer ≥ 1/,
    );
    expect(() => createActionDecoder({ ...ok, upperBound: -1 })).toThrow(/lowerBound must be < upperBound/);
    const decoder = small();
    expect(() => decoder.decode(tf.zeros([3, 4]))).toThrow(/latent must have shape \[…, 2\]/);
    expect(() => decoder.setWeights([new Float32Array(3)])).toThrow(/weights must be an array of 6 arrays/);
    decoder.dispose();
    expect(() => decoder.decode(tf.zeros([1, 2]))).toThrow(/disposed/);
  });
});
