/**
 * A float64 reference backend over plain typed arrays.
 *
 * It implements every operation of `Backend` in double precision, with a
 * small reverse-mode tape for `grad` and no memory management, so tests can
 * use it as an oracle for values and gradients and CEM can run without
 * TensorFlow.js.
 *
 * @module
 */
import { assertFiniteNumber, assertInteger, formatShape } from '@dcem/errors';
import type { Backend } from '../backend.js';
import { matMulGeometry } from '../mat-mul.js';

/** A dense row-major tensor of float64 entries; masks hold 0 and 1. */
export class Float64Tensor {
  /** Extent of each dimension; `[]` for a scalar. */
  readonly shape: readonly number[];
  /** The entries in row-major order; never mutated by the backend. */
  readonly data: Float64Array;

  /**
   * Wraps `data` (not copied) as a tensor of the given shape.
   *
   * @param shape Extent of each dimension, non-negative integers.
   * @param data Row-major entries; their count must equal the product of `shape`.
   * @throws RangeError when the shape is invalid or does not match `data.length`.
   */
  constructor(shape: readonly number[], data: Float64Array) {
    const size = checkShape(shape, 'Float64Tensor');
    if (data.length !== size) {
      throw new RangeError(
        `Float64Tensor: ${data.length} values do not fit shape ${formatShape(shape)} (size ${size})`,
      );
    }
    this.shape = Object.freeze([...shape]);
    this.data = data;
  }

  /** Number of entries: the product of the shape. */
  get size(): number {
    return this.data.length;
  }
}

/** Seed of the internal generator when the backend's options give none. */
const DEFAULT_SEED = 0x5eed;

/** Validates a shape and returns its size (the product of its extents). */
function checkShape(shape: readonly number[], op: string): number {
  let size = 1;
  for (const extent of shape) {
    if (!Number.isInteger(extent) || extent < 0) {
      throw new RangeError(`${op}: shape ${formatShape(shape)} must hold non-negative integers`);
    }
    size *= extent;
  }
  return size;
}

/** The NumPy broadcast of `shapes`, or a `RangeError` naming `op` when they are incompatible. */
function broadcastShape(shapes: readonly (readonly number[])[], op: string): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const shape of shapes) {
    const offset = rank - shape.length;
    shape.forEach((extent, d) => {
      const current = out[offset + d] as number;
      if (current === 1) {
        out[offset + d] = extent;
      } else if (extent !== 1 && extent !== current) {
        const list = shapes.map(formatShape).join(' and ');
        throw new RangeError(`${op}: shapes ${list} cannot be broadcast together`);
      }
    });
  }
  return out;
}

/**
 * For each flat index of a tensor of shape `out`, the flat index of the
 * entry of a tensor of shape `input` that broadcasts to it; `undefined` when
 * the shapes are equal (the identity map).
 */
function broadcastIndex(out: readonly number[], input: readonly number[]): Int32Array | undefined {
  if (out.length === input.length && out.every((extent, d) => extent === input[d])) {
    return undefined;
  }
  const rank = out.length;
  const offset = rank - input.length;
  // Stride of each output dimension in the input; 0 where the input broadcasts.
  const strides = new Array<number>(rank).fill(0);
  let stride = 1;
  for (let d = rank - 1; d >= offset; d--) {
    const extent = input[d - offset] as number;
    strides[d] = extent === 1 ? 0 : stride;
    stride *= extent;
  }
  const map = new Int32Array(sizeOf(out));
  const counter = new Array<number>(rank).fill(0);
  let position = 0;
  for (let i = 0; i < map.length; i++) {
    map[i] = position;
    for (let d = rank - 1; d >= 0; d--) {
      const s = strides[d] as number;
      if ((counter[d] as number) + 1 < (out[d] as number)) {
        counter[d] = (counter[d] as number) + 1;
        position += s;
        break;
      }
      position -= s * (counter[d] as number);
      counter[d] = 0;
    }
  }
  return map;
}

/** Product of the extents of `shape`. */
function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Entry `i` of the output read through a broadcast map of `t`. */
function pick(t: Float64Tensor, map: Int32Array | undefined, i: number): number {
  return t.data[map === undefined ? i : (map[i] as number)] as number;
}

