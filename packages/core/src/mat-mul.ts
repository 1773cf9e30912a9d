import { formatShape } from '@dcem/errors';

/** The geometry of a batched matrix product, as {@link matMulGeometry} reads it off the operands' shapes. */
export interface MatMulGeometry {
  /** The broadcast batch shape (every axis but the last two), e.g. [] for two matrices. */
  batch: number[];
  /** Rows of `a`, and of the result. */
  m: number;
  /** Columns of `a`, rows of `b`: the contracted extent. */
  k: number;
  /** Columns of `b`, and of the result. */
  n: number;
}

/**
 * Checks the operands of `matMul` (`a` [..., m, k], `b` [..., k, n], ranks
 * ≥ 2, batch axes broadcasting like NumPy) and returns the product's
 * geometry; the result has shape [...batch, m, n].
 *
 * @throws RangeError naming `op` and both shapes when a rank is below 2,
 *   the inner extents differ or the batch axes do not broadcast.
 */
export function matMulGeometry(op: string, a: readonly number[], b: readonly number[]): MatMulGeometry {
  const fail = (why: string): never => {
    throw new RangeError(`${op}: cannot multiply a ${formatShape(a)} by b ${formatShape(b)}: ${why}`);
  };
  if (a.length < 2 || b.length < 2) fail('both must have rank ≥ 2 ([..., m, k] and [..., k, n])');
  const m = a[a.length - 2] as number;
  const k = a[a.length - 1] as number;
  const rowsOfB = b[b.length - 2] as number;
  const n = b[b.length - 1] as number;
  if (k !== rowsOfB) fail(`the columns of a (${k}) must equal the rows of b (${rowsOfB})`);
  const batchA = a.slice(0, -2);
  const batchB = b.slice(0, -2);
  const rank = Math.max(batchA.length, batchB.length);
  const batch: number[] = [];
  for (let d = 0; d < rank; d++) {
    const x = batchA[d - (rank - batchA.length)] ?? 1;
    const y = batchB[d - (rank - batchB.length)] ?? 1;
    if (x !== y && x !== 1 && y !== 1)
      fail(`the batch axes ${formatShape(batchA)} and ${formatShape(batchB)} do not broadcast`);
    batch.push(x === 1 ? y : x);
  }
  return { batch, m, k, n };
}
