import { type Backend, completeBackend } from '@dcem/core';
import { assertKnownOptions, assertObject, describeValue } from '@dcem/errors';
import {
  defaultDevice,
  type Array as JaxArray,
  grad as jaxGrad,
  jit,
  lax,
  numpy as np,
  random,
} from '@jax-js/jax';
import { concreteOf, isConcrete } from './concrete.js';
import { createFused } from './fused.js';
import { Ownership } from './ownership.js';

/** The array type of the jax-js backend: `Array` of `@jax-js/jax` (a tracer under `grad`, `jit`, `vmap`). */
export type Tensor = JaxArray;

/** Options of {@link createJaxBackend}. */
export interface JaxBackendOptions {
  /**
   * Use the backend's fast paths (`fused.lml`: LML's forward pass compiled
   * with jax-js's `jit` and its implicit gradient as a linear map, see
   * {@link createJaxBackend}). Default true; false composes the generic
   * operations (for example to compare).
   */
  fused?: boolean;
}

const OPTION_NAMES = ['fused'] as const;

/**
 * A `Backend` of `@dcem/core` over `@jax-js/jax`, plus what jax-js's
 * reference counting needs.
 */
export interface JaxBackend extends Backend<Tensor> {
  /**
   * ∇ₓ sum(f(x)) through jax-js's `grad`, with the backend's bookkeeping
   * around it: every array `f` makes is released before `grad` returns.
   * Like every array the backend returns, the gradient is the backend's
   * (released by the enclosing `tidy` or by `dispose`); `x` is not consumed. This is the `grad` of the conformance cases of
   * `@dcem/core/testing`.
   */
  grad(f: (x: Tensor) => Tensor, x: Tensor): Tensor;
  /**
   * Wraps a function written in jax-js's convention (it consumes its
   * argument and returns a new array, as every jax-js function does) as one
   * in the backend's convention, for example an objective for `dcem` that
   * calls jax-js directly: it receives `x.ref`, and its result is recorded in
   * the backend's current scope (released by the enclosing `tidy`).
   */
  wrap(f: (x: Tensor) => Tensor): (x: Tensor) => Tensor;
  /**
   * The number of references the backend holds: arrays it returned that no
   * `tidy` or `dispose` has released yet. Unchanged by a solve whose results
   * are disposed: the leak check of this backend's tests.
   */
  liveArrays(): number;
  /**
   * `tidy` for an asynchronous function (one that awaits `read`, say): the
   * arrays it makes, before and after its `await`s, are released when its
   * promise settles, except those it resolves with (an array, a list or a
   * record of arrays). Its scope stays the innermost until then: do not run
   * other work of the backend concurrently.
   */
  tidyAsync<R>(fn: () => Promise<R>): Promise<R>;
}

/** 32 well-mixed bits of `x` (the finaliser of MurmurHash3). */
function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A 32-bit key seed from any finite number (its float64 bits, hashed: 1 and 1.5 differ). */
function seedBits(seed: number): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, seed);
  return mix32(view.getUint32(0) ^ mix32(view.getUint32(4)));
}

