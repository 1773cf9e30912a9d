import type { Backend } from './backend.js';
import type { CemOptions } from './options.js';
import { type CemResult, type CemSolver, createCem, createDcem } from './solver.js';

function isThenable<T>(x: T | PromiseLike<T>): x is PromiseLike<T> {
  return (
    x !== null &&
    (typeof x === 'object' || typeof x === 'function') &&
    typeof (x as { then?: unknown }).then === 'function'
  );
}

/** An objective f: samples [batch, numSamples, dim] ↦ values [batch, numSamples] (lower is better). */
export type Objective<T> = (samples: T) => T;

/**
 * An objective for {@link cemAsync} and {@link dcemAsync}: like
 * {@link Objective}, or a Promise of the values (a simulator). The solver
 * disposes the tensor it receives after use.
 */
export type AsyncObjective<T> = (samples: T) => T | Promise<T>;

function run<T>(
  backend: Backend<T>,
  objective: Objective<T>,
  options: CemOptions<T>,
  create: (backend: Backend<T>, options: CemOptions<T>) => CemSolver<T>,
): CemResult<T> {
  if (typeof objective !== 'function') {
    throw new TypeError(`objective must be a function, received ${typeof objective}`);
  }
  const solver = create(backend, options);
  let state = solver.init();
  try {
    while (!solver.done(state)) {
      const samples = solver.ask(state);
      try {
        const values = backend.tidy(() => objective(samples));
        try {
          const next = solver.tell(state, samples, values);
          solver.release(state);
          state = next;
        } finally {
          if (values !== samples && values !== null && typeof values === 'object') backend.dispose(values);
        }
      } finally {
        backend.dispose(samples);
      }
    }
    // result() hands mean and std to the caller and releases the rest of the state.
    return solver.result(state);
  } catch (error) {
    solver.release(state);
    throw error;
  } finally {
    solver.dispose();
  }
}

async function runAsync<T>(
  backend: Backend<T>,
  objective: AsyncObjective<T>,
  options: CemOptions<T>,
  create: (backend: Backend<T>, options: CemOptions<T>) => CemSolver<T>,
): Promise<CemResult<T>> {
  if (typeof objective !== 'function') {
    throw new TypeError(`objective must be a function, received ${typeof objective}`);
  }
  const solver = create(backend, options);
  let state = solver.init();
  let handedOver = false;
  try {
    while (!solver.done(state)) {
      const samples = solver.ask(state);
      try {
        let values: T | undefined;
        try {
          // A synchronous objective runs in a tidy, as in `cem`; a Promise is awaited outside it.
          let pending: PromiseLike<T> | undefined;
          const now = backend.tidy(() => {
            const v = objective(samples);
            if (isThenable(v)) {
              pending = v;
              return undefined;
            }
            return v;
          });
          values = now ?? (await (pending as PromiseLike<T>));
          const next = await solver.tellAsync(state, samples, values);
          solver.release(state);
          state = next;
        } finally {
          if (values !== undefined && values !== samples && values !== null && typeof values === 'object') {
            backend.dispose(values);
          }
        }
      } finally {
        backend.dispose(samples);
      }
    }
    // From here resultAsync() owns the state's tensors (it releases them on failure too).
    handedOver = true;
    return await solver.resultAsync(state);
  } catch (error) {
    if (!handedOver) solver.release(state);
    throw error;
  } finally {
    solver.dispose();
  }
}

