import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { maxDiff } from '../golden.test-utils.js';
import { closeThreads, setThreads } from '../threads/controls.js';
import { dense, matMul } from './matmul.js';

/** Largest |a − b| relative to the largest |b| (1 when b is all zeros). */
function relDiff(a: tf.Tensor, b: tf.Tensor): number {
  const ref = Array.from(b.dataSync());
  const scale = Math.max(1, ...ref.map(Math.abs));
  return maxDiff(Array.from(a.dataSync()), ref) / scale;
}

for (const backendName of ['cpu', 'wasm'] as const) {
  describe(`matMul and dense on ${backendName}`, () => {
    beforeAll(async () => {
      expect(await tf.setBackend(backendName)).toBe(true);
    });

    // Shapes include single rows and columns (the transposes are reshapes there).
    const shapes: Array<[number, number, number]> = [
      [5, 3, 4],
      [1, 7, 3],
      [6, 1, 2],
      [4, 5, 1],
      [1, 1, 1],
      [33, 17, 9],
    ];

    for (const [m, n, p] of shapes) {
      it(`gives tf.matMul's value and gradients for [${m}, ${n}]·[${n}, ${p}]`, () => {
        tf.tidy(() => {
          const a = tf.randomNormal([m, n], 0, 1, 'float32', 1);
          const b = tf.randomNormal([n, p], 0, 1, 'float32', 2);
          const w = tf.randomNormal([m, p], 0, 1, 'float32', 3);
          expect(relDiff(matMul(a, b), tf.matMul(a, b))).toBe(0);
          const ours = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(matMul(x, y), w)))([a, b]);
          const theirs = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y), w)))([a, b]);
          // Same products, possibly summed in another order: float32 rounding only.
          expect(relDiff(ours[0] as tf.Tensor, theirs[0] as tf.Tensor)).toBeLessThan(1e-6);
          expect(relDiff(ours[1] as tf.Tensor, theirs[1] as tf.Tensor)).toBeLessThan(1e-6);
        });
      });
    }

    it('has the exact gradient of a small product (dA = G·Bᵀ, dB = Aᵀ·G)', () => {
      tf.tidy(() => {
        const a = tf.tensor2d([
          [1, 2],
          [3, 4],
        ]);
        const b = tf.tensor2d([[5], [6]]);
        const g = tf.tensor2d([[1], [-2]]);
        const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(matMul(x, y), g)))([a, b]);
        expect(Array.from((da as tf.Tensor).dataSync())).toEqual([5, 6, -10, -12]);
        expect(Array.from((db as tf.Tensor).dataSync())).toEqual([1 - 6, 2 - 8]);
      });
    });

    it('dense is x·W + b with the gradients of its tf.matMul form, with and without bias', () => {
      tf.tidy(() => {
        const x = tf.randomNormal([8, 3], 0, 1, 'float32', 4);
        const w = tf.randomNormal([3, 5], 0, 1, 'float32', 5);
        const b = tf.randomNormal([5], 0, 1, 'float32', 6);
        expect(relDiff(dense(x, w, b), tf.add(tf.matMul(x, w), b))).toBeLessThan(1e-7);
        expect(relDiff(dense(x, w), tf.matMul(x, w))).toBe(0);
        const loss =
          (layer: (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor) =>
          (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
            tf.sum(tf.sin(layer(xx, ww, bb)));
        const ours = tf.grads(loss((xx, ww, bb) => dense(xx, ww, bb)))([x, w, b]);
        const theirs = tf.grads(loss((xx, ww, bb) => tf.add(tf.matMul(xx, ww), bb)))([x, w, b]);
        for (let i = 0; i < 3; i++) {
          expect(relDiff(ours[i] as tf.Tensor, theirs[i] as tf.Tensor)).toBeLessThan(1e-6);
        }
      });
    });

    it('with transposeA is aᵀ·b (threaded partial sums over many rows, and small), with its gradients', () => {
      for (const [rows, k, n] of [
        [600, 80, 100],
        [7, 3, 5],
        [1, 4, 2],
      ] as Array<[number, number, number]>) {
        const before = tf.memory().numTensors;
        tf.tidy(() => {
          const a = tf.randomNormal([rows, k], 0, 1, 'float32', rows);
          const b = tf.randomNormal([rows, n], 0, 1, 'float32', rows + 1);
          const want = tf.matMul(tf.transpose(a), b);
          const got = matMul(a, b, { transposeA: true });
          expect(got.shape).toEqual([k, n]);
          expect(relDiff(got, want)).toBeLessThan(1e-5);
          const w = tf.randomNormal([k, n], 0, 1, 'float32', 5);
          const loss = (f: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor) => (x: tf.Tensor, y: tf.Tensor) =>
            tf.sum(tf.mul(f(x, y), w));
          const ours = tf.grads(loss((x, y) => matMul(x, y, { transposeA: true })))([a, b]);
          const theirs = tf.grads(loss((x, y) => tf.matMul(tf.transpose(x), y)))([a, b]);
          for (let i = 0; i < 2; i++)
            expect(relDiff(ours[i] as tf.Tensor, theirs[i] as tf.Tensor)).toBeLessThan(1e-5);
        });
        expect(tf.memory().numTensors).toBe(before);
      }
    });

    it('with transposeA runs the threaded Aᵀ·B kernel on a large product (two threads)', async () => {
      await setThreads(2);
      try {
        const a = tf.randomNormal([600, 80]);
        const b = tf.randomNormal([600, 100]);
        let got: tf.Tensor | undefined;
        const profile = await tf.profile(() => {
          got = matMul(a, b, { transposeA: true });
        });
        const names = profile.kernels.map((k) => k.name);
        expect(names).toContain('DcemMatMulTN');
        expect(names).not.toContain('Transpose');
        const want = tf.matMul(tf.transpose(a), b);
        expect(relDiff(got as tf.Tensor, want)).toBeLessThan(1e-5);
        tf.dispose([a, b, got as tf.Tensor, want]);
      } finally {
        await setThreads(undefined);
        await closeThreads();
      }
    });

    it('works with tf.variableGrads on variables', () => {
      const w = tf.variable(tf.randomNormal([4, 2], 0, 1, 'float32', 7));
      const x = tf.randomNormal([3, 4], 0, 1, 'float32', 8);
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(matMul(x, w))), [w]);
      const expected = tf.tidy(() => tf.mul(2, tf.matMul(tf.transpose(x), tf.matMul(x, w))));
      expect(relDiff(grads[w.name] as tf.Tensor, expected)).toBeLessThan(1e-6);
      tf.dispose([w, x, value, expected, ...Object.values(grads)]);
    });

    it('leaks no tensors over repeated forward and backward calls', () => {
      const a = tf.randomNormal([6, 4], 0, 1, 'float32', 9);
      const w = tf.randomNormal([4, 3], 0, 1, 'float32', 10);
      const b = tf.zeros([3]);
      const run = () => {
        tf.dispose(dense(a, w, b));
        const { value, grads } = tf.valueAndGrads((ww: tf.Tensor) => tf.sum(dense(a, ww, b)))([w]);
        tf.dispose([value, ...grads]);
      };
      run();
      const before = tf.memory().numTensors;
      for (let i = 0; i < 5; i++) run();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([a, w, b]);
    });
  });
}

