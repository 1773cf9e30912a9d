// Matrix products and dense layers whose backward pass transposes
// explicitly. tfjs differentiates `tf.matMul` into products with the
// `transposeA` / `transposeB` flags set; the wasm backend runs such flagged
// products several times slower than an explicit transpose followed by a
// plain product (the plain one goes to XNNPACK). The maths is the same:
// for C = A·B with upstream gradient G, dA = G·Bᵀ and dB = Aᵀ·G.
import { assertOptions, describeValue, formatShape } from '@dcem/errors';
import * as tfjs from '@tensorflow/tfjs';
import type { Tensor } from '../backend.js';
import { denseFused, productNN, productTN } from './dense-kernels.js';

/** A rank-2 TensorFlow.js tensor (what {@link matMul} and {@link dense} return). */
export type Tensor2D = tfjs.Tensor2D;

function checkMatrix(name: string, x: unknown): asserts x is Tensor2D {
  if (!(x instanceof tfjs.Tensor)) {
    throw new TypeError(`${name} must be a tf.Tensor, received ${describeValue(x)}`);
  }
  if (x.rank !== 2) {
    throw new RangeError(`${name} must be a matrix (rank 2), received ${describeValue(x)}`);
  }
  if (x.dtype !== 'float32') {
    throw new TypeError(`${name} must have dtype float32, received ${x.dtype}`);
  }
}

/** Checks the operands of a·b: float32 matrices whose inner dimensions agree. */
function checkProduct(a: unknown, b: unknown): asserts a is Tensor2D {
  checkMatrix('a', a);
  checkMatrix('b', b);
  if (a.shape[1] !== b.shape[0]) {
    throw new RangeError(
      `matMul: the columns of a must match the rows of b, received a ${formatShape(a.shape)} and b ${formatShape(b.shape)}`,
    );
  }
}

/** The transpose of a matrix; a single row or column is only reshaped (no copy). */
function transpose2d(x: Tensor2D): Tensor2D {
  const [rows, cols] = x.shape;
  return rows === 1 || cols === 1 ? tfjs.reshape(x, [cols, rows]) : tfjs.transpose(x);
}

/** aᵀ·g: on the threads (no transpose) where they run, else an explicit transpose and tf.matMul. */
function productAtG(a: Tensor2D, g: Tensor2D): Tensor2D {
  return productTN(a, g) ?? tfjs.matMul(transpose2d(a), g);
}

const matMulTaped = tfjs.customGrad((a, b, save) => {
  const x = a as Tensor2D;
  const y = b as Tensor2D;
  (save as tfjs.GradSaveFunc)([x, y]);
  return {
    value: productNN(x, y),
    gradFunc: (dy: Tensor, saved: Tensor[]) => {
      const [sa, sb] = saved as [Tensor2D, Tensor2D];
      const g = dy as Tensor2D;
      return [productNN(g, transpose2d(sb)), productAtG(sa, g)];
    },
  };
}) as (a: Tensor, b: Tensor) => Tensor2D;

/** Options of {@link matMul}. */
export interface MatMulOptions {
  /** Multiply by the transpose of `a` (default false). */
  transposeA?: boolean;
}

const MATMUL_OPTIONS = ['transposeA'];

/**
 * The matrix product a·b of two float32 matrices, differentiable with
 * `tf.grad` like `tf.matMul`, with a backward pass that transposes
 * explicitly (da = g·bᵀ, db = aᵀ·g). The values and gradients are those of
 * `tf.matMul`; on the tfjs wasm backend the backward pass is several times
 * faster (tfjs's own gradient asks the kernel for transposed products,
 * which wasm runs without XNNPACK). Outside a gradient tape it is
 * `tf.matMul` itself.
 *
 * With `{ transposeA: true }` it is aᵀ·b for a [n, m] and b [n, p]
 * without forming aᵀ where the threaded kernels run (one pass of partial
 * sums over the rows: the weight gradient of a layer over many rows); the
 * same values as `tf.matMul(tf.transpose(a), b)` to float32 rounding.
 *
 * @param a [m, n] (with `transposeA`: [n, m]), float32.
 * @param b [n, p], float32.
 * @param options `transposeA`: multiply by aᵀ (default false).
 * @returns a·b (or aᵀ·b), [m, p].
 * @throws TypeError when an argument is not a float32 tensor or an option
 *   is unknown; RangeError when it is not a matrix or the inner dimensions differ.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { matMul } from '@dcem/tfjs';
 * const w = tf.variable(tf.randomNormal([3, 2]));
 * const x = tf.randomNormal([5, 3]);
 * const g = tf.grad((v: tf.Tensor) => tf.sum(matMul(x, v)))(w); // [3, 2]
 * ```
 */
