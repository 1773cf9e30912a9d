/**
 * Behaviour tests of `sparseTopK` (`@dcem/lml`) on the float64 reference
 * backend. `@dcem/lml` cannot depend on `@dcem/core`, so, like the `lml`
 * tests, they live here.
 */
import { SPARSE_TOP_K_DEFAULTS, type SparseTopKOptions, sparseTopK } from '@dcem/lml';
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
  recordingOps,
  rowsOf,
  sum,
} from './soft-top-k.test-utils.js';

/**
 * The KKT conditions of the projection of z onto {0 ≤ y ≤ 1, Σy = k}: there
 * is a ν with yᵢ = clip(zᵢ + ν, 0, 1). ν is recovered from a free entry
 * (ν = yᵢ − zᵢ) or, without one, from the interval the saturated entries
 * allow; returns the largest violation.
 */
function kktViolation(z: readonly number[], y: readonly number[]): number {
  const freeNu = y.flatMap((v, i) => (v > 0 && v < 1 ? [v - (z[i] as number)] : []));
  let nu: number;
  if (freeNu.length > 0) {
    nu = sum(freeNu) / freeNu.length;
  } else {
    // y = 1 needs zᵢ + ν ≥ 1, y = 0 needs zᵢ + ν ≤ 0.
    const lo = Math.max(...y.flatMap((v, i) => (v === 1 ? [1 - (z[i] as number)] : [])));
    const hi = Math.min(...y.flatMap((v, i) => (v === 0 ? [-(z[i] as number)] : [])));
    if (!(lo <= hi + 1e-12)) return lo - hi;
    nu = Number.isFinite(lo) ? lo : hi;
  }
  let worst = 0;
  for (let i = 0; i < z.length; i++) {
    const t = (z[i] as number) + nu;
    const yi = y[i] as number;
    if (yi === 0)
      worst = Math.max(worst, t); // t ≤ 0
    else if (yi === 1)
      worst = Math.max(worst, 1 - t); // t ≥ 1
    else worst = Math.max(worst, Math.abs(yi - t)); // free: y = t
  }
  return worst;
}