describe('matMul and dense reject bad input', () => {
  it('names the argument and what it received', async () => {
    await tf.setBackend('cpu');
    const a = tf.zeros([2, 3]);
    const b = tf.zeros([3, 4]);
    expect(() => matMul(a, tf.zeros([2, 4]))).toThrow(
      /columns of a must match the rows of b.*\[2, 3\].*\[2, 4\]/,
    );
    expect(() => matMul(tf.zeros([2, 3, 1]), b)).toThrow(RangeError);
    expect(() => matMul(tf.zeros([2, 3, 1]), b)).toThrow(
      /a must be a matrix \(rank 2\), received a tensor of shape \[2, 3, 1\]/,
    );
    expect(() => matMul(a, tf.zeros([3]))).toThrow(/b must be a matrix/);
    expect(() => matMul(a, [[1]] as unknown as tf.Tensor)).toThrow(TypeError);
    expect(() => matMul(tf.zeros([2, 3], 'int32'), b)).toThrow(/a must have dtype float32, received int32/);
    expect(() => dense(a, b, tf.zeros([3]))).toThrow(
      /bias must be a tensor of shape \[4\], received a tensor of shape \[3\]/,
    );
    expect(() => dense(a, b, tf.zeros([1, 4]))).toThrow(RangeError);
    expect(() => matMul(a, b, { transposeA: true })).toThrow(
      /with transposeA, the rows of a must match the rows of b.*\[2, 3\].*\[3, 4\]/,
    );
    expect(() => matMul(a, tf.zeros([2, 4]), { transposeA: 1 as unknown as boolean })).toThrow(TypeError);
    expect(() => matMul(a, b, { transpose: true } as never)).toThrow(/transposeA/);
  });
});

describe('dense with an activation (one thread: the tfjs composition)', () => {
  for (const backendName of ['cpu', 'wasm'] as const) {
    it(`is act(x·W + b) with its gradients on ${backendName}`, async () => {
      await tf.setBackend(backendName);
      tf.tidy(() => {
        const x = tf.randomNormal([6, 5], 0, 1, 'float32', 21);
        const w = tf.randomNormal([5, 3], 0, 1, 'float32', 22);
        const b = tf.randomNormal([3], 0, 1, 'float32', 23);
        for (const [activation, act] of [
          ['relu', tf.relu],
          ['softplus', tf.softplus],
          ['linear', (t: tf.Tensor) => t],
        ] as const) {
          const ours = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
            tf.sum(tf.sin(dense(xx, ww, bb, { activation }))),
          )([x, w, b]);
          const theirs = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
            tf.sum(tf.sin(act(tf.add(tf.matMul(xx, ww), bb)))),
          )([x, w, b]);
          expect(relDiff(dense(x, w, b, { activation }), act(tf.add(tf.matMul(x, w), b)))).toBeLessThan(1e-6);
          for (let i = 0; i < 3; i++)
            expect(relDiff(ours[i] as tf.Tensor, theirs[i] as tf.Tensor)).toBeLessThan(1e-6);
        }
      });
    });
  }

  it('rejects an unknown activation or option', async () => {
    await tf.setBackend('cpu');
    const x = tf.zeros([2, 3]);
    const w = tf.zeros([3, 4]);
    const b = tf.zeros([4]);
    expect(() => dense(x, w, b, { activation: 'tanh' as 'relu' })).toThrow(
      /activation must be 'linear', 'relu' or 'softplus', received "tanh"/,
    );
    expect(() => dense(x, w, b, { activaton: 'relu' } as unknown as { activation: 'relu' })).toThrow(
      /unknown dense option "activaton"; did you mean "activation"/,
    );
    expect(() => dense(x, w, tf.zeros([4], 'int32'))).toThrow(/bias must have dtype float32, received int32/);
    tf.dispose([x, w, b]);
  });
});
