import { PRESET_NAMES, type PresetName } from '@dcem/core';
import { assertFunction, assertObject, assertTensorShape, describeValue, isTensorLike } from '@dcem/errors';
import {
  createPlanner,
  disposePlanResult,
  type PlannerOptions,
  type PlannerSolverOptions,
  type PlanResult,
  presets,
} from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import { checkedRollout, type Dynamics } from './dynamics.js';

/**
 * The cost of candidate control sequences, the objective of a planner:
 * controls [batch, numSamples, H, m] ↦ costs [batch, numSamples] (lower is
 * better). Row b of the batch is planning problem b (for example the plan
 * from initial state b). Build one from a system and a trajectory cost with
 * {@link rolloutCost}.
 */
export type ControlCost = (controls: tf.Tensor) => tf.Tensor;

/**
 * A cost of whole trajectories: states x_{0:H+1} [..., H + 1, n_x] and
 * controls u_{0:H} [..., H, m] ↦ [...] (for example {@link pendulumSwingUpCost}).
 */
export type TrajectoryCost = (states: tf.Tensor, controls: tf.Tensor) => tf.Tensor;

/** A name of {@link PLANNER_NAMES}: a core preset's name, or `sparse`. */
export type PlannerName = PresetName | 'sparse';

/**
 * The planners a task can be planned with by name: the core `PRESET_NAMES`
 * (`cem`, `icem`, `mppi`, `tdmpc2`, `dcem`) and `sparse`, DCEM's settings
 * with the sparse soft top-k (`selector: 'sparse'`, τ = 1).
 */
export const PLANNER_NAMES: readonly PlannerName[] = Object.freeze([...PRESET_NAMES, 'sparse'] as const);

/**
 * The solver settings of a named planner: `presets[name]` of `@dcem/core`,
 * or for `sparse` the `dcem` preset with `selector: 'sparse'` (the sparse
 * soft top-k of Sander et al., ICML 2023, at τ = 1 on standardised costs).
 * A plain object: spread it and override fields.
 *
 * @param name One of {@link PLANNER_NAMES}.
 * @returns The solver options (a fresh copy).
 * @example
 * ```ts
 * const solver = { ...plannerSolver('icem'), numSamples: 50 };
 * ```
 */
export function plannerSolver(name: PlannerName): PlannerSolverOptions<tf.Tensor> {
  if (!PLANNER_NAMES.includes(name)) {
    throw new TypeError(
      `planner must be one of ${PLANNER_NAMES.map((n) => `'${n}'`).join(', ')}, received ${describeValue(name)}`,
    );
  }
  if (name === 'sparse') return { ...presets.dcem, selector: 'sparse' };
  return { ...presets[name] };
}

/**
 * Options of a task-level planner ({@link planTrajectory}, {@link runMpc}):
 * the core planner's options (`createPlanner` of `@dcem/tfjs`) without the
 * sizes a task fixes itself. `actionDim` is the system's control dimension
 * and `batchSize` the number of initial states; the bounds default to the
 * system's; `solver` takes the solver's options, a preset, or a planner's
 * name ({@link PLANNER_NAMES}).
 */
export interface TrajectoryPlannerOptions
  extends Omit<PlannerOptions<tf.Tensor>, 'actionDim' | 'batchSize' | 'solver'> {
  /**
   * The solver: options of `createCem` (or a preset such as `presets.icem`,
   * spread and overridden), or a name of {@link PLANNER_NAMES}. Default
   * `{}`: vanilla CEM with the solver's defaults.
   */
  solver?: PlannerSolverOptions<tf.Tensor> | PlannerName;
}

/**
 * Resolves task-level planner options into the core planner's options for
 * `dynamics` and `batchSize` start states (internal).
 */
