// Helpers shared by the soft top-k tests (lml.test.ts, sparse-top-k.test.ts) on the float64 backend.
import type { LmlOps } from '@dcem/lml';
import fc from 'fast-check';
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
