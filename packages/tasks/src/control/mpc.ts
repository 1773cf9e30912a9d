import {
  assertBoolean,
  assertInteger,
  assertObject,
  assertOptionalFunctions,
  assertTensorShape,
} from '@dcem/errors';
import { createPlanner, disposePlanResult, type Planner } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import {
  corePlannerOptions,
  problemCost,
  type TaskProblem,
  type TrajectoryPlannerOptions,
} from './planner.js';

/** What {@link MpcOptions.onStep} receives after each closed-loop step. */
export interface MpcStepInfo {
  /** 0-based step t. */
  step: number;
  /** x_t, [batch, n_x]. */
  state: tf.Tensor;
  /** The applied action u_t (the planner's `action`), [batch, m]. */
  action: tf.Tensor;
  /** x_{t+1} = f(x_t, u_t), [batch, n_x]. */
  nextState: tf.Tensor;
  /** The plan made at x_t, [batch, H, m]. */
  plan: tf.Tensor;
  /** Its cost C(û) from x_t, [batch]. */
  planCost: tf.Tensor;
  /** Solver iterations of this plan. */
  iterations: number;
}

/**
 * Options of {@link runMpc}: the problem (system, start states, cost), the
 * closed-loop length and the planner. `actionDim` and `batchSize` come from
 * the system and the start states; the bounds default to the system's.
 */
export interface MpcOptions extends TaskProblem {
  /** T, closed-loop steps, an integer ≥ 1. */
  steps: number;
  /**
   * The planner: the core planner's options (`solver` takes the solver's
   * options, a preset or a planner's name). Its `seed` s gives step t the
   * noise seed `deriveSeed(s, SEED_STREAMS.mpcStep, t)` (`@dcem/core`).
   */
  planner: TrajectoryPlannerOptions;
  /**
   * Start each step from the previous plan shifted by one step (the planner's
   * warm start, default true); `false` resets the planner before every step.
   */
  warmStart?: boolean;
  /** Also evaluate each step's plan cost C(û) (`planCosts`, `onStep`), default true. */
  planCosts?: boolean;
  /** Called after each step (its tensors are released afterwards). */
  onStep?: (info: MpcStepInfo) => void;
}

/** What {@link runMpc} returns; the caller owns the tensors ({@link disposeMpcResult}). */
export interface MpcResult {
  /** The closed-loop states x_{0:T+1}, [batch, T + 1, n_x]. */
  states: tf.Tensor3D;
  /** The applied actions u_{0:T}, [batch, T, m]. */
  actions: tf.Tensor3D;
  /** The cost of the plan made at each step, [batch, T] (NaN with `planCosts: false`). */
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
 * Receding-horizon (model-predictive) control with the core planner
 * (`createPlanner` of `@dcem/tfjs`): one planner for the whole closed loop,
 * batched over the start states. For t = 0 … T − 1 it makes ONE planner call
 * for every row, planning u_{t:t+H} from x_t (warm-started from the previous
 * plan shifted by one step, with the kept elites of iCEM shifted too), applies
 * the step's `action` and steps the system, x_{t+1} = f(x_t, u_t). Step t's
 * noise has the seed `deriveSeed(seed, SEED_STREAMS.mpcStep, t)`; every row
 * draws its own noise. With a soft selector (`solver: 'dcem'`, or
 * `temperature` set) the closed-loop trajectory is differentiable.
 *
 * @param options See {@link MpcOptions}.
 * @returns The closed-loop states [batch, T + 1, n_x], actions [batch, T, m], plan costs [batch, T].
 * @example
 * ```ts
 * const pendulum = createPendulum();
 * const { states } = runMpc({
 *   dynamics: pendulum, initialState: samplePendulumStates(4, 0), steps: 40, cost: pendulumSwingUpCost,
 *   planner: { horizon: 20, solver: { ...presets.icem, numSamples: 60 }, seed: 0 },
 * });
 * ```
 * @see Pinneri et al., "Sample-efficient Cross-Entropy Method for Real-time
 *   Planning" (iCEM, CoRL 2020) for the shifted warm start.
 */
export function runMpc(options: MpcOptions): MpcResult {
  assertObject('options', options);
  const costOf = problemCost(options);
  const { dynamics, initialState, steps } = options;
  assertInteger('steps', steps, 1);
  assertObject('planner', options.planner);
  assertOptionalFunctions(options, ['onStep']);
  const warm = options.warmStart ?? true;
  assertBoolean('warmStart', warm);
  const withPlanCosts = options.planCosts ?? true;
  assertBoolean('planCosts', withPlanCosts);
  const batch = initialState.shape[0] as number;
  const planner: Planner<tf.Tensor> = createPlanner(
    corePlannerOptions(dynamics, batch, options.planner, 'planner'),
  );

  const states: tf.Tensor[] = [tf.clone(initialState)];
  const actions: tf.Tensor[] = [];
  const planCosts: tf.Tensor[] = [];
  const iterations: number[] = [];
  try {
    for (let t = 0; t < steps; t++) {
      const x = states[t] as tf.Tensor;
      if (!warm) planner.reset();
      const cost = costOf(x);
      const result = planner.plan(cost);
      try {
        const action = tf.clone(result.action);
        actions.push(action);
        const next = tf.tidy(() => dynamics.step(x, action));
        assertTensorShape('dynamics.step(state, action)', next, [batch, dynamics.stateDim]);
        states.push(next);
        const planCost = withPlanCosts
          ? tf.tidy(() => {
              const c = cost(tf.expandDims(result.controls, 1));
              assertTensorShape('cost(controls)', c, [batch, 1]);
              return tf.reshape(c, [batch]);
            })
          : tf.fill([batch], Number.NaN);
        planCosts.push(planCost);
        iterations.push(result.iterations);
        options.onStep?.({
          step: t,
          state: x,
          action,
          nextState: next,
          plan: result.controls,
          planCost,
          iterations: result.iterations,
        });
      } finally {
        disposePlanResult(result);
      }
    }
    return tf.tidy(() => ({
      states: tf.stack(states, 1) as tf.Tensor3D,
      actions: tf.stack(actions, 1) as tf.Tensor3D,
      planCosts: tf.stack(planCosts, 1) as tf.Tensor2D,
      iterations,
    }));
  } finally {
    planner.dispose();
    tf.dispose([...states, ...actions, ...planCosts]);
  }
}