export function corePlannerOptions(
  dynamics: Dynamics,
  batchSize: number,
  options: TrajectoryPlannerOptions,
  where = 'options',
): PlannerOptions<tf.Tensor> {
  assertObject(where, options);
  for (const key of ['actionDim', 'batchSize'] as const) {
    if (key in options) {
      throw new TypeError(
        `${where}.${key} is set from the system and the initial states (${key === 'actionDim' ? `${dynamics.controlDim}, ${dynamics.name}` : batchSize}); remove it`,
      );
    }
  }
  const { solver, ...rest } = options;
  const resolved = typeof solver === 'string' ? plannerSolver(solver as PlannerName) : solver;
  return {
    ...rest,
    actionDim: dynamics.controlDim,
    batchSize,
    lowerBound: options.lowerBound ?? dynamics.lowerBound,
    upperBound: options.upperBound ?? dynamics.upperBound,
    ...(resolved === undefined ? {} : { solver: resolved }),
  };
}

/** Checks that `dynamics` is a {@link Dynamics} (internal). */
export function assertDynamics(dynamics: unknown): asserts dynamics is Dynamics {
  if (
    dynamics === null ||
    typeof dynamics !== 'object' ||
    typeof (dynamics as Dynamics).step !== 'function'
  ) {
    throw new TypeError(
      `dynamics must be a Dynamics (with a step function), received ${describeValue(dynamics)}`,
    );
  }
}

/**
 * Turns a system and a trajectory cost into a {@link ControlCost}:
 * C(u) = cost(rollout(f, x₀, u), u), with one initial state per batch row.
 *
 * @param dynamics The system f.
 * @param initialState x₀, [batch, n_x].
 * @param cost The trajectory cost (states [..., H + 1, n_x], controls [..., H, m]) ↦ [...].
 * @returns controls [batch, numSamples, H, m] ↦ [batch, numSamples].
 * @example
 * ```ts
 * const pendulum = createPendulum();
 * const x0 = samplePendulumStates(12, 0);
 * const cost = rolloutCost(pendulum, x0, pendulumSwingUpCost);
 * const step = createPlanner({ horizon: 30, actionDim: 1, batchSize: 12, lowerBound: -2, upperBound: 2 }).plan(cost);
 * ```
 */
export function rolloutCost(dynamics: Dynamics, initialState: tf.Tensor, cost: TrajectoryCost): ControlCost {
  assertTensorShape('initialState', initialState, [null, dynamics?.stateDim ?? null]);
  assertFunction('cost', cost);
  const [batch, nx] = initialState.shape as [number, number];
  return (controls) => {
    if (!isTensorLike(controls) || controls.rank !== 4 || controls.shape[0] !== batch) {
      assertTensorShape('controls', controls, [batch, null, null, dynamics.controlDim]);
    }
    return tf.tidy(() => {
      const x0 = tf.reshape(initialState, [batch, 1, nx]);
      const { states } = checkedRollout(dynamics, x0, controls);
      return cost(tf.stack(states(), 2), controls);
    });
  };
}

/**
 * What {@link planTrajectory} returns: the core planner's step result and
 * the cost of the plan. The caller owns the tensors: free them with
 * {@link disposeTrajectoryPlan}.
 */
export type TrajectoryPlan = PlanResult<tf.Tensor> & {
  /** C(û), the cost of the returned plan `controls` from each initial state, [batch]. */
  cost: tf.Tensor;
};

/**
 * Frees every tensor of a {@link TrajectoryPlan}: the planner's result with
 * the core's `disposePlanResult` (so a field the core adds is freed too) and
 * the plan's cost. Freeing a plan twice does nothing.
 *
 * @param result What {@link planTrajectory} returned.
 * @example
 * ```ts
 * const r = planTrajectory(pendulum, x0, pendulumSwingUpCost, { horizon: 30, solver: 'icem', seed: 0 });
 * console.log(r.cost.dataSync());
 * disposeTrajectoryPlan(r);
 * ```
 */
export function disposeTrajectoryPlan(result: TrajectoryPlan): void {
  const { cost, ...step } = result;
  disposePlanResult(step);
  cost.dispose();
}

/**
 * The problem of a task-level planner: a system, its start states and the
 * cost to minimise, given either as a trajectory cost (rolled out through
 * the system) or as a function of the start states that returns the
 * {@link ControlCost} directly (for fused costs such as `cartpoleReturnFused`).
 * Exactly one of `cost` and `controlCost` is given.
 */