export function matMul(a: Tensor, b: Tensor, options: MatMulOptions = {}): Tensor2D {
  assertOptions('matMul options', options, MATMUL_OPTIONS);
  if (options.transposeA !== undefined && typeof options.transposeA !== 'boolean') {
    throw new TypeError(
      `matMul: transposeA must be a boolean, received ${describeValue(options.transposeA)}`,
    );
  }
  if (options.transposeA === true) {
    checkMatrix('a', a);
    checkMatrix('b', b);
    if (a.shape[0] !== b.shape[0]) {
      throw new RangeError(
        `matMul: with transposeA, the rows of a must match the rows of b, received a ${formatShape(a.shape)} and b ${formatShape(b.shape)}`,
      );
    }
    if (tfjs.engine().isTapeOn()) return tfjs.tidy(() => matMulTaped(transpose2d(a), b));
    return productTN(a, b) ?? tfjs.tidy(() => productNN(transpose2d(a), b));
  }
  checkProduct(a, b);
  return tfjs.engine().isTapeOn() ? matMulTaped(a, b) : productNN(a, b as Tensor2D);
}

/** Options of {@link dense}. */
export interface DenseOptions {
  /**
   * The activation applied to x·W + b: `'linear'` (none, the default),
   * `'relu'` (max(z, 0)) or `'softplus'` (log(1 + eᶻ)). Where the fused
   * kernels run (Node.js, `cpu` and `wasm`; see {@link dense}) the product,
   * the bias and the activation are one kernel, and the backward pass
   * another.
   */
  activation?: 'linear' | 'relu' | 'softplus';
}

const DENSE_OPTIONS = new Set(['activation']);
const ACTIVATION_NAMES = ['linear', 'relu', 'softplus'];

/**
 * A dense (fully connected) layer act(x·W + b) with {@link matMul}'s fast
 * backward pass: the layer of an MLP objective, written once.
 *
 * In Node.js on the tfjs `cpu` and `wasm` backends, a layer runs as one
 * kernel for the product, the bias and the activation (which also writes
 * the slope act′(z) when a gradient is being recorded), and one for the
 * whole backward pass (δ = g ⊙ act′(z), dx = δ·Wᵀ, dW = xᵀ·δ, db = Σ δ):
 * on every core (see {@link setThreads}) when m, n ≥ 8 and
 * m·n·max(k, 32) ≥ 2²², on the calling thread below. Elsewhere (browsers,
 * other backends) it is the tfjs composition.
 * Values and gradients are those of the tfjs composition
 * `act(tf.add(tf.matMul(x, W), b))` to float32 rounding (softplus and its
 * slope σ are evaluated with a polynomial e^t and log(1 + u), within a few
 * units in the last place; results below float32's normal range may
 * flush to 0).
 *
 * @param x Inputs, [batch, in], float32.
 * @param weight W, [in, out], float32 (PyTorch's `nn.Linear` stores its transpose).
 * @param bias b, [out] float32 (or omitted: no bias).
 * @param options See {@link DenseOptions}.
 * @returns [batch, out].
 * @throws As {@link matMul}; RangeError when the bias is not [out] or the
 *   activation is unknown; TypeError for an unknown option name or a bias
 *   that is not float32.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { dense } from '@dcem/tfjs';
 * const w = tf.variable(tf.randomNormal([2, 16])), b = tf.variable(tf.zeros([16]));
 * const h = dense(tf.randomNormal([8, 2]), w, b, { activation: 'softplus' }); // [8, 16]
 * ```
 */
export function dense(x: Tensor, weight: Tensor, bias?: Tensor, options: DenseOptions = {}): Tensor2D {
  assertOptions('dense options', options, [...DENSE_OPTIONS]);
  const activation = options.activation ?? 'linear';
  if (!ACTIVATION_NAMES.includes(activation)) {
    throw new RangeError(
      `dense: activation must be 'linear', 'relu' or 'softplus', received ${describeValue(activation)}`,
    );
  }
  checkProduct(x, weight);
  const w = weight as Tensor2D;
  const out = w.shape[1];
  if (bias !== undefined && (!(bias instanceof tfjs.Tensor) || bias.rank !== 1 || bias.shape[0] !== out)) {
    throw new RangeError(`dense: bias must be a tensor of shape [${out}], received ${describeValue(bias)}`);
  }
  if (bias !== undefined && bias.dtype !== 'float32') {
    throw new TypeError(`dense: bias must have dtype float32, received ${bias.dtype}`);
  }
  if (bias !== undefined || activation !== 'linear') {
    const fused = tfjs.tidy(() => denseFused(x, w, bias ?? tfjs.zeros([out]), activation));
    if (fused !== undefined) return fused;
  }
  if (bias === undefined && activation === 'linear') return matMul(x, w);
  return tfjs.tidy(() => {
    const z = bias === undefined ? matMul(x, w) : (tfjs.add(matMul(x, w), bias) as Tensor2D);
    if (activation === 'relu') return tfjs.relu(z);
    if (activation === 'softplus') return tfjs.softplus(z);
    return z;
  });
}
