import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { UNSTACK_KERNEL, unstack } from './unstack.js';

for (const backendName of ['cpu', 'wasm'] as const) {
  describe(`unstack on ${backendName}`, () => {
    it("gives tf.unstack's slices bit for bit, and the stacked gradient", async () => {
      expect(await tf.setBackend(backendName)).toBe(true);
      const x = tf.randomNormal([5, 3, 4], 0, 1, 'float32', 1);
      const w = tf.randomNormal([5, 3, 4], 0, 1, 'float32', 2);
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        const ours = unstack(x);
        const theirs = tf.unstack(x);
        expect(ours.map((t) => t.shape)).toEqual(theirs.map((t) => t.shape));
        expect(ours.map((t) => Array.from(t.dataSync()))).toEqual(theirs.map((t) => Array.from(t.dataSync())));
        // Only some slices used: the others get a zero gradient.
        const ws = tf.unstack(w);
        const loss = (f: (t: tf.Tensor) => tf.Tensor[]) => (xx: tf.Tensor) => {
          const parts = f(xx);
          return tf.add(tf.sum(tf.mul(tf.sin(parts[1] as tf.Tensor), ws[1] as tf.Tensor)), tf.sum(parts[4] as tf.Tensor));
        };
        const g = tf.grad(loss(unstack))(x);
        const ref = tf.grad(loss(tf.unstack))(x);
        expect(Array.from(g.dataSync())).toEqual(Array.from(ref.dataSync()));
      });
      expect(tf.memory().numTensors).toBe(before);
      const profile = await tf.profile(() => tf.dispose(unstack(x)));
      expect(profile.kernels.map((k) => k.name)).toEqual([UNSTACK_KERNEL]);
      tf.dispose([x, w]);
    });
  });
}

describe('unstack rejects bad input', () => {
  it('names what it received', async () => {
    await tf.setBackend('cpu');
    expect(() => unstack([1, 2] as unknown as tf.Tensor)).toThrow(TypeError);
    expect(() => unstack(tf.zeros([2], 'int32'))).toThrow(/unstack: x must have dtype float32, received int32/);
    expect(() => unstack(tf.scalar(1))).toThrow(RangeError);
  });
});
