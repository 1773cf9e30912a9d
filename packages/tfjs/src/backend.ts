import type { Backend } from '@dcem/core';
import * as tfjs from '@tensorflow/tfjs';
import { createFusedOps } from './kernels/registry.js';
import { fillNormals } from './kernels/simd.js';
import { seedStates } from './kernels/ziggurat.js';

/** The TensorFlow.js namespace (`import * as tf from '@tensorflow/tfjs'`). */
export type Tf = typeof tfjs;

/** The tensor type of the TensorFlow.js backend. */
export type Tensor = tfjs.Tensor;

/** Options of {@link createTfjsBackend}. */
export interface TfjsBackendOptions {
  /**
   * Use the fused kernels this package registers for the tfjs `cpu` and
   * `wasm` backends (LML, scores, sampling, refit: one kernel each, with the
   * same results and gradients as the composition of generic ops). Default
   * true; false always composes generic tfjs ops (for example to compare).
   * Other tfjs backends always use the generic ops.
   */
  fused?: boolean;
}

/**
 * A `Backend<tf.Tensor>` of `@dcem/core` over TensorFlow.js. It runs on
 * whichever tfjs backend is active (`tf.getBackend()`: cpu, wasm, webgl,
 * tensorflow…) and records on tfjs's tape, so `tf.grad` and optimisers
 * differentiate through CEM/DCEM and LML. Tensors are float32.
 *
 * On the `cpu` and `wasm` tfjs backends it runs LML, the scores, the
 * sampling and the refit of each CEM iteration as fused kernels (registered
 * on first use, under names starting with `Dcem`); see
 * {@link TfjsBackendOptions}. Normal draws (`randomNormal(shape, seed)`)
 * come from xoshiro128** and a 256-layer ziggurat, in WebAssembly where it
 * runs (8× faster than `tf.randomNormal` on 204 800 draws here) and otherwise in
 * JavaScript, with the same numbers for the same seed on every backend and
 * platform; any finite number (0 included) is a seed, and without one each
 * call draws fresh numbers.
 *
 * @param tf The TensorFlow.js namespace to use, default the one this package
 *   imports. Pass your own when you load tfjs another way (for example from
 *   `@tensorflow/tfjs-node`), so that both share one engine.
 * @param options See {@link TfjsBackendOptions}.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { createTfjsBackend } from '@dcem/tfjs';
 * import { dcem } from '@dcem/core';
 * const backend = createTfjsBackend(tf);
 * const { solution } = dcem(backend, (x) => tf.sum(tf.square(x), -1), { dim: 3 });
 * ```
 */
