/**
 * The argument checks of `@dcem/tasks` that `@dcem/lml` (numbers) and
 * `@dcem/tfjs` (tensor shapes) do not have, written the same way: a
 * `TypeError` for the wrong kind of value, a `RangeError` for the right kind
 * outside the allowed range, each naming the argument, what was expected and
 * what was received (internal).
 *
 * @module
 */

import { assertFiniteNumber, describeValue } from '@dcem/lml';
import { describeArgument } from '@dcem/tfjs';

/** Throws unless `value` is a function. */
export function assertFunction(name: string, value: unknown): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') {
    throw new TypeError(`${name} must be a function, received ${describeArgument(value)}`);
  }
}

/** Throws unless `value` is a plain object (not null, not an array). */
export function assertObject<T>(name: string, value: T): asserts value is T & Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${name} must be an object, received ${describeArgument(value)}`);
  }
}

/** Throws unless `value` is a boolean. */
export function assertBoolean(name: string, value: unknown): asserts value is boolean {
  if (typeof value !== 'boolean') {
    throw new TypeError(`${name} must be a boolean, received ${describeValue(value)}`);
  }
}

/** Throws unless `value` is a finite number in the open interval (lo, hi). */
export function assertOpenInterval(
  name: string,
  value: unknown,
  lo: number,
  hi: number,
): asserts value is number {
  assertFiniteNumber(name, value);
  if (!(value > lo && value < hi)) {
    throw new RangeError(`${name} must be in (${lo}, ${hi}), received ${describeValue(value)}`);
  }
}

/**
 * Resolves a per-dimension value given as a number (the same for every
 * dimension) or an array of `size` finite numbers.
 */
export function perDimension(name: string, value: unknown, size: number): number[] {
  if (typeof value === 'number') {
    assertFiniteNumber(name, value);
    return new Array<number>(size).fill(value);
  }
  if (!Array.isArray(value)) {
    throw new TypeError(
      `${name} must be a number or an array of ${size} numbers, received ${describeArgument(value)}`,
    );
  }
  if (value.length !== size) {
    throw new RangeError(
      `${name} must be a number or an array of ${size} numbers, received ${describeValue(value)}`,
    );
  }
  value.forEach((v, i) => {
    assertFiniteNumber(`${name}[${i}]`, v);
  });
  return value.slice() as number[];
}
