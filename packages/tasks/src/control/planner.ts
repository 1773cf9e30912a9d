import { assertInteger } from '@dcem/lml';
import {
  assertTensorShape,
  type DcemOptions,
  dcem,
  describeArgument,
  disposeCemResult,
  type IterationInfo,
  isTensor,
} from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import { assertFunction, perDimension } from '../validate.js';
import { checkedRollout, type Dynamics } from './dynamics.js';

/**
 * The cost of candidate control sequences, the objective of {@link plan}:
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

/** What {@link PlannerOptions.onIteration} receives after each completed solver iteration. */
export interface PlanIterationInfo {
  /** 0-based iteration. */
  iteration: number;
  /** The evaluated control sequences, [batch, numSamples, H, m] (clamped to the bounds). */
  samples: tf.Tensor;
  /** Their costs, [batch, numSamples]. */
  values: tf.Tensor;
  /** The elite weights I, [batch, numSamples]. */
  weights: tf.Tensor;
  /** The refitted mean plan μ', [batch, H, m] (not yet clamped). */
  mean: tf.Tensor;
  /** The refitted standard deviation σ', [batch, H, m]. */
  std: tf.Tensor;
}

/**
 * Options of {@link plan}: the plan's shape and bounds, and the settings of
 * the CEM/DCEM solver of `@dcem/tfjs` that searches the H·m-dimensional
 * space of control sequences.
 */
export interface PlannerOptions {
  /** H, the plan horizon (steps), an integer ≥ 1. */
  horizon: number;
  /** m, the control dimension, an integer ≥ 1. */
  controlDim: number;
  /** Lower bound of each control dimension (a number or [m]); every sample is clamped to the box. */
  lowerBound: number | readonly number[];
  /** Upper bound of each control dimension (a number or [m]), > `lowerBound`. */
  upperBound: number | readonly number[];
  /** Independent plans made at once (the first axis of every tensor), default 1. */
  batchSize?: number;
  /** N, sampled control sequences per iteration, default 100. */
  numSamples?: number;
  /** k, elites per iteration, 1 ≤ k < N, default 10. */
  numElites?: number;
  /** Solver iterations at most, default 10. */
  numIterations?: number;
  /**
   * τ > 0 gives DCEM (soft top-k elite weights LML_k(−v̂/τ)), whose plan is
   * differentiable with respect to everything the cost depends on;
   * `null` (the default) gives vanilla CEM.
   */
  temperature?: number | null;
  /** Standardise the costs per row before selecting elites, default true. */
  normalize?: boolean;
  /**
   * μ₀: a number, [m] (the same at every step), or a tensor [H, m] or
   * [batch, H, m]. Default: the middle of the bounds. Not with `warmStart`.
   */
  initMean?: number | readonly number[] | tf.Tensor;
  /** σ₀ > 0: a number, [m], or a tensor [H, m] or [batch, H, m]. Default 0.5·(ub − lb). */
  initStd?: number | readonly number[] | tf.Tensor;
  /**
   * A previous plan u_{0:H} [batch, H, m] to start from, shifted by one step:
   * μ₀ = (u₁, …, u_{H−1}, c) with c the middle of the bounds (see {@link shiftControls}).
   */
  warmStart?: tf.Tensor;
  /** Stop when the plan moves by less than this (Frobenius norm over the batch), default 1e-4; 0 never stops early. */
  tolerance?: number;
  /** Integer seed of the sampling noise. */
  seed?: number;
  /** Standard-normal draws for iteration t, [batch, numSamples, H, m]; overrides `seed`. */
  noise?: (iteration: number) => tf.Tensor;
  /** Called after each completed iteration (its tensors are released afterwards). */
  onIteration?: (info: PlanIterationInfo) => void;
}

/** Defaults of {@link PlannerOptions}. */
export const PLANNER_DEFAULTS = Object.freeze({
  batchSize: 1,
  numSamples: 100,
  numElites: 10,
  numIterations: 10,
  temperature: null,
  normalize: true,
  tolerance: 1e-4,
});

