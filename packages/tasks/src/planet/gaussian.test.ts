import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { freeNatsClip, klDiagGaussian } from './gaussian.js';
import { klF64 } from './reference-f64.test-utils.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('klDiagGaussian', () => {
  it('matches the closed form evaluated in float64', () => {
    const [B, S] = [6, 7];
    const mq = tf.randomNormal([B, S], 0, 2, 'float32', 1);
    const mp = tf.randomNormal([B, S], 0, 2, 'float32', 2);
    const sq = tf.randomUniform([B, S], 0.1, 3, 'float32', 3);
    const sp = tf.randomUniform([B, S], 0.1, 3, 'float32', 4);
    const kl = klDiagGaussian({ mean: mq, std: sq }, { mean: mp, std: sp });
    expect(kl.shape).toEqual([B]);
    const [a, b, c, d] = [mq, sq, mp, sp].map((x) => x.arraySync() as number[][]) as [
      number[][],
      number[][],
      number[][],
      number[][],
    ];
    const got = kl.dataSync();
    for (let i = 0; i < B; i++) {
      const want = klF64(a[i] as number[], b[i] as number[], c[i] as number[], d[i] as number[]);
      expect(Math.abs((got[i] as number) - want)).toBeLessThan(1e-5 * Math.max(1, want));
    }
    tf.dispose([mq, mp, sq, sp, kl]);
  });

  it('is 0 between equal Gaussians and μ²/2 between N(μ, 1) and N(0, 1)', () => {
    const mean = tf.tensor2d([[0.5, -2]]);
    const zero = tf.zeros([1, 2]);
    const one = tf.ones([1, 2]);
    const same = klDiagGaussian({ mean, std: one }, { mean, std: one });
    const shifted = klDiagGaussian({ mean, std: one }, { mean: zero, std: one });
    expect(same.dataSync()[0]).toBe(0);
    expect(shifted.dataSync()[0]).toBeCloseTo((0.25 + 4) / 2, 6);
    tf.dispose([mean, zero, one, same, shifted]);
  });

  it('rejects mismatched shapes with a RangeError naming the argument', () => {
    const x = tf.zeros([2, 3]);
    const y = tf.zeros([2, 4]);
    expect(() => klDiagGaussian({ mean: x, std: x }, { mean: y, std: y })).toThrow(
      /p\.mean must have shape \[2, 3\]/,
    );
    expect(() => klDiagGaussian({ mean: x, std: 1 as never }, { mean: x, std: x })).toThrow(TypeError);
    tf.dispose([x, y]);
  });
});

describe('freeNatsClip', () => {
  it('is max(freeNats, KL), with gradient 0 below the clip and 1 above', () => {
    const kl = tf.tensor1d([0, 1, 2.9, 3.1, 10]);
    const clipped = freeNatsClip(kl, 3);
    expect(Array.from(clipped.dataSync())).toEqual([3, 3, 3, Math.fround(3.1), 10]);
    const grad = tf.grad((x: tf.Tensor) => tf.sum(freeNatsClip(x, 3)))(kl);
    expect(Array.from(grad.dataSync())).toEqual([0, 0, 0, 1, 1]);
    tf.dispose([kl, clipped, grad]);
  });

  it('rejects a negative or non-finite clip', () => {
    const kl = tf.zeros([2]);
    expect(() => freeNatsClip(kl, -1)).toThrow(RangeError);
    expect(() => freeNatsClip(kl, Number.NaN)).toThrow(/freeNats/);
    expect(() => freeNatsClip(kl, '3' as never)).toThrow(TypeError);
    kl.dispose();
  });
});
