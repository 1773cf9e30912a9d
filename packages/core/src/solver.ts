import { describeValue, formatShape } from '@dcem/lml';
import type { Backend } from './backend.js';
import { fitMean, fitStd, sampleDiagonalGaussian } from './gaussian.js';
import { clamp, frobeniusNorm } from './ops.js';
import { type CemOptions, type ResolvedCemOptions, resolveCemOptions, toRowTensor } from './options.js';
import { eliteWeights, valuesToScores } from './selectors.js';

/**
 * The state of a CEM solve between iterations. Its tensors belong to the
 * solver's caller: release a state with {@link CemSolver.release} once it is
 * replaced.
 */
export interface CemState<T> {
  /** μ, [batch, dim]. */
  readonly mean: T;
  /** σ, [batch, dim]. */
  readonly std: T;
  /** Iterations completed so far. */
  readonly iteration: number;
  /** True once an iteration moved the mean by less than the tolerance. */
  readonly converged: boolean;
  /** Running count of non-finite objective values, a rank-0 tensor. */
  readonly nonFinite: T;
}

/** What a CEM/DCEM solve returns. The caller owns the tensors. */
export interface CemResult<T> {
  /** The mean clamped to the bounds, [batch, dim]: the argmin estimate x̂. */
  solution: T;
  /** The final mean μ before clamping, [batch, dim]. */
  mean: T;
  /** The final standard deviation σ, [batch, dim]. */
  std: T;
  /** Iterations run (including the one that met the tolerance). */
  iterations: number;
  /** Whether the tolerance stopped the solve before `numIterations`. */
  converged: boolean;
  /** How many objective values over the whole solve were NaN or ±∞ (they never count as elites). */
  nonFiniteValues: number;
}

/**
 * CEM as a state machine (like evosax's ask/tell): `init` → (`ask` →
 * evaluate → `tell`)* → `result`. Use it to drive the loop yourself, for
 * example to evaluate samples asynchronously; {@link cem} and {@link dcem}
 * are this loop.
 */
export interface CemSolver<T> {
  /** The validated options with defaults filled in. */
  readonly options: ResolvedCemOptions<T>;
  /** The initial state: μ₀ and σ₀ broadcast to [batch, dim]. */
  init(): CemState<T>;
  /** True when the solve is over (converged or out of iterations). */
  done(state: CemState<T>): boolean;
  /**
   * The samples of the next iteration, [batch, numSamples, dim]:
   * X = clamp(μ + σ ⊙ ε, lowerBound, upperBound), then `project`.
   */
  ask(state: CemState<T>): T;
  /**
   * Refits the distribution to evaluated samples: returns the next state and
   * calls `onIteration`. Does not release `state`, `samples` or `values`.
   * Reads one number back to the host when `tolerance` > 0.
   *
   * @param values f(samples), [batch, numSamples].
   */
  tell(state: CemState<T>, samples: T, values: T): CemState<T>;
  /**
   * The result of a finished (or interrupted) solve. The state's mean and std
   * become the result's (the caller owns them); its other tensors are
   * released, so do not `release` the state afterwards. Call it once per state.
   */
  result(state: CemState<T>): CemResult<T>;
  /** Releases the tensors of `state`. */
  release(state: CemState<T>): void;
  /** Releases what the solver holds (its bound tensors). */
  dispose(): void;
}

