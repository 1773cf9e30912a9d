import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { clipByGlobalNorm } from './gradient-clipping.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('clipByGlobalNorm (PyTorch clip_grad_norm_)', () => {
  it('scales every gradient by maxNorm / (‖g‖ + 1e-6) when ‖g‖ exceeds maxNorm', () => {
    const a = tf.tensor1d([3, 0]);
    const b = tf.tensor2d([[0, 4]]);
    const { clipped, norm } = clipByGlobalNorm([a, b], 1);
    expect(norm).toBeCloseTo(5, 6);
    const c = 1 / (5 + 1e-6);
    expect(Array.from(clipped[0]?.dataSync() ?? [])).toEqual([Math.fround(3 * c), 0]);
    expect(clipped[1]?.shape).toEqual([1, 2]);
    expect(clipped[1]?.dataSync()[1]).toBeCloseTo(4 * c, 6);
    tf.dispose([a, b, ...clipped]);
  });

  it('leaves small gradients (and maxNorm = ∞) unchanged and leaks nothing', () => {
    const a = tf.tensor1d([0.3, 0.4]);
    const before = tf.memory().numTensors;
    for (const maxNorm of [1, Number.POSITIVE_INFINITY]) {
      const { clipped, norm } = clipByGlobalNorm([a], maxNorm);
      expect(norm).toBeCloseTo(0.5, 6);
      expect(Array.from(clipped[0]?.dataSync() ?? [])).toEqual(Array.from(a.dataSync()));
      tf.dispose(clipped);
    }
    expect(tf.memory().numTensors).toBe(before);
    a.dispose();
  });
});
