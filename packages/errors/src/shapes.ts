/**
 * Tensor arguments by shape. The checks are duck-typed (an object with a
 * `shape` array of numbers is a tensor here), so they serve every tensor
 * library: a `TypeError` when the value is not a tensor, a `RangeError` when
 * its shape is wrong, each naming the argument, the expected shape and what
 * was received.
 *
 * @module
 */

import { describeValue, formatShape, isTensorLike } from './errors.js';

/**
 * A shape pattern for {@link assertTensorShape}: each entry is an axis size,
 * `null` (any size) or, at most once, `'...'` (any number of axes, zero
 * included).
 */
export type ShapePattern = readonly (number | null | '...')[];

/** Renders a shape pattern as `[*, …, 5]`. */
export function formatShapePattern(pattern: ShapePattern): string {
  return `[${pattern.map((d) => (d === null ? '*' : d === '...' ? '…' : String(d))).join(', ')}]`;
}

/** Whether `shape` matches `pattern` (see {@link ShapePattern}). */
export function matchesShape(shape: readonly number[], pattern: ShapePattern): boolean {
  const rest = pattern.indexOf('...');
  const axisMatches = (size: number | undefined, want: number | null | '...') =>
    want === null || want === size;
  if (rest < 0) {
    return shape.length === pattern.length && pattern.every((want, i) => axisMatches(shape[i], want));
  }
  const head = pattern.slice(0, rest);
  const tail = pattern.slice(rest + 1);
  if (tail.includes('...')) throw new TypeError("a shape pattern may hold '...' at most once");
  if (shape.length < head.length + tail.length) return false;
  const offset = shape.length - tail.length;
  return (
    head.every((want, i) => axisMatches(shape[i], want)) &&
    tail.every((want, i) => axisMatches(shape[offset + i], want))
  );
}

/**
 * Throws unless `value` is a tensor whose shape matches `pattern`: a
 * `TypeError` when it is not a tensor, a `RangeError` when its shape does
 * not match.
 *
 * @param name The argument's name as the caller knows it (e.g. `'initialState'`).
 * @param value The argument.
 * @param pattern The expected shape: sizes, `null` for any size, `'...'` once for any number of axes.
 * @example
 * ```ts
 * assertTensorShape('initialState', x0, [null, 5]); // [B, 5]
 * assertTensorShape('controls', u, ['...', 1]); // [..., 1]
 * ```
 */
export function assertTensorShape<T = { readonly shape: readonly number[] }>(
  name: string,
  value: unknown,
  pattern: ShapePattern,
): asserts value is T {
  const want = formatShapePattern(pattern);
  if (!isTensorLike(value)) {
    throw new TypeError(`${name} must be a tensor of shape ${want}, received ${describeValue(value)}`);
  }
  if (!matchesShape(value.shape, pattern)) {
    throw new RangeError(`${name} must have shape ${want}, received ${formatShape(value.shape)}`);
  }
}
