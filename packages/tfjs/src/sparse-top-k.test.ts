// The bound sparseTopK on the tfjs cpu and wasm backends: float32 against the
// float64 reference (same inputs, rounded to float32 first), tf.grad against
// central differences of the float64 forward pass and against the closed
// form, and no tensor leaks.
import { sparseTopK as sparseTopK64 } from '@dcem/core';
import { createFloat64Backend } from '@dcem/core/testing';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sparseTopK } from './api.js';
import { maxDiff } from './golden.test-utils.js';
import { centralDifferences } from './solver.test-utils.js';

const f64 = createFloat64Backend({ seed: 11 });

/** `count` standard-normal draws times `scale`, rounded to float32. */
function draws(count: number, seed: number, scale = 1): number[] {
  return Array.from(f64.readSync(f64.randomNormal([count], seed)), (v) => Math.fround(v * scale));
}

/** The float64 projection of the same numbers. */
function reference(
  values: readonly number[],
  shape: [number, number],
  k: number,
  temperature: number,
): number[] {
  return Array.from(f64.readSync(sparseTopK64(f64, f64.tensor(values, shape), k, { temperature })));
}

const rowSums = (v: ArrayLike<number>, n: number): number[] =>
  Array.from({ length: v.length / n }, (_, r) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += v[r * n + i] as number;
    return s;
  });

