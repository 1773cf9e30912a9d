/**
 * Backend-agnostic conformance cases: every backend's test suite runs them
 * all, the way TensorFlow.js runs its op tests on every backend.
 *
 * The cases use no test framework; each throws a {@link ConformanceError} on
 * failure. Expected values are computed by hand (or with plain `Math`), use
 * magnitudes that float32 represents well, and masks are always read through
 * `maskToFloat`. There are three kinds (see {@link ConformanceKind}): values
 * of every operation, gradients of the differentiable ones (through the
 * `grad` the test supplies: the backend's own autodiff) and, for each entry
 * of the backend's `fused` group, parity with the generic composition.
 *
 * @example
 * ```ts
 * for (const c of backendConformanceCases) {
 *   it(c.name, async () => c.run(backend, { tolerance: 1e-5, grad: (f, x) => tf.grad(f)(x) }));
 * }
 * ```
 *
 * @module
 */
import { describeValue } from '@dcem/errors';
import { lml } from '@dcem/lml';
import type { Backend } from '../backend.js';
import { fitDiagonalGaussian, sampleDiagonalGaussian } from '../gaussian.js';
import { clamp } from '../ops.js';
import { valuesToScores } from '../selectors.js';
import { updateBest } from '../solver.js';

/**
 * What a case checks: `'value'` the forward values of an operation,
 * `'gradient'` the gradient of a differentiable operation (needs
 * {@link ConformanceContext.grad}), `'parity'` that an entry of the
 * backend's `fused` group gives the values and gradients of the generic
 * composition (passes trivially for a backend without that entry; needs
 * `grad` where it has it).
 */
export type ConformanceKind = 'value' | 'gradient' | 'parity';

/** What a conformance case needs to know about the backend under test. */
export interface ConformanceContext<T = unknown> {
  /**
   * Tolerance suited to the backend's precision: absolute for values of
   * magnitude ≤ 1, relative above (gradients and parity scale it by the
   * magnitude of the expected entries).
   */
  tolerance: number;
  /**
   * The backend's autodiff: the gradient of sum(f(x)) with respect to `x`,
   * the shape of `x` (for TensorFlow.js, `(f, x) => tf.grad(f)(x)`). The
   * gradient cases, and the parity cases of the fused entries a backend has,
   * throw a {@link ConformanceError} without it; a backend without autodiff
   * runs the cases of kind `'value'` only.
   */
  grad?: (f: (x: T) => T, x: T) => T;
}

/** One backend-agnostic check. */
export interface ConformanceCase {
  /** A short description, usable as a test name. */
  name: string;
  /** What it checks. */
  kind: ConformanceKind;
  /**
   * Runs the check against `backend`; throws a {@link ConformanceError} on
   * failure. The cases of `read` (asynchronous) return a Promise that
   * rejects instead: await what `run` returns.
   */
  run<T>(backend: Backend<T>, context: ConformanceContext<T>): void | Promise<void>;
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
 * is within `tol` of the expected one (NaN must match NaN, ±∞ must match
 * exactly); with `relative`, within `tol` · max(1, |expected|).
 */
function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
  what: string,
  relative = false,
): void {
  const context = () => `${what}: got ${show(actual)}, expected ${show(expected)}`;
  check(
    actual.length === expected.length,
    `${context()} (${actual.length} entries instead of ${expected.length})`,
  );
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    const bound = relative ? tol * Math.max(1, Math.abs(e)) : tol;
    const ok = Number.isNaN(e) ? Number.isNaN(a) : Number.isFinite(e) ? Math.abs(a - e) <= bound : a === e;
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
  run: <T>(backend: Backend<T>, context: ConformanceContext<T>) => void | Promise<void>,
  kind: ConformanceKind = 'value',
): ConformanceCase {
  return { name, kind, run };
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
  const run = <T>(b: Backend<T>, { tolerance }: ConformanceContext<T>): void => {
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
function tidyCase<T>(b: Backend<T>, { tolerance }: ConformanceContext<T>): void {
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

/** An operand of the `matMul` cases: row-major entries and a shape. */
interface MatOperand {
  values: number[];
  shape: number[];
}

/** `size` entries in halves from −2.5 to 3.5, exact in float32 (their products and sums too). */
function halves(size: number, shift: number): number[] {
  return Array.from({ length: size }, (_, i) => (((i + shift) * 5) % 13) / 2 - 2.5);
}

/** An operand of shape `shape` with entries {@link halves}. */
function matOperand(shape: number[], shift: number): MatOperand {
  return {
    values: halves(
      shape.reduce((p, e) => p * e, 1),
      shift,
    ),
    shape,
  };
}

/**
 * The batched product a·b on the host (batch axes broadcast like NumPy) and
 * the gradients of sum(w ⊙ a·b), w the {@link weight}s of the result's
 * entries: the oracle of the `matMul` cases.
 */
function hostMatMul(
  a: MatOperand,
  b: MatOperand,
): { shape: number[]; values: number[]; ga: number[]; gb: number[] } {
  const m = a.shape[a.shape.length - 2] as number;
  const k = a.shape[a.shape.length - 1] as number;
  const n = b.shape[b.shape.length - 1] as number;
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const rank = Math.max(batchA.length, batchB.length);
  const padded = (batch: number[]) => [...new Array<number>(rank - batch.length).fill(1), ...batch];
  const pa = padded(batchA);
  const pb = padded(batchB);
  const batch = pa.map((e, d) => Math.max(e, pb[d] as number));
  const count = batch.reduce((p, e) => p * e, 1);
  // The batch entry of an operand that batch entry `p` of the result reads.
  const source = (shape: number[], p: number) => {
    let index = 0;
    let rest = p;
    let stride = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const extent = batch[d] as number;
      const at = rest % extent;
      rest = Math.floor(rest / extent);
      if (shape[d] !== 1) index += at * stride;
      stride *= shape[d] as number;
    }
    return index;
  };
  const values = new Array<number>(count * m * n).fill(0);
  const ga = a.values.map(() => 0);
  const gb = b.values.map(() => 0);
  for (let p = 0; p < count; p++) {
    const oa = source(pa, p) * m * k;
    const ob = source(pb, p) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const out = (p * m + i) * n + j;
        for (let l = 0; l < k; l++) {
          const x = a.values[oa + i * k + l] as number;
          const y = b.values[ob + l * n + j] as number;
          values[out] = (values[out] as number) + x * y;
          ga[oa + i * k + l] = (ga[oa + i * k + l] as number) + weight(out) * y;
          gb[ob + l * n + j] = (gb[ob + l * n + j] as number) + weight(out) * x;
        }
      }
    }
  }
  return { shape: [...batch, m, n], values, ga, gb };
}

