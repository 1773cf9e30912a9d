import { assertFunction, assertInteger, assertObject, describeValue, formatShape } from '@dcem/errors';
import type { Backend } from './backend.js';
import { matMulGeometry } from './mat-mul.js';

/**
 * The methods of {@link Backend} that {@link completeBackend} derives from
 * the primitives. Each derivation is exact: it gives the values (NaN, ±∞
 * and ties included) and the gradients of a direct implementation.
 */
export const DERIVED_METHODS = Object.freeze([
  'scalar',
  'fill',
  'square',
  'abs',
  'maximum',
  'minimum',
  'min',
  'matMul',
  'greater',
  'isFinite',
  'logicalAnd',
  'allRows',
  'maskToFloat',
  'topkValues',
  'topkMask',
  'sliceColumns',
  'stopGradient',
  'read',
] as const);

/** The name of a method {@link completeBackend} derives; see {@link DERIVED_METHODS}. */
export type DerivedMethod = (typeof DERIVED_METHODS)[number];

/**
 * What a backend author writes: every method of {@link Backend} but the
 * {@link DerivedMethod}s, which are optional (a backend that has a faster or
 * more native version of one supplies it, and its own wins).
 */
export type BackendPrimitives<T> = Omit<Backend<T>, DerivedMethod> & Partial<Pick<Backend<T>, DerivedMethod>>;

/** The methods a {@link BackendPrimitives} object must have. */
const PRIMITIVE_METHODS = Object.freeze([
  'shape',
  'tensor',
  'reshape',
  'add',
  'sub',
  'mul',
  'div',
  'exp',
  'log',
  'sigmoid',
  'sqrt',
  'sum',
  'max',
  'less',
  'equal',
  'where',
  'topkIndices',
  'batchGather',
  'concat',
  'randomNormal',
  'customGrad',
  'tidy',
  'keep',
  'dispose',
  'readSync',
] as const satisfies readonly (keyof Backend<unknown>)[]);

/** Rows and columns of a 2-D tensor, or a `RangeError` naming `op`. */
function matrixShape<T>(b: Backend<T>, op: string, x: T): [number, number] {
  const shape = b.shape(x);
  const [rows, cols] = shape;
  if (shape.length !== 2 || rows === undefined || cols === undefined) {
    throw new RangeError(`${op}: expected a 2-D tensor, received shape ${formatShape(shape)}`);
  }
  return [rows, cols];
}

/** `rows` copies of the row `values`, flattened. */
function tileRows(values: readonly number[], rows: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) out.push(...values);
  return out;
}

/** 0, 1, …, n − 1. */
function range(begin: number, size: number): number[] {
  return Array.from({ length: size }, (_, j) => begin + j);
}

/**
 * The derivation of every {@link DerivedMethod}, each composed from the
 * methods of `b` (the completed backend, so that a method the author
 * supplied is the one used).
 */
