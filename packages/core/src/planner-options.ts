import {
  assertFiniteNumber,
  assertInteger,
  assertKnownOptions,
  assertObject,
  describeValue,
} from '@dcem/errors';
import type { CemOptions } from './options.js';
import { assertSeedOption } from './seed.js';

/**
 * How the tail of a shifted plan is filled when the planner warm-starts the
 * next step (see `shiftControls` in `@dcem/core`):
 * - `'last'` repeats the last step, u_{H−1};
 * - `'middle'` puts the middle of the bounds of the last step, (lb + ub)/2
 *   (the initial mean μ₀ of the last step when a bound is missing);
 * - `'zero'` puts 0.
 */
export type ShiftFill = 'last' | 'middle' | 'zero';

/**
 * Which control a planner step returns as the `action` to apply:
 * - `'mean'`: the first step of the plan, the mean clamped to the bounds;
 * - `'best'`: the first step of the best sample evaluated during the solve;
 * - `'elite'`: the first step of an elite of the last iteration drawn with
 *   probability equal to its renormalised selector weight (TD-MPC2,
 *   Hansen et al. 2024), seeded. The draw reads the k elite weights back
 *   once per step: synchronously in `plan`, awaited in `planAsync`.
 */
export type PlannerAction = 'mean' | 'best' | 'elite';

/**
 * A value per control dimension and, optionally, per step: a number (the
 * same everywhere), an array [m] (one per control dimension, the same at
 * every step) or an array of arrays [H][m] (one per step and dimension).
 */
export type PlanValues = number | readonly number[] | readonly (readonly number[])[];

/**
 * The options of the solver that the planner sets itself, from the plan's
 * shape, its bounds, its start and its seed. Giving one of them in
 * {@link PlannerOptions.solver} is an error.
 */
export const PLANNER_OWNED_SOLVER_OPTIONS = Object.freeze([
  'dim',
  'batchSize',
  'lowerBound',
  'upperBound',
  'initMean',
  'initStd',
  'seed',
] as const);

/**
 * Solver settings of a planner: the options of `createCem`
 * ({@link CemOptions}) without those the planner sets itself
 * ({@link PLANNER_OWNED_SOLVER_OPTIONS}). A preset such as `presets.icem`
 * is one; spread it and override what you need.
 */
export type PlannerSolverOptions<T> = Omit<
  Partial<CemOptions<T>>,
  (typeof PLANNER_OWNED_SOLVER_OPTIONS)[number]
>;

/**
 * Options of a receding-horizon planner ({@link createPlanner}, {@link plan}).
 * The plan is a control sequence u = (u₀, …, u_{H−1}), u_t ∈ ℝ^m, for each
 * of `batchSize` start states; the solver searches its flattening
 * vec(u) ∈ ℝ^{H·m}.
 */
export interface PlannerOptions<T> {
  /** H, the number of steps of a plan, an integer ≥ 1. */
  horizon: number;
  /** m, the dimension of one control, an integer ≥ 1. */
  actionDim: number;
  /**
   * Lower bound lb of the controls: a number, [m], or per step [H][m]. Every
   * sample is clamped to [lb, ub] before the cost sees it, and so is the
   * returned plan. Default: none.
   */
  lowerBound?: PlanValues;
  /** Upper bound ub of the controls (> lb everywhere), shaped as `lowerBound`. Default: none. */
  upperBound?: PlanValues;
  /** B, start states planned for at once (the first axis of every tensor), default 1. */
  batchSize?: number;
  /**
   * The solver: any options of `createCem` except those the planner sets
   * (see {@link PlannerSolverOptions}), or a preset. Default `{}`: vanilla
   * CEM with the solver's defaults.
   */
  solver?: PlannerSolverOptions<T>;
  /**
   * μ₀, the mean of a cold start (the first step, and rows after
   * `planner.reset`), shaped as `lowerBound`. Default: the middle of
   * the bounds, (lb + ub)/2; where a bound is missing, 0 clamped to the
   * bound that is there.
   */
  initMean?: PlanValues;
  /**
   * σ₀ > 0, the standard deviation every step starts from (σ resets at each
   * step), shaped as `lowerBound`. Default (ub − lb)/4 (the iCEM and
   * mbrl-lib choice), or 1 where a bound is missing.
   */
  initStd?: PlanValues;
  /** How the tail of the shifted plan is filled at a warm start, default `'middle'`. */
  shiftFill?: ShiftFill;
  /** Which control is returned as the action to apply, default `'mean'`. */
  action?: PlannerAction;
  /**
   * Integer seed. The solve of step t draws from
   * `deriveSeed(seed, SEED_STREAMS.mpcStep, t)`, so neighbouring seeds and
   * steps never share noise. Without a seed the draws are the backend's choice, and the
   * `'elite'` draw uses seed 0.
   */
  seed?: number;
}

