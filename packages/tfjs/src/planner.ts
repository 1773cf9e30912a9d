import {
  createPlanner as coreCreatePlanner,
  disposePlanResult as coreDisposePlanResult,
  plan as corePlan,
  type PlanCost,
  type Planner,
  type PlannerOptions,
  type PlanResult,
} from '@dcem/core';
import { tfjsBackend } from './api.js';
import type { Tensor } from './backend.js';

/**
 * A receding-horizon planner on `tf.Tensor`: each `plan(cost)` plans control
 * sequences [batch, H, m] for `batchSize` start states and warm-starts the
 * next call from the previous mean shifted one step (σ resets). `planAsync`
 * takes costs that return a Promise (simulators). See `createPlanner` and
 * `PlannerOptions` in `@dcem/core` for the maths and every option.
 *
 * With a soft selector (`solver: { temperature: 1 }` for DCEM, or
 * `selector: 'sparse'`) the plan is differentiable with `tf.grad` /
 * `tf.variableGrads` with respect to everything the cost depends on.
 *
 * @param options See `PlannerOptions` in `@dcem/core`.
 * @returns The planner; call `dispose()` when done.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { createPlanner, disposePlanResult } from '@dcem/tfjs';
 * // Drive a point mass x' = x + u to 1: the cost of a plan is Σ_t (x_t − 1)².
 * const planner = createPlanner({
 *   horizon: 5, actionDim: 1, lowerBound: -0.5, upperBound: 0.5,
 *   solver: { numSamples: 64, numElites: 8, numIterations: 5 }, seed: 0,
 * });
 * let x = tf.zeros([1, 1]);
 * for (let t = 0; t < 10; t++) {
 *   const start = x;
 *   const step = planner.plan((u) =>
 *     tf.tidy(() => tf.sum(tf.square(tf.sub(tf.add(start.reshape([1, 1, 1]), tf.cumsum(tf.squeeze(u, [3]), 2)), 1)), 2)),
 *   );
 *   x = tf.add(start, step.action);
 *   start.dispose();
 *   disposePlanResult(step);
 * }
 * planner.dispose();
 * ```
 */
export function createPlanner(options: PlannerOptions<Tensor>): Planner<Tensor> {
  return coreCreatePlanner(tfjsBackend, options);
}

/**
 * Plans once on `tf.Tensor` (no warm start): {@link createPlanner}, one
 * `plan(cost)`, `dispose()`.
 *
 * @param cost controls [batch, numSamples, H, m] ↦ costs [batch, numSamples].
 * @param options See `PlannerOptions` in `@dcem/core`.
 * @returns `action` [batch, m], `controls` [batch, H, m], `best`, `mean`,
 *   `std` and diagnostics; the caller owns the tensors ({@link disposePlanResult}).
 * @example
 * ```ts
 * const target = tf.tensor4d([0.3, -0.2, 0.1], [1, 1, 3, 1]);
 * const { controls } = plan((u) => tf.tidy(() => tf.sum(tf.square(tf.sub(u, target)), [2, 3])), {
 *   horizon: 3, actionDim: 1, lowerBound: -1, upperBound: 1,
 *   solver: { numSamples: 100, numElites: 10, numIterations: 10 }, seed: 0,
 * });
 * ```
 */
export function plan(cost: PlanCost<Tensor>, options: PlannerOptions<Tensor>): PlanResult<Tensor> {
  return corePlan(tfjsBackend, cost, options);
}

/**
 * Frees every tensor of a planner step's result (`action`, `controls`,
 * `best.controls`, `best.cost`, `mean`, `std`).
 *
 * @param result What `plan` or `planner.plan` returned.
 * @example
 * ```ts
 * const step = planner.plan(cost);
 * disposePlanResult(step);
 * ```
 */
export function disposePlanResult(result: PlanResult<Tensor>): void {
  coreDisposePlanResult(tfjsBackend, result);
}