function derivations<T>(b: Backend<T>): Pick<Backend<T>, DerivedMethod> {
  const minusOne = () => b.scalar(-1);
  let stop: ((x: T) => T) | undefined;
  return {
    scalar: (value) => b.tensor([value], []),
    fill(shape, value) {
      let size = 1;
      for (const extent of shape) {
        assertInteger('shape entry', extent, 0);
        size *= extent;
      }
      return b.tensor(new Float64Array(size).fill(value), shape);
    },
    square: (x) => b.mul(x, x),
    // x for x > 0; −x (exact, and +0 for −0) elsewhere; NaN stays NaN. The
    // gradient at 0 is −1, as TensorFlow's.
    abs: (x) => b.where(b.greater(x, b.scalar(0)), x, b.mul(x, minusOne())),
    // b where a < b, else a (ties pick a, as TensorFlow's gradient does),
    // except that a NaN `b` (b ≠ b) propagates like Math.max.
    maximum: (x, y) => b.where(b.less(x, y), y, b.where(b.equal(y, y), x, y)),
    minimum: (x, y) => b.where(b.greater(x, y), y, b.where(b.equal(y, y), x, y)),
    // −max(−x): negation is exact; every tied minimum gets the gradient, as
    // every tied maximum does.
    min: (x, axis, keepDims) => b.mul(b.max(b.mul(x, minusOne()), axis, keepDims), minusOne()),
    // Σ over k of a [..., m, k, 1] ⊙ b [..., 1, k, n]: mul broadcasts the
    // batch axes and sends the gradients back summed over them.
    matMul(x, y) {
      const xs = b.shape(x);
      const ys = b.shape(y);
      const { m, k, n } = matMulGeometry('matMul', xs, ys);
      const left = b.reshape(x, [...xs.slice(0, -2), m, k, 1]);
      const right = b.reshape(y, [...ys.slice(0, -2), 1, k, n]);
      return b.sum(b.mul(left, right), -2, false);
    },
    greater: (x, y) => b.less(y, x),
    // |x| < ∞ is false for NaN and ±∞ only.
    isFinite: (x) => b.less(b.abs(x), b.scalar(Number.POSITIVE_INFINITY)),
    logicalAnd: (p, q) => b.greater(b.mul(b.maskToFloat(p), b.maskToFloat(q)), b.scalar(0.5)),
    // The row minimum of the 0/1 floats is 1 exactly when every entry is true
    // (and +∞, so true, for an empty row).
    allRows: (mask) => b.greater(b.min(b.maskToFloat(mask), 1, true), b.scalar(0.5)),
    maskToFloat: (mask) => b.where(mask, b.scalar(1), b.scalar(0)),
    topkValues(x, k) {
      const [rows, n] = matrixShape(b, 'topkValues', x);
      const picked = b.batchGather(b.reshape(x, [rows, n, 1]), b.topkIndices(x, k));
      return b.reshape(picked, [rows, k]);
    },
    // The positions of the k largest (gathered from 0 … n − 1 as floats)
    // compared with every column: [rows, k, n] one-hot rows, summed over k.
    // It costs rows·k·n entries; a backend with a scatter supplies its own.
    topkMask(x, k) {
      const [rows, n] = matrixShape(b, 'topkMask', x);
      const columns = range(0, n);
      const positions = b.batchGather(b.tensor(tileRows(columns, rows), [rows, n, 1]), b.topkIndices(x, k));
      const hits = b.equal(positions, b.tensor(columns, [1, 1, n]));
      return b.sum(b.maskToFloat(hits), 1, false);
    },
    sliceColumns(x, begin, size) {
      const [rows, cols] = matrixShape(b, 'sliceColumns', x);
      assertInteger('begin', begin, 0);
      assertInteger('size', size, 0);
      if (begin + size > cols) {
        throw new RangeError(
          `sliceColumns: columns ${begin} … ${begin + size - 1} exceed the ${cols} columns of ${formatShape(b.shape(x))}`,
        );
      }
      const indices = b.tensor(tileRows(range(begin, size), rows), [rows, size]);
      return b.reshape(b.batchGather(b.reshape(x, [rows, cols, 1]), indices), [rows, size]);
    },
    // A synchronous read in disguise: backends with an asynchronous read supply their own.
    read: (x) => Promise.resolve().then(() => b.readSync(x)),
    stopGradient(x) {
      stop ??= b.customGrad((input) => ({
        value: b.mul(input, b.scalar(1)),
        gradient: (dy) => b.fill(b.shape(dy), 0),
      }));
      return stop(x);
    },
  };
}

/**
 * Completes a backend: returns `primitives` with every {@link DerivedMethod}
 * it lacks composed from its other methods. A method `primitives` has
 * (a faster or more native version) is kept as it is; derived methods call
 * the completed backend, so they use it too. Getters (a `name` that follows
 * the active device, say) and the optional `fused` group and
 * `prefetchNormal` hint are kept as they are.
 *
 * The derivations are exact: each gives the values and gradients of a
 * direct implementation (the conformance cases of `@dcem/core/testing`
 * check both), at the cost of a few more operations; `topkMask` needs
 * rows·k·n entries and `matMul` batch·m·k·n (a backend with a matrix
 * product supplies its own).
 *
 * @param primitives The methods of {@link BackendPrimitives}: 25 methods and
 *   `name`, plus any derived ones the backend supplies itself.
 * @returns A complete {@link Backend}, a new object (`primitives` is not changed).
 * @throws TypeError when `name` is not a non-empty string or a required
 *   method is not a function.
 * @example
 * ```ts
 * const backend = completeBackend<MyTensor>({ name: 'mine', shape: (x) => x.shape, ... });
 * backend.square(x); // backend.mul(x, x)
 * ```
 */
export function completeBackend<T>(primitives: BackendPrimitives<T>): Backend<T> {
  assertObject('completeBackend: primitives', primitives);
  if (typeof primitives.name !== 'string' || primitives.name.length === 0) {
    throw new TypeError(
      `completeBackend: primitives.name must be a non-empty string, received ${describeValue(primitives.name)}`,
    );
  }
  for (const method of PRIMITIVE_METHODS) assertFunction(`primitives.${method}`, primitives[method]);
  const backend = Object.defineProperties({}, Object.getOwnPropertyDescriptors(primitives)) as Backend<T>;
  const derived = derivations(backend);
  for (const method of DERIVED_METHODS) {
    if (primitives[method] === undefined) {
      Object.defineProperty(backend, method, {
        value: derived[method],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      assertFunction(`primitives.${method}`, primitives[method]);
    }
  }
  return backend;
}