/** What {@link plan} returns; the caller owns the tensors. */
export interface PlanResult {
  /** The plan û = clamp(μ, lb, ub), [batch, H, m]. */
  controls: tf.Tensor3D;
  /** Its first action û₀ (what a receding-horizon controller applies), [batch, m]. */
  firstAction: tf.Tensor2D;
  /** The cost of the plan, C(û), [batch]. */
  cost: tf.Tensor1D;
  /** The final mean μ before clamping, [batch, H, m]. */
  mean: tf.Tensor3D;
  /** The final standard deviation σ, [batch, H, m]. */
  std: tf.Tensor3D;
  /** Solver iterations run. */
  iterations: number;
  /** Whether the tolerance stopped the solver early. */
  converged: boolean;
  /** How many sampled costs were NaN or ±∞. */
  nonFiniteValues: number;
}

/**
 * Releases the five tensors of a {@link PlanResult} (controls, first action,
 * cost, mean and std). Releasing one twice does nothing.
 *
 * @param result What {@link plan} returned.
 * @example
 * ```ts
 * const r = plan(cost, { horizon: 20, controlDim: 1, lowerBound: -2, upperBound: 2, seed: 0 });
 * const action = r.firstAction.arraySync();
 * disposePlanResult(r);
 * ```
 */
export function disposePlanResult(result: PlanResult): void {
  tf.dispose([result.controls, result.firstAction, result.cost, result.mean, result.std]);
}

/**
 * Shifts plans one step forward for a warm start: (u₀, …, u_{H−1}) ↦
 * (u₁, …, u_{H−1}, c).
 *
 * @param controls u, [batch, H, m].
 * @param fill c, the new last step: a number or [m].
 * @returns [batch, H, m].
 * @example
 * ```ts
 * const next = shiftControls(previous.controls, 0);
 * ```
 */
export function shiftControls(controls: tf.Tensor, fill: number | readonly number[]): tf.Tensor3D {
  assertTensorShape('controls', controls, [null, null, null]);
  const [batch, horizon, m] = controls.shape as [number, number, number];
  const c = perDimension('fill', fill, m);
  return tf.tidy(() => {
    const last = tf.broadcastTo(tf.tensor3d([[c]]), [batch, 1, m]);
    if (horizon === 1) return last.clone() as tf.Tensor3D;
    return tf.concat([tf.slice(controls, [0, 1, 0], [-1, -1, -1]), last], 1) as tf.Tensor3D;
  });
}

/**
 * Turns a system and a trajectory cost into the {@link ControlCost} of
 * {@link plan}: C(u) = cost(rollout(f, x₀, u), u), with one initial state per
 * batch row.
 *
 * @param dynamics The system f.
 * @param initialState x₀, [batch, n_x].
 * @param cost The trajectory cost (states [..., H + 1, n_x], controls [..., H, m]) ↦ [...].
 * @returns controls [batch, numSamples, H, m] ↦ [batch, numSamples].
 * @example
 * ```ts
 * const pendulum = createPendulum();
 * const x0 = samplePendulumStates(12, 0);
 * const { controls } = plan(rolloutCost(pendulum, x0, pendulumSwingUpCost), {
 *   horizon: 50, controlDim: 1, lowerBound: -2, upperBound: 2, batchSize: 12,
 *   numSamples: 250, numIterations: 300, initStd: 3, tolerance: 1e-6, seed: 0,
 * });
 * ```
 */
export function rolloutCost(dynamics: Dynamics, initialState: tf.Tensor, cost: TrajectoryCost): ControlCost {
  assertTensorShape('initialState', initialState, [null, dynamics?.stateDim ?? null]);
  assertFunction('cost', cost);
  const [batch, nx] = initialState.shape as [number, number];
  return (controls) => {
    if (!isTensor(controls) || controls.rank !== 4 || controls.shape[0] !== batch) {
      assertTensorShape('controls', controls, [batch, null, null, dynamics.controlDim]);
    }
    return tf.tidy(() => {
      const x0 = tf.reshape(initialState, [batch, 1, nx]);
      const { states } = checkedRollout(dynamics, x0, controls);
      return cost(tf.stack(states(), 2), controls);
    });
  };
}

