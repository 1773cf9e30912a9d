import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxDiff } from '../golden.test-utils.js';
import { closeThreads, setThreads } from '../threads/controls.js';
import { GRU_KERNELS, gruCell, gruCellComposed, gruCellSteps } from './gru.js';

/** Largest |a − b| relative to the largest |b| (1 when b is all zeros). */
function relDiff(a: tf.Tensor, b: tf.Tensor): number {
  const ref = Array.from(b.dataSync());
  const scale = Math.max(1, ...ref.map(Math.abs));
  return maxDiff(Array.from(a.dataSync()), ref) / scale;
}

/** The six arguments of a GRU cell of these sizes (scale: of the weights). */
function args(m: number, inputs: number, d: number, seed: number, scale = 0.5): tf.Tensor[] {
  return [
    tf.randomNormal([m, inputs], 0, 1, 'float32', seed),
    tf.randomNormal([m, d], 0, 1, 'float32', seed + 1),
    tf.randomNormal([inputs, 3 * d], 0, scale, 'float32', seed + 2),
    tf.randomNormal([d, 3 * d], 0, scale, 'float32', seed + 3),
    tf.randomNormal([3 * d], 0, scale, 'float32', seed + 4),
    tf.randomNormal([3 * d], 0, scale, 'float32', seed + 5),
  ];
}

type Cell = (
  x: tf.Tensor,
  h: tf.Tensor,
  wx: tf.Tensor,
  wh: tf.Tensor,
  bx: tf.Tensor,
  bh: tf.Tensor,
) => tf.Tensor;

/** A smooth scalar of the cell's output, with a fixed weighting. */
function lossOf(cell: Cell, w: tf.Tensor) {
  return (x: tf.Tensor, h: tf.Tensor, wx: tf.Tensor, wh: tf.Tensor, bx: tf.Tensor, bh: tf.Tensor) =>
    tf.sum(tf.mul(tf.sin(cell(x, h, wx, wh, bx, bh)), w));
}

const ARG_NAMES = ['x', 'h', 'wx', 'wh', 'bx', 'bh'];

