import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { stack, UNSTACK_KERNEL, unstack } from './unstack.js';

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
        expect(ours.map((t) => Array.from(t.dataSync()))).toEqual(
          theirs.map((t) => Array.from(t.dataSync())),
        );
        // Only some slices used: the others get a zero gradient.
        const ws = tf.unstack(w);
        const loss = (f: (t: tf.Tensor) => tf.Tensor[]) => (xx: tf.Tensor) => {
          const parts = f(xx);
          return tf.add(
            tf.sum(tf.mul(tf.sin(parts[1] as tf.Tensor), ws[1] as tf.Tensor)),
            tf.sum(parts[4] as tf.Tensor),
          );
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

for (const backendName of ['cpu', 'wasm'] as const) {
  describe(`stack on ${backendName}`, () => {
    it("gives tf.stack's value and gradient, the gradient through unstack's kernel", async () => {
      expect(await tf.setBackend(backendName)).toBe(true);
      const xs = [1, 2, 3].map((seed) => tf.randomNormal([4, 3], 0, 1, 'float32', seed));
      const w = tf.randomNormal([3, 4, 3], 0, 1, 'float32', 9);
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        expect(Array.from(stack(xs).dataSync())).toEqual(Array.from(tf.stack(xs).dataSync()));
        const loss = (f: (ts: tf.Tensor[]) => tf.Tensor) => (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
          tf.sum(tf.mul(tf.sin(f([a, b, c])), w));
        const ours = tf.grads(loss(stack))(xs);
        const theirs = tf.grads(loss((ts) => tf.stack(ts)))(xs);
        expect(ours.map((g) => Array.from(g.dataSync()))).toEqual(
          theirs.map((g) => Array.from(g.dataSync())),
        );
      });
      expect(tf.memory().numTensors).toBe(before);
      const profile = await tf.profile(() => {
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(stack([a, b, c])))(xs);
        tf.dispose(g);
      });
      const names = profile.kernels.map((k) => k.name);
      expect(names).toContain(UNSTACK_KERNEL);
      expect(names).not.toContain('Unpack');
      tf.dispose([...xs, w]);
    });
  });
}

describe('unstack and stack reject bad input', () => {
  it('names what it received', async () => {
    await tf.setBackend('cpu');
    expect(() => unstack([1, 2] as unknown as tf.Tensor)).toThrow(TypeError);
    expect(() => unstack(tf.zeros([2], 'int32'))).toThrow(
      /unstack: x must have dtype float32, received int32/,
    );
    expect(() => unstack(tf.scalar(1))).toThrow(RangeError);
    expect(() => stack([])).toThrow(TypeError);
    expect(() => stack([tf.zeros([2]), tf.zeros([3])])).toThrow(
      /stack: tensors\[1\] must have the shape of tensors\[0\]/,
    );
    expect(() => stack([tf.zeros([2]), tf.zeros([2], 'int32')])).toThrow(
      /tensors\[1\] must have dtype float32/,
    );
  });
});