/** A number, [m] or a tensor ([H, m] / [batch, H, m]) as the solver's [dim] or [batch, dim] row tensor. */
function toFlat(
  name: string,
  value: number | readonly number[] | tf.Tensor,
  batch: number,
  horizon: number,
  m: number,
): tf.Tensor {
  if (isTensor(value)) {
    const s = value.shape;
    const ok =
      (s.length === 2 && s[0] === horizon && s[1] === m) ||
      (s.length === 3 && s[0] === batch && s[1] === horizon && s[2] === m);
    if (!ok) {
      throw new RangeError(
        `${name} must have shape [${horizon}, ${m}] or [${batch}, ${horizon}, ${m}], received [${s.join(', ')}]`,
      );
    }
    return s.length === 2 ? tf.reshape(value, [horizon * m]) : tf.reshape(value, [batch, horizon * m]);
  }
  const perDim = perDimension(name, value, m);
  return tf.tile(tf.tensor1d(perDim), [horizon]);
}

/**
 * The trajectory planner of the DCEM paper (the reference's `dcem_ctrl`):
 * minimises a cost over control sequences u ∈ [lb, ub]^{H×m} with the
 * CEM/DCEM solver of `@dcem/tfjs`, for `batchSize` problems at once.
 *
 * The solver searches x = vec(u) ∈ ℝ^{H·m}: each iteration samples N plans
 * Xᵢ = clamp(μ + σ ⊙ εᵢ, lb, ub), evaluates vᵢ = C(Xᵢ), weights the k
 * elites (hard top-k, or LML_k(−v̂/τ) when τ = `temperature` is set) and
 * refits μ, σ. With τ set, the returned plan is differentiable (`tf.grad`)
 * with respect to everything C depends on (initial states, dynamics or cost
 * parameters, a policy's weights…).
 *
 * @param cost C: controls [batch, numSamples, H, m] ↦ [batch, numSamples] (see {@link rolloutCost}).
 * @param options See {@link PlannerOptions}.
 * @returns The plan [batch, H, m], its first action [batch, m] and its cost [batch]; the caller owns them.
 * @example
 * ```ts
 * // Swing up 12 pendulums with one open-loop plan each (the DCEM repository's example).
 * const pendulum = createPendulum();
 * const x0 = samplePendulumStates(12, 0);
 * const result = plan(rolloutCost(pendulum, x0, pendulumSwingUpCost), {
 *   horizon: 50, controlDim: 1, lowerBound: -2, upperBound: 2, batchSize: 12,
 *   numSamples: 250, numElites: 10, numIterations: 300, initStd: 3, tolerance: 1e-6, seed: 0,
 * });
 * result.cost.print();
 * ```
 */
