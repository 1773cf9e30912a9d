import { assertInteger, assertObject, describeValue } from '@dcem/errors';
import { hash32, STREAM } from './random.js';
import type { RegressionTrainer } from './regression-trainer.js';

/** Options of {@link innerIterationAblation}. */
export interface InnerIterationAblationOptions {
  /** The inner-iteration counts to evaluate, integers ≥ 1. Default 1…20. */
  iterations?: readonly number[];
  /** DCEM noise seeds averaged per count (unrolled GD is deterministic: one). Default 5. */
  seeds?: number;
  /** Called after each count, for progress. */
  onPoint?: (point: InnerIterationAblationPoint, index: number, total: number) => void;
}

/** The full-data MSE of a trained model evaluated with one inner-iteration count. */
export interface InnerIterationAblationPoint {
  /** Inner iterations used at test time. */
  iterations: number;
  /** Mean of `mses`. */
  mse: number;
  /** Smallest of `mses`. */
  mseMin: number;
  /** Largest of `mses`. */
  mseMax: number;
  /** The MSE for each noise seed. */
  mses: number[];
}

/**
 * The paper's inner-iteration ablation: evaluates the full-data MSE of a
 * trained model with each number of inner iterations in `iterations`
 * (DCEM iterations or gradient steps) while θ stays fixed. A model that
 * learned an energy whose minimum is at the target keeps its MSE as the count
 * grows past the trained one; one that learned where T gradient steps from
 * y₀ land does not.
 *
 * @param trainer A trained (or restored) model.
 * @param options Counts, seeds and a progress callback.
 * @returns One point per count, in the given order.
 * @example
 * ```ts
 * const points = innerIterationAblation(trainer, { iterations: [5, 10, 20] });
 * console.log(points.map((p) => `${p.iterations}: ${p.mse}`));
 * ```
 */
export function innerIterationAblation(
  trainer: RegressionTrainer,
  options: InnerIterationAblationOptions = {},
): InnerIterationAblationPoint[] {
  assertObject('options', options);
  const iterations = options.iterations ?? Array.from({ length: 20 }, (_, i) => i + 1);
  if (!Array.isArray(iterations) || iterations.length === 0) {
    throw new TypeError(`iterations must be a non-empty array, received ${describeValue(iterations)}`);
  }
  iterations.forEach((n, i) => {
    assertInteger(`iterations[${i}]`, n, 1);
  });
  const seeds = options.seeds ?? 5;
  assertInteger('seeds', seeds, 1);
  const runs = trainer.options.model === 'dcem' ? seeds : 1;
  const points: InnerIterationAblationPoint[] = [];
  iterations.forEach((n, index) => {
    const mses = Array.from({ length: runs }, (_, s) =>
      trainer.evaluate({ numIterations: n, seed: hash32(trainer.options.seed, STREAM.ablation, s) }),
    );
    const point = {
      iterations: n,
      mse: mses.reduce((a, b) => a + b, 0) / mses.length,
      mseMin: Math.min(...mses),
      mseMax: Math.max(...mses),
      mses,
    };
    points.push(point);
    options.onPoint?.(point, index, iterations.length);
  });
  return points;
}
