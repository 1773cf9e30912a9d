/**
 * The elite selectors of the `selector` option on the float64 backend: every
 * one returns weights ≥ 0 whose rows sum to k, with its own formula.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SELECTOR_NAMES } from './selector-names.js';
import { eliteSoftmaxWeights, scaledSoftmaxWeights, selectWeights, sparseWeights } from './selectors.js';
import { createFloat64Backend, type Float64Tensor } from './testing/index.js';

const b = createFloat64Backend();
type T = Float64Tensor;
const read = (x: T): number[] => Array.from(b.readSync(x));

/** Rows of [batch, n] scores with distinct entries, k and τ. */
const cases = fc
  .record({
    batch: fc.integer({ min: 1, max: 3 }),
    n: fc.integer({ min: 3, max: 12 }),
    kFraction: fc.double({ min: 0, max: 0.99, noNaN: true }),
    tau: fc.double({ min: 0.05, max: 5, noNaN: true }),
    seed: fc.integer({ min: 0, max: 1000 }),
  })
  .map(({ batch, n, kFraction, tau, seed }) => {
    const k = 1 + Math.floor(kFraction * (n - 1));
    const scores = read(b.randomNormal([batch, n], seed)).map((v, i) => v * 2 + i * 1e-9);
    return { batch, n, k, tau, scores };
  });

function rows(values: readonly number[], n: number): number[][] {
  return Array.from({ length: values.length / n }, (_, r) => values.slice(r * n, (r + 1) * n));
}
const sum = (xs: readonly number[]) => xs.reduce((a, c) => a + c, 0);
const topK = (row: readonly number[], k: number) =>
  row
    .map((v, i) => [v, i] as const)
    .sort((x, y) => y[0] - x[0] || x[1] - y[1])
    .slice(0, k)
    .map((p) => p[1]);

describe('every built-in selector', () => {
  for (const name of SELECTOR_NAMES) {
    it(`${name}: weights in [0, k], rows sum to k`, () => {
      fc.assert(
        fc.property(cases, ({ batch, n, k, tau, scores }) => {
          const w = read(
            selectWeights(b, b.tensor(scores, [batch, n]), k, name, name === 'hard' ? null : tau, 60),
          );
          for (const row of rows(w, n)) {
            expect(Math.abs(sum(row) - k)).toBeLessThan(1e-6 * k);
            for (const v of row) {
              expect(v).toBeGreaterThanOrEqual(0);
              expect(v).toBeLessThanOrEqual(k + 1e-9);
            }
          }
        }),
        { numRuns: 40 },
      );
    });
  }
});

describe("'softmax' (MPPI)", () => {
  it('is k · e^{s/τ} / Σ e^{s/τ} over every sample', () => {
    fc.assert(
      fc.property(cases, ({ batch, n, k, tau, scores }) => {
        const w = rows(read(scaledSoftmaxWeights(b, b.tensor(scores, [batch, n]), k, tau)), n);
        rows(scores, n).forEach((s, r) => {
          const e = s.map((v) => Math.exp(v / tau));
          const z = sum(e);
          e.forEach((v, i) => {
            expect((w[r] as number[])[i]).toBeCloseTo((k * v) / z, 12);
          });
        });
      }),
      { numRuns: 40 },
    );
  });
});

describe("'elite-softmax' (TD-MPC2)", () => {
  it('is zero outside the k best and k · softmax(s/τ) over them', () => {
    fc.assert(
      fc.property(cases, ({ batch, n, k, tau, scores }) => {
        const w = rows(read(eliteSoftmaxWeights(b, b.tensor(scores, [batch, n]), k, tau)), n);
        rows(scores, n).forEach((s, r) => {
          const top = topK(s, k);
          const z = sum(top.map((i) => Math.exp((s[i] as number) / tau)));
          s.forEach((v, i) => {
            const expected = top.includes(i) ? (k * Math.exp(v / tau)) / z : 0;
            expect((w[r] as number[])[i]).toBeCloseTo(expected, 12);
          });
        });
      }),
      { numRuns: 40 },
    );
  });
});

describe("'sparse'", () => {
  it('is the capped-simplex projection: exact zeros far below, exact ones far above', () => {
    const w = read(sparseWeights(b, b.tensor([5, 4, 0.2, 0.1, -3, -4], [1, 6]), 2, 1));
    expect(w[0]).toBe(1);
    expect(w[1]).toBe(1);
    expect(w.slice(2)).toEqual([0, 0, 0, 0]);
    expect(sum(w)).toBe(2);
  });
});

describe("'hard' and the rule without a selector", () => {
  it("'hard' is the indicator of the k best", () => {
    const w = read(selectWeights(b, b.tensor([0.3, 2, -1, 1.5], [1, 4]), 2, 'hard', null));
    expect(w).toEqual([0, 1, 0, 1]);
  });
  it('an unknown name is a TypeError naming it', () => {
    const s = b.tensor([0, 1], [1, 2]);
    expect(() => selectWeights(b, s, 1, 'top' as never, 1)).toThrow(TypeError);
    expect(() => selectWeights(b, s, 1, 'top' as never, 1)).toThrow(/received "top"/);
    expect(() => selectWeights(b, s, 1, 'lml', null)).toThrow(/selector "lml" needs a temperature > 0/);
  });
});
