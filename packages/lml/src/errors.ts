/**
 * Argument validation shared by the dcem packages.
 *
 * Every check throws a `TypeError` (wrong kind of value) or a `RangeError`
 * (right kind, outside the allowed range) whose message names the argument,
 * what was expected and the value received.
 *
 * @module
 */

/** Renders a received value for an error message. */
export function describeValue(value: unknown): string {
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    return Object.is(value, -0) ? '-0' : String(value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `array of length ${value.length}`;
  if (typeof value === 'function') return 'a function';
  return typeof value === 'object' ? 'an object' : String(value);
}

/** Throws unless `value` is a finite number. */
export function assertFiniteNumber(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number') {
    throw new TypeError(`${name} must be a number, received ${describeValue(value)}`);
  }
  if (!Number.isFinite(value)) {
    throw new RangeError(`${name} must be a finite number, received ${describeValue(value)}`);
  }
}

/** Throws unless `value` is an integer ≥ `min`. */
export function assertInteger(name: string, value: unknown, min: number): asserts value is number {
  assertFiniteNumber(name, value);
  if (!Number.isInteger(value)) {
    throw new TypeError(`${name} must be an integer, received ${describeValue(value)}`);
  }
  if (value < min) {
    throw new RangeError(`${name} must be an integer ≥ ${min}, received ${describeValue(value)}`);
  }
}

/** Throws unless `value` is a finite number > 0. */
export function assertPositive(name: string, value: unknown): asserts value is number {
  assertFiniteNumber(name, value);
  if (!(value > 0)) {
    throw new RangeError(`${name} must be > 0, received ${describeValue(value)}`);
  }
}

/** Throws unless `value` is a finite number ≥ 0. */
export function assertNonNegative(name: string, value: unknown): asserts value is number {
  assertFiniteNumber(name, value);
  if (!(value >= 0)) {
    throw new RangeError(`${name} must be ≥ 0, received ${describeValue(value)}`);
  }
}

/** Formats a shape as `[a, b, c]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
