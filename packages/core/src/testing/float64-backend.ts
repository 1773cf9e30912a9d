/**
 * A forward-only float64 reference backend over plain typed arrays.
 *
 * It implements every operation of `Backend` in double precision, with no
 * autodiff and no memory management, so tests can use it as an oracle and
 * CEM can run without TensorFlow.js.
 *
 * @module
 */
import { assertFiniteNumber, assertInteger, formatShape } from '@dcem/errors';
import type { Backend } from '../backend.js';

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

/** Folds `f` over `axis`, starting each fold from `init`. */
function reduce(
  op: string,
  x: Float64Tensor,
  axis: number,
  keepDims: boolean,
  init: number,
  f: (acc: number, v: number) => number,
): Float64Tensor {
  const ax = normalizeAxis(op, axis, x.shape.length);
  const n = x.shape[ax] as number;
  const outer = sizeOf(x.shape.slice(0, ax));
  const inner = sizeOf(x.shape.slice(ax + 1));
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
 * Creates the float64 reference backend.
 *
 * Operations are pure and eager; `customGrad` returns the forward value,
 * `tidy`, `keep` and `dispose` do nothing, masks are 0/1 tensors and
 * `readSync` returns the tensor's own `Float64Array`.
 *
 * @param options `seed` seeds the generator behind `randomNormal` calls
 *   without a seed of their own (default a fixed constant), so a fresh backend
 *   always produces the same sequence.
 * @returns A `Backend` named `"float64"`.
 *
 * @example
 * ```ts
 * const b = createFloat64Backend({ seed: 1 });
 * const y = b.sum(b.tensor([1, 2, 3, 4], [2, 2]), 1, false); // [3, 7]
 * ```
 */
export function createFloat64Backend(options?: { seed?: number }): Backend<Float64Tensor> {
  const seed = options?.seed ?? DEFAULT_SEED;
  assertFiniteNumber('seed', seed);
  const shared = mulberry32(hashSeed(seed));
  const scalar = (value: number) => new Float64Tensor([], Float64Array.of(value));

  return {
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
      return new Float64Tensor(shape, x.data.slice());
    },
    add: (a, b) => binary('add', a, b, (x, y) => x + y),
    sub: (a, b) => binary('sub', a, b, (x, y) => x - y),
    mul: (a, b) => binary('mul', a, b, (x, y) => x * y),
    div: (a, b) => binary('div', a, b, (x, y) => x / y),
    maximum: (a, b) => binary('maximum', a, b, Math.max),
    minimum: (a, b) => binary('minimum', a, b, Math.min),
    sigmoid: (x) => unary(x, sigmoid),
    log: (x) => unary(x, Math.log),
    exp: (x) => unary(x, Math.exp),
    abs: (x) => unary(x, Math.abs),
    sqrt: (x) => unary(x, Math.sqrt),
    square: (x) => unary(x, (v) => v * v),
    sum: (x, axis, keepDims) => reduce('sum', x, axis, keepDims, 0, (acc, v) => acc + v),
    max: (x, axis, keepDims) => reduce('max', x, axis, keepDims, -Infinity, Math.max),
    min: (x, axis, keepDims) => reduce('min', x, axis, keepDims, Infinity, Math.min),
    topkValues(x, k) {
      const [rows, cols] = matrixShape('topkValues', x);
      checkK('topkValues', k, cols);
      const out = new Float64Array(rows * k);
      for (let r = 0; r < rows; r++) {
        const sorted = Array.from(x.data.subarray(r * cols, (r + 1) * cols)).sort(descending);
        out.set(sorted.slice(0, k), r * k);
      }
      return new Float64Tensor([rows, k], out);
    },
    topkMask(x, k) {
      const [rows, cols] = matrixShape('topkMask', x);
      checkK('topkMask', k, cols);
      const out = new Float64Array(rows * cols);
      const order = Array.from({ length: cols }, (_, j) => j);
      for (let r = 0; r < rows; r++) {
        const row = x.data.subarray(r * cols, (r + 1) * cols);
        order.sort((i, j) => descending(row[i] as number, row[j] as number) || i - j);
        for (let j = 0; j < k; j++) out[r * cols + (order[j] as number)] = 1;
      }
      return new Float64Tensor([rows, cols], out);
    },
    topkIndices(x, k) {
      const [rows, cols] = matrixShape('topkIndices', x);
      checkK('topkIndices', k, cols);
      const out = new Float64Array(rows * k);
      const order = Array.from({ length: cols }, (_, j) => j);
      for (let r = 0; r < rows; r++) {
        const row = x.data.subarray(r * cols, (r + 1) * cols);
        order.sort((i, j) => descending(row[i] as number, row[j] as number) || i - j);
        for (let j = 0; j < k; j++) out[r * k + j] = order[j] as number;
      }
      return new Float64Tensor([rows, k], out);
    },
    batchGather(x, indices) {
      const [batch, n] = x.shape;
      const [rows, m] = matrixShape('batchGather', indices);
      if (batch === undefined || n === undefined || rows !== batch) {
        throw new RangeError(
          `batchGather: x ${formatShape(x.shape)} and indices ${formatShape(indices.shape)} must share the first axis, x of rank ≥ 2`,
        );
      }
      const inner = sizeOf(x.shape.slice(2));
      const out = new Float64Array(batch * m * inner);
      for (let b = 0; b < batch; b++) {
        for (let j = 0; j < m; j++) {
          const i = indices.data[b * m + j] as number;
          if (!Number.isInteger(i) || i < 0 || i >= n) {
            throw new RangeError(`batchGather: index ${i} is outside [0, ${n})`);
          }
          out.set(x.data.subarray((b * n + i) * inner, (b * n + i + 1) * inner), (b * m + j) * inner);
        }
      }
      return new Float64Tensor([batch, m, ...x.shape.slice(2)], out);
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
      let offset = 0;
      for (const t of xs) {
        const width = (t.shape[ax] as number) * inner;
        for (let o = 0; o < outer; o++) {
          out.set(t.data.subarray(o * width, (o + 1) * width), o * total * inner + offset);
        }
        offset += width;
      }
      const shape = first.shape.map((e, d) => (d === ax ? total : e));
      return new Float64Tensor(shape, out);
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
      return new Float64Tensor([rows, size], out);
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
      return new Float64Tensor(shape, out);
    },
    maskToFloat: (mask) => new Float64Tensor(mask.shape, mask.data.slice()),
    randomNormal(shape, drawSeed) {
      const size = checkShape(shape, 'randomNormal');
      if (drawSeed !== undefined) assertFiniteNumber('seed', drawSeed);
      const next = drawSeed === undefined ? shared : mulberry32(hashSeed(drawSeed));
      return new Float64Tensor(shape, normalDraws(next, size));
    },
    stopGradient: (x) => x,
    customGrad: (forward) => (x) => forward(x, () => undefined).value,
    tidy: (fn) => fn(),
    keep: (x) => x,
    dispose: () => undefined,
    readSync: (x) => x.data,
  };
}