/** Defaults of {@link PlannerOptions}, in one place (bound-dependent ones are documented there). */
export const PLANNER_DEFAULTS = Object.freeze({
  batchSize: 1,
  shiftFill: 'middle' as ShiftFill,
  action: 'mean' as PlannerAction,
});

/** Options after validation: plain numbers with defaults filled in; per-step values flattened to H·m entries. */
export interface ResolvedPlannerOptions<T> {
  /** H, steps per plan. */
  horizon: number;
  /** m, the dimension of one control. */
  actionDim: number;
  /** B, start states per call. */
  batchSize: number;
  /** lb as H·m numbers (row-major [H, m]), or undefined (no lower bound). */
  lowerBound: Float64Array | undefined;
  /** ub as H·m numbers, or undefined (no upper bound). */
  upperBound: Float64Array | undefined;
  /** μ₀ as H·m numbers. */
  initMean: Float64Array;
  /** σ₀ as H·m numbers. */
  initStd: Float64Array;
  /** The `'middle'` fill as H·m numbers: (lb + ub)/2, or μ₀ where a bound is missing. */
  middle: Float64Array;
  /** How the tail of a shifted plan is filled. */
  shiftFill: ShiftFill;
  /** Which control is applied. */
  action: PlannerAction;
  /** The user's seed, or undefined. */
  seed: number | undefined;
  /** The solver settings as given (a shallow copy). */
  solver: PlannerSolverOptions<T>;
}

const PLANNER_OPTION_NAMES: readonly (keyof PlannerOptions<unknown>)[] = [
  'horizon',
  'actionDim',
  'lowerBound',
  'upperBound',
  'batchSize',
  'solver',
  'initMean',
  'initStd',
  'shiftFill',
  'action',
  'seed',
];

/**
 * Reads a {@link PlanValues} option as H·m numbers (row-major [H, m]).
 * Throws a TypeError or RangeError naming the option.
 */
function perStep(name: string, value: unknown, horizon: number, m: number): Float64Array {
  const out = new Float64Array(horizon * m);
  if (typeof value === 'number') {
    assertFiniteNumber(name, value);
    return out.fill(value);
  }
  if (!Array.isArray(value)) {
    throw new TypeError(
      `${name} must be a number, an array [${m}] or an array of arrays [${horizon}][${m}], received ${describeValue(value)}`,
    );
  }
  if (value.length > 0 && value.every((v) => typeof v === 'number')) {
    if (value.length !== m) {
      throw new RangeError(`${name} must have ${m} entries (actionDim), received ${value.length}`);
    }
    value.forEach((v, j) => {
      assertFiniteNumber(`${name}[${j}]`, v);
    });
    for (let t = 0; t < horizon; t++) out.set(value as number[], t * m);
    return out;
  }
  if (value.length !== horizon || !value.every(Array.isArray)) {
    throw new RangeError(
      `${name} must be a number, an array [${m}] or an array of arrays [${horizon}][${m}] (horizon × actionDim), received ${describeValue(value)}`,
    );
  }
  (value as unknown[][]).forEach((row, t) => {
    if (row.length !== m) {
      throw new RangeError(`${name}[${t}] must have ${m} entries (actionDim), received ${row.length}`);
    }
    row.forEach((v, j) => {
      assertFiniteNumber(`${name}[${t}][${j}]`, v);
      out[t * m + j] = v;
    });
  });
  return out;
}

/**
 * (lb + ub)/2 where both bounds are given; otherwise 0 clamped to the bound
 * that is given (0 without bounds).
 */
function middleOfBounds(
  lower: Float64Array | undefined,
  upper: Float64Array | undefined,
  size: number,
): Float64Array {
  const out = new Float64Array(size);
  for (let j = 0; j < size; j++) {
    const lo = lower?.[j];
    const hi = upper?.[j];
    if (lo !== undefined && hi !== undefined) out[j] = (lo + hi) / 2;
    else if (lo !== undefined) out[j] = Math.max(0, lo);
    else if (hi !== undefined) out[j] = Math.min(0, hi);
  }
  return out;
}

/**
 * Validates planner options and fills in the defaults. Every problem
 * throws a `TypeError` or `RangeError` that names the option and the value.
 * The solver settings are checked here only for the names the planner owns;
 * the solver checks the rest when the planner builds it.
 */