/**
 * The shapes of the `matMul` cases: two matrices, a batch times a shared
 * matrix on either side (the coloured-noise filter's [n, n] × [rows, n,
 * inner]), batch axes that broadcast both ways, and k = 1.
 */
const MATMUL_SHAPES: readonly [number[], number[]][] = [
  [
    [2, 3],
    [3, 4],
  ],
  [
    [2, 2, 3],
    [3, 2],
  ],
  [
    [3, 3],
    [2, 3, 2],
  ],
  [
    [2, 1, 2, 3],
    [3, 3, 2],
  ],
  [
    [1, 3, 1],
    [2, 1, 2],
  ],
];

/** The cases of kind `'value'`. */
const valueCases: readonly ConformanceCase[] = [
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

  conformanceCase(
    'read resolves with the entries of readSync, in row-major order (NaN and ±∞ included)',
    async (b, { tolerance }) => {
      const values = [1, -2.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0];
      const x = b.tensor(values, [2, 3]);
      const pending = b.read(x);
      if (typeof (pending as { then?: unknown })?.then !== 'function') {
        throw new ConformanceError(`read: expected a Promise, received ${describeValue(pending)}`);
      }
      expectClose(await pending, values, tolerance, 'read of [2,3]');
      // A computed tensor (on a device, a result still being computed) and a scalar.
      const y = b.mul(b.add(b.tensor([1, 2, 3, 4], [2, 2]), b.scalar(1)), b.scalar(2));
      expectClose(await b.read(y), [4, 6, 8, 10], tolerance, 'read of 2(x + 1)');
      expectClose(await b.read(b.scalar(-7)), [-7], tolerance, 'read of scalar(-7)');
    },
  ),

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

  conformanceCase(
    'matMul multiplies the last two axes, broadcasting the batch axes; NaN stays in its row',
    (b, { tolerance }) => {
      MATMUL_SHAPES.forEach(([sa, sb], c) => {
        const a = matOperand(sa, c);
        const bm = matOperand(sb, c + 3);
        const { shape, values } = hostMatMul(a, bm);
        const y = b.matMul(b.tensor(a.values, a.shape), b.tensor(bm.values, bm.shape));
        expectTensor(b, y, shape, values, tolerance, `matMul [${sa.join(',')}] × [${sb.join(',')}]`);
      });
      const nan = b.matMul(b.tensor([Number.NaN, 1, 2, 3], [2, 2]), b.tensor([1, 0, 0, 1], [2, 2]));
      expectTensor(b, nan, [2, 2], [Number.NaN, Number.NaN, 2, 3], tolerance, 'matMul with a NaN in row 0');
    },
  ),

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

  conformanceCase('prefetchNormal does not change the draws of randomNormal', (b) => {
    if (b.prefetchNormal === undefined) return;
    const direct = Array.from(b.readSync(b.randomNormal([3, 5], 11)));
    b.prefetchNormal([3, 5], 11);
    const after = Array.from(b.readSync(b.randomNormal([3, 5], 11)));
    check(
      identical(direct, after),
      `randomNormal([3,5], 11) after prefetchNormal: ${show(after)} instead of ${show(direct)}`,
    );
    // A hint that is not followed (another shape or seed comes) changes nothing either.
    b.prefetchNormal([2, 2], 12);
    const other = Array.from(b.readSync(b.randomNormal([3, 5], 11)));
    check(identical(direct, other), `randomNormal([3,5], 11) after an unused prefetch: ${show(other)}`);
  }),

  conformanceCase(
    'lml over the backend composes a projection: rows sum to k, order kept',
    (b, { tolerance }) => {
      const x = b.tensor([0.5, -1, 2, 0, 1, 3, -2, 0.25, 1.5, -0.5], [2, 5]);
      const y = lml(withoutFused(b), x, 2, { temperature: 0.5 });
      expectShape(b, y, [2, 5], 'lml(x, 2)');
      const v = Array.from(b.readSync(y));
      expectClose([sumOf(v.slice(0, 5)), sumOf(v.slice(5))], [2, 2], tolerance * 4, 'row sums of lml(x, 2)');
      check(
        v.every((e) => e > 0 && e < 1),
        `lml entries must lie in (0, 1): ${show(v)}`,
      );
      const order = [2, 4, 0, 3, 1];
      for (let i = 1; i < order.length; i++) {
        check(
          (v[order[i - 1] as number] as number) > (v[order[i] as number] as number),
          `lml must keep the order of row 0: ${show(v.slice(0, 5))}`,
        );
      }
    },
  ),
];

