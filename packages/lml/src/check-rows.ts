import { assertInteger, formatShape } from '@dcem/errors';
import type { LmlOps } from './lml-ops.js';

/**
 * Checks the scores and k of a soft top-k (internal): `x` is 2-D [batch, n]
 * (else a RangeError naming its shape) and `k` an integer ≥ 1.
 */
export function checkRows<T>(ops: LmlOps<T>, x: T, k: number): void {
  const shape = ops.shape(x);
  if (shape.length !== 2) {
    throw new RangeError(`x must be a 2-D tensor [batch, n], received shape ${formatShape(shape)}`);
  }
  assertInteger('k', k, 1);
}
