// The fused kernels (registry.ts and the kernel files beside it) against the generic composition of
// tfjs ops they replace, on the tfjs cpu and wasm backends, at the shapes of
// the benchmark configurations (bench/configs.mjs): forward values and
// gradients. The golden tests (golden-*.test.ts) run the fused path too,
// since it is the default on cpu. No timing here: bench/ measures speed.
import {
  type Backend,
  dcem,
  fitDiagonalGaussian,
  lml,
  sampleDiagonalGaussian,
  valuesToScores,
} from '@dcem/core';
import { updateBest } from '@dcem/core/testing';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTfjsBackend, type Tensor } from '../backend.js';
import { maxDiff } from '../golden.test-utils.js';
import { FUSED_KERNELS, WASM_SAMPLE_LIMIT } from './registry.js';

const fast = createTfjsBackend(tf);
const generic = createTfjsBackend(tf, { fused: false });

/** Kernel names that ran inside `fn`. */
async function kernelsOf(fn: () => Tensor | Tensor[]): Promise<Set<string>> {
  const info = await tf.profile(() => {
    const out = fn();
    tf.dispose(out);
  });
  return new Set(info.kernels.map((k) => k.name));
}

/** max |a − b| / max(1, max |b|). */
function relDiff(a: Tensor, b: Tensor): number {
  const bv = b.dataSync();
  let scale = 1;
  for (const v of bv) scale = Math.max(scale, Math.abs(v));
  return maxDiff(a.dataSync(), bv) / scale;
}

/** Value and gradients of `f` with respect to `xs`, kept out of any tidy. */
function valueAndGrads(f: (...xs: Tensor[]) => Tensor, xs: Tensor[]): { value: Tensor; grads: Tensor[] } {
  return tf.tidy(() => tf.valueAndGrads((...a: Tensor[]) => f(...a))(xs));
}

function normal(shape: number[], seed: number, scale = 1): Tensor {
  return tf.tidy(() => tf.mul(tf.randomNormal(shape, 0, 1, 'float32', seed), scale));
}

// Float32 tolerances. Both paths round to float32; the fused kernels
// accumulate in float64, the generic ops in float32, so they differ by a few
// float32 ulps per operation (ε₃₂ ≈ 1.2e-7). Element-wise maps are
// bit-identical; reductions over ≤ 1000 entries differ by ≲ 1e-6 relative.
const TOL_VALUE = 2e-6;
const TOL_GRAD = 1e-5;