/**
 * A `Backend<Tensor>` of `@dcem/core` over jax-js (`@jax-js/jax`): CEM,
 * DCEM, LML and the planner run on jax-js arrays, on the device jax-js
 * uses (`defaultDevice()`: WebAssembly by default, WebGPU in browsers that
 * have it), and differentiate through jax-js's `grad`, `vjp` and `jvp`.
 * Arrays are float32; masks are jax-js booleans; indices int32.
 *
 * **Ownership.** jax-js counts references (each function consumes its
 * arguments; `x.ref` keeps one), while `@dcem/core` uses a value as often
 * as it likes. The backend holds one reference to every array it returns
 * and passes `x.ref` to jax-js: its arrays live until the enclosing
 * `tidy` ends (unless returned or kept) or until `dispose`, as tfjs tensors
 * do. Arrays you make with jax-js and pass in stay yours. A function that
 * calls jax-js directly on the backend's arrays must take `x.ref` (or be
 * wrapped with {@link JaxBackend.wrap}); under jax-js's `grad` use
 * {@link JaxBackend.grad} (or wrap the function in `tidy`), so that the
 * tracers the function makes are released inside the trace.
 *
 * **Custom gradients without `custom_vjp`.** jax-js 0.1.25 has no custom
 * derivative rules. `customGrad(forward)` returns
 * y = sg(v) + Gᵀ(x − sg(x)), with v the forward value, sg the stop
 * gradient and Gᵀ the transpose of the supplied linear map
 * G: dy ↦ gradient(dy, saved), itself obtained with jax-js's `grad`
 * (Gᵀu = ∇_dy ⟨G(dy), u⟩). x − sg(x) is 0, so y = v, and the
 * vector–Jacobian product of y is G. LML's fast path (`fused.lml`) writes
 * the linear map down instead: with s = sg(y ⊙ (1 − y)),
 * g(x) = s ⊙ (x − ⟨s, x⟩/Σs)/τ is linear in x and its Jacobian is LML's
 * implicit one, so y = sg(LML(x)) + g(x − sg(x)); its forward pass (the
 * root finder, a long chain of element-wise operations) is compiled with
 * jax-js's `jit` into a few fused kernels.
 *
 * **Reads.** `readSync` copies an array to the host (`dataSync`, which
 * waits for the device) and `read` resolves with the same entries without
 * blocking (`data()`, what WebGPU in a browser needs); under `grad` both
 * read the primal value of a tracer, as JAX does outside `jit`. Under `jit`
 * nothing can be read.
 *
 * Seeds: `randomNormal(shape, seed)` draws with jax-js's threefry
 * (`random.normal(random.key(h))`, h a 32-bit hash of the seed's float64
 * bits): the same seed gives the same draws, any finite number is a seed,
 * and without one each call draws fresh numbers. The draws differ from
 * `@dcem/tfjs`'s for the same seed.
 *
 * @param options See {@link JaxBackendOptions}.
 * @returns The backend, with {@link JaxBackend.grad},
 *   {@link JaxBackend.wrap}, {@link JaxBackend.liveArrays} and
 *   {@link JaxBackend.tidyAsync}.
 * @throws TypeError for an unknown option or a wrong kind of value.
 * @example
 * ```ts
 * import { dcem } from '@dcem/core';
 * import { createJaxBackend } from '@dcem/jax';
 * const b = createJaxBackend();
 * const target = b.tensor([1, -2], [1, 1, 2]);
 * const f = (x) => b.sum(b.square(b.sub(x, target)), -1, false);
 * const { solution } = dcem(b, f, { dim: 2, numSamples: 100, numElites: 10, seed: 0 });
 * b.readSync(solution); // ≈ [1, -2]
 * ```
 */