/** Applies `f` entry-wise. */
function unary(x: Float64Tensor, f: (v: number) => number): Float64Tensor {
  return new Float64Tensor(
    x.shape,
    x.data.map((v) => f(v)),
  );
}

/** Applies `f` to the broadcast entries of `a` and `b`. */
function binary(
  op: string,
  a: Float64Tensor,
  b: Float64Tensor,
  f: (x: number, y: number) => number,
): Float64Tensor {
  const shape = broadcastShape([a.shape, b.shape], op);
  const ia = broadcastIndex(shape, a.shape);
  const ib = broadcastIndex(shape, b.shape);
  const out = new Float64Array(sizeOf(shape));
  for (let i = 0; i < out.length; i++) out[i] = f(pick(a, ia, i), pick(b, ib, i));
  return new Float64Tensor(shape, out);
}

/** Turns a possibly negative `axis` into an index in [0, rank). */
function normalizeAxis(op: string, axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new RangeError(`${op}: axis ${axis} is out of range for rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Where `axis` of `x` sits in its row-major data: `outer` blocks of `n` × `inner` entries. */
function axisGeometry(
  op: string,
  x: Float64Tensor,
  axis: number,
): { ax: number; n: number; outer: number; inner: number } {
  const ax = normalizeAxis(op, axis, x.shape.length);
  return {
    ax,
    n: x.shape[ax] as number,
    outer: sizeOf(x.shape.slice(0, ax)),
    inner: sizeOf(x.shape.slice(ax + 1)),
  };
}

/** Folds `f` over `axis`, starting each fold from `init`. */
function reduce(
  op: string,
  x: Float64Tensor,
  axis: number,
  keepDims: boolean,
  init: number,
  f: (acc: number, v: number) => number,
): Float64Tensor {
  const { ax, n, outer, inner } = axisGeometry(op, x, axis);
  const out = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      let acc = init;
      for (let k = 0; k < n; k++) acc = f(acc, x.data[(o * n + k) * inner + j] as number);
      out[o * inner + j] = acc;
    }
  }
  const shape = keepDims
    ? x.shape.map((extent, d) => (d === ax ? 1 : extent))
    : x.shape.filter((_, d) => d !== ax);
  return new Float64Tensor(shape, out);
}

/** Rows and columns of a 2-D tensor, or a `RangeError` naming `op`. */
function matrixShape(op: string, x: Float64Tensor): [number, number] {
  const [rows, cols] = x.shape;
  if (x.shape.length !== 2 || rows === undefined || cols === undefined) {
    throw new RangeError(`${op}: expected a 2-D tensor, received shape ${formatShape(x.shape)}`);
  }
  return [rows, cols];
}

/** Validates `k` for a top-k over rows of `cols` entries. */
function checkK(op: string, k: number, cols: number): void {
  assertInteger('k', k, 0);
  if (k > cols) throw new RangeError(`${op}: k = ${k} exceeds the row length ${cols}`);
}

/** Sort order putting larger values first, NaN before everything (a total order). */
function descending(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : -1;
  if (Number.isNaN(b)) return 1;
  return a > b ? -1 : a < b ? 1 : 0;
}

/** For each row of a 2-D `x`, the column indices sorted largest first (NaN first, ties to the lowest index). */
function rowOrders(x: Float64Tensor, rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, (_, r) => {
    const row = x.data.subarray(r * cols, (r + 1) * cols);
    const order = Array.from({ length: cols }, (_, j) => j);
    return order.sort((i, j) => descending(row[i] as number, row[j] as number) || i - j);
  });
}

/** 1 for true, 0 for false. */
function bit(value: boolean): number {
  return value ? 1 : 0;
}

/** Numerically stable logistic function. */
function sigmoid(v: number): number {
  if (v >= 0) return 1 / (1 + Math.exp(-v));
  const e = Math.exp(v);
  return e / (1 + e);
}

/** Mixes the 64 bits of a float seed into a 32-bit generator state. */
function hashSeed(seed: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, seed);
  let h = view.getUint32(0) ^ Math.imul(view.getUint32(4), 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A 32-bit generator (mulberry32) returning unsigned 32-bit integers. */
function mulberry32(state: number): () => number {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** `count` standard normal draws from `next` (Box–Muller on 53-bit uniforms in (0, 1)). */
function normalDraws(next: () => number, count: number): Float64Array {
  const uniform = () => (next() * 2 ** 21 + (next() >>> 11) + 0.5) / 2 ** 53;
  const out = new Float64Array(count);
  for (let i = 0; i < count; i += 2) {
    const radius = Math.sqrt(-2 * Math.log(uniform()));
    const angle = 2 * Math.PI * uniform();
    out[i] = radius * Math.cos(angle);
    if (i + 1 < count) out[i + 1] = radius * Math.sin(angle);
  }
  return out;
}

/**
 * One operation recorded on the tape: its output, its inputs and how the
 * gradient of the output (`dy`, row-major) becomes the gradients of the
 * inputs (`undefined` for an input that gets none).
 */
interface TapeEntry {
  readonly output: Float64Tensor;
  readonly inputs: readonly Float64Tensor[];
  readonly backward: (dy: Float64Array) => readonly (Float64Array | undefined)[];
}

/** The float64 reference backend: a `Backend` plus its own reverse-mode `grad`. */
export interface Float64Backend extends Backend<Float64Tensor> {
  /**
   * The gradient of sum(f(x)) with respect to `x`, by reverse mode over the
   * operations `f` performs on this backend (`customGrad` uses its supplied
   * vector–Jacobian product; comparisons, masks, top-k indices and
   * `stopGradient` pass none). Not re-entrant: `f` must not call `grad`.
   *
   * @param f A function of one tensor built from this backend's operations.
   * @param x The point, any shape.
   * @returns d sum(f(x))/dx, the shape of `x` (zeros where `f` does not depend on `x`).
   * @throws Error when called from inside another `grad`.
   */
  grad(f: (x: Float64Tensor) => Float64Tensor, x: Float64Tensor): Float64Tensor;
}

/** Adds `g` into the entry of `grads` for `t`. */
function accumulate(grads: Map<Float64Tensor, Float64Array>, t: Float64Tensor, g: Float64Array): void {
  const current = grads.get(t);
  if (current === undefined) {
    grads.set(t, g.slice());
    return;
  }
  for (let i = 0; i < g.length; i++) current[i] = (current[i] as number) + (g[i] as number);
}

/**
 * Creates the float64 reference backend.
 *
 * Operations are pure and eager; `tidy`, `keep` and `dispose` do nothing,
 * masks are 0/1 tensors and `readSync` returns the tensor's own
 * `Float64Array`. While `grad` runs its function, the differentiable
 * operations are recorded on a tape (TensorFlow.js's conventions: the
 * gradient of `maximum` at a tie goes to its first argument, that of `max`
 * and `min` to every tied entry, that of `abs` at 0 is −1).
 *
 * @param options `seed` seeds the generator behind `randomNormal` calls
 *   without a seed of their own (default a fixed constant), so a fresh backend
 *   always produces the same sequence.
 * @returns A {@link Float64Backend} named `"float64"`.
 *
 * @example
 * ```ts
 * const b = createFloat64Backend({ seed: 1 });
 * const y = b.sum(b.tensor([1, 2, 3, 4], [2, 2]), 1, false); // [3, 7]
 * const g = b.grad((x) => b.square(x), b.tensor([1, 2], [2])); // [2, 4]
 * ```
 */
export function createFloat64Backend(options?: { seed?: number }): Float64Backend {
  const seed = options?.seed ?? DEFAULT_SEED;
  assertFiniteNumber('seed', seed);
  const shared = mulberry32(hashSeed(seed));
  const scalar = (value: number) => new Float64Tensor([], Float64Array.of(value));

  // The tape: undefined outside `grad`, so nothing is recorded then.
  let tape: TapeEntry[] | undefined;
  const record = (
    output: Float64Tensor,
    inputs: readonly Float64Tensor[],
    backward: TapeEntry['backward'],
  ): Float64Tensor => {
    tape?.push({ output, inputs, backward });
    return output;
  };

  /** A broadcasting binary op with partial derivatives `da` and `db`. */
  const binaryOp =
    (
      op: string,
      f: (x: number, y: number) => number,
      da: (x: number, y: number) => number,
      db: (x: number, y: number) => number,
    ) =>
    (a: Float64Tensor, b: Float64Tensor): Float64Tensor => {
      const out = binary(op, a, b, f);
      return record(out, [a, b], (dy) => {
        const ia = broadcastIndex(out.shape, a.shape);
        const ib = broadcastIndex(out.shape, b.shape);
        const ga = new Float64Array(a.size);
        const gb = new Float64Array(b.size);
        for (let i = 0; i < dy.length; i++) {
          const x = pick(a, ia, i);
          const y = pick(b, ib, i);
          const g = dy[i] as number;
          const at = ia === undefined ? i : (ia[i] as number);
          const bt = ib === undefined ? i : (ib[i] as number);
          ga[at] = (ga[at] as number) + g * da(x, y);
          gb[bt] = (gb[bt] as number) + g * db(x, y);
        }
        return [ga, gb];
      });
    };

  /** An element-wise op whose derivative is `df(input, output)`. */
  const unaryOp =
    (f: (v: number) => number, df: (v: number, out: number) => number) =>
    (x: Float64Tensor): Float64Tensor => {
      const out = unary(x, f);
      return record(out, [x], (dy) => [dy.map((g, i) => g * df(x.data[i] as number, out.data[i] as number))]);
    };

  /** `max` or `min` over an axis; the gradient goes to every entry equal to the result. */
  const extremum =
    (op: 'max' | 'min', init: number, f: (a: number, b: number) => number) =>
    (x: Float64Tensor, axis: number, keepDims: boolean): Float64Tensor => {
      const out = reduce(op, x, axis, keepDims, init, f);
      return record(out, [x], (dy) => {
        const { n, outer, inner } = axisGeometry(op, x, axis);
        const gx = new Float64Array(x.size);
        for (let o = 0; o < outer; o++) {
          for (let k = 0; k < n; k++) {
            for (let j = 0; j < inner; j++) {
              const at = (o * n + k) * inner + j;
              if (x.data[at] === out.data[o * inner + j]) gx[at] = dy[o * inner + j] as number;
            }
          }
        }
        return [gx];
      });
    };

  /** Picks rows `indices[b, j]` of each batch entry of `x` (shared by `batchGather` and `topkValues`). */
  const gatherRows = (x: Float64Tensor, indices: ArrayLike<number>, m: number): Float64Tensor => {
    const [batch = 0, n = 0] = x.shape;
    const inner = sizeOf(x.shape.slice(2));
    const source = (b: number, j: number) => (b * n + (indices[b * m + j] as number)) * inner;
    const out = new Float64Array(batch * m * inner);
    for (let b = 0; b < batch; b++) {
      for (let j = 0; j < m; j++) {
        const i = indices[b * m + j] as number;
        if (!Number.isInteger(i) || i < 0 || i >= n) {
          throw new RangeError(`batchGather: index ${i} is outside [0, ${n})`);
        }
        out.set(x.data.subarray(source(b, j), source(b, j) + inner), (b * m + j) * inner);
      }
    }
    return record(new Float64Tensor([batch, m, ...x.shape.slice(2)], out), [x], (dy) => {
      const gx = new Float64Array(x.size);
      for (let b = 0; b < batch; b++) {
        for (let j = 0; j < m; j++) {
          for (let e = 0; e < inner; e++) {
            const at = source(b, j) + e;
            gx[at] = (gx[at] as number) + (dy[(b * m + j) * inner + e] as number);
          }
        }
      }
      return [gx];
    });
  };

  const backend: Float64Backend = {
    name: 'float64',
    shape: (x) => x.shape,
    scalar,
    fill(shape, value) {
      return new Float64Tensor(shape, new Float64Array(checkShape(shape, 'fill')).fill(value));
    },
    tensor(values, shape) {
      const size = checkShape(shape, 'tensor');
      if (values.length !== size) {
        throw new RangeError(
          `tensor: ${values.length} values do not fit shape ${formatShape(shape)} (size ${size})`,
        );
      }
      return new Float64Tensor(shape, Float64Array.from(values));
    },
    reshape(x, shape) {
      const size = checkShape(shape, 'reshape');
      if (size !== x.size) {
        throw new RangeError(
          `reshape: cannot reshape ${formatShape(x.shape)} (size ${x.size}) to ${formatShape(shape)} (size ${size})`,
        );
      }
      return record(new Float64Tensor(shape, x.data.slice()), [x], (dy) => [dy]);
    },
    add: binaryOp(
      'add',
      (x, y) => x + y,
      () => 1,
      () => 1,
    ),
    sub: binaryOp(
      'sub',
      (x, y) => x - y,
      () => 1,
      () => -1,
    ),
    mul: binaryOp(
      'mul',
      (x, y) => x * y,
      (_, y) => y,
      (x) => x,
    ),
    div: binaryOp(
      'div',
      (x, y) => x / y,
      (_, y) => 1 / y,
      (x, y) => -x / (y * y),
    ),
    maximum: binaryOp(
      'maximum',
      Math.max,
      (x, y) => bit(x >= y),
      (x, y) => bit(!(x >= y)),
    ),
    minimum: binaryOp(
      'minimum',
      Math.min,
      (x, y) => bit(x <= y),
      (x, y) => bit(!(x <= y)),
    ),
    sigmoid: unaryOp(sigmoid, (_, y) => y * (1 - y)),
    log: unaryOp(Math.log, (v) => 1 / v),
    exp: unaryOp(Math.exp, (_, y) => y),
    abs: unaryOp(Math.abs, (v) => (v > 0 ? 1 : -1)),
    sqrt: unaryOp(Math.sqrt, (_, y) => 1 / (2 * y)),
    square: unaryOp(
      (v) => v * v,
      (v) => 2 * v,
    ),
    sum(x, axis, keepDims) {
      const out = reduce('sum', x, axis, keepDims, 0, (acc, v) => acc + v);
      return record(out, [x], (dy) => {
        const { n, outer, inner } = axisGeometry('sum', x, axis);
        const gx = new Float64Array(x.size);
        for (let o = 0; o < outer; o++) {
          for (let k = 0; k < n; k++) {
            gx.set(dy.subarray(o * inner, (o + 1) * inner), (o * n + k) * inner);
          }
        }
        return [gx];
      });
    },
    max: extremum('max', -Infinity, Math.max),
    min: extremum('min', Infinity, Math.min),
    matMul(a, b) {
      const { batch, m, k, n } = matMulGeometry('matMul', a.shape, b.shape);
      // The first entry of each batch entry's matrix of a and of b (0 along broadcast axes).
      const starts = (x: Float64Tensor) =>
        broadcastIndex(batch, x.shape.slice(0, -2)) ??
        Int32Array.from({ length: sizeOf(batch) }, (_, i) => i);
      const ia = starts(a);
      const ib = starts(b);
      const count = sizeOf(batch);
      const out = new Float64Array(count * m * n);
      for (let p = 0; p < count; p++) {
        const oa = (ia[p] as number) * m * k;
        const ob = (ib[p] as number) * k * n;
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let acc = 0;
            for (let l = 0; l < k; l++)
              acc += (a.data[oa + i * k + l] as number) * (b.data[ob + l * n + j] as number);
            out[(p * m + i) * n + j] = acc;
          }
        }
      }
      return record(new Float64Tensor([...batch, m, n], out), [a, b], (dy) => {
        // dA = dy·bᵀ and dB = aᵀ·dy, added up where a batch entry was shared.
        const ga = new Float64Array(a.size);
        const gb = new Float64Array(b.size);
        for (let p = 0; p < count; p++) {
          const oa = (ia[p] as number) * m * k;
          const ob = (ib[p] as number) * k * n;
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) {
              const g = dy[(p * m + i) * n + j] as number;
              for (let l = 0; l < k; l++) {
                ga[oa + i * k + l] = (ga[oa + i * k + l] as number) + g * (b.data[ob + l * n + j] as number);
                gb[ob + l * n + j] = (gb[ob + l * n + j] as number) + g * (a.data[oa + i * k + l] as number);
              }
            }
          }
        }
        return [ga, gb];
      });
    },
    topkValues(x, k) {
      const [rows, cols] = matrixShape('topkValues', x);
      checkK('topkValues', k, cols);
      const indices = rowOrders(x, rows, cols).flatMap((order) => order.slice(0, k));
      return backend.reshape(gatherRows(backend.reshape(x, [rows, cols, 1]), indices, k), [rows, k]);
    },
    topkMask(x, k) {
      const [rows, cols] = matrixShape('topkMask', x);
      checkK('topkMask', k, cols);
      const out = new Float64Array(rows * cols);
      rowOrders(x, rows, cols).forEach((order, r) => {
        for (let j = 0; j < k; j++) out[r * cols + (order[j] as number)] = 1;
      });
      return new Float64Tensor([rows, cols], out);
    },
    topkIndices(x, k) {
      const [rows, cols] = matrixShape('topkIndices', x);
      checkK('topkIndices', k, cols);
      const indices = rowOrders(x, rows, cols).flatMap((order) => order.slice(0, k));
      return new Float64Tensor([rows, k], Float64Array.from(indices));
    },
    batchGather(x, indices) {
      const [batch, n] = x.shape;
      const [rows, m] = matrixShape('batchGather', indices);
      if (batch === undefined || n === undefined || rows !== batch) {
        throw new RangeError(
          `batchGather: x ${formatShape(x.shape)} and indices ${formatShape(indices.shape)} must share the first axis, x of rank ≥ 2`,
        );
      }
      return gatherRows(x, indices.data, m);
    },
    concat(xs, axis) {
      const first = xs[0];
      if (first === undefined) throw new RangeError('concat: needs at least one tensor');
      const ax = normalizeAxis('concat', axis, first.shape.length);
      for (const t of xs) {
        const ok =
          t.shape.length === first.shape.length && t.shape.every((e, d) => d === ax || e === first.shape[d]);
        if (!ok) {
          throw new RangeError(
            `concat: shapes ${xs.map((u) => formatShape(u.shape)).join(', ')} differ outside axis ${ax}`,
          );
        }
      }
      const outer = sizeOf(first.shape.slice(0, ax));
      const inner = sizeOf(first.shape.slice(ax + 1));
      const total = xs.reduce((a, t) => a + (t.shape[ax] as number), 0);
      const out = new Float64Array(outer * total * inner);
      // Where each input's block of columns starts in a row of the output.
      const offsets: number[] = [];
      let offset = 0;
      for (const t of xs) {
        const width = (t.shape[ax] as number) * inner;
        offsets.push(offset);
        for (let o = 0; o < outer; o++) {
          out.set(t.data.subarray(o * width, (o + 1) * width), o * total * inner + offset);
        }
        offset += width;
      }
      const shape = first.shape.map((e, d) => (d === ax ? total : e));
      return record(new Float64Tensor(shape, out), xs, (dy) =>
        xs.map((t, i) => {
          const width = (t.shape[ax] as number) * inner;
          const g = new Float64Array(t.size);
          for (let o = 0; o < outer; o++) {
            const from = o * total * inner + (offsets[i] as number);
            g.set(dy.subarray(from, from + width), o * width);
          }
          return g;
        }),
      );
    },
    sliceColumns(x, begin, size) {
      const [rows, cols] = matrixShape('sliceColumns', x);
      assertInteger('begin', begin, 0);
      assertInteger('size', size, 0);
      if (begin + size > cols) {
        throw new RangeError(
          `sliceColumns: columns ${begin} … ${begin + size - 1} exceed the ${cols} columns of ${formatShape(x.shape)}`,
        );
      }
      const out = new Float64Array(rows * size);
      for (let r = 0; r < rows; r++) {
        out.set(x.data.subarray(r * cols + begin, r * cols + begin + size), r * size);
      }
      return record(new Float64Tensor([rows, size], out), [x], (dy) => {
        const gx = new Float64Array(x.size);
        for (let r = 0; r < rows; r++) gx.set(dy.subarray(r * size, (r + 1) * size), r * cols + begin);
        return [gx];
      });
    },
    less: (a, b) => binary('less', a, b, (x, y) => bit(x < y)),
    greater: (a, b) => binary('greater', a, b, (x, y) => bit(x > y)),
    equal: (a, b) => binary('equal', a, b, (x, y) => bit(x === y)),
    isFinite: (x) => unary(x, (v) => bit(Number.isFinite(v))),
    logicalAnd: (a, b) => binary('logicalAnd', a, b, (x, y) => bit(x !== 0 && y !== 0)),
    allRows(mask) {
      const [rows, cols] = matrixShape('allRows', mask);
      const out = new Float64Array(rows);
      for (let r = 0; r < rows; r++) {
        out[r] = bit(mask.data.subarray(r * cols, (r + 1) * cols).every((v) => v !== 0));
      }
      return new Float64Tensor([rows, 1], out);
    },
    where(mask, a, b) {
      const shape = broadcastShape([mask.shape, a.shape, b.shape], 'where');
      const im = broadcastIndex(shape, mask.shape);
      const ia = broadcastIndex(shape, a.shape);
      const ib = broadcastIndex(shape, b.shape);
      const out = new Float64Array(sizeOf(shape));
      for (let i = 0; i < out.length; i++) {
        out[i] = pick(mask, im, i) !== 0 ? pick(a, ia, i) : pick(b, ib, i);
      }
      return record(new Float64Tensor(shape, out), [a, b], (dy) => {
        const ga = new Float64Array(a.size);
        const gb = new Float64Array(b.size);
        for (let i = 0; i < dy.length; i++) {
          const [g, at] = pick(mask, im, i) !== 0 ? [ga, ia] : [gb, ib];
          const j = at === undefined ? i : (at[i] as number);
          g[j] = (g[j] as number) + (dy[i] as number);
        }
        return [ga, gb];
      });
    },
    maskToFloat: (mask) => new Float64Tensor(mask.shape, mask.data.slice()),
    randomNormal(shape, drawSeed) {
      const size = checkShape(shape, 'randomNormal');
      if (drawSeed !== undefined) assertFiniteNumber('seed', drawSeed);
      const next = drawSeed === undefined ? shared : mulberry32(hashSeed(drawSeed));
      return new Float64Tensor(shape, normalDraws(next, size));
    },
    // A new tensor that is not recorded, so no gradient flows through it.
    stopGradient: (x) => new Float64Tensor(x.shape, x.data),
    customGrad: (forward) => (x) => {
      // The forward pass is not recorded: its gradient is the supplied one.
      const outer = tape;
      tape = undefined;
      let saved: Float64Tensor[] = [];
      let result: ReturnType<typeof forward>;
      try {
        result = forward(x, (tensors) => {
          saved = [...tensors];
        });
      } finally {
        tape = outer;
      }
      const { value, gradient } = result;
      return record(new Float64Tensor(value.shape, value.data), [x], (dy) => {
        const g = gradient(new Float64Tensor(value.shape, dy), saved);
        if (g.size !== x.size) {
          throw new RangeError(
            `customGrad: the gradient has shape ${formatShape(g.shape)}, the input ${formatShape(x.shape)}`,
          );
        }
        return [g.data];
      });
    },
    tidy: (fn) => fn(),
    keep: (x) => x,
    dispose: () => undefined,
    readSync: (x) => x.data,
    // Its own asynchronous read (a copy, one microtask later), not the derived one over readSync.
    read: async (x) => x.data.slice(),
    grad(f, x) {
      if (tape !== undefined) throw new Error('grad: nested calls are not supported');
      const entries: TapeEntry[] = [];
      tape = entries;
      let y: Float64Tensor;
      try {
        y = f(x);
      } finally {
        tape = undefined;
      }
      // Reverse mode: walk the tape backwards, sending each output's
      // gradient to the inputs of the operation that made it.
      const grads = new Map<Float64Tensor, Float64Array>([[y, new Float64Array(y.size).fill(1)]]);
      for (let i = entries.length - 1; i >= 0; i--) {
        const entry = entries[i] as TapeEntry;
        const dy = grads.get(entry.output);
        if (dy === undefined) continue;
        const dxs = entry.backward(dy);
        entry.inputs.forEach((input, j) => {
          const dx = dxs[j];
          if (dx !== undefined) accumulate(grads, input, dx);
        });
      }
      return new Float64Tensor(x.shape, grads.get(x)?.slice() ?? new Float64Array(x.size));
    },
  };
  return backend;
}