for (const backendName of ['cpu', 'wasm'] as const) {
  describe(`sparseTopK on the tfjs ${backendName} backend`, () => {
    beforeAll(async () => {
      expect(await tf.setBackend(backendName)).toBe(true);
    });
    afterAll(async () => {
      await tf.setBackend('cpu');
    });

    it('agrees with the float64 reference, rows sum to k, entries in [0, 1] with exact zeros', () => {
      for (const [batch, n, k, tau, scale] of [
        [4, 10, 3, 1, 1],
        [3, 200, 20, 0.5, 2],
        [2, 1000, 100, 0.1, 1],
        [2, 1000, 500, 3, 10],
        [5, 7, 6, 0.01, 1],
      ] as const) {
        const values = draws(batch * n, n + k, scale);
        const y = tf.tidy(() => sparseTopK(tf.tensor2d(values, [batch, n]), k, { temperature: tau }));
        const got = y.dataSync();
        y.dispose();
        const want = reference(values, [batch, n], k, tau);
        // float32 rounding of x/τ + ν (|x/τ| ≲ 40) and of the free-set sums
        // that give ν: ≲ n·ε₃₂·max|x/τ| in ν, far smaller in practice.
        expect(maxDiff(got, want)).toBeLessThan(2e-5 * Math.max(1, scale / tau));
        // In float32, ν = (k − |U| − Σ_F z)/|F| carries the rounding of the
        // float32 sum Σ_F z, and that error in ν moves each of the |F| free
        // entries: |Σy − k| is a few ε₃₂·(k + Σ_F |z|) (≈ 1e-4 for |F| ≈ 120;
        // float64 gets 1e-9, see core's tests). Bound: 8 ε₃₂ (k + Σ_F |z|).
        rowSums(got, n).forEach((s, r) => {
          const row = want.slice(r * n, (r + 1) * n);
          let mass = k;
          row.forEach((v, i) => {
            if (v > 0 && v < 1) mass += Math.abs((values[r * n + i] as number) / tau);
          });
          expect(Math.abs(s - k)).toBeLessThan(8 * 2 ** -23 * mass);
        });
        for (const v of got) {
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(1);
        }
        if (k < n - 1 && tau <= 1) expect(Array.from(got).filter((v) => v === 0).length).toBeGreaterThan(0);
      }
    });

    it('is the hard top-k once the gaps of x/τ are ≥ 1, and 1 everywhere for k ≥ n', () => {
      const x = tf.tensor2d([
        [3, -1, 2, 0.5, 7],
        [0, 1, 2, 3, 4],
      ]);
      const hard = sparseTopK(x, 2, { temperature: 0.1 });
      expect(Array.from(hard.dataSync())).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1, 1]);
      const all = sparseTopK(x, 5);
      expect(Array.from(all.dataSync())).toEqual(Array(10).fill(1));
      tf.dispose([x, hard, all]);
    });

    it('turns a row with NaN or ±∞ into NaN and leaves the others alone', () => {
      const rows = [
        [0.5, -1, 2, 0.25],
        [0.1, Number.NaN, 1, 2],
        [Number.POSITIVE_INFINITY, 0, 1, 2],
        [4, -2, 1.5, 0],
      ];
      const y = tf.tidy(() => sparseTopK(tf.tensor2d(rows), 2, { temperature: 0.7 }));
      const got = Array.from(y.dataSync());
      y.dispose();
      expect(got.slice(4, 12).every(Number.isNaN)).toBe(true);
      const want = reference([...(rows[0] as number[]), ...(rows[3] as number[])], [2, 4], 2, 0.7);
      expect(maxDiff([...got.slice(0, 4), ...got.slice(12)], want)).toBeLessThan(1e-6);
    });

    it('tf.grad matches central differences of the float64 forward pass and the closed form', () => {
      let checked = 0;
      fc.assert(
        fc.property(
          fc.integer({ min: 3, max: 12 }).chain((n) =>
            fc.record({
              n: fc.constant(n),
              k: fc.integer({ min: 1, max: n - 1 }),
              x: fc.array(
                fc.double({ min: -3, max: 3, noNaN: true }).map((v) => Math.fround(v)),
                { minLength: 2 * n, maxLength: 2 * n },
              ),
              w: fc.array(
                fc.double({ min: -2, max: 2, noNaN: true }).map((v) => Math.fround(v)),
                { minLength: 2 * n, maxLength: 2 * n },
              ),
              tau: fc.constantFrom(0.3, 1, 2.5),
            }),
          ),
          ({ n, k, x, w, tau }) => {
            const shape: [number, number] = [2, n];
            const y64 = reference(x, shape, k, tau);
            // Skip inputs within 1e-3 of a kink (an entry of x/τ + ν at 0 or 1,
            // where the gradient jumps): FD and float32 would straddle it.
            for (let r = 0; r < 2; r++) {
              const row = x.slice(r * n, (r + 1) * n).map((v) => v / tau);
              const yr = y64.slice(r * n, (r + 1) * n);
              const i = yr.findIndex((v) => v > 0 && v < 1);
              if (i >= 0) {
                const nu = (yr[i] as number) - (row[i] as number);
                for (const z of row) fc.pre(Math.min(Math.abs(z + nu), Math.abs(z + nu - 1)) > 1e-3);
              } else {
                const sorted = [...row].sort((a, c) => c - a);
                fc.pre((sorted[k - 1] as number) - (sorted[k] as number) - 1 > 1e-3);
              }
            }
            const wT = tf.tensor2d(w, shape);
            const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(wT, sparseTopK(xx, k, { temperature: tau }))));
            const xT = tf.tensor2d(x, shape);
            const dx = g(xT);
            const got = Array.from(dx.dataSync());
            tf.dispose([wT, xT, dx]);
            // Central differences of Σ w ⊙ y in float64 (exact on a linear piece).
            const loss = (v: number[]) =>
              reference(v, shape, k, tau).reduce((a, yi, i) => a + (w[i] as number) * yi, 0);
            const fd = centralDifferences(x, loss, 1e-6);
            // Closed form: dx = 1_F ⊙ (w − mean_F(w)) / τ.
            const closed = y64.map((yi, i) => {
              const r = Math.floor(i / n);
              const free = y64
                .slice(r * n, (r + 1) * n)
                .flatMap((v, j) => (v > 0 && v < 1 ? [w[r * n + j] as number] : []));
              if (!(yi > 0 && yi < 1)) return 0;
              const mean = free.reduce((a, c) => a + c, 0) / free.length;
              return ((w[i] as number) - mean) / tau;
            });
            expect(maxDiff(closed, fd)).toBeLessThan(1e-6);
            expect(maxDiff(got, closed)).toBeLessThan(1e-5);
            checked++;
          },
        ),
        { numRuns: 40 },
      );
      expect(checked).toBeGreaterThan(10);
    });

    it('leaks no tensors over 50 forward and gradient calls, nor when it throws', () => {
      const x = tf.tensor2d(draws(2 * 50, 3), [2, 50]);
      const w = tf.tensor2d(draws(2 * 50, 4), [2, 50]);
      const grad = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(w, sparseTopK(xx, 7, { temperature: 0.4 }))));
      const once = () => {
        const y = sparseTopK(x, 7, { temperature: 0.4 });
        const all = sparseTopK(x, 50);
        const g = grad(x);
        tf.dispose([y, all, g]);
      };
      once();
      const before = tf.memory().numTensors;
      for (let i = 0; i < 50; i++) once();
      expect(tf.memory().numTensors - before).toBe(0);
      expect(() => sparseTopK(x, 0)).toThrow(RangeError);
      expect(() => sparseTopK(x, 2, { temperature: -1 })).toThrow(/temperature must be > 0, received -1/);
      expect(() => sparseTopK(x, 2, { tau: 1 } as unknown as { temperature: number })).toThrow(TypeError);
      expect(tf.memory().numTensors - before).toBe(0);
      tf.dispose([x, w]);
    });
  });
}