/** Sum of the entries. */
function sumOf(values: readonly number[]): number {
  return values.reduce((a, v) => a + v, 0);
}

/** `b` without its fused group: the generic composition of every step. */
function withoutFused<T>(b: Backend<T>): Backend<T> {
  return { ...b, fused: undefined };
}

/**
 * The weights of the losses the gradient cases differentiate: entry `i` of
 * sum(w ⊙ f(x)) has weight w(i), distinct and non-zero over any 7 neighbours
 * and exact in float32, so a gradient sent to the wrong entry shows.
 */
function weight(i: number): number {
  return (((i * 5) % 7) - 3) / 2 + 0.25;
}

/** The first `n` weights. */
function weights(n: number): number[] {
  return Array.from({ length: n }, (_, i) => weight(i));
}

/** sum(w ⊙ y) as a function's output: `y` times the weights of its entries. */
function weighted<T>(b: Backend<T>, y: T): T {
  const shape = b.shape(y);
  return b.mul(y, b.tensor(weights(shape.reduce((a, e) => a * e, 1)), shape));
}

/** The context's `grad`, or a {@link ConformanceError} saying it is needed. */
function gradOf<T>(context: ConformanceContext<T>, what: string): (f: (x: T) => T, x: T) => T {
  const { grad } = context;
  if (grad === undefined) {
    throw new ConformanceError(
      `${what} needs context.grad (the backend's d sum(f(x))/dx); a backend without autodiff runs only the cases of kind 'value'`,
    );
  }
  return grad;
}

/** Throws unless d sum(w ⊙ f(x))/dx has the shape of `x` and the `expected` entries. */
function expectGradient<T>(
  b: Backend<T>,
  context: ConformanceContext<T>,
  f: (x: T) => T,
  x: T,
  expected: readonly number[],
  what: string,
): void {
  const g = gradOf(context, what)((input) => weighted(b, f(input)), x);
  expectShape(b, g, b.shape(x), `gradient of ${what}`);
  expectClose(b.readSync(g), expected, context.tolerance, `gradient of ${what}`, true);
}

/** An operand of the broadcasting gradient cases and the entry of it that output (i, j) of a [2, 3] result reads. */
interface Operand {
  label: string;
  values: number[];
  shape: number[];
  at: (i: number, j: number) => number;
}

/** The operands of {@link operands} as {@link Operand}s. */
const OPERANDS: Record<'m' | 'row' | 'col' | 's', Operand> = {
  m: { label: '[2,3]', values: [1, 2, 3, 4, 5, 6], shape: [2, 3], at: (i, j) => 3 * i + j },
  row: { label: '[3]', values: [10, 20, 40], shape: [3], at: (_, j) => j },
  col: { label: '[2,1]', values: [1, 2], shape: [2, 1], at: (i) => i },
  s: { label: 'scalar', values: [4], shape: [], at: () => 0 },
};

/**
 * The expected gradients of sum(w ⊙ op(a, b)) for a [2, 3] result: each
 * output entry sends w · ∂op to the entry of each operand it read.
 */
function broadcastGradients(
  a: Operand,
  c: Operand,
  da: (x: number, y: number) => number,
  dc: (x: number, y: number) => number,
): [number[], number[]] {
  const ga = a.values.map(() => 0);
  const gc = c.values.map(() => 0);
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < 3; j++) {
      const x = a.values[a.at(i, j)] as number;
      const y = c.values[c.at(i, j)] as number;
      const w = weight(3 * i + j);
      ga[a.at(i, j)] = (ga[a.at(i, j)] as number) + w * da(x, y);
      gc[c.at(i, j)] = (gc[c.at(i, j)] as number) + w * dc(x, y);
    }
  }
  return [ga, gc];
}

/** A case checking both gradients of a broadcasting binary operation on the given pairs of operands. */
function binaryGradientCase(
  name: string,
  op: BinaryOp,
  da: (x: number, y: number) => number,
  dc: (x: number, y: number) => number,
  pairs: readonly [Operand, Operand][],
): ConformanceCase {
  return conformanceCase(
    `${name} gradient sums over broadcast axes`,
    (b, context) => {
      for (const [a, c] of pairs) {
        const [ga, gc] = broadcastGradients(a, c, da, dc);
        const ta = b.tensor(a.values, a.shape);
        const tc = b.tensor(c.values, c.shape);
        const what = `${name}(${a.label}, ${c.label})`;
        expectGradient(b, context, (x) => op(b, x, tc), ta, ga, `${what} in its first argument`);
        expectGradient(b, context, (y) => op(b, ta, y), tc, gc, `${what} in its second argument`);
      }
    },
    'gradient',
  );
}

/** The pairs of the broadcasting gradient cases. */
const PAIRS: readonly [Operand, Operand][] = [
  [OPERANDS.m, OPERANDS.row],
  [OPERANDS.row, OPERANDS.m],
  [OPERANDS.m, OPERANDS.col],
  [OPERANDS.col, OPERANDS.row],
  [OPERANDS.m, OPERANDS.s],
  [OPERANDS.s, OPERANDS.m],
];

