import { assertFunction, assertInteger, assertObject, assertTensorShape, describeValue } from '@dcem/errors';
import { type DcemOptions, dcem, disposeCemResult } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import { assertTemperature } from '../checks.js';
import type { ActionDecoder } from './latent-decoder.js';
import type { ControlCost } from './planner.js';

/**
 * The settings of the CEM/DCEM solver over the latent space: `@dcem/tfjs`'s
 * solver options without the ones {@link planLatent} sets itself (`dim` = d,
 * `batchSize`, the bounds z ∈ [−1, 1]^d and μ₀ = 0).
 */
export type LatentSolverOptions = Omit<
  DcemOptions,
  'dim' | 'batchSize' | 'lowerBound' | 'upperBound' | 'initMean'
>;

/**
 * The solver settings of the DCEM paper's cart-pole study (100 samples,
 * 10 elites, 10 iterations, σ₀ = 0.5, τ = 1, normalised costs, tolerance
 * 1e-4): what {@link planLatent} uses for every setting `solver` leaves out.
 * A preset of the solver's own options, not a second declaration of them.
 */
export const LATENT_SOLVER_DEFAULTS: Readonly<LatentSolverOptions> = Object.freeze({
  numSamples: 100,
  numElites: 10,
  numIterations: 10,
  initStd: 0.5,
  temperature: 1,
  normalize: true,
  tolerance: 1e-4,
});

/** Options of {@link planLatent}. */
export interface LatentPlannerOptions {
  /**
   * The solver's settings (N, k, iterations, σ₀, τ, seed, noise, onIteration, …),
   * spread over {@link LATENT_SOLVER_DEFAULTS}. `temperature: null` gives vanilla
   * CEM: the plan is then not differentiable, and training takes the gradient
   * through the decoder at ẑ only. τ = 0 is a `RangeError`: write `null`.
   */
  solver?: LatentSolverOptions;
}

/** What {@link planLatent} returns; the caller owns the tensors. */
export interface LatentPlanResult {
  /** ẑ ∈ [−1, 1]^d, [batch, d]. */
  latent: tf.Tensor2D;
  /** The decoded plan û = decode(ẑ), [batch, H, m]. */
  controls: tf.Tensor3D;
  /** Its cost C(û), [batch]. */
  cost: tf.Tensor1D;
  /** Solver iterations run. */
  iterations: number;
}

/**
 * Releases the tensors of a {@link LatentPlanResult} (ẑ, û and C(û)).
 * Releasing one twice does nothing.
 *
 * @param result What {@link planLatent} returned.
 * @example
 * ```ts
 * const r = planLatent(decoder, cost, 8, { solver: { seed: 0 } });
 * const returns = Array.from(r.cost.dataSync(), (c) => -c);
 * disposeLatentPlanResult(r);
 * ```
 */
export function disposeLatentPlanResult(result: LatentPlanResult): void {
  tf.dispose([result.latent, result.controls, result.cost]);
}

/**
 * Plans in a learned latent action space: ẑ = argmin_{z ∈ [−1, 1]^d}
 * C(decode(z)) with CEM/DCEM over z (the `dcem` of `@dcem/tfjs`), then
 * û = decode(ẑ). With τ > 0, û and its cost are differentiable with
 * respect to the decoder's weights (the inner loop of Algorithm 2 of the
 * DCEM paper).
 *
 * @param decoder The decoder.
 * @param cost C: controls [batch, numSamples, H, m] ↦ [batch, numSamples] (any sample count).
 * @param batchSize Problems planned at once (rows of `cost`).
 * @param options See {@link LatentPlannerOptions}.
 * @returns ẑ [batch, d], û [batch, H, m] and C(û) [batch].
 * @example
 * ```ts
 * const x0 = sampleCartpoleStates(8, 1);
 * const cost = (u: tf.Tensor) => tf.neg(cartpoleReturn(cartpole, tf.expandDims(x0, 1), u));
 * const { controls } = planLatent(decoder, cost, 8, { solver: { seed: 0 } });
 * ```
 */
export function planLatent(
  decoder: ActionDecoder,
  cost: ControlCost,
  batchSize: number,
  options: LatentPlannerOptions = {},
): LatentPlanResult {
  if (decoder === null || typeof decoder !== 'object' || typeof decoder.decode !== 'function') {
    throw new TypeError(`decoder must be an ActionDecoder, received ${describeValue(decoder)}`);
  }
  assertFunction('cost', cost);
  assertInteger('batchSize', batchSize, 1);
  const o = resolveLatentSolver(options, 'solver');
  const d = decoder.latentDim;
  const numSamples = o.numSamples as number;
  const objective = (z: tf.Tensor) => {
    const values = cost(decoder.decode(z));
    assertTensorShape('cost(controls)', values, [batchSize, numSamples]);
    return values;
  };
  const solverOptions: DcemOptions = {
    ...o,
    dim: d,
    batchSize,
    lowerBound: -1,
    upperBound: 1,
    initMean: 0,
  };
  const r = dcem(objective, solverOptions);
  try {
    return tf.tidy(() => {
      const controls = decoder.decode(r.solution) as tf.Tensor3D;
      const c = cost(tf.expandDims(controls, 1));
      assertTensorShape('cost(controls)', c, [batchSize, 1]);
      return {
        latent: tf.clone(r.solution) as tf.Tensor2D,
        controls,
        cost: tf.reshape(c, [batchSize]) as tf.Tensor1D,
        iterations: r.iterations,
      };
    });
  } finally {
    disposeCemResult(r);
  }
}

/** Options {@link planLatent} sets itself; a `solver` that holds one is an error. */
const PLANNER_SET = ['dim', 'batchSize', 'lowerBound', 'upperBound', 'initMean'] as const;

/**
 * Checks the latent planner's options and returns the solver's settings over
 * {@link LATENT_SOLVER_DEFAULTS} (internal: {@link planLatent} and the
 * trainer's). `where` names the solver's options in messages.
 */
export function resolveLatentSolver(options: LatentPlannerOptions, where: string): LatentSolverOptions {
  assertObject('options', options);
  for (const key of Object.keys(options)) {
    if (key !== 'solver') {
      throw new TypeError(
        `unknown option ${JSON.stringify(key)}: the latent planner takes { solver }` +
          ` (write { solver: { ${key}: … } } for a solver setting)`,
      );
    }
  }
  const solver = options.solver ?? {};
  assertObject(where, solver);
  for (const key of PLANNER_SET) {
    if (key in solver) {
      throw new TypeError(`${where}.${key} is set by the latent planner (z ∈ [−1, 1]^d, μ₀ = 0); remove it`);
    }
  }
  const merged: LatentSolverOptions = { ...LATENT_SOLVER_DEFAULTS, ...solver };
  if (merged.temperature !== undefined) assertTemperature(`${where}.temperature`, merged.temperature);
  return merged;
}