export function plan(cost: ControlCost, options: PlannerOptions): PlanResult {
  assertFunction('cost', cost);
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`options must be an object, received ${describeArgument(options)}`);
  }
  const { horizon, controlDim: m } = options;
  assertInteger('horizon', horizon, 1);
  assertInteger('controlDim', m, 1);
  const batch = options.batchSize ?? PLANNER_DEFAULTS.batchSize;
  assertInteger('batchSize', batch, 1);
  const numSamples = options.numSamples ?? PLANNER_DEFAULTS.numSamples;
  const lower = perDimension('lowerBound', options.lowerBound, m);
  const upper = perDimension('upperBound', options.upperBound, m);
  lower.forEach((lo, i) => {
    const hi = upper[i] as number;
    if (!(lo < hi)) {
      throw new RangeError(
        `lowerBound must be < upperBound in every dimension, received ${lo} and ${hi} at ${i}`,
      );
    }
  });
  if (options.warmStart !== undefined && options.initMean !== undefined) {
    throw new TypeError('give either warmStart or initMean, not both');
  }
  if (options.warmStart !== undefined) assertTensorShape('warmStart', options.warmStart, [batch, horizon, m]);
  for (const name of ['noise', 'onIteration'] as const) {
    if (options[name] !== undefined) assertFunction(name, options[name]);
  }
  const middle = lower.map((lo, i) => (lo + (upper[i] as number)) / 2);
  const dim = horizon * m;

  const prepared = tf.tidy(() => {
    const initMean =
      options.warmStart !== undefined
        ? tf.reshape(shiftControls(options.warmStart, middle), [batch, dim])
        : toFlat('initMean', options.initMean ?? middle, batch, horizon, m);
    const initStd = toFlat(
      'initStd',
      options.initStd ?? lower.map((lo, i) => 0.5 * ((upper[i] as number) - lo)),
      batch,
      horizon,
      m,
    );
    return {
      lowerBound: tf.tile(tf.tensor1d(lower), [horizon]),
      upperBound: tf.tile(tf.tensor1d(upper), [horizon]),
      initMean,
      initStd,
    };
  });
  const asPlans = (x: tf.Tensor) => tf.reshape(x, [batch, -1, horizon, m]);
  const userNoise = options.noise;
  const userCallback = options.onIteration;
  const solverOptions: DcemOptions = {
    dim,
    batchSize: batch,
    numSamples,
    numElites: options.numElites ?? PLANNER_DEFAULTS.numElites,
    numIterations: options.numIterations ?? PLANNER_DEFAULTS.numIterations,
    temperature: options.temperature === undefined ? PLANNER_DEFAULTS.temperature : options.temperature,
    normalize: options.normalize ?? PLANNER_DEFAULTS.normalize,
    tolerance: options.tolerance ?? PLANNER_DEFAULTS.tolerance,
    ...prepared,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(userNoise === undefined
      ? {}
      : {
          noise: (t: number) => {
            const e = userNoise(t);
            assertTensorShape(`noise(${t})`, e, [batch, numSamples, horizon, m]);
            return tf.reshape(e, [batch, numSamples, dim]);
          },
        }),
    ...(userCallback === undefined
      ? {}
      : {
          onIteration: (info: IterationInfo<tf.Tensor>) =>
            tf.tidy(() => {
              userCallback({
                iteration: info.iteration,
                samples: asPlans(info.samples),
                values: info.values,
                weights: info.weights,
                mean: tf.reshape(info.mean, [batch, horizon, m]),
                std: tf.reshape(info.std, [batch, horizon, m]),
              });
            }),
        }),
  };
  const objective = (samples: tf.Tensor) => {
    const values = cost(asPlans(samples));
    assertTensorShape('cost(controls)', values, [batch, numSamples]);
    return values;
  };
  try {
    const r = dcem(objective, solverOptions);
    try {
      return tf.tidy(() => {
        const controls = tf.reshape(r.solution, [batch, horizon, m]) as tf.Tensor3D;
        const planCost = cost(tf.reshape(controls, [batch, 1, horizon, m]));
        assertTensorShape('cost(controls)', planCost, [batch, 1]);
        return {
          controls,
          firstAction: tf.reshape(tf.slice(controls, [0, 0, 0], [-1, 1, -1]), [batch, m]) as tf.Tensor2D,
          cost: tf.reshape(planCost, [batch]) as tf.Tensor1D,
          mean: tf.reshape(r.mean, [batch, horizon, m]) as tf.Tensor3D,
          std: tf.reshape(r.std, [batch, horizon, m]) as tf.Tensor3D,
          iterations: r.iterations,
          converged: r.converged,
          nonFiniteValues: r.nonFiniteValues,
        };
      });
    } finally {
      disposeCemResult(r);
    }
  } finally {
    tf.dispose(prepared);
  }
}