export function resolvePlannerOptions<T>(options: PlannerOptions<T>): ResolvedPlannerOptions<T> {
  assertObject('options', options);
  assertKnownOptions('planner option', options, PLANNER_OPTION_NAMES);
  const { horizon, actionDim: m } = options;
  assertInteger('horizon', horizon, 1);
  assertInteger('actionDim', m, 1);
  const batchSize = options.batchSize ?? PLANNER_DEFAULTS.batchSize;
  assertInteger('batchSize', batchSize, 1);
  const lowerBound =
    options.lowerBound === undefined ? undefined : perStep('lowerBound', options.lowerBound, horizon, m);
  const upperBound =
    options.upperBound === undefined ? undefined : perStep('upperBound', options.upperBound, horizon, m);
  if (lowerBound !== undefined && upperBound !== undefined) {
    const i = lowerBound.findIndex((lo, j) => !(lo < (upperBound[j] as number)));
    if (i >= 0) {
      throw new RangeError(
        `lowerBound must be < upperBound at every step and dimension, received ${lowerBound[i]} and ${upperBound[i]} at step ${Math.floor(i / m)}, dimension ${i % m}`,
      );
    }
  }
  const centre = middleOfBounds(lowerBound, upperBound, horizon * m);
  const initMean =
    options.initMean === undefined ? centre : perStep('initMean', options.initMean, horizon, m);
  const initStd =
    options.initStd === undefined
      ? lowerBound !== undefined && upperBound !== undefined
        ? lowerBound.map((lo, j) => ((upperBound[j] as number) - lo) / 4)
        : new Float64Array(horizon * m).fill(1)
      : perStep('initStd', options.initStd, horizon, m);
  const badStd = initStd.findIndex((s) => !(s > 0));
  if (badStd >= 0) {
    throw new RangeError(`initStd must be > 0 everywhere, received ${describeValue(initStd[badStd])}`);
  }
  const shiftFill = options.shiftFill ?? PLANNER_DEFAULTS.shiftFill;
  if (!['last', 'middle', 'zero'].includes(shiftFill as string)) {
    throw new TypeError(`shiftFill must be 'last', 'middle' or 'zero', received ${describeValue(shiftFill)}`);
  }
  const action = options.action ?? PLANNER_DEFAULTS.action;
  if (!['mean', 'best', 'elite'].includes(action as string)) {
    throw new TypeError(`action must be 'mean', 'best' or 'elite', received ${describeValue(action)}`);
  }
  if (options.seed !== undefined) assertSeedOption(options.seed);
  const solver = options.solver ?? {};
  if (solver === null || typeof solver !== 'object' || Array.isArray(solver)) {
    throw new TypeError(
      `solver must be an object of solver options (or a preset), received ${describeValue(solver)}`,
    );
  }
  for (const name of PLANNER_OWNED_SOLVER_OPTIONS) {
    if (name in solver && (solver as Record<string, unknown>)[name] !== undefined) {
      const where = name === 'dim' ? 'horizon and actionDim' : name;
      throw new TypeError(
        `solver.${name} is set by the planner; give ${where} to the planner itself, not in solver`,
      );
    }
  }
  // Coloured noise runs along the time axis of the plan: the planner lays the noise out as [H, m].
  const { noiseShape, noiseAxis } = solver as { noiseShape?: unknown; noiseAxis?: unknown };
  if (
    noiseShape !== undefined &&
    !(
      Array.isArray(noiseShape) &&
      noiseShape.length === 2 &&
      noiseShape[0] === horizon &&
      noiseShape[1] === m
    )
  ) {
    throw new RangeError(
      `solver.noiseShape is set by the planner to [${horizon}, ${m}] (horizon, actionDim); leave it out, received ${Array.isArray(noiseShape) ? `[${noiseShape.join(', ')}]` : describeValue(noiseShape)}`,
    );
  }
  if (noiseAxis !== undefined && noiseAxis !== 0) {
    throw new RangeError(
      `solver.noiseAxis is set by the planner to 0 (the time axis of the plan); leave it out, received ${describeValue(noiseAxis)}`,
    );
  }
  return {
    horizon,
    actionDim: m,
    batchSize,
    lowerBound,
    upperBound,
    initMean,
    initStd,
    middle: lowerBound !== undefined && upperBound !== undefined ? centre : initMean,
    shiftFill,
    action,
    seed: options.seed,
    solver: { ...solver },
  };
}
