/**
 * Backend-agnostic conformance cases: every backend's test suite runs them
 * all, the way TensorFlow.js runs its op tests on every backend.
 *
 * The cases use no test framework; each throws a {@link ConformanceError} on
 * failure. Expected values are computed by hand (or with plain `Math`), use
 * magnitudes that float32 represents well, and masks are always read through
 * `maskToFloat`.
 *
 * @example
 * ```ts
 * for (const c of backendConformanceCases) {
 *   it(c.name, () => c.run(backend, { tolerance: 1e-5 }));
 * }
 * ```
 *
 * @module
 */
import type { Backend } from '../backend.js';

/** What a conformance case needs to know about the backend under test. */
export interface ConformanceContext {
  /** Absolute tolerance suited to the backend's precision. */
  tolerance: number;
}

/** One backend-agnostic check. */
export interface ConformanceCase {
  /** A short description, usable as a test name. */
  name: string;
  /** Runs the check against `backend`; throws a {@link ConformanceError} on failure. */
  run<T>(backend: Backend<T>, context: ConformanceContext): void;
}

/** Thrown by a conformance case whose backend computed the wrong thing. */
export class ConformanceError extends Error {
  /**
   * Creates the error.
   *
   * @param message What was checked, what came out and what was expected.
   */
  constructor(message: string) {
    super(message);
    this.name = 'ConformanceError';
  }
}

/** Renders an array of numbers for a message. */
function show(values: ArrayLike<number>): string {
  const list = Array.from(values);
  const head = list.slice(0, 12).join(', ');
  return list.length > 12 ? `[${head}, … (${list.length} entries)]` : `[${head}]`;
}

/** Throws unless `condition` holds. */
function check(condition: boolean, message: string): void {
  if (!condition) throw new ConformanceError(message);
}

/**
 * Throws unless `actual` and `expected` have the same length and every entry
 * is within `tol` of the expected one (NaN must match NaN, ±∞ must match exactly).
 */
function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
  what: string,
): void {
  const context = () => `${what}: got ${show(actual)}, expected ${show(expected)}`;
  check(
    actual.length === expected.length,
    `${context()} (${actual.length} entries instead of ${expected.length})`,
  );
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    const ok = Number.isNaN(e) ? Number.isNaN(a) : Number.isFinite(e) ? Math.abs(a - e) <= tol : a === e;
    check(ok, `${context()} (entry ${i} is ${a} instead of ${e}, tolerance ${tol})`);
  }
}

/** Throws unless the shape of `x` is `expected`. */
function expectShape<T>(backend: Backend<T>, x: T, expected: readonly number[], what: string): void {
  const actual = backend.shape(x);
  check(
    actual.length === expected.length && actual.every((extent, d) => extent === expected[d]),
    `${what}: shape is [${actual.join(', ')}], expected [${expected.join(', ')}]`,
  );
}

/** Throws unless `x` has shape `shape` and entries close to `values`. */
function expectTensor<T>(
  backend: Backend<T>,
  x: T,
  shape: readonly number[],
  values: readonly number[],
  tol: number,
  what: string,
): void {
  expectShape(backend, x, shape, what);
  expectClose(backend.readSync(x), values, tol, what);
}

/** Throws unless the mask `m` has shape `shape` and reads as the 0/1 `values`. */
function expectMask<T>(
  backend: Backend<T>,
  m: T,
  shape: readonly number[],
  values: readonly number[],
  what: string,
): void {
  expectShape(backend, m, shape, what);
  expectClose(backend.readSync(backend.maskToFloat(m)), values, 0, what);
}

/** Defines a case; the helper only gives `run` its generic signature. */
function conformanceCase(
  name: string,
  run: <T>(backend: Backend<T>, context: ConformanceContext) => void,
): ConformanceCase {
  return { name, run };
}

/** The [2, 3] matrix [[1, 2, 3], [4, 5, 6]] most cases use. */
function matrix<T>(b: Backend<T>): T {
  return b.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
}

/** Operands for the broadcasting cases: a [2, 3], a [3] row, a [2, 1] column and a scalar. */
function operands<T>(b: Backend<T>): { m: T; row: T; col: T; s: T } {
  return {
    m: matrix(b),
    row: b.tensor([10, 20, 40], [3]),
    col: b.tensor([1, 2], [2, 1]),
    s: b.scalar(4),
  };
}