/** Operands of `maximum` and `minimum` with no ties: a [2, 3] and a [3] that each win somewhere. */
const UNTIED: readonly [Operand, Operand][] = [
  [
    { label: '[2,3]', values: [1, 5, 3, 4, 2, 6], shape: [2, 3], at: (i, j) => 3 * i + j },
    { label: '[3]', values: [2, 4, 5], shape: [3], at: (_, j) => j },
  ],
];

/** A case checking the derivative of an element-wise function on a [2, 2] tensor. */
function unaryGradientCase(
  name: string,
  op: <T>(b: Backend<T>, x: T) => T,
  inputs: readonly number[],
  derivative: (v: number) => number,
): ConformanceCase {
  return conformanceCase(
    `${name} gradient is element-wise`,
    (b, context) => {
      const expected = inputs.map((v, i) => weight(i) * derivative(v));
      expectGradient(
        b,
        context,
        (x) => op(b, x),
        b.tensor(inputs, [2, 2]),
        expected,
        `${name}(${inputs.join(', ')})`,
      );
    },
    'gradient',
  );
}

/** Logistic function for the expectations. */
function logistic(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

/** The expected gradient of sum(w ⊙ lml(x, k, τ)) from y = lml(x): dx = s ⊙ (g − ⟨s, g⟩/Σs)/τ, s = y(1 − y), per row. */
function lmlClosedForm(y: ArrayLike<number>, n: number, tau: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < y.length / n; r++) {
    const s = Array.from({ length: n }, (_, j) => {
      const v = y[r * n + j] as number;
      return v * (1 - v);
    });
    const g = Array.from({ length: n }, (_, j) => weight(r * n + j));
    const total = sumOf(s);
    const dot = sumOf(s.map((v, j) => v * (g[j] as number)));
    for (let j = 0; j < n; j++) out.push(((s[j] as number) * ((g[j] as number) - dot / total)) / tau);
  }
  return out;
}

