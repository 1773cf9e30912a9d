/**
 * Argument validation for `@dcem/mujoco` (the package depends on no other
 * `@dcem` package, so it keeps its own copy of the house style: a `TypeError`
 * for the wrong kind of value, a `RangeError` for a value out of range, and a
 * message that names the argument, the expectation and the value received).
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
  if (ArrayBuffer.isView(value))
    return `${value.constructor.name} of length ${(value as Float64Array).length}`;
  if (typeof value === 'function') return 'a function';
  return typeof value === 'object' ? 'an object' : String(value);
}

/** Throws unless `value` is an integer ≥ `min`. */
export function assertInteger(name: string, value: unknown, min: number): asserts value is number {
  if (typeof value !== 'number')
    throw new TypeError(`${name} must be a number, received ${describeValue(value)}`);
  if (!Number.isInteger(value)) {
    throw new TypeError(`${name} must be an integer, received ${describeValue(value)}`);
  }
  if (value < min)
    throw new RangeError(`${name} must be an integer ≥ ${min}, received ${describeValue(value)}`);
}

/** Throws unless `options` is undefined or a plain object whose keys are all in `allowed`. */
export function assertOptions(name: string, options: unknown, allowed: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${name} must be an object, received ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new TypeError(
        `${name}: unknown option ${JSON.stringify(key)}; valid options are ${allowed.join(', ')}`,
      );
    }
  }
}

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