describe('sparseTopK: properties (fast-check)', () => {
  it('rows sum to k and entries lie in [0, 1]', () => {
    fc.assert(
      fc.property(problem(10), fc.double({ min: 0.01, max: 10, noNaN: true }), ({ batch, n, k, x }, tau) => {
        const y = read(sparseTopK(b, b.tensor(x, [batch, n]), k, { temperature: tau }));
        for (const row of rowsOf(y, n)) {
          // The threshold is the exact solve on the free set: only the
          // rounding of n additions remains (~n·ε·max|x/τ| ≲ 1e-11).
          expect(Math.abs(sum(row) - k)).toBeLessThan(1e-9);
          for (const v of row) {
            expect(v).toBeGreaterThanOrEqual(0);
            expect(v).toBeLessThanOrEqual(1);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('satisfies the KKT conditions of the projection: y = clip(x/τ + ν, 0, 1) for one ν per row', () => {
    fc.assert(
      fc.property(
        problem(20, 40),
        fc.double({ min: 0.05, max: 5, noNaN: true }),
        ({ batch, n, k, x }, tau) => {
          const y = read(sparseTopK(b, b.tensor(x, [batch, n]), k, { temperature: tau }));
          const z = x.map((v) => v / tau);
          for (let r = 0; r < batch; r++) {
            const violation = kktViolation(z.slice(r * n, (r + 1) * n), y.slice(r * n, (r + 1) * n));
            expect(violation).toBeLessThan(1e-9 * (1 + Math.max(...z.map(Math.abs))));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is the Euclidean projection: no feasible k-hot vertex is closer to x/τ', () => {
    // The capped simplex is the convex hull of the k-hot vectors, so the
    // projection is at least as close as each of them (checked for n ≤ 8).
    const arb = problem(3, 8, 1);
    fc.assert(
      fc.property(arb, ({ n, k, x }) => {
        const y = read(sparseTopK(b, b.tensor(x, [1, n]), k));
        const dist = (v: readonly number[]) => sum(v.map((vi, i) => (vi - (x[i] as number)) ** 2));
        const dy = dist(y);
        for (let mask = 0; mask < 1 << n; mask++) {
          const vertex = Array.from({ length: n }, (_, i) => (mask >> i) & 1);
          if (sum(vertex) !== k) continue;
          expect(dy).toBeLessThanOrEqual(dist(vertex) + 1e-12);
          // Midpoints of vertices with y are feasible too.
          expect(dy).toBeLessThanOrEqual(dist(vertex.map((v, i) => (v + (y[i] as number)) / 2)) + 1e-12);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('has exact zeros when τ is small relative to the spread of x', () => {
    fc.assert(
      fc.property(problem(10, 30, 2), ({ batch, n, k, x }) => {
        fc.pre(k < n - 1);
        // With τ = 0.05 the entries of x/τ span up to 400: a row whose
        // (k+2)-th largest entry is ≥ 1 below the k-th gets at least one exact 0.
        const tau = 0.05;
        const y = read(sparseTopK(b, b.tensor(x, [batch, n]), k, { temperature: tau }));
        for (let r = 0; r < batch; r++) {
          const row = x.slice(r * n, (r + 1) * n);
          const sorted = [...row].sort((a, c) => c - a);
          const yr = y.slice(r * n, (r + 1) * n);
          if ((sorted[k - 1] as number) - (sorted[k + 1] as number) >= tau) {
            expect(yr.filter((v) => v === 0).length).toBeGreaterThan(0);
          }
          // Any entry more than τ below the k-th largest is exactly 0.
          for (let i = 0; i < n; i++) {
            if ((row[i] as number) < (sorted[k - 1] as number) - tau) expect(yr[i]).toBe(0);
          }
        }
      }),
      { numRuns: 200 },
    );
    // A concrete row: 3 of 6 entries are exactly 0 and one is exactly 1.
    const y = read(sparseTopK(b, matrix([[3, 1.2, 1, -2, -5, 0.1]]), 2, { temperature: 0.5 }));
    expect(y.filter((v) => v === 0).length).toBe(3);
    expect(y[0]).toBe(1);
  });

  it('is permutation equivariant: sparseTopK(P x) = P sparseTopK(x)', () => {
    checkPermutationEquivariance((x, k) => sparseTopK(b, x, k, { temperature: 0.7 }));
  });

  it('is the hard top-k indicator as τ → 0 (distinct entries)', () => {
    const arb = fc.record({ n: fc.integer({ min: 2, max: 30 }) }).chain(({ n }) =>
      fc.record({
        n: fc.constant(n),
        k: fc.integer({ min: 1, max: n - 1 }),
        values: fc.uniqueArray(fc.integer({ min: -50, max: 50 }), { minLength: n, maxLength: n }),
        tau: fc.constantFrom(1, 0.5, 1e-2, 1e-6),
      }),
    );
    fc.assert(
      fc.property(arb, ({ n, k, values, tau }) => {
        const y = read(sparseTopK(b, b.tensor(values, [1, n]), k, { temperature: tau }));
        const threshold = [...values].sort((a, c) => c - a)[k - 1] as number;
        // Integer gaps are ≥ 1 ≥ τ: exactly the hard top-k, not approximately.
        expect(y).toEqual(values.map((v) => (v >= threshold ? 1 : 0)));
      }),
      { numRuns: 150 },
    );
  });

  it('gives the same answer with many more search iterations (the default search is exact)', () => {
    fc.assert(
      fc.property(
        problem(50, 200, 2),
        fc.double({ min: 0.01, max: 5, noNaN: true }),
        ({ batch, n, k, x }, tau) => {
          const t = b.tensor(x, [batch, n]);
          const y = read(sparseTopK(b, t, k, { temperature: tau }));
          const long = read(sparseTopK(b, t, k, { temperature: tau, maxIterations: 200 }));
          expect(maxAbsDiff(y, long)).toBeLessThan(1e-12);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('stays exact on adversarial spacings (geometric, linear, heavy-tailed) with n up to 2000', () => {
    for (const n of [10, 300, 2000]) {
      const idx = Array.from({ length: n }, (_, i) => i);
      const rows = [
        idx.map((i) => 0.5 ** i),
        idx.map((i) => 1.01 ** i),
        idx.map((i) => i / n),
        idx.map((i) => ((i / n) * 2) ** 2),
        idx.map((i) => -Math.log(i + 1)),
        read(b.div(b.randomNormal([n], n), b.sqrt(b.abs(b.randomNormal([n], n + 1))))),
      ];
      for (const k of [1, Math.floor(n / 2), n - 1]) {
        for (const tau of [0.01, 0.3, 3]) {
          const y = rowsOf(read(sparseTopK(b, matrix(rows), k, { temperature: tau })), n);
          rows.forEach((row, r) => {
            const yr = y[r] as number[];
            expect(Math.abs(sum(yr) - k)).toBeLessThan(1e-9);
            expect(
              kktViolation(
                row.map((v) => v / tau),
                yr,
              ),
            ).toBeLessThan(1e-9 * (1 + 1 / tau) * 100);
          });
        }
      }
    }
  });
});

describe('sparseTopK: gradient', () => {
  it('matches central differences of the forward pass (float64)', () => {
    const arb = fc.tuple(problem(3, 10, 1), fc.double({ min: 0.3, max: 3, noNaN: true }));
    let checked = 0;
    fc.assert(
      fc.property(arb, ([{ n, k, x }, tau]) => {
        const forward = (v: number[]) => read(sparseTopK(b, b.tensor(v, [1, n]), k, { temperature: tau }));
        const y = forward(x);
        const z = x.map((v) => v / tau);
        // Central differences are exact on a linear piece; skip inputs within
        // h of a kink (an entry of x/τ + ν within h/τ of 0 or 1).
        const nu =
          (y.find((v) => v > 0 && v < 1) ?? Number.NaN) - (z[y.findIndex((v) => v > 0 && v < 1)] ?? 0);
        const h = 1e-6;
        if (Number.isFinite(nu)) {
          const margin = z.map((v) => Math.min(Math.abs(v + nu), Math.abs(v + nu - 1)));
          fc.pre(Math.min(...margin) > (20 * h) / tau);
        } else {
          // No free entry: the kink is where the k-th/(k+1)-th gap of x/τ reaches 1.
          const sorted = [...z].sort((a, c) => c - a);
          fc.pre((sorted[k - 1] as number) - (sorted[k] as number) - 1 > (20 * h) / tau);
        }
        const free = y.map((v) => (v > 0 && v < 1 ? 1 : 0));
        const count = sum(free);
        for (let j = 0; j < n; j++) {
          const plus = forward(x.map((v, i) => (i === j ? v + h : v)));
          const minus = forward(x.map((v, i) => (i === j ? v - h : v)));
          for (let i = 0; i < n; i++) {
            const fd = ((plus[i] as number) - (minus[i] as number)) / (2 * h);
            // J = (diag(1_F) − 1_F 1_Fᵀ/|F|)/τ.
            const fi = free[i] as number;
            const fj = free[j] as number;
            const exact = count === 0 ? 0 : ((i === j ? fi : 0) - (fi * fj) / count) / tau;
            // Linear on the piece: only rounding, ~ε·|x/τ|/h ≈ 1e-9.
            expect(Math.abs(fd - exact)).toBeLessThan(1e-7);
          }
        }
        checked++;
      }),
      { numRuns: 80 },
    );
    expect(checked).toBeGreaterThan(20);
  });

  it("customGrad's VJP is the closed form 1_F ⊙ (g − mean_F(g)) (on z = x/τ)", () => {
    checkCustomGradVjp(
      (ops, x, k) => sparseTopK(ops, x, k),
      (y, g) => {
        const free = y.map((v) => v > 0 && v < 1);
        const count = free.filter(Boolean).length;
        const mean = count === 0 ? 0 : sum(g.filter((_, i) => free[i])) / count;
        return g.map((gj, j) => (free[j] ? gj - mean : 0));
      },
    );
  });

  it('has a zero gradient for a hard (no free entry) row and for k ≥ n', () => {
    const { ops, vjp } = recordingOps();
    const y = read(sparseTopK(ops, matrix([[5, 0, 3, -4]]), 2));
    expect(y).toEqual([1, 0, 1, 0]);
    expect(read(vjp()(matrix([[1, 2, 3, 4]])))).toEqual([0, 0, 0, 0]);
    sparseTopK(ops, matrix([[5, 0, 3, -4]]), 4);
    expect(read(vjp()(matrix([[1, 2, 3, 4]]))).map(Math.abs)).toEqual([0, 0, 0, 0]);
  });
});

describe('sparseTopK: edge cases', () => {
  it('gives equal entries equal values, and k/n to an all-equal row', () => {
    expectTiesShared((x, k) => sparseTopK(b, x, k));
  });

  it('matches a hand-solved row', () => {
    // z = [2, 0.5, 0.2, −1], k = 2: ν = 0.15 frees 0.5 and 0.2 (0.65 + 0.35 = 1)
    // and saturates 2: y = [1, 0.65, 0.35, 0].
    const y = read(sparseTopK(b, matrix([[2, 0.5, 0.2, -1]]), 2));
    expect(maxAbsDiff(y, [1, 0.65, 0.35, 0])).toBeLessThan(1e-15);
    // τ = 2 halves z: [1, 0.25, 0.1, −0.5], ν = 0.325 → [1, 0.575, 0.425, 0].
    const y2 = read(sparseTopK(b, matrix([[2, 0.5, 0.2, -1]]), 2, { temperature: 2 }));
    expect(maxAbsDiff(y2, [1, 0.575, 0.425, 0])).toBeLessThan(1e-15);
  });

  it('handles ±1e6 magnitudes without NaN', () => {
    const wide = read(b.mul(b.randomNormal([3, 40], 5), b.scalar(1e6)));
    const y = read(sparseTopK(b, b.tensor(wide, [3, 40]), 7));
    expect(y.every(Number.isFinite)).toBe(true);
    for (const row of rowsOf(y, 40)) expect(sum(row)).toBe(7);
    const tiny = read(
      sparseTopK(b, matrix([[1e3, 1e3 + 1e-3, 1e3 - 1e-3, 1e3 + 2e-3]]), 2, { temperature: 1e3 }),
    );
    expect(tiny.every((v) => Math.abs(v - 0.5) < 1e-5)).toBe(true);
  });

  it('returns exactly 1 everywhere when k ≥ n', () => {
    expectDegenerateFill((x, k) => sparseTopK(b, x, k), 1);
  });

  it('turns a row holding NaN or ±∞ into NaN and leaves the other rows as if solved alone', () => {
    for (const k of [2, 5])
      expectNonFiniteRowsIsolated((x, kk) => sparseTopK(b, x, kk, { temperature: 0.8 }), k);
  });

  it('exports its defaults', () => {
    expect(SPARSE_TOP_K_DEFAULTS).toEqual({ temperature: 1, maxIterations: 16 });
    expect(Object.isFrozen(SPARSE_TOP_K_DEFAULTS)).toBe(true);
  });
});

describe('sparseTopK: argument validation', () => {
  const x = matrix([[1, 2, 3, 4]]);

  it('rejects k = 0, a negative or a non-integer k', () => {
    expect(() => sparseTopK(b, x, 0)).toThrow(RangeError);
    expect(() => sparseTopK(b, x, 0)).toThrow(/k must be an integer ≥ 1, received 0/);
    expect(() => sparseTopK(b, x, -2)).toThrow(/k .*received -2/);
    expect(() => sparseTopK(b, x, 1.5)).toThrow(TypeError);
    expect(() => sparseTopK(b, x, 1.5)).toThrow(/k must be an integer, received 1\.5/);
    expect(() => sparseTopK(b, x, Number.NaN)).toThrow(/k must be a finite number, received NaN/);
  });

  it('rejects temperature ≤ 0, NaN or ∞ with a RangeError', () => {
    for (const temperature of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => sparseTopK(b, x, 2, { temperature })).toThrow(RangeError);
      expect(() => sparseTopK(b, x, 2, { temperature })).toThrow(/temperature must be/);
    }
    expect(() => sparseTopK(b, x, 2, { temperature: -1 })).toThrow(/temperature must be > 0, received -1/);
  });

  it('rejects a non-number temperature with a TypeError', () => {
    expect(() => sparseTopK(b, x, 2, { temperature: '1' as unknown as number })).toThrow(TypeError);
  });

  it('rejects a bad maxIterations', () => {
    expect(() => sparseTopK(b, x, 2, { maxIterations: 2.5 })).toThrow(
      /maxIterations must be an integer, received 2\.5/,
    );
    expect(() => sparseTopK(b, x, 2, { maxIterations: 0 })).toThrow(RangeError);
  });

  it('rejects an unknown option name, listing the valid ones', () => {
    const bad = { temprature: 0.5 } as unknown as { temperature: number };
    expect(() => sparseTopK(b, x, 2, bad)).toThrow(TypeError);
    expect(() => sparseTopK(b, x, 2, bad)).toThrow(
      /unknown sparseTopK option "temprature"; did you mean "temperature".*temperature, maxIterations/,
    );
  });

  it('rejects options that are not an object', () => {
    expect(() => sparseTopK(b, x, 2, 3 as unknown as SparseTopKOptions)).toThrow(
      /options must be an object, received 3/,
    );
  });

  it('rejects x that is not 2-D, naming the shape', () => {
    expect(() => sparseTopK(b, b.tensor([1, 2, 3], [3]), 1)).toThrow(RangeError);
    expect(() => sparseTopK(b, b.tensor([1, 2, 3], [3]), 1)).toThrow(
      /x must be a 2-D tensor.*received shape \[3\]/,
    );
  });
});
