/**
 * Argument checks of the regression task (internal). Every check throws a
 * `TypeError` (wrong kind of value) or a `RangeError` (right kind, outside the
 * allowed range) whose message names the argument, the expected range and the
 * value received.
 *
 * @module
 */

/** Renders a received value for an error message. */
export function describe(value: unknown): string {
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `array of length ${value.length}`;
  if (typeof value === 'function') return 'a function';
  return typeof value === 'object' ? 'an object' : String(value);
}

/** Throws unless `value` is a finite number. */
export function checkNumber(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number, received ${describe(value)}`);
  if (!Number.isFinite(value)) {
    throw new RangeError(`${name} must be a finite number, received ${describe(value)}`);
  }
}

/** Throws unless `value` is an integer ≥ `min`. */
export function checkInteger(name: string, value: unknown, min: number): asserts value is number {
  checkNumber(name, value);
  if (!Number.isInteger(value))
    throw new TypeError(`${name} must be an integer, received ${describe(value)}`);
  if (value < min) throw new RangeError(`${name} must be an integer ≥ ${min}, received ${describe(value)}`);
}

/** Throws unless `value` is a finite number > 0. */
export function checkPositive(name: string, value: unknown): asserts value is number {
  checkNumber(name, value);
  if (!(value > 0)) throw new RangeError(`${name} must be > 0, received ${describe(value)}`);
}

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
