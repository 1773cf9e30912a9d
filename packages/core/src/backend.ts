import type { LmlFusedOps, LmlOps } from '@dcem/lml';

/**
 * The tensor operations the CEM/DCEM solver is built from.
 *
 * A backend is a plain object over one tensor library; `T` is its tensor
 * type. The solver never calls autodiff itself: it only composes these
 * operations, so a backend that records them (TensorFlow.js does) makes the
 * whole solve differentiable. Binary operations broadcast like NumPy; masks
 * are the results of comparisons and may have any element type the backend
 * likes, as long as {@link Backend.where}, {@link LmlOps.logicalAnd} and
 * {@link Backend.maskToFloat} accept them.
 *
 * Most methods derive from a smaller set: write the primitives
 * (`BackendPrimitives`) and let `completeBackend` fill in the rest.
 * `@dcem/core/testing` exports conformance cases every backend must pass
 * (values, gradients, fused-against-generic parity) and a float64 reference
 * backend over plain typed arrays.
 */
export interface Backend<T> extends LmlOps<T> {
  /** A short name for messages, for example `"tfjs-wasm"`. */
  readonly name: string;
  /** A tensor with the given row-major `values` and `shape`. */
  tensor(values: ArrayLike<number>, shape: readonly number[]): T;
  /** `x` with a new shape of the same size. */
  reshape(x: T, shape: readonly number[]): T;
  /** Element-wise e^x. */
  exp(x: T): T;
  /** Element-wise √x. */
  sqrt(x: T): T;
  /** Element-wise x². */
  square(x: T): T;
  /** Element-wise maximum of `a` and `b`. */
  maximum(a: T, b: T): T;
  /** Element-wise minimum of `a` and `b`. */
  minimum(a: T, b: T): T;
  /** Maximum over `axis`. */
  max(x: T, axis: number, keepDims: boolean): T;
  /** Minimum over `axis`. */
  min(x: T, axis: number, keepDims: boolean): T;
  /**
   * Batched matrix product: for `a` [..., m, k] and `b` [..., k, n] (rank
   * ≥ 2 each), y[..., i, j] = Σ_l a[..., i, l] · b[..., l, j], shape
   * [...batch, m, n]. The batch axes (all but the last two) broadcast like
   * NumPy's, so a rank-2 operand is one matrix shared by the whole batch;
   * the result is a float tensor, and NaN and ±∞ propagate as in the sum of
   * products. The gradient is dy·bᵀ for `a` and aᵀ·dy for `b`, each summed
   * over the batch axes its operand was broadcast along. A shape that does
   * not fit (a rank below 2, k ≠ rows of `b`, batch axes that do not
   * broadcast) is a `RangeError` (or the tensor library's own error).
   *
   * `completeBackend` derives it as Σ over k of a [..., m, k, 1] ⊙
   * b [..., 1, k, n] (exact, but m·k·n entries per batch entry in memory);
   * a backend whose library has a matrix product supplies its own.
   */
  matMul(a: T, b: T): T;
  /**
   * For a 2-D `x`, 1 at the `k` largest entries of each row and 0 elsewhere
   * (ties broken by position, lowest index first), as a float tensor with no
   * gradient.
   */
  topkMask(x: T, k: number): T;
  /**
   * For a 2-D `x` [rows, n], the positions of the `k` largest entries of each
   * row, largest first (ties broken by position, lowest index first), shape
   * [rows, k], with no gradient. The result is an index tensor (its element
   * type is the backend's choice) meant for {@link Backend.batchGather};
   * `readSync` reads it as integers.
   */
  topkIndices(x: T, k: number): T;
  /**
   * Per-row gather: for `x` [batch, n, ...rest] and `indices` [batch, m] (from
   * {@link Backend.topkIndices}, or integers in [0, n) made with `tensor`),
   * y[b, j, ...] = x[b, indices[b, j], ...], shape [batch, m, ...rest]. The
   * gradient flows to `x` (summed where an index repeats), none to `indices`.
   */
  batchGather(x: T, indices: T): T;
  /** Joins tensors of equal shape but along `axis` (negative counts from the end), differentiably. */
  concat(xs: readonly T[], axis: number): T;
  /** A mask as a float tensor of 0 and 1. */
  maskToFloat(mask: T): T;
  /** Standard normal draws. The same `seed` gives the same draws; without a seed the backend picks one. */
  randomNormal(shape: readonly number[], seed?: number): T;
  /**
   * Optional hint: `randomNormal(shape, seed)` comes next (the solvers call
   * this with the next iteration's seed and shape). A backend may start
   * drawing them elsewhere, for example on another thread, and must return
   * exactly the same numbers when asked. Does nothing by default.
   *
   * It is not in {@link Backend.fused}: it computes nothing and returns
   * nothing, so it has no generic composition to equal; it only schedules
   * work of `randomNormal`, whose contract it must not change.
   */
  prefetchNormal?(shape: readonly number[], seed: number): void;
  /** `x` in the forward pass, zero gradient in the backward pass. */
  stopGradient(x: T): T;
  /**
   * The entries of `x` in row-major order, like {@link LmlOps.readSync},
   * read asynchronously: the async solves (`cemAsync`, `dcemAsync`,
   * `planAsync`) read only through it, so they never block on the device
   * (tfjs: `x.data()`, which WebGPU in a browser needs). The derived
   * version of `completeBackend` resolves with `readSync(x)` (a synchronous
   * read, one microtask later); a backend whose tensor library has an
   * asynchronous read supplies its own.
   */
  read(x: T): Promise<ArrayLike<number>>;
  /**
   * Optional fast paths (see {@link BackendFusedOps}): each computes what a
   * composition of the operations above computes, in one fused operation,
   * with the same values and gradients. A missing entry, or one that returns
   * `undefined`, means the generic composition is used. The parity cases of
   * `@dcem/core/testing` check each entry a backend has against it.
   */
  readonly fused?: BackendFusedOps<T>;
}

