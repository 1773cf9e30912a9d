/**
 * Argument checks of the regression task (internal). Every check throws a
 * `TypeError` (wrong kind of value) or a `RangeError` (right kind, outside the
 * allowed range) whose message names the argument, the expected range and the
 * value received.
 *
 * @module
 */

// The generic checks are @dcem/lml's, shared by every package (same messages).
import {
  assertInteger as checkInteger,
  assertFiniteNumber as checkNumber,
  assertPositive as checkPositive,
  describeValue as describe,
} from '@dcem/lml';

export { checkInteger, checkNumber, checkPositive, describe };

/** Throws unless `value` is a finite number in the open interval (lo, hi). */
export function checkOpenInterval(
  name: string,
  value: unknown,
  lo: number,
  hi: number,
): asserts value is number {
  checkNumber(name, value);
  if (!(value > lo && value < hi)) {
    throw new RangeError(`${name} must be in (${lo}, ${hi}), received ${describe(value)}`);
  }
}

/** Throws unless `value` is a boolean. */
export function checkBoolean(name: string, value: unknown): asserts value is boolean {
  if (typeof value !== 'boolean')
    throw new TypeError(`${name} must be a boolean, received ${describe(value)}`);
}

/** Throws unless `value` is a plain object (not null, not an array). */
export function checkObject<T>(name: string, value: T): asserts value is T & Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${name} must be an object, received ${describe(value)}`);
  }
}