export function createTfjsBackend(tf: Tf = tfjs, options: TfjsBackendOptions = {}): Backend<Tensor> {
  const fused = options.fused === false ? undefined : createFusedOps(tf);
  // Outside a gradient tape (and inside custom-gradient forward passes)
  // nothing records gradients, so the zero-gradient wrappers below are not
  // needed: call the plain ops, which saves a kernel call and two tensor
  // copies per comparison.
  const taping = () => tf.engine().isTapeOn();
  const stopGradientTaped = tf.customGrad((x, save) => {
    void save;
    const input = x as Tensor;
    return { value: input.clone(), gradFunc: (dy: Tensor) => tf.zerosLike(dy) };
  });
  // Comparisons, masks and top-k indices have no gradient in tfjs; when they
  // sit on a path that tf.grad walks (their inputs depend on the variables),
  // tfjs throws "gradient function not found". Wrapping them in a custom
  // gradient that returns zeros keeps them on the tape harmlessly (float32
  // zeros: tfjs wants float32 gradients, masks included).
  const constant1 = (op: (a: Tensor) => Tensor) =>
    tf.customGrad((a, save) => {
      void save;
      const x = a as Tensor;
      return { value: op(x), gradFunc: () => tf.zeros(x.shape, 'float32') };
    }) as (a: Tensor) => Tensor;
  const constant2 = (op: (a: Tensor, b: Tensor) => Tensor) =>
    tf.customGrad((a, b, save) => {
      void save;
      const x = a as Tensor;
      const y = b as Tensor;
      return {
        value: op(x, y),
        gradFunc: () => [tf.zeros(x.shape, 'float32'), tf.zeros(y.shape, 'float32')],
      };
    }) as (a: Tensor, b: Tensor) => Tensor;
  const lessTaped = constant2((a, b) => tf.less(a, b));
  const greaterTaped = constant2((a, b) => tf.greater(a, b));
  const equalTaped = constant2((a, b) => tf.equal(a, b));
  const finiteTaped = constant1((x) => tf.isFinite(x));
  const andTaped = constant2((a, b) => tf.logicalAnd(a, b));
  const allRowsTaped = constant1((mask) => tf.all(mask, 1, true));
  // tfjs 4.22's Maximum and Minimum gradients do not sum over broadcast axes
  // (tf.grad throws on a shape mismatch): broadcast the operands first, whose
  // gradient (BroadcastTo's) does.
  const broadcastBoth = (op: (a: Tensor, b: Tensor) => Tensor) => (a: Tensor, b: Tensor) => {
    if (!taping() || (a.shape.length === b.shape.length && a.shape.every((e, d) => e === b.shape[d]))) {
      return op(a, b);
    }
    const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    return op(tf.broadcastTo(a, shape), tf.broadcastTo(b, shape));
  };
  // tfjs 4.22's BatchMatMul broadcasts the batch axes only where one
  // operand has a single batch entry (it flattens them), and its gradient
  // does not sum over them (tf.grad throws on a shape mismatch). Equal batch
  // axes, or off the tape one operand with one batch entry (the coloured-noise
  // filter's shared matrix), go as they are; otherwise the batch axes of both
  // operands are broadcast first (BroadcastTo's gradient sums).
  const matMul = (a: Tensor, b: Tensor): Tensor => {
    const batchA = a.shape.slice(0, -2);
    const batchB = b.shape.slice(0, -2);
    const single = (batch: number[]) => batch.every((e) => e === 1);
    const same = batchA.length === batchB.length && batchA.every((e, d) => e === batchB[d]);
    if (same || (!taping() && (single(batchA) || single(batchB)))) return tf.matMul(a, b);
    return tf.tidy(() => {
      const batch = tf.backend_util.assertAndGetBroadcastShape(batchA, batchB);
      return tf.matMul(
        tf.broadcastTo(a, [...batch, ...a.shape.slice(-2)]),
        tf.broadcastTo(b, [...batch, ...b.shape.slice(-2)]),
      );
    });
  };
  const topkMaskPlain = (x: Tensor, k: number): Tensor =>
    tf.tidy(() => {
      const n = x.shape[x.shape.length - 1] ?? 0;
      const { indices } = tf.topk(x, k, true);
      const rows = indices as tfjs.Tensor2D;
      // tfjs 4.22 bugs, one per backend: webgpu cannot sum int32 (or int32
      // cast to float32, which it only relabels) over a middle axis (its
      // transpose shader fails to compile), so it gets float32 one-hot rows;
      // wasm ignores oneHot's dtype (it writes int32 bits), so the others
      // sum int32 rows and cast. The entries are 0 and 1: both are exact.
      if (tf.getBackend() === 'webgpu') return tf.sum(tf.oneHot(rows, n, 1, 0, 'float32'), 1);
      return tf.cast(tf.sum(tf.oneHot(rows, n), 1), 'float32');
    });
  const topkMaskTaped = (k: number) => constant1((x) => topkMaskPlain(x, k));
  const topkIndicesPlain = (x: Tensor, k: number): Tensor => {
    const { values, indices } = tf.topk(x, k, true);
    values.dispose();
    return indices;
  };
  const topkIndicesTaped = (k: number) => constant1((x) => topkIndicesPlain(x, k));
  // Gathers rows b·n + i of x flattened to [batch·n, ...rest] (a gather on
  // axis 0). Its gradient scatters dy back with ScatterNd (duplicates add
  // up), which every tfjs backend has (wasm has no UnsortedSegmentSum, which
  // tfjs's own gather gradient needs); the indices carry no gradient.
  const flatIndices = (shape: readonly number[], indices: Tensor): Tensor =>
    tf.tidy(() => {
      const [batch = 0, n = 0] = shape;
      const m = indices.shape[1] ?? 0;
      const idx = indices.dtype === 'int32' ? indices : tf.cast(indices, 'int32');
      const offsets = tf.mul(tf.reshape(tf.range(0, batch, 1, 'int32'), [batch, 1]), tf.scalar(n, 'int32'));
      return tf.reshape(tf.add(idx, offsets), [batch * m]);
    });
  const gatherPlain = (x: Tensor, indices: Tensor): Tensor =>
    tf.tidy(() => {
      const [batch = 0, n = 0, ...rest] = x.shape;
      const m = indices.shape[1] ?? 0;
      const rows = tf.gather(tf.reshape(x, [batch * n, ...rest]), flatIndices(x.shape, indices), 0);
      return tf.reshape(rows, [batch, m, ...rest]);
    });
  const gatherTaped = (x: Tensor, indices: Tensor): Tensor =>
    (
      tf.customGrad((a, save) => {
        const input = a as Tensor;
        const [batch = 0, n = 0, ...rest] = input.shape;
        const m = indices.shape[1] ?? 0;
        const flat = flatIndices(input.shape, indices);
        (save as (tensors: Tensor[]) => void)([flat]);
        const value = tf.tidy(() =>
          tf.reshape(tf.gather(tf.reshape(input, [batch * n, ...rest]), flat, 0), [batch, m, ...rest]),
        );
        return {
          value,
          gradFunc: (dy: Tensor, saved: Tensor[]) =>
            tf.tidy(() => {
              const where = tf.reshape(saved[0] as Tensor, [batch * m, 1]);
              const updates = tf.reshape(dy, [batch * m, ...rest]);
              return tf.reshape(tf.scatterND(where, updates, [batch * n, ...rest]), input.shape);
            }),
        };
      }) as (a: Tensor) => Tensor
    )(x);
  const batchGather = (x: Tensor, indices: Tensor): Tensor =>
    taping() ? gatherTaped(x, indices) : gatherPlain(x, indices);
  // TopK has no gradient in tfjs: on the tape, gather the values at the
  // top-k indices instead (the gradient goes to those entries).
  const topkValuesTaped = (x: Tensor, k: number): Tensor => {
    const [rows = 0, n = 0] = x.shape;
    const picked = gatherTaped(tf.reshape(x, [rows, n, 1]), topkIndicesTaped(k)(x));
    return tf.reshape(picked, [rows, k]);
  };
  return {
    get name() {
      return `tfjs-${tf.getBackend()}`;
    },
    shape: (x) => x.shape,
    scalar: (v) => tf.scalar(v, 'float32'),
    fill: (shape, v) => tf.fill([...shape], v, 'float32'),
    tensor: (values, shape) => tf.tensor(Float32Array.from(values), [...shape], 'float32'),
    reshape: (x, shape) => tf.reshape(x, [...shape]),
    add: (a, b) => tf.add(a, b),
    sub: (a, b) => tf.sub(a, b),
    mul: (a, b) => tf.mul(a, b),
    div: (a, b) => tf.div(a, b),
    sigmoid: (x) => tf.sigmoid(x),
    log: (x) => tf.log(x),
    exp: (x) => tf.exp(x),
    abs: (x) => tf.abs(x),
    sqrt: (x) => tf.sqrt(x),
    square: (x) => tf.square(x),
    maximum: broadcastBoth((a, b) => tf.maximum(a, b)),
    minimum: broadcastBoth((a, b) => tf.minimum(a, b)),
    sum: (x, axis, keepDims) => tf.sum(x, axis, keepDims),
    max: (x, axis, keepDims) => tf.max(x, axis, keepDims),
    min: (x, axis, keepDims) => tf.min(x, axis, keepDims),
    matMul,
    topkValues: (x, k) => {
      if (taping()) return topkValuesTaped(x, k);
      const { values, indices } = tf.topk(x, k, true);
      indices.dispose();
      return values;
    },
    topkMask: (x, k) => (taping() ? topkMaskTaped(k)(x) : topkMaskPlain(x, k)),
    topkIndices: (x, k) => (taping() ? topkIndicesTaped(k)(x) : topkIndicesPlain(x, k)),
    batchGather,
    concat: (xs, axis) => tf.concat([...xs], axis),
    sliceColumns: (x, begin, size) => tf.slice(x, [0, begin], [-1, size]),
    less: (a, b) => (taping() ? lessTaped(a, b) : tf.less(a, b)),
    greater: (a, b) => (taping() ? greaterTaped(a, b) : tf.greater(a, b)),
    equal: (a, b) => (taping() ? equalTaped(a, b) : tf.equal(a, b)),
    isFinite: (x) => (taping() ? finiteTaped(x) : tf.isFinite(x)),
    logicalAnd: (a, b) => (taping() ? andTaped(a, b) : tf.logicalAnd(a, b)),
    allRows: (mask) => (taping() ? allRowsTaped(mask) : tf.all(mask, 1, true)),
    where: (mask, a, b) => tf.where(mask, a, b),
    maskToFloat: (mask) => tf.cast(mask, 'float32'),
    randomNormal: (shape, seed) => {
      const drawn = fused?.normal(shape, seed ?? Math.random());
      if (drawn !== undefined) return drawn;
      const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
      fillNormals(out, seedStates(seed ?? Math.random()));
      return tf.tensor(out, [...shape], 'float32');
    },
    prefetchNormal: (shape, seed) => fused?.normalAhead(shape, seed),
    stopGradient: (x) => (taping() ? stopGradientTaped(x) : x.clone()),
    customGrad: (forward) =>
      tf.customGrad((x, save) => {
        const out = forward(x as Tensor, save as (tensors: Tensor[]) => void);
        return { value: out.value, gradFunc: (dy: Tensor, saved: Tensor[]) => out.gradient(dy, saved) };
      }) as (x: Tensor) => Tensor,
    tidy: (fn) => tf.tidy(fn as () => tfjs.TensorContainer) as ReturnType<typeof fn>,
    keep: (x) => tf.keep(x),
    dispose: (x) => tf.dispose(x),
    readSync: (x) => x.dataSync() as ArrayLike<number>,
    read: async (x) => (await x.data()) as ArrayLike<number>,
    // The kernels' entry points are closures (no `this`), so the group takes them as they are.
    fused:
      fused === undefined
        ? undefined
        : { lml: fused.lml, scores: fused.scores, sample: fused.sample, fit: fused.fit, best: fused.best },
  };
}