/** A binary operation of a backend. */
type BinaryOp = <T>(b: Backend<T>, x: T, y: T) => T;

/**
 * A case checking a broadcasting binary operation against `f`: [2, 3] with
 * [3], [3] with [2, 3], [2, 3] with [2, 1], [2, 1] with [3], [2, 3] with a
 * scalar and a scalar with [2, 3].
 */
function binaryCase(name: string, op: BinaryOp, f: (x: number, y: number) => number): ConformanceCase {
  const run = <T>(b: Backend<T>, { tolerance }: ConformanceContext): void => {
    const { m, row, col, s } = operands(b);
    const mv = [1, 2, 3, 4, 5, 6];
    const rv = [10, 20, 40];
    const cv = [1, 2];
    const at = (v: readonly number[], i: number) => v[i] as number;
    // Entry (i, j) of a [2, 3] result.
    const grid = (g: (i: number, j: number) => number) =>
      [0, 1].flatMap((i) => [0, 1, 2].map((j) => g(i, j)));
    const cases: [string, T, number[]][] = [
      ['[2,3] with [3]', op(b, m, row), grid((i, j) => f(at(mv, 3 * i + j), at(rv, j)))],
      ['[3] with [2,3]', op(b, row, m), grid((i, j) => f(at(rv, j), at(mv, 3 * i + j)))],
      ['[2,3] with [2,1]', op(b, m, col), grid((i, j) => f(at(mv, 3 * i + j), at(cv, i)))],
      ['[2,1] with [3]', op(b, col, row), grid((i, j) => f(at(cv, i), at(rv, j)))],
      ['[2,3] with scalar', op(b, m, s), grid((i, j) => f(at(mv, 3 * i + j), 4))],
      ['scalar with [2,3]', op(b, s, m), grid((i, j) => f(4, at(mv, 3 * i + j)))],
    ];
    for (const [label, y, expected] of cases) {
      expectTensor(b, y, [2, 3], expected, tolerance, `${name} ${label}`);
    }
    const both = op(b, b.scalar(3), b.scalar(2));
    expectTensor(b, both, [], [f(3, 2)], tolerance, `${name} of scalars`);
  };
  return conformanceCase(`${name} broadcasts like NumPy`, run);
}

/** A case checking an element-wise function on a [2, 2] tensor. */
function unaryCase(
  name: string,
  op: <T>(b: Backend<T>, x: T) => T,
  inputs: readonly [number, number, number, number],
  expected: readonly [number, number, number, number],
): ConformanceCase {
  return conformanceCase(`${name} is element-wise`, (b, { tolerance }) => {
    const y = op(b, b.tensor(inputs, [2, 2]));
    expectTensor(b, y, [2, 2], expected, tolerance, `${name}(${inputs.join(', ')})`);
  });
}

/**
 * A case checking a reduction over axis 0, 1, −1 and −2 of [[1, 5, 3], [4, 2, 6]], with and
 * without keepDims.
 */
function reductionCase(
  name: 'sum' | 'max' | 'min',
  byColumn: readonly number[],
  byRow: readonly number[],
): ConformanceCase {
  return conformanceCase(`${name} reduces over an axis`, (b, { tolerance }) => {
    const x = b.tensor([1, 5, 3, 4, 2, 6], [2, 3]);
    const reduce = (axis: number, keepDims: boolean) => b[name](x, axis, keepDims);
    expectTensor(b, reduce(0, false), [3], byColumn, tolerance, `${name} over axis 0`);
    expectTensor(b, reduce(0, true), [1, 3], byColumn, tolerance, `${name} over axis 0, keepDims`);
    expectTensor(b, reduce(1, false), [2], byRow, tolerance, `${name} over axis 1`);
    expectTensor(b, reduce(1, true), [2, 1], byRow, tolerance, `${name} over axis 1, keepDims`);
    expectTensor(b, reduce(-1, false), [2], byRow, tolerance, `${name} over axis -1`);
    expectTensor(b, reduce(-1, true), [2, 1], byRow, tolerance, `${name} over axis -1, keepDims`);
    expectTensor(b, reduce(-2, true), [1, 3], byColumn, tolerance, `${name} over axis -2, keepDims`);
  });
}