export function createJaxBackend(options: JaxBackendOptions = {}): JaxBackend {
  assertObject('createJaxBackend: options', options);
  assertKnownOptions('createJaxBackend options', options, OPTION_NAMES);
  if (options.fused !== undefined && typeof options.fused !== 'boolean') {
    throw new TypeError(
      `createJaxBackend: options.fused must be a boolean, received ${describeValue(options.fused)}`,
    );
  }
  const isArray = (x: unknown): x is Tensor =>
    typeof x === 'object' && x !== null && typeof (x as Tensor).dispose === 'function' && 'shape' in x;
  const owner = new Ownership(isArray);
  const own = <A extends Tensor>(x: A): A => owner.own(x);
  const r = (x: Tensor): Tensor => x.ref;
  const f32 = (x: Tensor): Tensor => (x.dtype === np.float32 ? x : np.astype(x, np.float32));
  let freshSeed = Math.floor(Math.random() * 2 ** 32);
  // stopGradient: the concrete value behind a tracer where there is one (a
  // constant for every level of differentiation, which is what
  // stop_gradient means), else jax-js's stop_gradient. Besides sparing the
  // forward passes of custom gradients their tangents, this avoids a leak of
  // jax-js 0.1.25: the linearisation residuals of whatever feeds a
  // stop_gradient are never freed (docs/jax-js-issues.md).
  const sg = (x: Tensor) => {
    const value = concreteOf(x);
    return own(value === undefined ? lax.stopGradient(r(x)) : value.ref);
  };

  // jax-js 0.1.25's eager JVP of `reciprocal` (which float division lowers
  // to, and which the JVPs of log and sqrt call) leaks a reference to its
  // input, and nn.sigmoid (1/(1 + e^(−x))) has a NaN derivative below
  // x ≈ −88 in float32 (e^(−x) overflows). Differentiated through jit, the
  // same operations free everything (docs/jax-js-issues.md). So on tracers
  // these go through jit-compiled versions; sigmoid is always the stable
  // form σ(x) = 1/(1 + e) for x ≥ 0 and e/(1 + e) below, e = e^(−|x|).
  const divJ = jit((a: Tensor, b: Tensor) => np.divide(a, b));
  const logJ = jit((x: Tensor) => np.log(x));
  const sqrtJ = jit((x: Tensor) => np.sqrt(x));
  const sigmoidJ = jit((x: Tensor) => {
    const e = np.exp(np.negative(np.abs(x.ref)));
    return np.where(np.greaterEqual(x, 0), np.reciprocal(np.add(e.ref, 1)), np.divide(e.ref, np.add(e, 1)));
  });

  const tensor = (values: ArrayLike<number>, shape: readonly number[]): Tensor => {
    const size = shape.reduce((a, e) => a * e, 1);
    if (size === 0) return own(np.zeros([...shape], { dtype: np.float32 }));
    return own(np.array(Float32Array.from(values as ArrayLike<number>), { shape: [...shape] }));
  };

  /** The transpose u ↦ Gᵀu of the linear map G: dy ↦ gradient(dy, saved), by jax-js's grad. */
  const transposed =
    (gradient: (dy: Tensor, saved: Tensor[]) => Tensor, saved: Tensor[], dyShape: readonly number[]) =>
    (u: Tensor): Tensor => {
      const inner = (dy: Tensor) =>
        owner.tidy(() => {
          own(dy);
          return np.sum(r(backend.mul(gradient(dy, saved), u)));
        });
      return own(jaxGrad(inner)(np.zeros([...dyShape], { dtype: np.float32 })));
    };

  const backend: Backend<Tensor> = completeBackend<Tensor>({
    get name() {
      return `jax-${defaultDevice()}`;
    },
    shape: (x) => x.shape,
    tensor,
    scalar: (value) => own(np.array(value, { dtype: np.float32 })),
    reshape: (x, shape) => own(np.reshape(r(x), [...shape])),
    add: (a, b) => own(np.add(r(a), r(b))),
    sub: (a, b) => own(np.subtract(r(a), r(b))),
    mul: (a, b) => own(np.multiply(r(a), r(b))),
    div: (a, b) => own(isConcrete(a) && isConcrete(b) ? np.divide(r(a), r(b)) : divJ(r(a), r(b))),
    exp: (x) => own(np.exp(r(x))),
    log: (x) => own(isConcrete(x) ? np.log(r(x)) : logJ(r(x))),
    sigmoid: (x) => own(sigmoidJ(r(x))),
    sqrt: (x) => own(isConcrete(x) ? np.sqrt(r(x)) : sqrtJ(r(x))),
    square: (x) => own(np.square(r(x))),
    sum: (x, axis, keepDims) => own(np.sum(r(x), axis, { keepdims: keepDims })),
    max: (x, axis, keepDims) => own(np.max(r(x), axis, { keepdims: keepDims })),
    // jax-js 0.1.25's matmul treats operands of different ranks unlike
    // NumPy ([n, n] × [B, n, p] gives [n, B, p]); with the ranks made equal
    // (leading axes of 1) it broadcasts the batch axes, gradients included.
    matMul: (a, b) => {
      const rank = Math.max(a.ndim, b.ndim);
      const lift = (x: Tensor) =>
        x.ndim === rank ? r(x) : np.reshape(r(x), [...new Array<number>(rank - x.ndim).fill(1), ...x.shape]);
      return own(np.matmul(lift(a), lift(b)));
    },
    less: (a, b) => own(np.less(r(a), r(b))),
    greater: (a, b) => own(np.greater(r(a), r(b))),
    equal: (a, b) => own(np.equal(r(a), r(b))),
    isFinite: (x) => own(np.isfinite(r(x))),
    logicalAnd: (a, b) => own(np.logicalAnd(r(a), r(b))),
    allRows: (mask) => own(np.all(r(mask), 1, { keepdims: true })),
    where: (mask, a, b) => own(np.where(r(mask), r(a), r(b))),
    maskToFloat: (mask) => own(np.astype(r(mask), np.float32)),
    topkIndices: (x, k) => {
      const [values, indices] = lax.topK(r(x), k, 1);
      values.dispose();
      return own(indices);
    },
    batchGather: (x, indices) => {
      const [batch = 0, n = 0, ...rest] = x.shape;
      void n;
      const m = indices.shape[1] ?? 0;
      let idx = indices.dtype === np.int32 ? r(indices) : np.astype(r(indices), np.int32);
      if (rest.length > 0) {
        idx = np.broadcastTo(np.reshape(idx, [batch, m, ...rest.map(() => 1)]), [batch, m, ...rest]);
      }
      return own(np.takeAlongAxis(r(x), idx, 1));
    },
    concat: (xs, axis) => own(np.concatenate(xs.map(r), axis)),
    randomNormal: (shape, seed) => {
      const bits = seed === undefined ? freshSeed++ >>> 0 : seedBits(seed);
      return own(f32(random.normal(random.key(bits), [...shape])));
    },
    stopGradient: (x) => sg(x),
    customGrad: (forward) => (x) => {
      if (isConcrete(x)) return owner.tidy(() => forward(x, () => undefined).value);
      return owner.tidy(() => {
        let saved: Tensor[] = [];
        const out = forward(sg(x), (tensors) => {
          saved = tensors;
        });
        const u = backend.sub(x, sg(x));
        return backend.add(sg(out.value), transposed(out.gradient, saved, out.value.shape)(u));
      });
    },
    // The asynchronous read: `data()` of the concrete value (it consumes the `.ref`).
    read: (x) => {
      const value = concreteOf(x);
      if (value === undefined) {
        return Promise.reject(
          new TypeError(`read: ${String(x)} is abstract (inside jit or vmap): it has no value to read`),
        );
      }
      return f32(value.ref).data() as Promise<ArrayLike<number>>;
    },
    tidy: (fn) => owner.tidy(fn),
    keep: (x) => owner.keep(x),
    dispose: (x) => owner.dispose(x),
    readSync: (x) => {
      const value = concreteOf(x);
      if (value === undefined) {
        throw new TypeError(
          `readSync: ${String(x)} is abstract (inside jit or vmap): it has no value to read until the traced function returns`,
        );
      }
      return f32(value.ref).dataSync();
    },
  });

  const fused = options.fused === false ? undefined : createFused({ ...backend, fused: undefined }, owner);
  const complete: JaxBackend = Object.defineProperties(backend as JaxBackend, {
    fused: { value: fused, enumerable: true },
    grad: {
      value: (f: (x: Tensor) => Tensor, x: Tensor): Tensor =>
        own(
          jaxGrad((t: Tensor) =>
            owner.tidy(() => {
              own(t);
              // + 0·Σt: jax-js 0.1.25 leaks the residuals of a linearisation
              // whose output depends on the input only through stopGradient
              // (docs/jax-js-issues.md); this term connects the two and
              // adds exactly 0 to the gradient.
              return np.add(np.sum(r(f(t))), np.multiply(np.sum(r(t)), 0));
            }),
          )(r(x)),
        ),
      enumerable: true,
    },
    wrap: {
      value:
        (f: (x: Tensor) => Tensor) =>
        (x: Tensor): Tensor =>
          own(f(r(x))),
      enumerable: true,
    },
    liveArrays: { value: () => owner.count(), enumerable: true },
    tidyAsync: {
      value: <R>(fn: () => Promise<R>): Promise<R> => owner.tidyAsync(fn),
      enumerable: true,
    },
  });
  return complete;
}
