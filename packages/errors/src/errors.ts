/**
 * Argument validation for every dcem package.
 *
 * One rule everywhere: a `TypeError` when a value is of the wrong kind (a
 * string where a number belongs, a fraction where an integer belongs, an
 * unknown option name), a `RangeError` when it is of the right kind but
 * outside the allowed range (NaN and ±∞ included: they are numbers, just not
 * finite ones). Every message names the argument, says what was expected and
 * shows the value received.
 *
 * @module
 */

/**
 * Whether `value` looks like a tensor of some library: an instance of a
 * class (not a plain object literal, so serialised `{ shape, values }`
 * records do not count) with a `shape` array of numbers.
 */
export function isTensorLike(value: unknown): value is { readonly shape: readonly number[] } {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) return false;
  const shape = (value as { shape?: unknown }).shape;
  return Array.isArray(shape) && shape.every((d) => typeof d === 'number');
}

/** Formats a shape as `[a, b, c]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Renders a received value for an error message.
 *
 * @param value Anything.
 * @returns For example `NaN`, `-0`, `"abc"`, `array of length 4`,
 *   `Float64Array of length 3` or `a tensor of shape [2, 3]`.
 * @example
 * ```ts
 * throw new TypeError(`decoder must be a function, received ${describeValue(decoder)}`);
 * ```
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    return Object.is(value, -0) ? '-0' : String(value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `array of length ${value.length}`;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    return `${value.constructor.name} of length ${(value as unknown as ArrayLike<unknown>).length}`;
  }
  if (isTensorLike(value)) return `a tensor of shape ${formatShape(value.shape)}`;
  if (typeof value === 'function') return 'a function';
  return typeof value === 'object' ? 'an object' : String(value);
}

/** Throws unless `value` is a finite number: `TypeError` for a non-number, `RangeError` for NaN and ±∞. */
export function assertFiniteNumber(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number') {
    throw new TypeError(`${name} must be a number, received ${describeValue(value)}`);
  }
  if (!Number.isFinite(value)) {
    throw new RangeError(`${name} must be a finite number, received ${describeValue(value)}`);
  }
}

/** Throws unless `value` is an integer ≥ `min` (`TypeError` for a fraction, `RangeError` below `min`). */
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

/** Throws unless `value` is a boolean. */
export function assertBoolean(name: string, value: unknown): asserts value is boolean {
  if (typeof value !== 'boolean') {
    throw new TypeError(`${name} must be a boolean, received ${describeValue(value)}`);
  }
}

/** Throws unless `value` is a function. */
export function assertFunction(name: string, value: unknown): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') {
    throw new TypeError(`${name} must be a function, received ${describeValue(value)}`);
  }
}

/**
 * Throws a `TypeError` for each of `names` that `owner` holds (not
 * `undefined`) but that is not a function: the check of optional callbacks.
 *
 * @param owner The object holding the callbacks.
 * @param names The callbacks' names.
 * @param prefix Written before each name in the message (for example `callbacks.`).
 * @example
 * ```ts
 * assertOptionalFunctions(options, ['onIteration', 'project']);
 * ```
 */
export function assertOptionalFunctions<T extends object>(
  owner: T,
  names: readonly (keyof T & string)[],
  prefix = '',
): void {
  for (const name of names) {
    if (owner[name] !== undefined) assertFunction(`${prefix}${name}`, owner[name]);
  }
}

/** Throws unless `value` is an object (not null, not an array). */
export function assertObject<T>(name: string, value: T): asserts value is T & Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${name} must be an object, received ${describeValue(value)}`);
  }
}

/**
 * Resolves a per-dimension value given as one number (the same for every
 * dimension) or an array of `size` finite numbers.
 *
 * @returns A fresh array of `size` numbers.
 */
export function perDimension(name: string, value: unknown, size: number): number[] {
  if (typeof value === 'number') {
    assertFiniteNumber(name, value);
    return new Array<number>(size).fill(value);
  }
  if (!Array.isArray(value)) {
    throw new TypeError(
      `${name} must be a number or an array of ${size} numbers, received ${describeValue(value)}`,
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
