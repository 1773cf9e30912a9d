/**
 * `@dcem/errors`: the argument checks every dcem package uses. A `TypeError`
 * for the wrong kind of value, a `RangeError` for the right kind out of range
 * (NaN and ±∞ included), one unknown-option message with "did you mean", and
 * every message naming the argument, the expectation and the value received.
 * No dependencies.
 *
 * @packageDocumentation
 */

export {
  assertBoolean,
  assertFiniteNumber,
  assertFunction,
  assertInteger,
  assertNonNegative,
  assertObject,
  assertOpenInterval,
  assertOptionalFunctions,
  assertPositive,
  describeValue,
  formatShape,
  isTensorLike,
  perDimension,
} from './errors.js';
export { assertKnownOptions, assertOptions } from './options.js';
export { assertTensorShape, type ShapePattern } from './shapes.js';
