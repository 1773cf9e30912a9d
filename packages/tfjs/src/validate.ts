/**
 * Tensor argument checks, with the same messages and error types as
 * `@dcem/lml`'s scalar checks: a `TypeError` when the value is not a tensor,
 * a `RangeError` when its shape is wrong, each naming the argument, the
 * expected shape and the shape (or value) received.
 *
 * @module
 */

import { describeValue } from '@dcem/lml';
import type { Tensor } from './backend.js';

/**
 * A shape pattern for {@link assertTensorShape}: each entry is an axis size,
 * `null` (any size) or, at most once, `'...'` (any number of axes, zero
 * included).
 */
export type ShapePattern = readonly (number | null | '...')[];

/**
 * Whether `value` is a TensorFlow.js tensor (duck-typed, so tensors of
 * another copy of `@tensorflow/tfjs` count too).
 *
 * @param value Anything.
 * @returns `true` for an object with a `shape` array, a `rank` and `dataSync`.
 * @example
 * ```ts
 * isTensor(tf.zeros([2])); // true
 * isTensor([0, 0]); // false
 * ```
 */
export function isTensor(value: unknown): value is Tensor {
  return (
    value !== null &&
    typeof value === 'object' &&
    Array.isArray((value as { shape?: unknown }).shape) &&
    typeof (value as { rank?: unknown }).rank === 'number' &&
    typeof (value as { dataSync?: unknown }).dataSync === 'function'
  );
}

/** Renders a shape pattern as `[*, …, 5]`. */
export function formatShapePattern(pattern: ShapePattern): string {
  return `[${pattern.map((d) => (d === null ? '*' : d === '...' ? '…' : String(d))).join(', ')}]`;
}

/**
 * Describes a received value for an error message: a tensor by its shape,
 * anything else as `@dcem/lml`'s `describeValue` does.
 *
 * @param value Anything.
 * @returns For example `a tensor of shape [2, 3]`, `NaN`, `"abc"` or `array of length 4`.
 * @example
 * ```ts
 * throw new TypeError(`decoder must be an ActionDecoder, received ${describeArgument(decoder)}`);
 * ```
 */
export function describeArgument(value: unknown): string {
  return isTensor(value) ? `a tensor of shape [${value.shape.join(', ')}]` : describeValue(value);
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
 * not match. The message names the argument, the expected shape (`*` for
 * any size, `…` for any number of axes) and what was received.
 *
 * @param name The argument's name as the caller knows it (e.g. `'initialState'`).
 * @param value The argument.
 * @param pattern The expected shape: sizes, `null` for any size, `'...'` once for any number of axes.
 * @example
 * ```ts
 * assertTensorShape('initialState', x0, [null, 5]); // [B, 5]
 * assertTensorShape('controls', u, ['...', 1]); // [..., 1]
 * assertTensorShape('states', x, [null, '...', 3]); // rank ≥ 2, last axis 3
 * ```
 */
export function assertTensorShape(
  name: string,
  value: unknown,
  pattern: ShapePattern,
): asserts value is Tensor {
  const want = formatShapePattern(pattern);
  if (!isTensor(value)) {
    throw new TypeError(`${name} must be a tensor of shape ${want}, received ${describeArgument(value)}`);
  }
  if (!matchesShape(value.shape, pattern)) {
    throw new RangeError(`${name} must have shape ${want}, received [${value.shape.join(', ')}]`);
  }
}
