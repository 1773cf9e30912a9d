// Helpers shared by the soft top-k tests (lml.test.ts, sparse-top-k.test.ts) on the float64 backend.
import type { LmlOps } from '@dcem/lml';
import fc from 'fast-check';
import { expect } from 'vitest';
import { createFloat64Backend, type Float64Tensor } from './testing/index.js';

/** The float64 reference backend the soft top-k tests run on. */
export const b = createFloat64Backend();
/** The entries of `x`, row-major. */
export const read = (x: Float64Tensor): number[] => Array.from(b.readSync(x));
/** A [rows, n] tensor from nested arrays. */
export const matrix = (rows: readonly (readonly number[])[]): Float64Tensor =>
  b.tensor(rows.flat(), [rows.length, rows[0]?.length ?? 0]);
/** Row-major values split into rows of length n. */
export const rowsOf = (values: readonly number[], n: number): number[][] =>
  Array.from({ length: values.length / n }, (_, r) => values.slice(r * n, (r + 1) * n));
/** Σ v. */
export const sum = (v: readonly number[]): number => v.reduce((a, c) => a + c, 0);
/** max |a − c|. */
export const maxAbsDiff = (a: readonly number[], c: readonly number[]): number =>
  Math.max(0, ...a.map((v, i) => Math.abs(v - (c[i] as number))));

/** A batch of rows of length n with 1 ≤ k < n and entries in [−scale, scale]. */
export function problem(scale: number, maxN = 30, maxBatch = 3) {
  return fc
    .record({ batch: fc.integer({ min: 1, max: maxBatch }), n: fc.integer({ min: 2, max: maxN }) })
    .chain(({ batch, n }) =>
      fc.record({
        batch: fc.constant(batch),
        n: fc.constant(n),
        k: fc.integer({ min: 1, max: n - 1 }),
        x: fc.array(fc.double({ min: -scale, max: scale, noNaN: true }), {
          minLength: batch * n,
          maxLength: batch * n,
        }),
      }),
    );
}

/** An `LmlOps` whose `customGrad` records the backward closure of the last call. */
export function recordingOps(): {
  ops: LmlOps<Float64Tensor>;
  vjp: () => (dy: Float64Tensor) => Float64Tensor;
} {
  let last: ((dy: Float64Tensor) => Float64Tensor) | undefined;
  const ops: LmlOps<Float64Tensor> = {
    ...b,
    customGrad: (forward) => (x) => {
      const saved: Float64Tensor[] = [];
      const out = forward(x, (tensors) => {
        saved.push(...tensors);
      });
      last = (dy) => out.gradient(dy, saved);
      return out.value;
    },
  };
  return {
    ops,
    vjp: () => {
      if (last === undefined) throw new Error('customGrad was not called');
      return last;
    },
  };
}

/** A soft top-k map under test: rows of `x` to rows summing to `k`. */
export type SoftTopK = (x: Float64Tensor, k: number) => Float64Tensor;

/**
 * Checks `solve(P x) = P solve(x)` for random single rows and permutations P;
 * only the summation order differs, so the two agree to 1e-12.
 */
export function checkPermutationEquivariance(solve: SoftTopK): void {
  const arb = problem(10, 25, 1).chain((p) =>
    fc.record({
      p: fc.constant(p),
      perm: fc.shuffledSubarray(
        Array.from({ length: p.n }, (_, i) => i),
        { minLength: p.n, maxLength: p.n },
      ),
    }),
  );
  fc.assert(
    fc.property(arb, ({ p: { n, k, x }, perm }) => {
      const y = read(solve(b.tensor(x, [1, n]), k));
      const yp = read(
        solve(
          b.tensor(
            perm.map((j) => x[j] as number),
            [1, n],
          ),
          k,
        ),
      );
      expect(
        maxAbsDiff(
          yp,
          perm.map((j) => y[j] as number),
        ),
      ).toBeLessThan(1e-12);
    }),
    { numRuns: 150 },
  );
}

/**
 * Checks the backward closure that `solve` hands to `customGrad` against a
 * closed form: `expectedRow(y, g)` is the vector-Jacobian product of one row
 * with output `y` and upstream gradient `g`, matched to 1e-13.
 */
export function checkCustomGradVjp(
  solve: (ops: LmlOps<Float64Tensor>, x: Float64Tensor, k: number) => Float64Tensor,
  expectedRow: (y: readonly number[], g: readonly number[]) => readonly number[],
): void {
  const arb = fc.tuple(
    problem(5, 12, 3),
    fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: 36, maxLength: 36 }),
  );
  fc.assert(
    fc.property(arb, ([{ batch, n, k, x }, g]) => {
      const { ops, vjp } = recordingOps();
      const y = read(solve(ops, b.tensor(x, [batch, n]), k));
      const upstream = g.slice(0, batch * n);
      const dz = read(vjp()(b.tensor(upstream, [batch, n])));
      for (let r = 0; r < batch; r++) {
        const expected = expectedRow(y.slice(r * n, (r + 1) * n), upstream.slice(r * n, (r + 1) * n));
        for (let j = 0; j < n; j++) {
          expect(Math.abs((dz[r * n + j] as number) - (expected[j] as number))).toBeLessThan(1e-13);
        }
      }
    }),
    { numRuns: 100 },
  );
}

/** Checks that equal entries get equal values (to the bit) and an all-equal row gets k/n everywhere (k = 2, n = 6). */
export function expectTiesShared(solve: SoftTopK): void {
  const y = read(solve(matrix([[1, 1, 1, 0, 0, 0.5], Array(6).fill(3.25)]), 2));
  expect(y[0]).toBe(y[1]);
  expect(y[1]).toBe(y[2]);
  expect(y[3]).toBe(y[4]);
  expect(Math.abs(sum(y.slice(0, 6)) - 2)).toBeLessThan(1e-12);
  for (const v of y.slice(6)) expect(Math.abs(v - 2 / 6)).toBeLessThan(1e-14);
}

/** Checks that every k ≥ n (4, 5, 9 on two rows of 4) fills the output with `fill`. */
export function expectDegenerateFill(solve: SoftTopK, fill: number): void {
  for (const k of [4, 5, 9]) {
    const y = read(
      solve(
        matrix([
          [1, 2, 3, 4],
          [0, -1, 5, 2],
        ]),
        k,
      ),
    );
    expect(y).toEqual(Array(8).fill(fill));
  }
}

/**
 * Checks that a row holding NaN or ±∞ comes out all NaN while the finite rows
 * come out finite and exactly as if solved alone.
 */
export function expectNonFiniteRowsIsolated(solve: SoftTopK, k: number): void {
  const rows = [
    [0.5, -1, 2, 0.25, 3],
    [0.1, Number.NaN, 1, 2, 3],
    [4, -2, 1.5, 0, 1],
    [Number.POSITIVE_INFINITY, 0, 1, 2, 3],
    [0, Number.NEGATIVE_INFINITY, 1, 2, 3],
    [-3, 2, 2, 1, 0.5],
  ];
  const y = rowsOf(read(solve(matrix(rows), k)), 5);
  for (const r of [1, 3, 4]) expect((y[r] as number[]).every(Number.isNaN)).toBe(true);
  for (const r of [0, 2, 5]) {
    const alone = read(solve(matrix([rows[r] as number[]]), k));
    expect(y[r]).toEqual(alone);
    expect(alone.every(Number.isFinite)).toBe(true);
  }
}