for (const backendName of ['cpu', 'wasm'] as const) {
  for (const threadCount of [1, 2]) {
    describe(`gruCell on ${backendName}, ${threadCount} thread(s)`, () => {
      beforeAll(async () => {
        expect(await tf.setBackend(backendName)).toBe(true);
        await setThreads(threadCount);
      });
      afterAll(async () => {
        await setThreads(undefined);
        await closeThreads();
      });

      // Rows across several chunks, state sizes that are not multiples of 4, single rows.
      const shapes: Array<[number, number, number]> = [
        [5, 3, 4],
        [1, 7, 3],
        [9, 6, 5],
        [70, 17, 13],
        [4, 1, 2],
      ];
      for (const [m, inputs, d] of shapes) {
        it(`has the composition's value and gradients at batch ${m}, in ${inputs}, D ${d}`, () => {
          tf.tidy(() => {
            const a = args(m, inputs, d, 10 * m + d);
            const w = tf.randomNormal([m, d], 0, 1, 'float32', 99);
            const [x, h, wx, wh, bx, bh] = a as [
              tf.Tensor,
              tf.Tensor,
              tf.Tensor,
              tf.Tensor,
              tf.Tensor,
              tf.Tensor,
            ];
            expect(
              relDiff(gruCell(x, h, wx, wh, bx, bh), gruCellComposed(x, h, wx, wh, bx, bh)),
            ).toBeLessThan(2e-6);
            const ours = tf.grads(lossOf(gruCell, w))(a);
            const theirs = tf.grads(lossOf(gruCellComposed, w))(a);
            for (let i = 0; i < 6; i++) {
              expect(relDiff(ours[i] as tf.Tensor, theirs[i] as tf.Tensor), ARG_NAMES[i]).toBeLessThan(5e-6);
            }
          });
        });
      }

      it('runs its own kernels here (not the composition)', async () => {
        const a = args(3, 2, 4, 5);
        const w = tf.ones([3, 4]);
        const profile = await tf.profile(() => {
          const { value, grads } = tf.valueAndGrads(lossOf(gruCell, w))(a);
          tf.dispose([value, ...grads]);
        });
        const names = profile.kernels.map((k) => k.name);
        expect(names).toContain(GRU_KERNELS.forward);
        expect(names).toContain(GRU_KERNELS.backward);
        expect(names).not.toContain('Tanh');
        tf.dispose([...a, w]);
      });

      it('follows a variable whose value changes between backward passes', () => {
        const [x, h, wx0, wh0, bx, bh] = args(6, 4, 5, 21) as [
          tf.Tensor,
          tf.Tensor,
          tf.Tensor,
          tf.Tensor,
          tf.Tensor,
          tf.Tensor,
        ];
        const wx = tf.variable(wx0);
        const wh = tf.variable(wh0);
        const w = tf.randomNormal([6, 5], 0, 1, 'float32', 22);
        for (let round = 0; round < 3; round++) {
          tf.tidy(() => {
            const grads = (cell: Cell) =>
              tf.grads((a: tf.Tensor, b: tf.Tensor) => lossOf(cell, w)(a, b, wx, wh, bx, bh))([x, h]);
            const ours = grads(gruCell);
            const theirs = grads(gruCellComposed);
            for (let i = 0; i < 2; i++)
              expect(relDiff(ours[i] as tf.Tensor, theirs[i] as tf.Tensor)).toBeLessThan(5e-6);
          });
          wx.assign(tf.tidy(() => tf.mul(wx, -1.5)));
          wh.assign(tf.tidy(() => tf.add(wh, 0.25)));
        }
        tf.dispose([x, h, wx0, wh0, bx, bh, wx, wh, w]);
      });

      it('gruCellSteps: the forward step is gruCell bit for bit; the backward step gives the gradients of the composition (the weights through xᵀ·dgx, hᵀ·dgh and column sums)', () => {
        for (const [m, inputs, d] of [
          [5, 3, 4],
          [70, 17, 13],
        ] as Array<[number, number, number]>) {
          const before = tf.memory().numTensors;
          tf.tidy(() => {
            const steps = gruCellSteps(m, inputs, d);
            expect(steps).toBeDefined();
            if (steps === undefined) return;
            const a = args(m, inputs, d, 7 * m + d);
            const [x, h, wx, wh, bx, bh] = a as [
              tf.Tensor,
              tf.Tensor,
              tf.Tensor,
              tf.Tensor,
              tf.Tensor,
              tf.Tensor,
            ];
            const dy = tf.randomNormal([m, d], 0, 1, 'float32', 5);
            const step = steps.forward(x, h, wx, wh, bx, bh);
            expect(step.gates.shape).toEqual([m, 4 * d]);
            expect(Array.from(step.h.dataSync())).toEqual(
              Array.from(gruCell(x, h, wx, wh, bx, bh).dataSync()),
            );
            const g = steps.backward(x, h, wx, wh, step.gates, dy);
            expect(g.dgx.shape).toEqual([m, 3 * d]);
            expect(g.dgh.shape).toEqual([m, 3 * d]);
            // The reference: the composition's vector-Jacobian product with dy.
            const vjp = tf.grads((...v: tf.Tensor[]) =>
              tf.sum(
                tf.mul(
                  gruCellComposed(
                    v[0] as tf.Tensor,
                    v[1] as tf.Tensor,
                    v[2] as tf.Tensor,
                    v[3] as tf.Tensor,
                    v[4] as tf.Tensor,
                    v[5] as tf.Tensor,
                  ),
                  dy,
                ),
              ),
            )(a);
            const mine = [
              g.dx,
              g.dh,
              tf.matMul(x, g.dgx, true, false),
              tf.matMul(h, g.dgh, true, false),
              tf.sum(g.dgx, 0),
              tf.sum(g.dgh, 0),
            ];
            for (let i = 0; i < 6; i++) {
              expect(relDiff(mine[i] as tf.Tensor, vjp[i] as tf.Tensor), ARG_NAMES[i]).toBeLessThan(5e-6);
            }
          });
          expect(tf.memory().numTensors).toBe(before);
        }
      });

      it('leaks no tensors over repeated forward and backward calls', () => {
        const a = args(6, 4, 5, 3);
        const w = tf.ones([6, 5]);
        const run = () => {
          tf.dispose(gruCell(...(a as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor])));
          const { value, grads } = tf.valueAndGrads(lossOf(gruCell, w))(a);
          tf.dispose([value, ...grads]);
        };
        run();
        const before = tf.memory().numTensors;
        for (let i = 0; i < 4; i++) run();
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose([...a, w]);
      });
    });
  }
}

