/**
 * The operations the LML projection needs from a tensor library.
 *
 * `T` is the library's tensor type. Every operation is pure and returns a
 * new tensor; binary operations broadcast like NumPy. Masks (the results of
 * comparisons) are tensors too; the backend chooses their element type.
 */
export interface LmlOps<T> {
  /** Shape of `x`. */
  shape(x: T): readonly number[];
  /** A rank-0 tensor holding `value`. */
  scalar(value: number): T;
  /** A tensor of the given shape filled with `value`. */
  fill(shape: readonly number[], value: number): T;
  /** Element-wise `a + b`. */
  add(a: T, b: T): T;
  /** Element-wise `a − b`. */
  sub(a: T, b: T): T;
  /** Element-wise `a · b`. */
  mul(a: T, b: T): T;
  /** Element-wise `a / b`. */
  div(a: T, b: T): T;
  /** Element-wise logistic function 1 / (1 + e^(−x)). */
  sigmoid(x: T): T;
  /** Element-wise natural logarithm. */
  log(x: T): T;
  /** Element-wise absolute value. */
  abs(x: T): T;
  /** Sum over `axis` (negative counts from the end). */
  sum(x: T, axis: number, keepDims: boolean): T;
  /** The `k` largest entries of each row of a 2-D `x`, sorted descending: shape [rows, k]. */
  topkValues(x: T, k: number): T;
  /** Columns `begin … begin + size − 1` of a 2-D `x`. */
  sliceColumns(x: T, begin: number, size: number): T;
  /** Mask of `a < b`. */
  less(a: T, b: T): T;
  /** Mask of `a > b`. */
  greater(a: T, b: T): T;
  /** Mask of `a == b`. */
  equal(a: T, b: T): T;
  /** Mask of the finite entries of `x` (neither NaN nor ±∞). */
  isFinite(x: T): T;
  /** Element-wise logical and of two masks. */
  logicalAnd(a: T, b: T): T;
  /** Mask of the rows of a 2-D mask whose entries are all true: shape [rows, 1]. */
  allRows(mask: T): T;
  /** Picks `a` where `mask` is true and `b` elsewhere. */
  where(mask: T, a: T, b: T): T;
  /**
   * Wraps `forward` as a differentiable function of one tensor whose
   * vector–Jacobian product is `gradient`. `save` hands tensors to the
   * backward pass; the backward pass must use only `dy` and `saved`.
   * A backend without autodiff returns `forward`'s value unchanged.
   */
  customGrad(
    forward: (
      x: T,
      save: (tensors: T[]) => void,
    ) => {
      value: T;
      gradient: (dy: T, saved: T[]) => T;
    },
  ): (x: T) => T;
  /** Runs `fn`, releasing every tensor it created except those it returns or keeps. */
  tidy<R extends T | T[] | Record<string, T> | undefined>(fn: () => R): R;
  /** Marks `x` to survive the enclosing `tidy`. */
  keep(x: T): T;
  /** Releases `x`. */
  dispose(x: T): void;
  /** Copies the entries of `x` to the host, row-major. */
  readSync(x: T): ArrayLike<number>;
  /**
   * Optional fast paths (see {@link LmlFusedOps}). Each must give the values
   * and gradients of the generic composition; a missing entry, or one that
   * returns `undefined`, means the generic operations are used.
   */
  readonly fused?: LmlFusedOps<T>;
}

/**
 * The optional fused fast path of the LML projection. A backend that has one
 * puts it under {@link LmlOps.fused}.
 */
export interface LmlFusedOps<T> {
  /**
   * LML_k(x/τ) of a 2-D `x` (1 ≤ k < n) as one fused operation, with the
   * semantics of the generic composition (the root finder of `solveDual`
   * with at most `maxIterations` steps, NaN rows for rows that hold NaN or
   * ±∞) and its implicit gradient, recorded by the backend's autodiff.
   * Return `undefined` where it cannot run: `lml` then composes the
   * operations of {@link LmlOps}.
   */
  lml?(x: T, k: number, temperature: number, maxIterations: number): T | undefined;
}