/** Seed of iteration `t` derived from the user's seed (a 32-bit integer hash). */
export function iterationSeed(seed: number, iteration: number): number {
  let h = Math.imul((seed | 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(iteration + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

function checkShape<T>(backend: Backend<T>, what: string, x: unknown, expected: number[]): void {
  if (x === null || typeof x !== 'object') {
    throw new TypeError(
      `${what} must be a tensor of shape ${formatShape(expected)}, received ${describeValue(x)}`,
    );
  }
  const shape = backend.shape(x as T);
  if (shape.length !== expected.length || shape.some((s, i) => s !== expected[i])) {
    throw new RangeError(`${what} must have shape ${formatShape(expected)}, received ${formatShape(shape)}`);
  }
}

/**
 * Creates the CEM state machine for `options` (validated here; see
 * {@link CemOptions}).
 *
 * @param backend Tensor operations.
 * @param options Solver options.
 * @param defaultTemperature τ used when `options.temperature` is undefined
 *   (`null`: vanilla CEM).
 * @example
 * ```ts
 * const solver = createCem(backend, { dim: 2, numSamples: 50, numElites: 5 });
 * let state = solver.init();
 * while (!solver.done(state)) {
 *   const x = solver.ask(state);
 *   const next = solver.tell(state, x, f(x));
 *   solver.release(state);
 *   state = next;
 * }
 * const { solution } = solver.result(state);
 * ```
 */
export function createCem<T>(
  backend: Backend<T>,
  options: CemOptions<T>,
  defaultTemperature: number | null = null,
): CemSolver<T> {
  const o = resolveCemOptions(backend, options, defaultTemperature);
  const { batchSize: batch, numSamples: n, dim, numElites: k } = o;

  return {
    options: o,
    init() {
      const tensors = backend.tidy(() => {
        const zeros = backend.fill([batch, dim], 0);
        const mean = backend.add(zeros, toRowTensor(backend, 'initMean', o.initMean, batch, dim));
        const std = backend.add(zeros, toRowTensor(backend, 'initStd', o.initStd, batch, dim));
        return { mean, std, nonFinite: backend.scalar(0) };
      });
      return { ...tensors, iteration: 0, converged: false };
    },
    done(state) {
      return state.converged || state.iteration >= o.numIterations;
    },
    ask(state) {
      return backend.tidy(() => {
        const t = state.iteration;
        let noise: T;
        if (o.noise !== undefined) {
          noise = o.noise(t);
          checkShape(backend, `noise(${t})`, noise, [batch, n, dim]);
        } else {
          noise = backend.randomNormal(
            [batch, n, dim],
            o.seed === undefined ? undefined : iterationSeed(o.seed, t),
          );
        }
        let x = backend.fusedSample?.(state.mean, state.std, noise, o.lowerBound, o.upperBound);
        if (x === undefined) {
          const raw = sampleDiagonalGaussian(backend, state.mean, state.std, noise);
          // Bounds are [1 or batch, dim]; samples [batch, n, dim] need them as [·, 1, dim].
          const perSample = (bound: T | undefined) =>
            bound === undefined ? undefined : backend.reshape(bound, [backend.shape(bound)[0] ?? 1, 1, dim]);
          x = clamp(backend, raw, perSample(o.lowerBound), perSample(o.upperBound));
        }
        if (o.project !== undefined) {
          x = o.project(x);
          checkShape(backend, 'project(samples)', x, [batch, n, dim]);
        }
        return x;
      });
    },
    tell(state, samples, values) {
      checkShape(backend, 'objective(samples)', values, [batch, n]);
      let converged = false;
      const next = backend.tidy(() => {
        const { scores, nonFinite } = valuesToScores(backend, values, o.normalize, o.temperature);
        const weights = eliteWeights(backend, scores, k, o.temperature, o.lmlIterations);
        // The fused refit computes σ' too; it is dropped if the tolerance stops the solve.
        const fit = backend.fusedFit?.(samples, weights, k, o.minStd);
        const mean = fit?.mean ?? fitMean(backend, samples, weights, k);
        const count = backend.add(state.nonFinite, nonFinite);
        if (o.tolerance > 0) {
          const change = backend.readSync(frobeniusNorm(backend, backend.sub(mean, state.mean)))[0] ?? 0;
          converged = change < o.tolerance;
        }
        if (converged) {
          // As the reference: keep the new mean, leave σ, skip the callback.
          return { mean, std: backend.add(state.std, backend.scalar(0)), nonFinite: count };
        }
        const std = fit?.std ?? fitStd(backend, samples, weights, mean, k, o.minStd);
        o.onIteration?.({ iteration: state.iteration, samples, values, weights, mean, std });
        return { mean, std, nonFinite: count };
      });
      return { ...next, iteration: state.iteration + 1, converged };
    },
    result(state) {
      const solution = backend.tidy(() => clamp(backend, state.mean, o.lowerBound, o.upperBound));
      const nonFiniteValues = backend.readSync(state.nonFinite)[0] ?? 0;
      // The count is handed out as a number: release its tensor (mean and std go to the caller).
      backend.dispose(state.nonFinite);
      return {
        solution,
        mean: state.mean,
        std: state.std,
        iterations: state.iteration,
        converged: state.converged,
        nonFiniteValues,
      };
    },
    release(state) {
      backend.dispose(state.mean);
      backend.dispose(state.std);
      backend.dispose(state.nonFinite);
    },
    dispose() {
      if (o.lowerBound !== undefined) backend.dispose(o.lowerBound);
      if (o.upperBound !== undefined) backend.dispose(o.upperBound);
    },
  };
}