describe('gruCell', () => {
  it('gives the same bits on one thread and on two', async () => {
    await tf.setBackend('wasm');
    const a = args(70, 9, 12, 41);
    const w = tf.randomNormal([70, 12], 0, 1, 'float32', 42);
    const run = () =>
      tf.tidy(() => {
        const { value, grads } = tf.valueAndGrads(lossOf(gruCell, w))(a);
        return [value, ...grads].map((t) => Array.from(t.dataSync()));
      });
    await setThreads(1);
    const one = run();
    await setThreads(2);
    const two = run();
    await setThreads(undefined);
    await closeThreads();
    expect(two).toEqual(one);
    tf.dispose([...a, w]);
  });

  it('has the gradient of central finite differences (float64 on the host)', async () => {
    await tf.setBackend('cpu');
    await setThreads(1);
    const [m, inputs, d] = [2, 3, 2];
    const a = args(m, inputs, d, 7, 0.8);
    const w = tf.randomNormal([m, d], 0, 1, 'float32', 8);
    const grads = tf
      .grads(lossOf(gruCell, w))(a)
      .map((g) => Array.from(g.dataSync()));
    // The loss in float64, written out on plain arrays.
    const values = a.map((t) => Array.from(t.dataSync()));
    const wv = Array.from(w.dataSync());
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    const loss64 = (v: number[][]) => {
      const [x, h, wx, wh, bx, bh] = v as [number[], number[], number[], number[], number[], number[]];
      let total = 0;
      for (let i = 0; i < m; i++) {
        const gx = (c: number) => {
          let s = bx[c] as number;
          for (let p = 0; p < inputs; p++) s += (x[i * inputs + p] as number) * (wx[p * 3 * d + c] as number);
          return s;
        };
        const gh = (c: number) => {
          let s = bh[c] as number;
          for (let p = 0; p < d; p++) s += (h[i * d + p] as number) * (wh[p * 3 * d + c] as number);
          return s;
        };
        for (let j = 0; j < d; j++) {
          const r = sig(gx(j) + gh(j));
          const z = sig(gx(d + j) + gh(d + j));
          const n = Math.tanh(gx(2 * d + j) + r * gh(2 * d + j));
          const out = (1 - z) * n + z * (h[i * d + j] as number);
          total += Math.sin(out) * (wv[i * d + j] as number);
        }
      }
      return total;
    };
    const eps = 1e-4;
    for (let arg = 0; arg < 6; arg++) {
      const entries = values[arg] as number[];
      for (let e = 0; e < entries.length; e++) {
        const plus = values.map((v) => [...v]);
        const minus = values.map((v) => [...v]);
        (plus[arg] as number[])[e] = (entries[e] as number) + eps;
        (minus[arg] as number[])[e] = (entries[e] as number) - eps;
        const fd = (loss64(plus) - loss64(minus)) / (2 * eps);
        expect(
          Math.abs(((grads[arg] as number[])[e] as number) - fd),
          `${ARG_NAMES[arg]}[${e}]`,
        ).toBeLessThan(2e-5 * (1 + Math.abs(fd)));
      }
    }
    await setThreads(undefined);
    tf.dispose([...a, w]);
  });

  it('rejects bad arguments with typed errors that name them', async () => {
    await tf.setBackend('cpu');
    const [x, h, wx, wh, bx, bh] = args(2, 3, 4, 1) as [
      tf.Tensor,
      tf.Tensor,
      tf.Tensor,
      tf.Tensor,
      tf.Tensor,
      tf.Tensor,
    ];
    expect(() => gruCell([[1]] as unknown as tf.Tensor, h, wx, wh, bx, bh)).toThrow(TypeError);
    expect(() => gruCell([[1]] as unknown as tf.Tensor, h, wx, wh, bx, bh)).toThrow(
      /gruCell: x must be a tf.Tensor/,
    );
    expect(() => gruCell(x, tf.zeros([2, 4], 'int32'), wx, wh, bx, bh)).toThrow(
      /gruCell: h must have dtype float32, received int32/,
    );
    expect(() => gruCell(x, h, wx, wh, tf.zeros([1, 12]), bh)).toThrow(RangeError);
    expect(() => gruCell(x, h, wx, wh, tf.zeros([1, 12]), bh)).toThrow(/bx must have rank 1/);
    expect(() => gruCell(x, h, tf.zeros([3, 11]), wh, bx, bh)).toThrow(
      /gruCell: wx must have shape \[3, 12\], received \[3, 11\]/,
    );
    expect(() => gruCell(x, tf.zeros([3, 4]), wx, wh, bx, bh)).toThrow(/h must have shape \[2, 4\]/);
    expect(() => gruCell(x, h, wx, tf.zeros([4, 4]), bx, bh)).toThrow(/wh must have shape \[4, 12\]/);
    expect(() => gruCell(x, h, wx, wh, bx, tf.zeros([13]))).toThrow(/bh must have shape \[12\]/);
    tf.dispose([x, h, wx, wh, bx, bh]);
  });
});
