import { deriveSeed, SEED_STREAMS } from '@dcem/core';
import { assertInteger } from '@dcem/lml';
import { assertTensorShape, describeArgument } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import { assertFunction } from '../validate.js';
import type { Dynamics } from './dynamics.js';
import {
  disposePlanResult,
  type PlannerOptions,
  type PlanResult,
  plan,
  rolloutCost,
  type TrajectoryCost,
} from './planner.js';

/** What {@link MpcOptions.onStep} receives after each closed-loop step. */
export interface MpcStepInfo {
  /** 0-based step t. */
  step: number;
  /** x_t, [batch, n_x]. */
  state: tf.Tensor;
  /** The applied action u_t (the plan's first action), [batch, m]. */
  action: tf.Tensor;
  /** x_{t+1} = f(x_t, u_t), [batch, n_x]. */
  nextState: tf.Tensor;
  /** The plan made at x_t, [batch, H, m]. */
  plan: tf.Tensor;
  /** Its cost, [batch]. */
  planCost: tf.Tensor;
  /** Solver iterations of this plan. */
  iterations: number;
}

/**
 * Options of {@link runMpc}: the system, its cost, the closed-loop length
 * and the planner's settings (`controlDim` and `batchSize` come from the
 * system and the initial states; the bounds default to the system's).
 */
export interface MpcOptions {
  /** The system f. */
  dynamics: Dynamics;
  /** x₀, [batch, n_x]: one closed loop per row. */
  initialState: tf.Tensor;
  /** T, closed-loop steps, an integer ≥ 1. */
  steps: number;
  /** The cost of a planned trajectory, (states [..., H + 1, n_x], controls [..., H, m]) ↦ [...]. */
  cost: TrajectoryCost;
  /**
   * The planner's settings; `seed` s gives step t the seed
   * `deriveSeed(s, SEED_STREAMS.mpcStep, t)` (from `@dcem/core`). With
   * `warmStart`, `initMean` only starts the first plan.
   */
  planner: Omit<PlannerOptions, 'controlDim' | 'batchSize' | 'warmStart' | 'lowerBound' | 'upperBound'> & {
    lowerBound?: number | readonly number[];
    upperBound?: number | readonly number[];
  };
  /** Start each plan from the previous one shifted by a step (default true). */
  warmStart?: boolean;
  /** Called after each step (its tensors are released afterwards). */
  onStep?: (info: MpcStepInfo) => void;
}

/** What {@link runMpc} returns; the caller owns the tensors. */
export interface MpcResult {
  /** The closed-loop states x_{0:T+1}, [batch, T + 1, n_x]. */
  states: tf.Tensor3D;
  /** The applied actions u_{0:T}, [batch, T, m]. */
  actions: tf.Tensor3D;
  /** The cost of the plan made at each step, [batch, T]. */
  planCosts: tf.Tensor2D;
  /** Solver iterations of each step's plan, length T. */
  iterations: number[];
}

/**
 * Releases the tensors of an {@link MpcResult} (states, actions and plan
 * costs). Releasing one twice does nothing.
 *
 * @param result What {@link runMpc} returned.
 * @example
 * ```ts
 * const r = runMpc({ dynamics: pendulum, initialState: x0, steps: 40, cost: pendulumSwingUpCost, planner: { horizon: 20 } });
 * const final = r.states.arraySync();
 * disposeMpcResult(r);
 * ```
 */
export function disposeMpcResult(result: MpcResult): void {
  tf.dispose([result.states, result.actions, result.planCosts]);
}

/**
 * Receding-horizon (model-predictive) control with the DCEM/CEM planner:
 * for t = 0 … T − 1, plan u_{t:t+H} from x_t with {@link plan} (warm-started
 * from the previous plan shifted by one step), apply its first action and
 * step the system, x_{t+1} = f(x_t, u_t). With `planner.temperature` set,
 * the whole closed-loop trajectory is differentiable.
 *
 * @param options See {@link MpcOptions}.
 * @returns The closed-loop states [batch, T + 1, n_x], actions [batch, T, m], plan costs [batch, T].
 * @example
 * ```ts
 * const pendulum = createPendulum();
 * const { states } = runMpc({
 *   dynamics: pendulum, initialState: samplePendulumStates(4, 0), steps: 40, cost: pendulumSwingUpCost,
 *   planner: { horizon: 20, numSamples: 100, numIterations: 20, initStd: 1, seed: 0 },
 * });
 * ```
 */
export function runMpc(options: MpcOptions): MpcResult {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`options must be an object, received ${describeArgument(options)}`);
  }
  const { dynamics, initialState, steps, cost, planner } = options;
  if (dynamics === null || typeof dynamics !== 'object' || typeof dynamics.step !== 'function') {
    throw new TypeError(
      `dynamics must be a Dynamics (with a step function), received ${describeArgument(dynamics)}`,
    );
  }
  assertTensorShape('initialState', initialState, [null, dynamics.stateDim]);
  assertInteger('steps', steps, 1);
  assertFunction('cost', cost);
  if (planner === null || typeof planner !== 'object') {
    throw new TypeError(`planner must be an object, received ${describeArgument(planner)}`);
  }
  if (options.onStep !== undefined) assertFunction('onStep', options.onStep);
  const batch = initialState.shape[0] as number;
  const warm = options.warmStart ?? true;

  const states: tf.Tensor[] = [tf.clone(initialState)];
  const actions: tf.Tensor[] = [];
  const planCosts: tf.Tensor[] = [];
  const iterations: number[] = [];
  let previous: PlanResult | undefined;
  try {
    for (let t = 0; t < steps; t++) {
      const x = states[t] as tf.Tensor;
      const { seed, initMean, ...rest } = planner;
      const warmStart = warm && previous !== undefined;
      const current = plan(rolloutCost(dynamics, x, cost), {
        ...rest,
        ...(warmStart || initMean === undefined ? {} : { initMean }),
        controlDim: dynamics.controlDim,
        batchSize: batch,
        lowerBound: planner.lowerBound ?? dynamics.lowerBound,
        upperBound: planner.upperBound ?? dynamics.upperBound,
        ...(seed === undefined ? {} : { seed: deriveSeed(seed, SEED_STREAMS.mpcStep, t) }),
        ...(warmStart ? { warmStart: (previous as PlanResult).controls } : {}),
      });
      if (previous !== undefined) disposePlanResult(previous);
      previous = current;
      const action = tf.clone(current.firstAction);
      const next = tf.tidy(() => dynamics.step(x, action));
      states.push(next);
      actions.push(action);
      planCosts.push(tf.clone(current.cost));
      iterations.push(current.iterations);
      const onStep = options.onStep;
      if (onStep !== undefined) {
        onStep({
          step: t,
          state: x,
          action,
          nextState: next,
          plan: current.controls,
          planCost: current.cost,
          iterations: current.iterations,
        });
      }
    }
    return tf.tidy(() => ({
      states: tf.stack(states, 1) as tf.Tensor3D,
      actions: tf.stack(actions, 1) as tf.Tensor3D,
      planCosts: tf.stack(planCosts, 1) as tf.Tensor2D,
      iterations,
    }));
  } finally {
    if (previous !== undefined) disposePlanResult(previous);
    tf.dispose([...states, ...actions, ...planCosts]);
  }
}
