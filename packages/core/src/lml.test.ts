/**
 * Behaviour tests of `@dcem/lml` on the float64 reference backend (a precise
 * oracle: every op is exact up to float64 rounding). `@dcem/lml` cannot
 * depend on `@dcem/core`, so its tests live here.
 */
import { LML_DEFAULTS, LML_DEGENERATE_FILL, lml, lmlWithDiagnostics } from '@dcem/lml';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  b,
  checkCustomGradVjp,
  checkPermutationEquivariance,
  expectDegenerateFill,
  expectNonFiniteRowsIsolated,
  expectTiesShared,
  matrix,
  maxAbsDiff,
  problem,
  read,
  rowsOf,
  sum,
} from './soft-top-k.test-utils.js';

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

describe('lml: properties (fast-check)', () => {
  it('rows sum to k', () => {
    fc.assert(
      fc.property(problem(10), fc.double({ min: 0.25, max: 4, noNaN: true }), ({ batch, n, k, x }, tau) => {
        const y = read(lml(b, b.tensor(x, [batch, n]), k, { temperature: tau }));
        // Newton runs to machine precision on ν; Σy then carries only the
        // rounding of n sigmoids and a sum of n terms ≤ 1: ~n·ε ≈ 1e-14.
        for (const row of rowsOf(y, n)) expect(Math.abs(sum(row) - k)).toBeLessThan(1e-9);
      }),
      { numRuns: 200 },
    );
  });

  it('entries lie strictly inside (0, 1) for moderate inputs', () => {
    fc.assert(
      fc.property(problem(8), fc.double({ min: 1, max: 4, noNaN: true }), ({ batch, n, k, x }, tau) => {
        // |x/τ| ≤ 8 and n ≤ 30: the logits x/τ + ν stay within ±(16 + log 31),
        // far from where σ rounds to 0 or 1 in float64 (|t| ≳ 36.7 / 745).
        const y = read(lml(b, b.tensor(x, [batch, n]), k, { temperature: tau }));
        for (const v of y) {
          expect(v).toBeGreaterThan(0);
          expect(v).toBeLessThan(1);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('is permutation equivariant: lml(P x) = P lml(x)', () => {
    // Only the summation order differs: ν agrees to a few ulps (~1e-15).
    checkPermutationEquivariance((x, k) => lml(b, x, k));
  });

  it('is monotone: a larger score never gets a smaller y (to rounding), a clearly larger one a larger y', () => {
    fc.assert(
      fc.property(problem(5), ({ batch, n, k, x }) => {
        const y = read(lml(b, b.tensor(x, [batch, n]), k));
        for (let r = 0; r < batch; r++) {
          for (let i = 0; i < n; i++) {
            for (let j = 0; j < n; j++) {
              const xi = x[r * n + i] as number;
              const xj = x[r * n + j] as number;
              const yi = y[r * n + i] as number;
              const yj = y[r * n + j] as number;
              // Up to rounding: scores within an ulp of ν (0 and 5.6e-17, say)
              // may come out a last-place unit apart either way, since σ is
              // evaluated through a rounded exponential and product.
              if (xi >= xj) expect(yi).toBeGreaterThanOrEqual(yj - 4 * Number.EPSILON);
              // |logit| ≤ 10 + log 31 keeps σ' ≥ 1e-6, so a gap of 1e-6 moves y
              // by ≥ 1e-12, far above the ulp of y (≤ 1.1e-16).
              if (xi - xj >= 1e-6) expect(yi).toBeGreaterThan(yj);
            }
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('is shift invariant: adding a constant to a row does not change it', () => {
    fc.assert(
      fc.property(problem(10), fc.double({ min: -100, max: 100, noNaN: true }), ({ batch, n, k, x }, c) => {
        const y = read(lml(b, b.tensor(x, [batch, n]), k));
        const shifted = read(
          lml(
            b,
            b.tensor(
              x.map((v) => v + c),
              [batch, n],
            ),
            k,
          ),
        );
        // x + c is rounded to ~|c|·ε ≈ 2e-14 and ν absorbs c to the same
        // precision; σ' ≤ 1/4 keeps the effect on y below 1e-13.
        expect(maxAbsDiff(shifted, y)).toBeLessThan(1e-11);
      }),
      { numRuns: 150 },
    );
  });

  it('approaches the hard top-k indicator as τ → 0 (distinct, well-separated entries)', () => {
    const arb = fc.record({ n: fc.integer({ min: 2, max: 30 }) }).chain(({ n }) =>
      fc.record({
        n: fc.constant(n),
        k: fc.integer({ min: 1, max: n - 1 }),
        values: fc.uniqueArray(fc.integer({ min: -50, max: 50 }), { minLength: n, maxLength: n }),
        tau: fc.constantFrom(1e-2, 1e-3, 1e-6),
      }),
    );
    fc.assert(
      fc.property(arb, ({ n, k, values, tau }) => {
        const y = read(lml(b, b.tensor(values, [1, n]), k, { temperature: tau }));
        const threshold = [...values].sort((a, c) => c - a)[k - 1] as number;
        const hard = values.map((v) => (v >= threshold ? 1 : 0));
        // Gaps are ≥ 1, so the logits are ≥ 1/τ − log(n) ≥ 96 away from the
        // decision point: every σ is within e^−96 ≈ 2e-42 of 0 or 1.
        expect(maxAbsDiff(y, hard)).toBeLessThan(1e-12);
      }),
      { numRuns: 150 },
    );
  });

  it('has the closed-form Jacobian diag(s) − s sᵀ/Σs (s = y(1 − y), times 1/τ), equal to central differences', () => {
    const arb = fc.tuple(problem(3, 10, 1), fc.double({ min: 0.5, max: 2, noNaN: true }));
    fc.assert(
      fc.property(arb, ([{ n, k, x }, tau]) => {
        const forward = (v: number[]) => read(lml(b, b.tensor(v, [1, n]), k, { temperature: tau }));
        const y = forward(x);
        const s = y.map((v) => v * (1 - v));
        const total = sum(s);
        const h = 1e-5;
        for (let j = 0; j < n; j++) {
          const plus = forward(x.map((v, i) => (i === j ? v + h : v)));
          const minus = forward(x.map((v, i) => (i === j ? v - h : v)));
          for (let i = 0; i < n; i++) {
            const fd = ((plus[i] as number) - (minus[i] as number)) / (2 * h);
            const exact =
              ((i === j ? (s[i] as number) : 0) - ((s[i] as number) * (s[j] as number)) / total) / tau;
            // Central FD: truncation h²·|y'''|/6 ≲ 1e-10/τ³ and rounding
            // ε/h ≈ 1e-11 (ν is solved to machine precision each time).
            expect(Math.abs(fd - exact)).toBeLessThan(1e-7);
          }
        }
      }),
      { numRuns: 60 },
    );
  });

  it("customGrad's implicit VJP is gᵀJ for the closed-form Jacobian", () => {
    checkCustomGradVjp(
      (ops, x, k) => lml(ops, x, k),
      (y, g) => {
        const s = y.map((v) => v * (1 - v));
        const total = sum(s);
        // (gᵀJ)_j = Σᵢ gᵢ (δᵢⱼ sᵢ − sᵢ sⱼ / Σs), J symmetric; the same formula
        // evaluated in a different order: ~n·ε.
        return s.map((sj, j) => {
          let expected = 0;
          for (let i = 0; i < s.length; i++) {
            const si = s[i] as number;
            expected += (g[i] as number) * ((i === j ? si : 0) - (si * sj) / total);
          }
          return expected;
        });
      },
    );
  });
});

describe('lml: large n (the reference brackets fail for n − k ≳ 1100 or k ≳ 1100)', () => {
  for (const k of [2500, 10]) {
    it(`n = 5000, k = ${k}: rows sum to k and every row converges`, () => {
      const n = 5000;
      const x = b.mul(b.randomNormal([2, n], 17 + k), b.scalar(3));
      const d = lmlWithDiagnostics(b, x, k);
      expect(d.converged).toEqual([true, true]);
      expect(d.iterations).toBeGreaterThan(0);
      expect(d.iterations).toBeLessThanOrEqual(LML_DEFAULTS.maxIterations);
      const y = read(d.value);
      // A sum of 5000 terms ≤ 1 carries ≲ 5000·ε·k ≈ 3e-12 of rounding.
      for (const row of rowsOf(y, n)) {
        expect(Math.abs(sum(row) - k)).toBeLessThan(1e-9);
        expect(Math.min(...row)).toBeGreaterThan(0);
        expect(Math.max(...row)).toBeLessThan(1);
      }
      expect(read(lml(b, x, k))).toEqual(y);
    });
  }
});

describe('lml: edge cases', () => {
  it('stays on the root once it has found it (regression: a zero Newton step bisected away)', () => {
    // ν converges at iteration 6 here; the next step rounds to 0, which a
    // strict bracket test rejected, sending ν back into the stale half of the
    // bracket (Σy − k was −1e-4 after the default 16 iterations).
    const x = [0, 0, 0, 0, 0, 0, 0, 0, 2.328747157234023, 0];
    for (const maxIterations of [6, 7, 16, 40]) {
      const y = read(lml(b, matrix([x]), 2, { temperature: 0.25, maxIterations }));
      expect(Math.abs(sum(y) - 2)).toBeLessThan(1e-12);
    }
  });

  it('gives equal entries equal values, and k/n to an all-equal row', () => {
    // ν solves 6σ(3.25 + ν) = 2 to machine precision.
    expectTiesShared((x, k) => lml(b, x, k));
  });

  it('handles ±1e3 magnitudes without NaN; a saturated row still sums to k', () => {
    const wide = read(b.mul(b.randomNormal([3, 40], 5), b.scalar(1e3)));
    const y = read(lml(b, b.tensor(wide, [3, 40]), 7));
    expect(y.every(Number.isFinite)).toBe(true);
    for (const row of rowsOf(y, 40)) expect(Math.abs(sum(row) - 7)).toBeLessThan(1e-9);
    const saturated = read(lml(b, matrix([[1000, -1000, 900, -900]]), 2));
    // ν lands in a flat region (−900, 900): σ rounds to exactly 0 and 1.
    expect(saturated).toEqual([1, 0, 1, 0]);
    const tiny = read(lml(b, matrix([[1e3, 1e3 + 1e-3, 1e3 - 1e-3, 1e3 + 2e-3]]), 2, { temperature: 1e3 }));
    expect(tiny.every((v) => Math.abs(v - 0.5) < 1e-6)).toBe(true);
  });

  it('returns 1 − 1e-5 everywhere when k ≥ n', () => {
    expectDegenerateFill((x, k) => lml(b, x, k), LML_DEGENERATE_FILL);
    expect(LML_DEGENERATE_FILL).toBe(1 - 1e-5);
  });

  it('turns a row holding NaN or ±∞ into NaN and leaves the other rows as if solved alone', () => {
    expectNonFiniteRowsIsolated((x, k) => lml(b, x, k), 2);
  });
});

describe('lmlWithDiagnostics', () => {
  it('reports ν, iterations ≤ maxIterations and per-row converged flags', () => {
    const x = matrix([
      [0.3, -1.2, 2.5, 0.7, 1.1, -0.4],
      [5, 4, 3, 2, 1, 0],
    ]);
    const d = lmlWithDiagnostics(b, x, 3, { temperature: 0.7 });
    expect(d.converged).toEqual([true, true]);
    expect(d.iterations).toBeGreaterThanOrEqual(1);
    expect(d.iterations).toBeLessThanOrEqual(LML_DEFAULTS.maxIterations);
    expect(b.shape(d.nu)).toEqual([2, 1]);
    // value = σ(x/τ + ν), recomputed on the host from the reported ν.
    const nu = read(d.nu);
    const xs = read(x);
    const expected = xs.map((v, i) => sigmoid(v / 0.7 + (nu[Math.floor(i / 6)] as number)));
    expect(maxAbsDiff(read(d.value), expected)).toBeLessThan(1e-15);
    expect(read(d.value)).toEqual(read(lml(b, x, 3, { temperature: 0.7 })));
  });

  it('reports non-convergence when maxIterations is too small', () => {
    const x = b.mul(b.randomNormal([2, 2000], 3), b.scalar(10));
    const d = lmlWithDiagnostics(b, x, 5, { maxIterations: 1 });
    expect(d.converged).toContain(false);
    expect(d.iterations).toBe(1);
    const full = lmlWithDiagnostics(b, x, 5, { maxIterations: 40 });
    expect(full.converged).toEqual([true, true]);
    expect(full.iterations).toBeLessThanOrEqual(40);
  });

  it('flags a non-finite row as not converged and the others as converged', () => {
    const d = lmlWithDiagnostics(
      b,
      matrix([
        [1, 2, 3],
        [1, Number.NaN, 3],
      ]),
      1,
    );
    expect(d.converged).toEqual([true, false]);
    expect(d.iterations).toBe(LML_DEFAULTS.maxIterations);
  });

  it('reports nothing to solve when k ≥ n', () => {
    const d = lmlWithDiagnostics(b, matrix([[1, 2, 3]]), 3);
    expect(d.iterations).toBe(0);
    expect(d.converged).toEqual([true]);
    expect(read(d.value)).toEqual(Array(3).fill(LML_DEGENERATE_FILL));
  });
});

describe('lml: argument validation', () => {
  const x = matrix([[1, 2, 3, 4]]);

  it('rejects k = 0 with a RangeError naming k', () => {
    expect(() => lml(b, x, 0)).toThrow(RangeError);
    expect(() => lml(b, x, 0)).toThrow(/k must be an integer ≥ 1, received 0/);
  });

  it('rejects a negative k with a RangeError', () => {
    expect(() => lml(b, x, -2)).toThrow(RangeError);
    expect(() => lml(b, x, -2)).toThrow(/k .*received -2/);
  });

  it('rejects a non-integer k with a TypeError', () => {
    expect(() => lml(b, x, 1.5)).toThrow(TypeError);
    expect(() => lml(b, x, 1.5)).toThrow(/k must be an integer, received 1\.5/);
  });

  it('rejects temperature ≤ 0 with a RangeError', () => {
    for (const temperature of [0, -1]) {
      expect(() => lml(b, x, 2, { temperature })).toThrow(RangeError);
      expect(() => lml(b, x, 2, { temperature })).toThrow(
        new RegExp(`temperature must be > 0, received ${temperature}`),
      );
    }
  });

  it('rejects a NaN temperature with a RangeError', () => {
    expect(() => lml(b, x, 2, { temperature: Number.NaN })).toThrow(RangeError);
    expect(() => lml(b, x, 2, { temperature: Number.NaN })).toThrow(/temperature.*received NaN/);
  });

  it('rejects tolerance ≤ 0 with a RangeError', () => {
    expect(() => lmlWithDiagnostics(b, x, 2, { tolerance: 0 })).toThrow(RangeError);
    expect(() => lml(b, x, 2, { tolerance: -1e-3 })).toThrow(/tolerance must be > 0, received -0\.001/);
  });

  it('rejects a non-integer maxIterations with a TypeError', () => {
    expect(() => lml(b, x, 2, { maxIterations: 2.5 })).toThrow(TypeError);
    expect(() => lml(b, x, 2, { maxIterations: 2.5 })).toThrow(
      /maxIterations must be an integer, received 2\.5/,
    );
    expect(() => lml(b, x, 2, { maxIterations: 0 })).toThrow(RangeError);
  });

  it('rejects x that is not 2-D, naming the shape', () => {
    expect(() => lml(b, b.tensor([1, 2, 3], [3]), 1)).toThrow(RangeError);
    expect(() => lml(b, b.tensor([1, 2, 3], [3]), 1)).toThrow(/x must be a 2-D tensor.*received shape \[3\]/);
    expect(() => lmlWithDiagnostics(b, b.fill([1, 2, 3], 0), 1)).toThrow(/received shape \[1, 2, 3\]/);
  });
});