/** The cases of kind `'gradient'`. */
const gradientCases: readonly ConformanceCase[] = [
  binaryGradientCase(
    'add',
    (b, x, y) => b.add(x, y),
    () => 1,
    () => 1,
    PAIRS,
  ),
  binaryGradientCase(
    'sub',
    (b, x, y) => b.sub(x, y),
    () => 1,
    () => -1,
    PAIRS,
  ),
  binaryGradientCase(
    'mul',
    (b, x, y) => b.mul(x, y),
    (_, y) => y,
    (x) => x,
    PAIRS,
  ),
  binaryGradientCase(
    'div',
    (b, x, y) => b.div(x, y),
    (_, y) => 1 / y,
    (x, y) => -x / (y * y),
    PAIRS,
  ),
  binaryGradientCase(
    'maximum',
    (b, x, y) => b.maximum(x, y),
    (x, y) => (x > y ? 1 : 0),
    (x, y) => (x > y ? 0 : 1),
    UNTIED,
  ),
  binaryGradientCase(
    'minimum',
    (b, x, y) => b.minimum(x, y),
    (x, y) => (x < y ? 1 : 0),
    (x, y) => (x < y ? 0 : 1),
    UNTIED,
  ),
  unaryGradientCase('exp', (b, x) => b.exp(x), [0, 1, -1, 2], Math.exp),
  unaryGradientCase(
    'log',
    (b, x) => b.log(x),
    [1, Math.E, 0.5, 4],
    (v) => 1 / v,
  ),
  unaryGradientCase(
    'sigmoid',
    (b, x) => b.sigmoid(x),
    [-2, 0, 2, 5],
    (v) => logistic(v) * (1 - logistic(v)),
  ),
  unaryGradientCase(
    'sqrt',
    (b, x) => b.sqrt(x),
    [4, 2.25, 2, 9],
    (v) => 1 / (2 * Math.sqrt(v)),
  ),
  unaryGradientCase(
    'square',
    (b, x) => b.square(x),
    [-3, 0.5, 2, 1.5],
    (v) => 2 * v,
  ),
  unaryGradientCase('abs', (b, x) => b.abs(x), [-1.5, 0.5, 2, -3], Math.sign),

  conformanceCase(
    'sum, max and min gradients go back over the reduced axis',
    (b, context) => {
      // [[1, 5, 3], [4, 2, 6]]: every row and column has a unique max and min.
      const x = b.tensor([1, 5, 3, 4, 2, 6], [2, 3]);
      const w = weight;
      for (const keepDims of [false, true]) {
        const tag = keepDims ? ', keepDims' : '';
        const sum = (axis: number) => (t: typeof x) => b.sum(t, axis, keepDims);
        expectGradient(b, context, sum(1), x, [w(0), w(0), w(0), w(1), w(1), w(1)], `sum over axis 1${tag}`);
        expectGradient(b, context, sum(0), x, [w(0), w(1), w(2), w(0), w(1), w(2)], `sum over axis 0${tag}`);
        expectGradient(
          b,
          context,
          sum(-1),
          x,
          [w(0), w(0), w(0), w(1), w(1), w(1)],
          `sum over axis -1${tag}`,
        );
        const max = (axis: number) => (t: typeof x) => b.max(t, axis, keepDims);
        const min = (axis: number) => (t: typeof x) => b.min(t, axis, keepDims);
        expectGradient(b, context, max(1), x, [0, w(0), 0, 0, 0, w(1)], `max over axis 1${tag}`);
        expectGradient(b, context, max(0), x, [0, w(1), 0, w(0), 0, w(2)], `max over axis 0${tag}`);
        expectGradient(b, context, min(1), x, [w(0), 0, 0, 0, w(1), 0], `min over axis 1${tag}`);
        expectGradient(b, context, min(0), x, [w(0), 0, w(2), 0, w(1), 0], `min over axis 0${tag}`);
      }
    },
    'gradient',
  ),

  conformanceCase(
    'where sends the gradient to the branch it picked, summed over broadcast axes',
    (b, context) => {
      const { m, row } = operands(b);
      const mask = b.greater(m, b.scalar(2)); // [[0, 0, 1], [1, 1, 1]]
      const w = weight;
      expectGradient(
        b,
        context,
        (x) => b.where(mask, x, row),
        m,
        [0, 0, w(2), w(3), w(4), w(5)],
        'where(mask, x, [3])',
      );
      expectGradient(b, context, (x) => b.where(mask, m, x), row, [w(0), w(1), 0], 'where(mask, [2,3], x)');
      expectGradient(
        b,
        context,
        (x) => b.where(mask, x, m),
        row,
        [w(3), w(4), w(2) + w(5)],
        'where(mask, x [3], [2,3])',
      );
    },
    'gradient',
  ),

  conformanceCase(
    'reshape, sliceColumns and concat pass the gradient to the entries they moved',
    (b, context) => {
      const w = weight;
      expectGradient(
        b,
        context,
        (x) => b.reshape(x, [3, 2]),
        matrix(b),
        weights(6),
        'reshape [2,3] to [3,2]',
      );
      const wide = b.tensor([0, 1, 2, 3, 10, 11, 12, 13], [2, 4]);
      expectGradient(
        b,
        context,
        (x) => b.sliceColumns(x, 1, 2),
        wide,
        [0, w(0), w(1), 0, 0, w(2), w(3), 0],
        'sliceColumns(1, 2)',
      );
      // concat([a [2,1,2], c [2,2,2]], 1) is [2,3,2]: row o holds a[o] (2 entries) then c[o] (4).
      const a = b.tensor([1, 2, 3, 4], [2, 1, 2]);
      const c = b.tensor([5, 6, 7, 8, 9, 10, 11, 12], [2, 2, 2]);
      expectGradient(
        b,
        context,
        (x) => b.concat([x, c], 1),
        a,
        [w(0), w(1), w(6), w(7)],
        'concat([x, c], 1) in x',
      );
      expectGradient(
        b,
        context,
        (x) => b.concat([a, x], 1),
        c,
        [w(2), w(3), w(4), w(5), w(8), w(9), w(10), w(11)],
        'concat([a, x], 1) in x',
      );
      expectGradient(
        b,
        context,
        (x) => b.concat([x, x], -1),
        a,
        [w(0) + w(2), w(1) + w(3), w(4) + w(6), w(5) + w(7)],
        'concat([x, x], -1)',
      );
    },
    'gradient',
  ),

  conformanceCase(
    'batchGather and topkValues scatter the gradient back, adding repeats',
    (b, context) => {
      const w = weight;
      const x = b.tensor([0, 0, 1, -1, 2, -2, 10, -10, 11, -11, 12, -12], [2, 3, 2]);
      // Batch 0 picks row 2 twice; batch 1 picks rows 0 and 1.
      const given = b.tensor([2, 2, 0, 1], [2, 2]);
      expectGradient(
        b,
        context,
        (t) => b.batchGather(t, given),
        x,
        [0, 0, 0, 0, w(0) + w(2), w(1) + w(3), w(4), w(5), w(6), w(0), 0, 0],
        'batchGather with a repeated index',
      );
      const order = b.topkIndices(b.tensor([0, 2, 1, 5, 3, 4], [2, 3]), 2); // [[1, 2], [0, 2]]
      expectGradient(
        b,
        context,
        (t) => b.batchGather(t, order),
        x,
        [0, 0, w(0), w(1), w(2), w(3), w(4), w(5), 0, 0, w(6), w(0)],
        'batchGather with topkIndices',
      );
      const scores = b.tensor([3, 1, 2, 5, 0, -1, 4, 4.5], [2, 4]);
      expectGradient(
        b,
        context,
        (t) => b.topkValues(t, 2),
        scores,
        [w(1), 0, 0, w(0), 0, 0, w(3), w(2)],
        'topkValues k = 2',
      );
    },
    'gradient',
  ),

  conformanceCase(
    'stopGradient passes no gradient; masks on the path pass none and do not break it',
    (b, context) => {
      const v = [-1, 2, 0.5, -3];
      const x = b.tensor(v, [2, 2]);
      expectGradient(
        b,
        context,
        (t) => b.mul(b.stopGradient(t), t),
        x,
        v.map((e, i) => weight(i) * e),
        'stopGradient(x) · x',
      );
      expectGradient(b, context, (t) => b.stopGradient(b.exp(t)), x, [0, 0, 0, 0], 'stopGradient(exp(x))');
      const masked = (t: typeof x) =>
        b.add(
          b.mul(t, b.maskToFloat(b.logicalAnd(b.greater(t, b.scalar(0)), b.isFinite(t)))),
          b.mul(b.maskToFloat(b.less(t, b.scalar(1))), b.maskToFloat(b.equal(t, t))),
        );
      expectGradient(
        b,
        context,
        masked,
        x,
        v.map((e, i) => (e > 0 ? weight(i) : 0)),
        'x · mask(x) + mask(x)',
      );
      const picked = (t: typeof x) => b.mul(b.topkMask(t, 1), t);
      expectGradient(b, context, picked, x, [0, weight(1), weight(2), 0], 'topkMask(x, 1) · x');
    },
    'gradient',
  ),

  conformanceCase(
    'customGrad uses the supplied vector–Jacobian product',
    (b, context) => {
      const v = [-1, 2, 0.5, -3];
      const x = b.tensor(v, [2, 2]);
      // A deliberately "wrong" gradient (7 dy for the identity) shows that the supplied one is used.
      const seven = b.customGrad((t) => ({
        value: b.mul(t, b.scalar(1)),
        gradient: (dy) => b.mul(dy, b.scalar(7)),
      }));
      expectGradient(
        b,
        context,
        seven,
        x,
        v.map((_, i) => 7 * weight(i)),
        'customGrad(identity, 7·dy)',
      );
      const exp = b.customGrad((t, save) => {
        const value = b.exp(t);
        save([value]);
        return { value, gradient: (dy, saved) => b.mul(dy, saved[0] as typeof t) };
      });
      expectGradient(
        b,
        context,
        (t) => exp(b.mul(t, b.scalar(2))),
        x,
        v.map((e, i) => 2 * weight(i) * Math.exp(2 * e)),
        'customGrad(exp) of 2x',
      );
    },
    'gradient',
  ),

  conformanceCase(
    "lml's implicit gradient equals its closed form",
    (b, context) => {
      const generic = withoutFused(b);
      const x = b.tensor([0.5, -1, 2, 0, 1, 3, -2, 0.25, 1.5, -0.5, 1, 1, 1, 0, -1], [3, 5]);
      for (const [k, tau] of [
        [2, 0.5],
        [1, 1],
        [4, 2],
      ] as const) {
        const y = b.readSync(lml(generic, x, k, { temperature: tau }));
        const what = `lml(x, ${k}, τ = ${tau})`;
        expectGradient(
          b,
          context,
          (t) => lml(generic, t, k, { temperature: tau }),
          x,
          lmlClosedForm(y, 5, tau),
          what,
        );
      }
    },
    'gradient',
  ),

  conformanceCase(
    'matMul gradients are dy·bᵀ and aᵀ·dy, summed over broadcast batch axes',
    (b, context) => {
      MATMUL_SHAPES.forEach(([sa, sb], c) => {
        const a = matOperand(sa, c);
        const bm = matOperand(sb, c + 3);
        const { ga, gb } = hostMatMul(a, bm);
        const ta = b.tensor(a.values, a.shape);
        const tb = b.tensor(bm.values, bm.shape);
        const what = `matMul([${sa.join(',')}], [${sb.join(',')}])`;
        expectGradient(b, context, (x) => b.matMul(x, tb), ta, ga, `${what} in its first argument`);
        expectGradient(b, context, (x) => b.matMul(ta, x), tb, gb, `${what} in its second argument`);
      });
    },
    'gradient',
  ),
];

