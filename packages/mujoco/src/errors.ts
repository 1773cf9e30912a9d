/**
 * The action check of `@dcem/mujoco`; every other check comes from
 * `@dcem/errors`.
 *
 * @module
 */

import { describeValue } from '@dcem/errors';

/**
 * Throws unless `values[offset .. offset + length)` are finite numbers in
 * [−1, 1] (the action range of every task). `what(i)` names entry `i`.
 */
export function assertActions(
  values: ArrayLike<number>,
  offset: number,
  length: number,
  what: (i: number) => string,
): void {
  for (let i = 0; i < length; i++) {
    const v = values[offset + i] as number;
    if (typeof v !== 'number')
      throw new TypeError(`${what(i)} must be a number, received ${describeValue(v)}`);
    if (!(v >= -1 && v <= 1)) {
      const why = Number.isFinite(v) ? 'in [-1, 1] (actions are not clamped)' : 'a finite number';
      throw new RangeError(`${what(i)} must be ${why}, received ${describeValue(v)}`);
    }
  }
}