export interface TaskProblem {
  /** The system f. */
  dynamics: Dynamics;
  /** x₀, [batch, n_x]: one plan (one closed loop) per row. */
  initialState: tf.Tensor;
  /** The cost of a planned trajectory, (states [..., H + 1, n_x], controls [..., H, m]) ↦ [...]. */
  cost?: TrajectoryCost;
  /** Or: start states [batch, n_x] ↦ the plan cost, controls [batch, N, H, m] ↦ [batch, N]. */
  controlCost?: (initialState: tf.Tensor) => ControlCost;
}

/** Options of {@link planTrajectory}: the problem and the planner. */
export interface TrajectoryPlanOptions extends TaskProblem {
  /** The planner; see {@link TrajectoryPlannerOptions}. */
  planner: TrajectoryPlannerOptions;
}

/**
 * Validates a {@link TaskProblem} and returns x₀ ↦ {@link ControlCost} (internal).
 */
export function problemCost(problem: TaskProblem): (initialState: tf.Tensor) => ControlCost {
  const { dynamics, initialState, cost, controlCost } = problem;
  assertDynamics(dynamics);
  assertTensorShape('initialState', initialState, [null, dynamics.stateDim]);
  if ((cost === undefined) === (controlCost === undefined)) {
    throw new TypeError(
      `give exactly one of cost (a trajectory cost) and controlCost (start states ↦ plan cost), received ${cost === undefined ? 'neither' : 'both'}`,
    );
  }
  if (cost !== undefined) {
    assertFunction('cost', cost);
    return (x) => rolloutCost(dynamics, x, cost);
  }
  assertFunction('controlCost', controlCost);
  return (x) => {
    const built = (controlCost as (x: tf.Tensor) => ControlCost)(x);
    assertFunction('controlCost(initialState)', built);
    return built;
  };
}

/**
 * Plans control sequences for a system from a batch of initial states, once
 * (open loop): minimises C(u) = cost(rollout(f, x₀, u), u) over
 * u ∈ [lb, ub]^{H×m} with the core receding-horizon planner
 * (`createPlanner` of `@dcem/tfjs`, one step, then disposed), and evaluates
 * the plan's cost C(û). `actionDim` and `batchSize` come from the system and
 * x₀, the bounds default to the system's. With a soft selector (for example
 * `solver: 'dcem'`), the plan and its cost are differentiable with respect
 * to everything the cost depends on.
 *
 * @param options The problem ({@link TaskProblem}) and `planner` ({@link TrajectoryPlannerOptions}).
 * @returns The planner's result ([batch, H, m] plans, the action [batch, m],
 *   the best sample, mean, std) and `cost` [batch]; free with {@link disposeTrajectoryPlan}.
 * @example
 * ```ts
 * const pendulum = createPendulum();
 * const x0 = samplePendulumStates(12, 0);
 * const r = planTrajectory({
 *   dynamics: pendulum, initialState: x0, cost: pendulumSwingUpCost,
 *   planner: { horizon: 50, initStd: 3, seed: 0, solver: { numSamples: 250, numElites: 10, numIterations: 300, tolerance: 1e-6 } },
 * });
 * disposeTrajectoryPlan(r);
 * ```
 * @see Amos & Yarats, "The Differentiable Cross-Entropy Method" (ICML 2020).
 */
export function planTrajectory(options: TrajectoryPlanOptions): TrajectoryPlan {
  assertObject('options', options);
  const costOf = problemCost(options);
  const { dynamics, initialState } = options;
  const batch = initialState.shape[0] as number;
  const planner = createPlanner(corePlannerOptions(dynamics, batch, options.planner, 'planner'));
  try {
    const controlCost = costOf(initialState);
    const step = planner.plan(controlCost);
    let planCost: tf.Tensor;
    try {
      planCost = tf.tidy(() => {
        const c = controlCost(tf.expandDims(step.controls, 1));
        assertTensorShape('cost(controls)', c, [batch, 1]);
        return tf.reshape(c, [batch]);
      });
    } catch (error) {
      disposePlanResult(step);
      throw error;
    }
    // Object.assign keeps the step's lazily read numbers (non-enumerable getters), which a spread drops.
    return Object.assign(step, { cost: planCost });
  } finally {
    planner.dispose();
  }
}