/**
 * The cross-entropy method: minimises f(x) over x ∈ ℝⁿ (`dim` = n) for
 * `batchSize` independent problems at once.
 *
 * Each iteration draws N = `numSamples` samples Xᵢ = μ + σ ⊙ εᵢ (clamped to
 * [`lowerBound`, `upperBound`]), evaluates vᵢ = f(Xᵢ), weights them with I
 * (the hard top-k = `numElites` indicator by default; set `temperature` for
 * the soft LML weights of DCEM) and refits μ' = Σ IᵢXᵢ/k,
 * σ' = √(Σ Iᵢ(Xᵢ − μ')²/k). It stops after `numIterations` or when
 * ‖μ' − μ‖ < `tolerance`.
 *
 * @param backend Tensor operations.
 * @param objective f: [batch, numSamples, dim] ↦ [batch, numSamples].
 * @param options See {@link CemOptions}; `temperature` defaults to null here.
 * @returns The solution and the final distribution; the caller owns the tensors.
 * @example
 * ```ts
 * import { cem } from '@dcem/core';
 * const { solution } = cem(backend, (x) => sumOfSquares(x), { dim: 2, numSamples: 100, numElites: 10 });
 * ```
 */
export function cem<T>(backend: Backend<T>, objective: Objective<T>, options: CemOptions<T>): CemResult<T> {
  return run(backend, objective, options, createCem);
}

/**
 * The differentiable cross-entropy method (Amos & Yarats, ICML 2020): CEM
 * whose elite weights are the soft top-k I = LML_k(−v̂/τ) (softmax when
 * k = 1), so the solution is differentiable with respect to everything f
 * depends on, through the backend's own autodiff. τ = `temperature`
 * (default 1; the reference's `temp` is 1/τ); `temperature: null` gives
 * vanilla CEM. As τ → 0, DCEM becomes CEM.
 *
 * @param backend Tensor operations.
 * @param objective f: [batch, numSamples, dim] ↦ [batch, numSamples].
 * @param options See {@link CemOptions}; `temperature` defaults to 1 here.
 * @returns The solution and the final distribution; the caller owns the tensors.
 * @example
 * ```ts
 * import { dcem } from '@dcem/core';
 * const { solution } = dcem(backend, objective, { dim: 2, numSamples: 100, numElites: 10, temperature: 0.5 });
 * ```
 */
export function dcem<T>(backend: Backend<T>, objective: Objective<T>, options: CemOptions<T>): CemResult<T> {
  return run(backend, objective, options, createDcem);
}

/**
 * {@link cem} without synchronous reads: every read it makes (the
 * convergence flag where `earlyStopping` asks for it, the result's
 * `iterations`, `converged` and `nonFiniteValues`) is an awaited
 * `backend.read`, so it runs where reads can only be asynchronous (WebGPU
 * in a browser) and never blocks the thread on the device. The objective
 * may return a Promise. The result's numbers are plain values.
 *
 * @param backend Tensor operations.
 * @param objective f: [batch, numSamples, dim] ↦ [batch, numSamples], or a Promise of it.
 * @param options See {@link CemOptions}; `temperature` defaults to null here.
 * @returns The solution and the final distribution; the caller owns the tensors.
 * @example
 * ```ts
 * import { cemAsync } from '@dcem/core';
 * const { solution, iterations } = await cemAsync(backend, f, { dim: 2, numSamples: 100, numElites: 10 });
 * ```
 */
export function cemAsync<T>(
  backend: Backend<T>,
  objective: AsyncObjective<T>,
  options: CemOptions<T>,
): Promise<CemResult<T>> {
  return runAsync(backend, objective, options, createCem);
}

/**
 * {@link dcem} without synchronous reads (see {@link cemAsync}): DCEM's
 * defaults, awaited reads only, and an objective that may return a Promise.
 *
 * @param backend Tensor operations.
 * @param objective f: [batch, numSamples, dim] ↦ [batch, numSamples], or a Promise of it.
 * @param options See {@link CemOptions}; `temperature` defaults to 1 here.
 * @returns The solution and the final distribution; the caller owns the tensors.
 * @example
 * ```ts
 * import { dcemAsync } from '@dcem/core';
 * const { solution } = await dcemAsync(backend, objective, { dim: 2, temperature: 0.5 });
 * ```
 */
export function dcemAsync<T>(
  backend: Backend<T>,
  objective: AsyncObjective<T>,
  options: CemOptions<T>,
): Promise<CemResult<T>> {
  return runAsync(backend, objective, options, createDcem);
}