beforeAll(async () => {
  expect(await tf.setBackend('cpu')).toBe(true);
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

for (const backendName of ['cpu', 'wasm'] as const) {
  describe(`fused kernels equal the generic ops on the tfjs ${backendName} backend`, () => {
    it('selects itself: cpu and wasm run the fused kernels, and fused: false does not', async () => {
      expect(await tf.setBackend(backendName)).toBe(true);
      const x = normal([4, 10], 1);
      expect((await kernelsOf(() => lml(fast, x, 3))).has(FUSED_KERNELS.lml)).toBe(true);
      expect((await kernelsOf(() => lml(generic, x, 3))).has(FUSED_KERNELS.lml)).toBe(false);
      x.dispose();
    });

    for (const [batch, n, k, tau] of [
      [64, 100, 10, 1],
      [256, 1000, 100, 1],
      [100, 100, 10, 0.5],
      [3, 40, 7, 0.05],
    ] as const) {
      it(`lml on [${batch}, ${n}], k = ${k}, τ = ${tau}: values and gradient`, async () => {
        expect(await tf.setBackend(backendName)).toBe(true);
        const x = normal([batch, n], 10 + n, 2);
        const w = normal([batch, n], 20 + n);
        const loss = (b: Backend<Tensor>) => (xx: Tensor) =>
          tf.sum(tf.mul(lml(b, xx, k, { temperature: tau }), w));
        const a = valueAndGrads(loss(fast), [x]);
        const g = valueAndGrads(loss(generic), [x]);
        const ya = lml(fast, x, k, { temperature: tau });
        const yg = lml(generic, x, k, { temperature: tau });
        expect(maxDiff(ya.dataSync(), yg.dataSync())).toBeLessThanOrEqual(TOL_VALUE);
        expect(relDiff(a.grads[0] as Tensor, g.grads[0] as Tensor)).toBeLessThanOrEqual(TOL_GRAD / tau);
        tf.dispose([x, w, ya, yg, a.value, g.value, ...a.grads, ...g.grads]);
      });
    }

    it('lml: a row holding NaN or ±∞ is NaN on both paths, the other rows agree', async () => {
      expect(await tf.setBackend(backendName)).toBe(true);
      // A NaN anywhere in the row (it never moves a max or a min: the first
      // entry was once missed), and ±∞.
      const x = tf.tensor2d([
        [1, 2, Number.NaN, 0, 5],
        [1, 2, 3, 0, 5],
        [Number.POSITIVE_INFINITY, 0, 1, 2, 5],
        [Number.NaN, 1, 2, 3, 0],
        [1, 2, 3, 0, Number.NaN],
        [1, Number.NEGATIVE_INFINITY, 3, 0, 4],
      ]);
      const a = lml(fast, x, 2).arraySync() as number[][];
      const g = lml(generic, x, 2).arraySync() as number[][];
      for (const row of [0, 2, 3, 4, 5]) {
        expect(a[row]?.every(Number.isNaN)).toBe(true);
        expect(g[row]?.every(Number.isNaN)).toBe(true);
      }
      expect(maxDiff(a[1] as number[], g[1] as number[])).toBeLessThanOrEqual(TOL_VALUE);
      x.dispose();
    });

    for (const normalize of [true, false]) {
      it(`scores (normalize ${normalize}) on [64, 100] and [100, 100]: values, counts and gradient`, async () => {
        expect(await tf.setBackend(backendName)).toBe(true);
        for (const [batch, n] of [
          [64, 100],
          [100, 100],
        ] as const) {
          const values = normal([batch, n], 30 + batch, 5);
          const up = normal([batch, n], 40 + batch);
          const loss = (b: Backend<Tensor>) => (v: Tensor) =>
            tf.sum(tf.mul(valuesToScores(b, v, { normalize, temperature: 1 }).scores, up));
          const a = valueAndGrads(loss(fast), [values]);
          const g = valueAndGrads(loss(generic), [values]);
          expect(relDiff(a.value, g.value)).toBeLessThanOrEqual(TOL_VALUE);
          expect(relDiff(a.grads[0] as Tensor, g.grads[0] as Tensor)).toBeLessThanOrEqual(TOL_GRAD);
          tf.dispose([values, up, a.value, g.value, ...a.grads, ...g.grads]);
        }
      });
    }

    it('scores with non-finite values: same scores and count on both paths', async () => {
      expect(await tf.setBackend(backendName)).toBe(true);
      const v = [
        [3, Number.NaN, 1, 2, Number.POSITIVE_INFINITY],
        [Number.NaN, Number.NaN, Number.NaN, Number.NaN, Number.NaN],
        [0.5, -1, Number.NEGATIVE_INFINITY, 2, 1],
      ];
      const values = tf.tensor2d(v);
      for (const normalize of [true, false]) {
        for (const temperature of [1, 0.25, null]) {
          const a = valuesToScores(fast, values, { normalize, temperature });
          const g = valuesToScores(generic, values, { normalize, temperature });
          expect(maxDiff(a.scores.dataSync(), g.scores.dataSync())).toBeLessThanOrEqual(1e-5);
          expect(a.nonFinite.dataSync()[0]).toBe(8);
          expect(g.nonFinite.dataSync()[0]).toBe(8);
          tf.dispose([a.scores, a.nonFinite, g.scores, g.nonFinite]);
        }
      }
      values.dispose();
    });

    // Gradients with respect to μ, σ and ε (tfjs's own gradient of a
    // broadcast max/min fails for the bound operand, so the generic path
    // cannot give the bounds' gradients to compare with; see the next test).
    for (const [batch, count, dim] of [
      [64, 100, 32],
      [100, 100, 1],
      [1, 100, 2],
    ] as const) {
      for (const bounds of ['none', 'scalar', 'per-row'] as const) {
        it(`sampling [${batch}, ${count}, ${dim}] with bounds ${bounds}: bit-identical samples, equal gradients`, async () => {
          expect(await tf.setBackend(backendName)).toBe(true);
          const mean = normal([batch, dim], 50, 0.5);
          const std = tf.tidy(() => tf.add(tf.abs(normal([batch, dim], 51)), 0.1));
          const noise = normal([batch, count, dim], 52);
          const up = normal([batch, count, dim], 53);
          const lower =
            bounds === 'none'
              ? undefined
              : bounds === 'scalar'
                ? tf.fill([1, dim], -0.7)
                : normal([batch, dim], 54, 0.3);
          const upper =
            bounds === 'none'
              ? undefined
              : bounds === 'scalar'
                ? tf.fill([1, dim], 0.9)
                : tf.add(lower as Tensor, 1);
          const owned = [mean, std, noise, up, ...(lower === undefined ? [] : [lower, upper as Tensor])];
          const probe = fast.fused?.sample?.(mean, std, noise, lower, upper);
          if (probe === undefined) {
            // Large bounded samples on wasm use the backend's SIMD kernels instead
            // (unbounded ones run in this package's WebAssembly kernel).
            expect(
              backendName === 'wasm' && bounds !== 'none' && batch * count * dim > WASM_SAMPLE_LIMIT,
            ).toBe(true);
            tf.dispose(owned);
            return;
          }
          probe.dispose();
          const sampleFast = (m: Tensor, s: Tensor, e: Tensor) =>
            fast.fused?.sample?.(m, s, e, lower, upper) as Tensor;
          const sampleGeneric = (m: Tensor, s: Tensor, e: Tensor) => {
            const per = (t?: Tensor) =>
              t === undefined ? undefined : tf.reshape(t, [t.shape[0] ?? 1, 1, dim]);
            let x = sampleDiagonalGaussian(generic, m, s, e);
            const l = per(lower);
            const h = per(upper);
            if (l !== undefined) x = tf.maximum(x, l);
            if (h !== undefined) x = tf.minimum(x, h);
            return x;
          };
          const params = [mean, std, noise];
          const a = valueAndGrads((m, s, e) => tf.sum(tf.mul(sampleFast(m, s, e), up)), params);
          const g = valueAndGrads((m, s, e) => tf.sum(tf.mul(sampleGeneric(m, s, e), up)), params);
          const xa = sampleFast(mean, std, noise);
          const xg = sampleGeneric(mean, std, noise);
          expect(Array.from(xa.dataSync())).toEqual(Array.from(xg.dataSync()));
          a.grads.forEach((grad, i) => {
            expect(relDiff(grad, g.grads[i] as Tensor)).toBeLessThanOrEqual(TOL_GRAD);
          });
          tf.dispose([...owned, xa, xg, a.value, g.value, ...a.grads, ...g.grads]);
        });
      }
    }

    it('sampling: the gradient of a bound is the upstream gradient of the samples clamped to it', async () => {
      expect(await tf.setBackend(backendName)).toBe(true);
      // One row, three samples of two coordinates; lower −1, upper 1.
      const mean = tf.tensor2d([[0, 0.5]]);
      const std = tf.tensor2d([[1, 2]]);
      const noise = tf.tensor3d([
        [
          [-2, 1],
          [0.5, -1],
          [3, 0.1],
        ],
      ]); // raw: (−2, 2.5), (0.5, −1.5), (3, 0.7)
      const up = tf.tensor3d([
        [
          [1, 2],
          [3, 4],
          [5, 6],
        ],
      ]);
      const lower = tf.fill([1, 2], -1);
      const upper = tf.fill([1, 2], 1);
      const grads = tf.grads((lo: Tensor, hi: Tensor, m: Tensor) =>
        tf.sum(tf.mul(fast.fused?.sample?.(m, std, noise, lo, hi) as Tensor, up)),
      )([lower, upper, mean]);
      expect(Array.from((grads[0] as Tensor).dataSync())).toEqual([1, 4]); // (−2 → −1) and (−1.5 → −1)
      expect(Array.from((grads[1] as Tensor).dataSync())).toEqual([5, 2]); // (3 → 1) and (2.5 → 1)
      expect(Array.from((grads[2] as Tensor).dataSync())).toEqual([3, 6]); // the unclamped ones
      tf.dispose([mean, std, noise, up, lower, upper, ...grads]);
    });

    for (const [batch, count, dim] of [
      [64, 100, 32],
      [100, 100, 1],
      [1, 100, 2],
    ] as const) {
      it(`refit of [${batch}, ${count}, ${dim}] samples with LML weights: values and gradients`, async () => {
        expect(await tf.setBackend(backendName)).toBe(true);
        const samples = normal([batch, count, dim], 60 + dim, 2);
        const scores = normal([batch, count], 61 + dim);
        const upMean = normal([batch, dim], 62);
        const upStd = normal([batch, dim], 63);
        const loss = (b: Backend<Tensor>) => (x: Tensor, s: Tensor) => {
          const w = lml(b, s, 10);
          const { mean, std } = fitDiagonalGaussian(b, x, w, 10, 1e-6);
          return tf.add(tf.sum(tf.mul(mean, upMean)), tf.sum(tf.mul(std, upStd)));
        };
        const a = valueAndGrads(loss(fast), [samples, scores]);
        const g = valueAndGrads(loss(generic), [samples, scores]);
        expect(relDiff(a.value, g.value)).toBeLessThanOrEqual(TOL_VALUE);
        a.grads.forEach((grad, i) => {
          expect(relDiff(grad, g.grads[i] as Tensor)).toBeLessThanOrEqual(TOL_GRAD);
        });
        tf.dispose([samples, scores, upMean, upStd, a.value, g.value, ...a.grads, ...g.grads]);
      });
    }

    it('best-sample update: ties, NaN and ±∞, strict improvement; equal values and gradients', async () => {
      expect(await tf.setBackend(backendName)).toBe(true);
      const [batch, count, dim] = [5, 4, 3];
      const samples = normal([batch, count, dim], 80);
      // Row 0: a tie (the first wins); row 1: NaN where the score is largest
      // (its value counts as +∞); row 2: all values non-finite; row 3: a
      // candidate equal to the previous best (kept: not strictly better);
      // row 4: a strictly better candidate.
      const scores = tf.tensor2d([
        [1, 3, 3, 0],
        [5, 1, 0, 2],
        [0, 0, 0, 0],
        [2, 1, 0, 0],
        [0, 0, 4, 1],
      ]);
      const values = tf.tensor2d([
        [4, 1, 1, 5],
        [Number.NaN, 2, 3, 1],
        [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN],
        [0.5, 1, 2, 2],
        [3, 3, -1, 2],
      ]);
      const previous = { sample: normal([batch, dim], 81), value: tf.tensor1d([0, 9, 1, 0.5, 0]) };
      const upS = normal([batch, dim], 82);
      const upV = tf.tensor1d([1, 2, 3, 4, 5]);
      for (const withPrevious of [false, true]) {
        const loss = (b: Backend<Tensor>) => (x: Tensor, v: Tensor, ps?: Tensor, pv?: Tensor) => {
          const r = updateBest(b, x, scores, v, ps && pv ? { sample: ps, value: pv } : undefined);
          const finiteValue = tf.where(tf.isFinite(r.value), r.value, tf.zerosLike(r.value));
          return tf.add(tf.sum(tf.mul(r.sample, upS)), tf.sum(tf.mul(finiteValue, upV)));
        };
        const plain = (b: Backend<Tensor>) =>
          tf.tidy(() => {
            const r = updateBest(b, samples, scores, values, withPrevious ? previous : undefined);
            return [r.sample, r.value];
          });
        const [fs, fv] = plain(fast) as [Tensor, Tensor];
        const [gs, gv] = plain(generic) as [Tensor, Tensor];
        expect(Array.from(fs.dataSync())).toEqual(Array.from(gs.dataSync()));
        expect(Array.from(fv.dataSync())).toEqual(Array.from(gv.dataSync()));
        const expected = withPrevious
          ? [0, 9, 1, 0.5, -1]
          : [1, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, 0.5, -1];
        expect(Array.from(fv.dataSync())).toEqual(expected);
        const inputs = withPrevious ? [samples, values, previous.sample, previous.value] : [samples, values];
        const a = valueAndGrads(loss(fast), inputs);
        const g = valueAndGrads(loss(generic), inputs);
        expect(a.value.dataSync()[0]).toBe(g.value.dataSync()[0]);
        // The same numbers (the generic path's masked products give −0 where the fused one writes 0).
        const entries = (t: Tensor) => Array.from(t.dataSync(), (v) => v + 0);
        a.grads.forEach((grad, i) => {
          expect(entries(grad)).toEqual(entries(g.grads[i] as Tensor));
        });
        const kernels = await kernelsOf(() => plain(fast));
        expect(kernels.has(FUSED_KERNELS.best)).toBe(true);
        tf.dispose([fs, fv, gs, gv, a.value, g.value, ...a.grads, ...g.grads]);
      }
      tf.dispose([samples, scores, values, previous.sample, previous.value, upS, upV]);
    });

    // Whole DCEM solves at the benchmark shapes. Ten iterations compound the
    // float32 differences of the two paths (each iteration's samples depend
    // on the previous mean and σ), hence the looser bounds.
    const solves = [
      { name: 'dcem_quadratic shape', batch: 64, dim: 32, initStd: 1, bounds: false },
      { name: 'dcem_regression shape', batch: 100, dim: 1, initStd: 7, bounds: false },
      { name: 'dcem_cartpole_embed shape', batch: 1, dim: 2, initStd: 0.5, bounds: true },
    ];
    for (const c of solves) {
      it(`dcem (${c.name}): solution and gradient`, async () => {
        expect(await tf.setBackend(backendName)).toBe(true);
        const q = tf.tidy(() => tf.add(tf.abs(normal([c.batch, 1, c.dim], 70)), 0.5));
        const p = normal([c.batch, c.dim], 71);
        const w = normal([c.batch, c.dim], 72);
        const solve = (b: Backend<Tensor>) => (pp: Tensor) => {
          const p3 = tf.reshape(pp, [c.batch, 1, c.dim]);
          const r = dcem(b, (x) => tf.sum(tf.add(tf.mul(tf.mul(q, 0.5), tf.square(x)), tf.mul(p3, x)), -1), {
            dim: c.dim,
            batchSize: c.batch,
            numSamples: 100,
            numElites: 10,
            numIterations: 10,
            initStd: c.initStd,
            seed: 7,
            ...(c.bounds ? { lowerBound: -1, upperBound: 1 } : {}),
          });
          expect(r.iterations).toBe(10);
          return tf.sum(tf.mul(w, r.solution));
        };
        const a = valueAndGrads(solve(fast), [p]);
        const g = valueAndGrads(solve(generic), [p]);
        expect(relDiff(a.value, g.value)).toBeLessThanOrEqual(1e-5);
        expect(relDiff(a.grads[0] as Tensor, g.grads[0] as Tensor)).toBeLessThanOrEqual(1e-4);
        tf.dispose([q, p, w, a.value, g.value, ...a.grads, ...g.grads]);
      });
    }
  });
}