/**
 * The optional fused fast paths of a {@link Backend}, by the step of CEM they
 * replace. Each takes the inputs of the generic composition and returns its
 * result, or `undefined` where it cannot run (for example on a tensor
 * library's device it has no kernel for); the solver then composes the
 * generic operations. A fused path must give the same values (to the
 * backend's precision) and the same gradients, recorded by the backend's
 * autodiff, as the generic composition.
 */
export interface BackendFusedOps<T> extends LmlFusedOps<T> {
  /**
   * `valuesToScores`: the scores and the non-finite count of `values`
   * [batch, numSamples]. `eps` is the constant added to the std, `margin`
   * how far below the worst finite score a non-finite value goes.
   */
  scores?(
    values: T,
    normalize: boolean,
    eps: number,
    margin: number,
  ): { scores: T; nonFinite: T } | undefined;
  /**
   * Sampling: min(max(μ + σ ⊙ ε, lower), upper) for μ, σ [batch, dim],
   * ε [batch, numSamples, dim] and bounds [1 or batch, dim] (either may be
   * `undefined`), with the gradient of the generic ops (clamped entries pass
   * theirs to the bound).
   */
  sample?(mean: T, std: T, noise: T, lower: T | undefined, upper: T | undefined): T | undefined;
  /**
   * The refit: `fitMean` and `fitStd` of samples [batch, numSamples, dim]
   * and weights [batch, numSamples].
   */
  fit?(samples: T, weights: T, k: number, minStd: number): { mean: T; std: T } | undefined;
  /**
   * The best-sample update (`updateBest`): per row of samples
   * [batch, P, dim], the sample with the largest of `scores` [batch, P]
   * (the first on ties) and its entry of `values` [batch, P] (NaN and ±∞ as
   * +∞), replaced by `previous` ([batch, dim] and [batch]) where its value is
   * not strictly lower. Gradients go to the samples, values and previous
   * best the result came from, none to the scores.
   */
  best?(
    samples: T,
    scores: T,
    values: T,
    previous: { sample: T; value: T } | undefined,
  ): { sample: T; value: T } | undefined;
}