/** Mean and standard deviation (population) of `values`. */
function moments(values: ArrayLike<number>): { mean: number; std: number } {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] as number;
  const mean = sum / values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += ((values[i] as number) - mean) ** 2;
  return { mean, std: Math.sqrt(squares / values.length) };
}

/** True when `a` and `b` hold exactly the same numbers. */
function identical(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** Checks `tidy` with each kind of result, `keep` inside it and `dispose`. */
function tidyCase<T>(b: Backend<T>, { tolerance }: ConformanceContext): void {
  const single = b.tidy(() => b.add(matrix(b), b.scalar(1)));
  expectTensor(b, single, [2, 3], [2, 3, 4, 5, 6, 7], tolerance, 'tidy returning a tensor');
  const [first, second, ...rest] = b.tidy(() => [b.scalar(1), b.fill([2], 2)]);
  check(
    first !== undefined && second !== undefined && rest.length === 0,
    'tidy returning an array of 2 tensors gave a different number of entries',
  );
  expectTensor(b, first as T, [], [1], tolerance, 'tidy returning an array, entry 0');
  expectTensor(b, second as T, [2], [2, 2], tolerance, 'tidy returning an array, entry 1');
  const holder: { kept?: T } = {};
  const record = b.tidy(() => {
    holder.kept = b.keep(b.scalar(5));
    return { x: b.scalar(3) };
  });
  expectTensor(b, record.x, [], [3], tolerance, 'tidy returning a record');
  check(holder.kept !== undefined, 'tidy did not run its function');
  expectTensor(b, holder.kept as T, [], [5], tolerance, 'a tensor kept inside tidy');
  check(b.tidy(() => undefined) === undefined, 'tidy returning nothing gave a value');
  b.dispose(holder.kept as T);
  b.dispose(b.scalar(9));
}

/** Every conformance case; a backend passes when none of them throws. */
export const backendConformanceCases: readonly ConformanceCase[] = Object.freeze([
  conformanceCase('name is a non-empty string', (b) => {
    check(typeof b.name === 'string' && b.name.length > 0, `name is ${JSON.stringify(b.name)}`);
  }),

  conformanceCase('tensor, scalar and fill build tensors of the given shape', (b, { tolerance }) => {
    expectTensor(b, matrix(b), [2, 3], [1, 2, 3, 4, 5, 6], tolerance, 'tensor [2,3]');
    expectTensor(b, b.tensor([0.5, -1.5], [2]), [2], [0.5, -1.5], tolerance, 'tensor [2]');
    expectTensor(b, b.tensor([7], []), [], [7], tolerance, 'tensor of rank 0');
    expectTensor(
      b,
      b.tensor(new Float32Array([1, 2, 3, 4]), [2, 1, 2]),
      [2, 1, 2],
      [1, 2, 3, 4],
      tolerance,
      'tensor from a Float32Array',
    );
    expectTensor(b, b.scalar(2.5), [], [2.5], tolerance, 'scalar(2.5)');
    expectTensor(b, b.scalar(-3), [], [-3], tolerance, 'scalar(-3)');
    expectTensor(b, b.fill([2, 2], 3), [2, 2], [3, 3, 3, 3], tolerance, 'fill([2,2], 3)');
    expectTensor(b, b.fill([3], -0.25), [3], [-0.25, -0.25, -0.25], tolerance, 'fill([3], -0.25)');
    expectTensor(b, b.fill([2, 1], Number.NaN), [2, 1], [Number.NaN, Number.NaN], tolerance, 'fill with NaN');
  }),

  conformanceCase('readSync returns entries in row-major order', (b, { tolerance }) => {
    const x = b.tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]);
    expectClose(b.readSync(x), [1, 2, 3, 4, 5, 6, 7, 8], tolerance, 'readSync of [2,2,2]');
    // The last axis varies fastest: summing it pairs neighbours.
    expectTensor(
      b,
      b.sum(x, 2, false),
      [2, 2],
      [3, 7, 11, 15],
      tolerance,
      'sum over the last axis of [2,2,2]',
    );
    expectTensor(
      b,
      b.sum(x, 0, false),
      [2, 2],
      [6, 8, 10, 12],
      tolerance,
      'sum over the first axis of [2,2,2]',
    );
    expectTensor(
      b,
      b.sum(matrix(b), 0, false),
      [3],
      [5, 7, 9],
      tolerance,
      'column sums of [[1,2,3],[4,5,6]]',
    );
  }),

  conformanceCase('reshape keeps the row-major order', (b, { tolerance }) => {
    const m = matrix(b);
    const tall = b.reshape(m, [3, 2]);
    expectTensor(b, tall, [3, 2], [1, 2, 3, 4, 5, 6], tolerance, 'reshape [2,3] to [3,2]');
    expectTensor(b, b.sum(tall, 1, false), [3], [3, 7, 11], tolerance, 'row sums after reshape to [3,2]');
    expectTensor(b, b.reshape(m, [6]), [6], [1, 2, 3, 4, 5, 6], tolerance, 'reshape to [6]');
    expectTensor(b, b.reshape(m, [1, 2, 3]), [1, 2, 3], [1, 2, 3, 4, 5, 6], tolerance, 'reshape to [1,2,3]');
    expectTensor(b, b.reshape(b.scalar(5), [1, 1]), [1, 1], [5], tolerance, 'reshape a scalar to [1,1]');
    expectShape(b, m, [2, 3], 'the input of reshape');
  }),

  binaryCase(
    'add',
    (b, x, y) => b.add(x, y),
    (x, y) => x + y,
  ),
  binaryCase(
    'sub',
    (b, x, y) => b.sub(x, y),
    (x, y) => x - y,
  ),
  binaryCase(
    'mul',
    (b, x, y) => b.mul(x, y),
    (x, y) => x * y,
  ),
  binaryCase(
    'div',
    (b, x, y) => b.div(x, y),
    (x, y) => x / y,
  ),
  binaryCase('maximum', (b, x, y) => b.maximum(x, y), Math.max),
  binaryCase('minimum', (b, x, y) => b.minimum(x, y), Math.min),

  conformanceCase('binary operations broadcast across ranks', (b, { tolerance }) => {
    const cube = b.tensor([1, 2, 3, 4, 5, 6], [2, 1, 3]);
    const col = b.tensor([10, 20], [2, 1]);
    expectTensor(
      b,
      b.add(cube, col),
      [2, 2, 3],
      [11, 12, 13, 21, 22, 23, 14, 15, 16, 24, 25, 26],
      tolerance,
      'add [2,1,3] and [2,1]',
    );
    expectTensor(
      b,
      b.mul(b.tensor([2], [1]), matrix(b)),
      [2, 3],
      [2, 4, 6, 8, 10, 12],
      tolerance,
      'mul [1] and [2,3]',
    );
  }),

  unaryCase(
    'sigmoid',
    (b, x) => b.sigmoid(x),
    [-2, 0, 2, 30],
    [1 / (1 + Math.exp(2)), 0.5, 1 / (1 + Math.exp(-2)), 1],
  ),
  conformanceCase('sigmoid saturates without NaN', (b, { tolerance }) => {
    expectTensor(b, b.sigmoid(b.tensor([-100, 100], [2])), [2], [0, 1], tolerance, 'sigmoid(±100)');
  }),
  unaryCase('log', (b, x) => b.log(x), [1, Math.E, 0.5, 0], [0, 1, -Math.LN2, -Infinity]),
  unaryCase('exp', (b, x) => b.exp(x), [0, 1, -1, 2], [1, Math.E, 1 / Math.E, Math.exp(2)]),
  unaryCase('abs', (b, x) => b.abs(x), [-1.5, 0, 2, -3], [1.5, 0, 2, 3]),
  unaryCase('sqrt', (b, x) => b.sqrt(x), [0, 4, 2.25, 2], [0, 2, 1.5, Math.SQRT2]),
  unaryCase('square', (b, x) => b.square(x), [-3, 0.5, 2, 0], [9, 0.25, 4, 0]),

  reductionCase('sum', [5, 7, 9], [9, 12]),
  reductionCase('max', [4, 5, 6], [5, 6]),
  reductionCase('min', [1, 2, 3], [1, 2]),

  conformanceCase('topkValues returns the k largest of each row, descending', (b, { tolerance }) => {
    const x = b.tensor([3, 1, 2, 5, 0, -1, 4, 4], [2, 4]);
    expectTensor(b, b.topkValues(x, 1), [2, 1], [5, 4], tolerance, 'topkValues k = 1');
    expectTensor(b, b.topkValues(x, 2), [2, 2], [5, 3, 4, 4], tolerance, 'topkValues k = 2');
    expectTensor(b, b.topkValues(x, 4), [2, 4], [5, 3, 2, 1, 4, 4, 0, -1], tolerance, 'topkValues k = n');
  }),

  conformanceCase('sliceColumns takes a block of columns', (b, { tolerance }) => {
    const x = b.tensor([0, 1, 2, 3, 10, 11, 12, 13], [2, 4]);
    expectTensor(b, b.sliceColumns(x, 1, 2), [2, 2], [1, 2, 11, 12], tolerance, 'sliceColumns(1, 2)');
    expectTensor(b, b.sliceColumns(x, 0, 1), [2, 1], [0, 10], tolerance, 'sliceColumns(0, 1)');
    expectTensor(b, b.sliceColumns(x, 3, 1), [2, 1], [3, 13], tolerance, 'sliceColumns(3, 1)');
    expectTensor(
      b,
      b.sliceColumns(x, 0, 4),
      [2, 4],
      [0, 1, 2, 3, 10, 11, 12, 13],
      tolerance,
      'sliceColumns(0, 4)',
    );
  }),

  conformanceCase('topkMask marks exactly k entries per row, ties to the lowest index', (b) => {
    const x = b.tensor([1, 3, 3, 2, 5, 5, 5, 5, 0, -1, 2, -3], [3, 4]);
    const expected: Record<number, number[]> = {
      1: [0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0],
      2: [0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 1, 0],
      3: [0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0],
      4: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    };
    for (const k of [1, 2, 3, 4]) {
      expectTensor(b, b.topkMask(x, k), [3, 4], expected[k] ?? [], 0, `topkMask k = ${k}`);
    }
  }),

  conformanceCase('topkIndices lists the k largest per row, largest first, ties to the lowest index', (b) => {
    const x = b.tensor([1, 3, 3, 2, 5, 5, 5, 5, 0, -1, 2, -3], [3, 4]);
    const expected: Record<number, number[]> = {
      1: [1, 0, 2],
      2: [1, 2, 0, 1, 2, 0],
      4: [1, 2, 3, 0, 0, 1, 2, 3, 2, 0, 1, 3],
    };
    for (const k of [1, 2, 4]) {
      expectTensor(b, b.topkIndices(x, k), [3, k], expected[k] ?? [], 0, `topkIndices k = ${k}`);
    }
  }),

  conformanceCase('batchGather picks rows per batch entry, from topkIndices or from tensor', (b) => {
    // x [2, 3, 2]: x[b, i, :] = [10b + i, −(10b + i)].
    const x = b.tensor([0, -0, 1, -1, 2, -2, 10, -10, 11, -11, 12, -12], [2, 3, 2]);
    const order = b.topkIndices(b.tensor([0, 2, 1, 5, 3, 4], [2, 3]), 2);
    expectTensor(b, b.batchGather(x, order), [2, 2, 2], [1, -1, 2, -2, 10, -10, 12, -12], 0, 'batchGather');
    const given = b.tensor([2, 2, 0, 1], [2, 2]);
    expectTensor(b, b.batchGather(x, given), [2, 2, 2], [2, -2, 2, -2, 10, -10, 11, -11], 0, 'repeated');
    const v = b.tensor([5, 6, 7, 8, 9, 10], [2, 3, 1]);
    expectTensor(b, b.batchGather(v, given), [2, 2, 1], [7, 7, 8, 9], 0, 'batchGather [b, n, 1]');
  }),

  conformanceCase('concat joins along any axis', (b) => {
    const a = b.tensor([1, 2, 3, 4], [2, 1, 2]);
    const c = b.tensor([5, 6, 7, 8, 9, 10, 11, 12], [2, 2, 2]);
    expectTensor(b, b.concat([a, c], 1), [2, 3, 2], [1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12], 0, 'axis 1');
    expectTensor(b, b.concat([a, a], 0), [4, 1, 2], [1, 2, 3, 4, 1, 2, 3, 4], 0, 'axis 0');
    expectTensor(b, b.concat([a, a], -1), [2, 1, 4], [1, 2, 1, 2, 3, 4, 3, 4], 0, 'axis −1');
  }),

  conformanceCase('less, greater and equal broadcast and give masks', (b) => {
    const { m, row, s } = operands(b);
    const t = b.tensor([1, 3, 3, 6, 5, 4], [2, 3]);
    expectMask(b, b.less(m, t), [2, 3], [0, 1, 0, 1, 0, 0], 'less [2,3] [2,3]');
    expectMask(b, b.greater(m, t), [2, 3], [0, 0, 0, 0, 0, 1], 'greater [2,3] [2,3]');
    expectMask(b, b.equal(m, t), [2, 3], [1, 0, 1, 0, 1, 0], 'equal [2,3] [2,3]');
    const r = b.tensor([2, 2, 5], [3]);
    expectMask(b, b.less(m, r), [2, 3], [1, 0, 1, 0, 0, 0], 'less [2,3] [3]');
    expectMask(b, b.greater(r, m), [2, 3], [1, 0, 1, 0, 0, 0], 'greater [3] [2,3]');
    expectMask(b, b.equal(m, s), [2, 3], [0, 0, 0, 1, 0, 0], 'equal [2,3] scalar');
    expectMask(b, b.greater(s, b.tensor([3, 4], [2, 1])), [2, 1], [1, 0], 'greater scalar [2,1]');
    expectMask(b, b.less(b.tensor([5, 25], [2, 1]), row), [2, 3], [1, 1, 1, 0, 0, 1], 'less [2,1] [3]');
  }),

  conformanceCase('comparisons with NaN are false and ±∞ compares as a number', (b) => {
    const x = b.tensor([Number.NaN, Infinity, -Infinity, 1], [4]);
    const zero = b.scalar(0);
    expectMask(b, b.less(x, zero), [4], [0, 0, 1, 0], 'less than 0');
    expectMask(b, b.greater(x, zero), [4], [0, 1, 0, 1], 'greater than 0');
    expectMask(b, b.equal(x, x), [4], [0, 1, 1, 1], 'equal to itself');
  }),

  conformanceCase('isFinite is false exactly for NaN and ±∞', (b) => {
    const x = b.tensor([1, Number.NaN, Infinity, -Infinity, 0, -2.5], [2, 3]);
    expectMask(b, b.isFinite(x), [2, 3], [1, 0, 0, 0, 1, 1], 'isFinite');
  }),

  conformanceCase('logicalAnd combines masks with broadcasting', (b) => {
    const m = matrix(b);
    const above = b.greater(m, b.scalar(1));
    const below = b.less(m, b.scalar(5));
    expectMask(b, b.logicalAnd(above, below), [2, 3], [0, 1, 1, 1, 0, 0], 'logicalAnd [2,3] [2,3]');
    const rowMask = b.greater(b.tensor([1, 0, 1], [3]), b.scalar(0.5));
    expectMask(b, b.logicalAnd(above, rowMask), [2, 3], [0, 0, 1, 1, 0, 1], 'logicalAnd [2,3] [3]');
  }),

  conformanceCase('allRows is true for rows that are all true, shape [rows, 1]', (b) => {
    const x = b.tensor([1, 2, Number.NaN, 3, Infinity, -Infinity, 0, -4], [4, 2]);
    expectMask(b, b.allRows(b.isFinite(x)), [4, 1], [1, 0, 0, 1], 'allRows(isFinite)');
    const m = matrix(b);
    expectMask(b, b.allRows(b.greater(m, b.scalar(3))), [2, 1], [0, 1], 'allRows(greater than 3)');
  }),

  conformanceCase('where picks entries with broadcasting', (b, { tolerance }) => {
    const { m, row, s } = operands(b);
    const big = b.greater(m, b.scalar(2));
    expectTensor(
      b,
      b.where(big, m, b.scalar(0)),
      [2, 3],
      [0, 0, 3, 4, 5, 6],
      tolerance,
      'where [2,3] mask, [2,3], scalar',
    );
    expectTensor(
      b,
      b.where(big, row, m),
      [2, 3],
      [1, 2, 40, 10, 20, 40],
      tolerance,
      'where [2,3] mask, [3], [2,3]',
    );
    const rows = b.less(b.tensor([1, 3], [2, 1]), b.scalar(2));
    expectTensor(
      b,
      b.where(rows, row, s),
      [2, 3],
      [10, 20, 40, 4, 4, 4],
      tolerance,
      'where [2,1] mask, [3], scalar',
    );
    const x = b.tensor([Number.NaN, 1, Infinity, -2], [2, 2]);
    const safe = b.where(b.isFinite(x), x, b.fill([2, 2], -1));
    expectTensor(b, safe, [2, 2], [-1, 1, -1, -2], tolerance, 'where(isFinite(x), x, -1)');
  }),

  conformanceCase('maskToFloat turns masks into 0/1 float tensors', (b, { tolerance }) => {
    const mask = b.maskToFloat(b.greater(matrix(b), b.scalar(3.5)));
    expectTensor(b, mask, [2, 3], [0, 0, 0, 1, 1, 1], 0, 'maskToFloat(greater)');
    // The result is an ordinary float tensor: arithmetic works on it.
    expectTensor(b, b.sum(mask, 1, false), [2], [0, 3], tolerance, 'sum of maskToFloat');
    expectTensor(b, b.mul(mask, b.scalar(2)), [2, 3], [0, 0, 0, 2, 2, 2], tolerance, 'mul of maskToFloat');
  }),

  conformanceCase('randomNormal is seeded and standard normal', (b, { tolerance }) => {
    const a = b.randomNormal([3, 4], 42);
    expectShape(b, a, [3, 4], 'randomNormal([3,4])');
    const first = Array.from(b.readSync(a));
    const again = Array.from(b.readSync(b.randomNormal([3, 4], 42)));
    check(
      identical(first, again),
      `randomNormal with seed 42 differs between calls: ${show(first)} vs ${show(again)}`,
    );
    const other = Array.from(b.readSync(b.randomNormal([3, 4], 43)));
    check(!identical(first, other), 'randomNormal gives the same draws for seeds 42 and 43');
    check(first.every(Number.isFinite), `randomNormal draws must be finite: ${show(first)}`);
    expectShape(b, b.randomNormal([2, 3, 5], 1), [2, 3, 5], 'randomNormal([2,3,5])');
    expectShape(b, b.randomNormal([7]), [7], 'randomNormal([7]) without a seed');
    const u = Array.from(b.readSync(b.randomNormal([16])));
    const v = Array.from(b.readSync(b.randomNormal([16])));
    check(!identical(u, v), 'two randomNormal calls without a seed give the same draws');
    const { mean, std } = moments(b.readSync(b.randomNormal([100, 200], 7)));
    expectClose([mean, std], [0, 1], 0.05 + tolerance, 'mean and std of 20000 draws');
  }),

  conformanceCase('customGrad returns the forward value', (b, { tolerance }) => {
    const square = b.customGrad((x, save) => {
      const value = b.square(x);
      save([x]);
      return {
        value,
        gradient: (dy, saved) => b.mul(dy, b.mul(b.scalar(2), saved[0] ?? x)),
      };
    });
    expectTensor(b, square(b.tensor([-1, 2, 3], [3])), [3], [1, 4, 9], tolerance, 'customGrad(square)');
    const shifted = b.customGrad((x) => ({ value: b.add(x, b.scalar(1)), gradient: (dy) => dy }));
    expectTensor(b, shifted(matrix(b)), [2, 3], [2, 3, 4, 5, 6, 7], tolerance, 'customGrad(x + 1)');
  }),

  conformanceCase('stopGradient is the identity in the forward pass', (b, { tolerance }) => {
    expectTensor(b, b.stopGradient(matrix(b)), [2, 3], [1, 2, 3, 4, 5, 6], tolerance, 'stopGradient');
  }),

  conformanceCase('tidy returns what its function returns; keep and dispose work', tidyCase),

  conformanceCase('shape reports the shape of every kind of tensor', (b) => {
    expectShape(b, b.scalar(1), [], 'shape of a scalar');
    expectShape(b, b.fill([4], 0), [4], 'shape of a [4] tensor');
    expectShape(b, b.fill([2, 0, 3], 0), [2, 0, 3], 'shape of an empty tensor');
    expectShape(b, b.greater(matrix(b), b.scalar(0)), [2, 3], 'shape of a mask');
  }),
]);
