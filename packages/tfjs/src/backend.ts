import type { Backend } from '@dcem/core';
import * as tfjs from '@tensorflow/tfjs';

/** The TensorFlow.js namespace (`import * as tf from '@tensorflow/tfjs'`). */
export type Tf = typeof tfjs;

/** The tensor type of the TensorFlow.js backend. */
export type Tensor = tfjs.Tensor;

/**
 * A `Backend<tf.Tensor>` of `@dcem/core` over TensorFlow.js. It runs on
 * whichever tfjs backend is active (`tf.getBackend()`: cpu, wasm, webgl,
 * tensorflow…) and records on tfjs's tape, so `tf.grad` and optimisers
 * differentiate through CEM/DCEM and LML. Tensors are float32.
 *
 * @param tf The TensorFlow.js namespace to use, default the one this package
 *   imports. Pass your own when you load tfjs another way (for example from
 *   `@tensorflow/tfjs-node`), so that both share one engine.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { createTfjsBackend } from '@dcem/tfjs';
 * import { dcem } from '@dcem/core';
 * const backend = createTfjsBackend(tf);
 * const { solution } = dcem(backend, (x) => tf.sum(tf.square(x), -1), { dim: 3 });
 * ```
 */
export function createTfjsBackend(tf: Tf = tfjs): Backend<Tensor> {
  const stopGradient = tf.customGrad((x, save) => {
    void save;
    const input = x as Tensor;
    return { value: input.clone(), gradFunc: (dy: Tensor) => tf.zerosLike(dy) };
  });
  // Comparisons, masks and top-k indices have no gradient in tfjs; when they
  // sit on a path that tf.grad walks (their inputs depend on the variables),
  // tfjs throws "gradient function not found". Wrapping them in a custom
  // gradient that returns zeros keeps them on the tape harmlessly.
  const constant1 = (op: (a: Tensor) => Tensor) =>
    tf.customGrad((a, save) => {
      void save;
      const x = a as Tensor;
      return { value: op(x), gradFunc: () => tf.zerosLike(x) };
    }) as (a: Tensor) => Tensor;
  const constant2 = (op: (a: Tensor, b: Tensor) => Tensor) =>
    tf.customGrad((a, b, save) => {
      void save;
      const x = a as Tensor;
      const y = b as Tensor;
      return { value: op(x, y), gradFunc: () => [tf.zerosLike(x), tf.zerosLike(y)] };
    }) as (a: Tensor, b: Tensor) => Tensor;
  const less = constant2((a, b) => tf.less(a, b));
  const greater = constant2((a, b) => tf.greater(a, b));
  const equal = constant2((a, b) => tf.equal(a, b));
  const finite = constant1((x) => tf.isFinite(x));
  const topkMask = (k: number) =>
    constant1((x) => {
      const n = x.shape[x.shape.length - 1] ?? 0;
      const { values, indices } = tf.topk(x, k, true);
      values.dispose();
      const oneHot = tf.oneHot(indices as tfjs.Tensor2D, n);
      indices.dispose();
      const counts = tf.sum(oneHot, 1);
      oneHot.dispose();
      const mask = tf.cast(counts, 'float32');
      counts.dispose();
      return mask;
    });
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
    maximum: (a, b) => tf.maximum(a, b),
    minimum: (a, b) => tf.minimum(a, b),
    sum: (x, axis, keepDims) => tf.sum(x, axis, keepDims),
    max: (x, axis, keepDims) => tf.max(x, axis, keepDims),
    min: (x, axis, keepDims) => tf.min(x, axis, keepDims),
    topkValues: (x, k) => {
      const { values, indices } = tf.topk(x, k, true);
      indices.dispose();
      return values;
    },
    topkMask: (x, k) => topkMask(k)(x),
    sliceColumns: (x, begin, size) => tf.slice(x, [0, begin], [-1, size]),
    less,
    greater,
    equal,
    isFinite: finite,
    logicalAnd: (a, b) => tf.logicalAnd(a, b),
    allRows: (mask) => tf.all(mask, 1, true),
    where: (mask, a, b) => tf.where(mask, a, b),
    maskToFloat: (mask) => tf.cast(mask, 'float32'),
    randomNormal: (shape, seed) => tf.randomNormal([...shape], 0, 1, 'float32', seed),
    stopGradient: (x) => stopGradient(x),
    customGrad: (forward) =>
      tf.customGrad((x, save) => {
        const out = forward(x as Tensor, save as (tensors: Tensor[]) => void);
        return { value: out.value, gradFunc: (dy: Tensor, saved: Tensor[]) => out.gradient(dy, saved) };
      }) as (x: Tensor) => Tensor,
    tidy: (fn) => tf.tidy(fn as () => tfjs.TensorContainer) as ReturnType<typeof fn>,
    keep: (x) => tf.keep(x),
    dispose: (x) => tf.dispose(x),
    readSync: (x) => x.dataSync() as ArrayLike<number>,
  };
}