/**
 * Throws unless `actual` has the shape and (to `tol` relative to the largest
 * magnitude of `expected`, NaN and ±∞ exactly) the entries of `expected`.
 */
function expectSame<T>(b: Backend<T>, actual: T, expected: T, tol: number, what: string): void {
  expectShape(b, actual, b.shape(expected), what);
  const e = b.readSync(expected);
  let scale = 1;
  for (let i = 0; i < e.length; i++) {
    const v = e[i] as number;
    if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  }
  expectClose(b.readSync(actual), e, tol * scale, what);
}

/**
 * Throws unless the gradients of sum(w ⊙ fast(x)) and sum(w ⊙ slow(x)) with
 * respect to `x` agree (see {@link expectSame}).
 */
function expectSameGradient<T>(
  b: Backend<T>,
  context: ConformanceContext<T>,
  fast: (x: T) => T,
  slow: (x: T) => T,
  x: T,
  what: string,
): void {
  const grad = gradOf(context, what);
  const g = (f: (x: T) => T) => grad((t) => weighted(b, f(t)), x);
  expectSame(b, g(fast), g(slow), context.tolerance, `gradient of ${what}`);
}

/** A parity case: runs only when the backend has `fused[entry]`. */
function parityCase(
  entry: 'lml' | 'scores' | 'sample' | 'fit' | 'best',
  name: string,
  run: <T>(backend: Backend<T>, generic: Backend<T>, context: ConformanceContext<T>) => void,
): ConformanceCase {
  return conformanceCase(
    `fused.${entry} ${name}`,
    (b, context) => {
      if (b.fused?.[entry] === undefined) return;
      run(b, withoutFused(b), context);
    },
    'parity',
  );
}

