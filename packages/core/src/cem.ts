import type { Backend } from './backend.js';
import type { CemOptions } from './options.js';
import { type CemResult, type CemSolver, createCem, createDcem } from './solver.js';

/** An objective f: samples [batch, numSamples, dim] ↦ values [batch, numSamples] (lower is better). */
export type Objective<T> = (samples: T) => T;

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