/** The cases of kind `'parity'`. */
const parityCases: readonly ConformanceCase[] = [
  parityCase(
    'lml',
    'equals the generic LML: values with ties, NaN and ±∞ rows; gradients',
    (b, generic, context) => {
      const { tolerance } = context;
      const nan = Number.NaN;
      const inf = Number.POSITIVE_INFINITY;
      const x = b.tensor(
        [
          1,
          2,
          nan,
          0,
          5,
          1,
          2,
          3,
          0,
          5,
          inf,
          0,
          1,
          2,
          5,
          1,
          3,
          3,
          0,
          -1,
          1,
          -inf,
          3,
          0,
          4,
          0.5,
          0.5,
          0.5,
          2,
          1,
        ],
        [6, 5],
      );
      const finite = b.tensor([1, 3, 3, 0, -1, 0.5, 0.5, 0.5, 2, 1, -2, 1, 0.25, 4, 0], [3, 5]);
      for (const [k, tau] of [
        [2, 1],
        [1, 0.5],
        [4, 2],
      ] as const) {
        const options = { temperature: tau };
        const what = `lml(x, ${k}, τ = ${tau})`;
        expectSame(b, lml(b, x, k, options), lml(generic, x, k, options), tolerance, what);
        const fast = (t: typeof x) => lml(b, t, k, options);
        const slow = (t: typeof x) => lml(generic, t, k, options);
        expectSameGradient(b, context, fast, slow, finite, what);
      }
    },
  ),

  parityCase(
    'scores',
    'equals valuesToScores: scores and counts with ties, NaN and ±∞; gradients',
    (b, generic, context) => {
      const { tolerance } = context;
      const nan = Number.NaN;
      const inf = Number.POSITIVE_INFINITY;
      const values = b.tensor(
        [3, nan, 1, 2, inf, nan, nan, nan, nan, nan, 0.5, -1, -inf, 2, 1, 1, 1, 2, 2, 0],
        [4, 5],
      );
      const finite = b.tensor([3, 1, 1, 2, 0.5, 0.5, -1, 2, 2, 1], [2, 5]);
      for (const normalize of [true, false]) {
        for (const temperature of [1, 0.25, null]) {
          const what = `valuesToScores(normalize ${normalize}, τ ${temperature})`;
          const a = valuesToScores(b, values, { normalize, temperature });
          const g = valuesToScores(generic, values, { normalize, temperature });
          expectSame(b, a.scores, g.scores, tolerance, `${what} scores`);
          expectSame(b, a.nonFinite, g.nonFinite, 0, `${what} non-finite count`);
          const fast = (t: typeof values) => valuesToScores(b, t, { normalize, temperature }).scores;
          const slow = (t: typeof values) => valuesToScores(generic, t, { normalize, temperature }).scores;
          expectSameGradient(b, context, fast, slow, finite, what);
        }
      }
    },
  ),

  parityCase(
    'sample',
    'equals μ + σ ⊙ ε clamped to the bounds, entries on a bound included; gradients',
    (b, generic, context) => {
      const { tolerance } = context;
      const [batch, count, dim] = [2, 4, 3];
      const mean = b.tensor([0, 0.5, -1, 1, 0, 2], [batch, dim]);
      const std = b.tensor([1, 2, 0.5, 1.5, 1, 0.25], [batch, dim]);
      // Some draws land exactly on a bound (mean 0, std 1, ε = ±1.5 in column 0).
      const noise = b.tensor(
        [
          1.5, 0.1, -2, -1.5, 1, 0.3, 0.2, -0.4, 3, 2, -3, 0, 0.5, 1, -1, -0.25, 2, -2, 1.5, 0, 0.75, -1,
          -0.5, 4,
        ],
        [batch, count, dim],
      );
      const lower = b.tensor([-1.5, -1, -1.5], [1, dim]);
      const upper = b.tensor([1.5, 2, 1, 1.5, 1, 2.5], [batch, dim]);
      const perSample = (bound: typeof mean | undefined) =>
        bound === undefined ? undefined : b.reshape(bound, [b.shape(bound)[0] ?? 1, 1, dim]);
      const slowOf = (
        m: typeof mean,
        s: typeof mean,
        lo: typeof mean | undefined,
        hi: typeof mean | undefined,
      ) => clamp(generic, sampleDiagonalGaussian(generic, m, s, noise), perSample(lo), perSample(hi));
      const fastOf = (
        m: typeof mean,
        s: typeof mean,
        lo: typeof mean | undefined,
        hi: typeof mean | undefined,
      ) => b.fused?.sample?.(m, s, noise, lo, hi) ?? slowOf(m, s, lo, hi);
      for (const [lo, hi, label] of [
        [undefined, undefined, 'no bounds'],
        [lower, undefined, 'a lower bound [1, dim]'],
        [undefined, upper, 'an upper bound [batch, dim]'],
        [lower, upper, 'both bounds'],
      ] as const) {
        const what = `sampling with ${label}`;
        expectSame(b, fastOf(mean, std, lo, hi), slowOf(mean, std, lo, hi), tolerance, what);
        const grads: [
          string,
          typeof mean,
          (x: typeof mean) => [typeof mean, typeof mean, typeof lo, typeof hi],
        ][] = [
          ['μ', mean, (x) => [x, std, lo, hi]],
          ['σ', std, (x) => [mean, x, lo, hi]],
        ];
        if (lo !== undefined) grads.push(['lower', lo, (x) => [mean, std, x, hi]]);
        if (hi !== undefined) grads.push(['upper', hi, (x) => [mean, std, lo, x]]);
        for (const [name, x, args] of grads) {
          expectSameGradient(
            b,
            context,
            (t) => fastOf(...args(t)),
            (t) => slowOf(...args(t)),
            x,
            `${what} in ${name}`,
          );
        }
      }
    },
  ),

  parityCase('fit', 'equals fitDiagonalGaussian, the σ floor included; gradients', (b, generic, context) => {
    const { tolerance } = context;
    const [batch, count, dim] = [2, 5, 3];
    // Column 2 of batch 1 is constant: its σ sits on the floor.
    const samples = b.tensor(
      [
        0.5, 1, -1, 2, -0.5, 0, -1, 1.5, 2, 0.25, 0.75, -2, 1, 1, 0.5, 3, -1, 4, 0.5, 2, 4, -2, 0, 4, 1, 1.5,
        4, 0.25, -0.75, 4,
      ],
      [batch, count, dim],
    );
    const weightsOf = b.tensor([0.5, 0.5, 0, 1, 0, 0.9, 0.1, 0.4, 0.4, 0.2], [batch, count]);
    for (const minStd of [1e-3, 0.6]) {
      const fit = (backend: Backend<typeof samples>, x: typeof samples, w: typeof samples) =>
        fitDiagonalGaussian(backend, x, w, 2, minStd);
      const what = `the refit with minStd ${minStd}`;
      const a = fit(b, samples, weightsOf);
      const g = fit(generic, samples, weightsOf);
      expectSame(b, a.mean, g.mean, tolerance, `${what}: mean`);
      expectSame(b, a.std, g.std, tolerance, `${what}: std`);
      const both = (backend: Backend<typeof samples>, x: typeof samples, w: typeof samples) => {
        const r = fit(backend, x, w);
        return b.concat([r.mean, b.mul(r.std, b.scalar(3))], 1);
      };
      expectSameGradient(
        b,
        context,
        (x) => both(b, x, weightsOf),
        (x) => both(generic, x, weightsOf),
        samples,
        `${what} in the samples`,
      );
      expectSameGradient(
        b,
        context,
        (w) => both(b, samples, w),
        (w) => both(generic, samples, w),
        weightsOf,
        `${what} in the weights`,
      );
    }
  }),

  parityCase(
    'best',
    'equals updateBest with ties, NaN and ±∞ and a previous best; gradients',
    (b, generic, context) => {
      const { tolerance } = context;
      const nan = Number.NaN;
      const inf = Number.POSITIVE_INFINITY;
      const [batch, count, dim] = [5, 4, 3];
      const samples = b.tensor(
        Array.from({ length: batch * count * dim }, (_, i) => ((i * 7) % 13) / 4 - 1.5),
        [batch, count, dim],
      );
      // Row 0: a tie (the first wins); row 1: NaN where the score is largest;
      // row 2: every value non-finite; row 3: equal to the previous best
      // (kept: not strictly better); row 4: strictly better.
      const scores = b.tensor([1, 3, 3, 0, 5, 1, 0, 2, 0, 0, 0, 0, 2, 1, 0, 0, 0, 0, 4, 1], [batch, count]);
      const values = b.tensor(
        [4, 1, 1, 5, nan, 2, 3, 1, nan, inf, -inf, nan, 0.5, 1, 2, 2, 3, 3, -1, 2],
        [batch, count],
      );
      const previous = {
        sample: b.tensor(
          Array.from({ length: batch * dim }, (_, i) => i / 2 - 3),
          [batch, dim],
        ),
        value: b.tensor([0, 9, 1, 0.5, 0], [batch]),
      };
      for (const prior of [undefined, previous]) {
        const what = `the best-sample update ${prior === undefined ? 'without' : 'with'} a previous best`;
        const a = updateBest(b, samples, scores, values, prior);
        const g = updateBest(generic, samples, scores, values, prior);
        expectSame(b, a.sample, g.sample, tolerance, `${what}: sample`);
        expectSame(b, a.value, g.value, tolerance, `${what}: value`);
        // The loss reads the value where it is finite (an infinite value has no useful gradient).
        const loss = (r: { sample: typeof samples; value: typeof samples }) => {
          const value = b.where(b.isFinite(r.value), r.value, b.fill([batch], 0));
          return b.concat([r.sample, b.reshape(value, [batch, 1])], 1);
        };
        const run =
          (
            backend: Backend<typeof samples>,
            pick: (t: typeof samples) => [typeof samples, typeof samples, typeof prior],
          ) =>
          (t: typeof samples) => {
            const [x, v, p] = pick(t);
            return loss(updateBest(backend, x, scores, v, p));
          };
        const inputs: [
          string,
          typeof samples,
          (t: typeof samples) => [typeof samples, typeof samples, typeof prior],
        ][] = [
          ['samples', samples, (t) => [t, values, prior]],
          ['values', values, (t) => [samples, t, prior]],
        ];
        if (prior !== undefined) {
          inputs.push([
            'previous sample',
            prior.sample,
            (t) => [samples, values, { sample: t, value: prior.value }],
          ]);
          inputs.push([
            'previous value',
            prior.value,
            (t) => [samples, values, { sample: prior.sample, value: t }],
          ]);
        }
        for (const [name, x, pick] of inputs) {
          expectSameGradient(b, context, run(b, pick), run(generic, pick), x, `${what} in the ${name}`);
        }
      }
    },
  ),
];

/**
 * Every conformance case; a backend passes when none of them throws. Filter
 * by {@link ConformanceCase.kind} to run one kind (a backend without
 * autodiff runs the `'value'` cases only).
 */
export const backendConformanceCases: readonly ConformanceCase[] = Object.freeze([
  ...valueCases,
  ...gradientCases,
  ...parityCases,
]);
