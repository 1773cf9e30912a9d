import { describeValue, formatShape } from '@dcem/errors';
import type { Backend } from './backend.js';
import type { CemOptions } from './options.js';
import {
  type PlannerOptions,
  type ResolvedPlannerOptions,
  resolvePlannerOptions,
} from './planner-options.js';
import { shiftControls } from './planner-shift.js';
import { deriveSeed, SEED_STREAMS } from './seed.js';
import { type CemResult, type CemSolver, type CemState, createCem, disposeCemResult } from './solver.js';
import { attachStatus } from './status.js';

/**
 * The cost of candidate control sequences: controls [batch, numSamples, H, m]
 * ↦ costs [batch, numSamples] (lower is better). Row b is the plan from start
 * state b. Build it from tensor operations to differentiate through the
 * planner.
 */
export type PlanCost<T> = (controls: T) => T;

/**
 * A cost that may be asynchronous, for {@link Planner.planAsync}: a black-box
 * simulator returns a Promise of the costs [batch, numSamples]. The planner
 * disposes the tensor it receives after use; a cost that creates other
 * tensors outside a `tidy` must release them itself.
 */
export type AsyncPlanCost<T> = (controls: T) => T | Promise<T>;

/**
 * One step of a planner: the plan, the action to apply and the solve's
 * diagnostics. The caller owns the tensors: free them all with
 * {@link disposePlanResult}.
 */
export type PlanResult<T> = {
  /** The action to apply now, [batch, m], chosen by {@link PlannerOptions.action}. */
  action: T;
  /** The plan û = clamp(μ, lb, ub), [batch, H, m]. */
  controls: T;
  /** The best sample evaluated during the solve and its cost. */
  best: {
    /** [batch, H, m], inside the bounds. */
    controls: T;
    /** Its cost as evaluated, [batch] (+∞ for a row whose costs were all non-finite). */
    cost: T;
  };
  /** The final mean μ before clamping, [batch, H, m]. */
  mean: T;
  /** The final standard deviation σ, [batch, H, m]. */
  std: T;
  /**
   * `[iterations, converged (1 or 0), nonFiniteValues]` as a tensor [3] (the
   * solve's `status`): the three numbers below, on the device.
   */
  status: T;
  /**
   * Solver iterations until convergence (see the solver's `tolerance`). From
   * {@link Planner.plan}, this and the next two are read from `status` on
   * first access (one synchronous read; non-enumerable getters); from
   * {@link Planner.planAsync}, plain values read asynchronously.
   */
  iterations: number;
  /** Whether the solver's tolerance was met before its iterations ran out. */
  converged: boolean;
  /** How many sampled costs were NaN or ±∞ in this step. */
  nonFiniteValues: number;
  /** The 0-based index of this step since the planner was created. */
  step: number;
};

/**
 * Frees every tensor of a {@link PlanResult}.
 *
 * @param backend The backend the result was made with.
 * @param result A planner step's result; do not use its tensors afterwards.
 * @example
 * ```ts
 * const step = planner.plan(cost);
 * applyAction(step.action);
 * disposePlanResult(backend, step);
 * ```
 */
export function disposePlanResult<T>(backend: Backend<T>, result: PlanResult<T>): void {
  for (const t of [result.action, result.controls, result.best.controls, result.best.cost, result.mean]) {
    backend.dispose(t);
  }
  backend.dispose(result.std);
  backend.dispose(result.status);
}

/**
 * A receding-horizon planner (model-predictive control): each call plans
 * control sequences [batch, H, m] for `batchSize` start states at once and
 * remembers the plan, so the next call starts from it shifted by one step.
 * Create it with {@link createPlanner}.
 */
export interface Planner<T> {
  /** The validated options with defaults filled in. */
  readonly options: ResolvedPlannerOptions<T>;
  /** How many steps have been planned since the planner was created (the next step's index). */
  readonly step: number;
  /**
   * Plans one step with a synchronous cost (a tensor function, differentiable
   * through the backend's autodiff), then keeps the result's mean (shifted by
   * one step) to warm-start the next call.
   *
   * @param cost controls [batch, numSamples, H, m] ↦ [batch, numSamples].
   */
  plan(cost: PlanCost<T>): PlanResult<T>;
  /**
   * {@link Planner.plan} with a cost that may return a Promise (a simulator).
   * A rejected Promise rejects this call with the same error; the planner
   * keeps its previous warm start and no tensor leaks. It makes no
   * synchronous read: the solver's convergence flag (where its
   * `earlyStopping` asks), the result's numbers and, for the `'elite'`
   * action, the elite weights are read with an awaited `backend.read`, so
   * it runs on WebGPU in a browser.
   *
   * @param cost controls [batch, numSamples, H, m] ↦ [batch, numSamples] or a Promise of it.
   */
  planAsync(cost: AsyncPlanCost<T>): Promise<PlanResult<T>>;
  /**
   * Forgets the warm start: of every row, or of the given rows (for example
   * the start states of episodes that just ended), which start cold again
   * from `initMean` at the next step.
   *
   * @param rows Batch rows to reset (integers in [0, batchSize)); all when omitted.
   */
  reset(rows?: readonly number[]): void;
  /** Releases the planner's tensors. The planner cannot be used afterwards. */
  dispose(): void;
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return (
    x !== null &&
    (typeof x === 'object' || typeof x === 'function') &&
    typeof (x as { then?: unknown }).then === 'function'
  );
}

/** One step's solve in progress. */
interface Solve<T> {
  solver: CemSolver<T>;
  state: CemState<T>;
}

/**
 * Creates a receding-horizon planner over control sequences [batch, H, m]
 * built on the CEM/DCEM ask/tell solver (`createCem`).
 *
 * Each step minimises C(u) over u ∈ [lb, ub]^{H×m} for every start state:
 * the solver searches x = vec(u) ∈ ℝ^{H·m}, samples X = clamp(μ + σ ⊙ ε, lb, ub)
 * (reshaped to [batch, N, H, m] for the cost), weights them with its selector
 * and refits μ, σ. The first step starts from μ₀ = `initMean`; every later
 * step from the previous mean shifted one step (u₁, …, u_{H−1}, c), c filled
 * as `shiftFill` says, with σ reset to σ₀ = `initStd`. With the solver's
 * `keepElites` ξ > 0, the ⌊ξk⌋ best elites of the previous step's last
 * iteration are shifted the same way and evaluated again with the first
 * iteration's samples (iCEM). The returned action is the first step of the
 * clamped mean, of the best sample, or of an elite of the last iteration
 * drawn with probability equal to its weight (`action`).
 *
 * The solver's noise is laid out as [H, m] (`noiseShape`), coloured along the
 * time axis (`noiseAxis: 0`) when `noiseExponent` β > 0. Step t's draws use
 * the seed `deriveSeed(seed, SEED_STREAMS.mpcStep, t)`; the `'elite'` action
 * draw and the fresh candidates of {@link Planner.reset} rows use the streams
 * `plannerElite` and `plannerReset`.
 *
 * With a soft selector (for example `solver: { temperature: 1 }`, DCEM), the
 * plan is differentiable with respect to everything the cost depends on
 * (start states, model or cost parameters) through the backend's autodiff.
 *
 * @param backend Tensor operations.
 * @param options See {@link PlannerOptions}; validated here.
 * @returns A {@link Planner}; call its `dispose` when done.
 * @example
 * ```ts
 * const planner = createPlanner(backend, {
 *   horizon: 20, actionDim: 1, lowerBound: -2, upperBound: 2, batchSize: 4,
 *   solver: { numSamples: 100, numElites: 10, numIterations: 5 }, seed: 0,
 * });
 * for (let t = 0; t < 50; t++) {
 *   const step = planner.plan(costFrom(states));
 *   states = simulate(states, step.action);
 *   disposePlanResult(backend, step);
 * }
 * planner.dispose();
 * ```
 * @see Amos & Yarats, "The Differentiable Cross-Entropy Method" (ICML 2020);
 *   Pinneri et al., "Sample-efficient Cross-Entropy Method for Real-time
 *   Planning" (iCEM, CoRL 2020) for the shifted warm start.
 */
export function createPlanner<T>(backend: Backend<T>, options: PlannerOptions<T>): Planner<T> {
  const o = resolvePlannerOptions(options);
  const { horizon: H, actionDim: m, batchSize: B } = o;
  const D = H * m;

  // The planner's constants, [1, H·m]; kept so that an enclosing tidy does not free them.
  const keep = (values: Float64Array) => backend.keep(backend.tensor(values, [1, D]));
  const lower = o.lowerBound === undefined ? undefined : keep(o.lowerBound);
  const upper = o.upperBound === undefined ? undefined : keep(o.upperBound);
  const initMean = keep(o.initMean);
  const initStd = keep(o.initStd);
  const constants = [lower, upper, initMean, initStd].filter((t): t is T => t !== undefined);
  const tailFill =
    o.shiftFill === 'last'
      ? ('last' as const)
      : o.shiftFill === 'zero'
        ? 0
        : Array.from(o.middle.subarray((H - 1) * m));

  const solverOptions = (seed: number | undefined): CemOptions<T> => ({
    ...o.solver,
    dim: D,
    batchSize: B,
    ...(lower === undefined ? {} : { lowerBound: lower }),
    ...(upper === undefined ? {} : { upperBound: upper }),
    initMean,
    initStd,
    noiseShape: [H, m],
    noiseAxis: 0,
    ...(seed === undefined ? {} : { seed }),
  });

  // The solver settings are validated now, not at the first step.
  let keptElites = 0;
  try {
    const probe = createCem(backend, solverOptions(o.seed));
    keptElites = probe.options.keptElites;
    probe.dispose();
  } catch (error) {
    for (const t of constants) backend.dispose(t);
    throw error;
  }

  /**
   * The next step's warm start: the previous mean shifted one step [B, D]
   * and the kept elites shifted with it [B, K, D] (with `keepElites` > 0);
   * undefined for a cold start.
   */
  let warmMean: T | undefined;
  let warmElites: T | undefined;
  const dropWarmStart = () => {
    if (warmMean !== undefined) backend.dispose(warmMean);
    if (warmElites !== undefined) backend.dispose(warmElites);
    warmMean = undefined;
    warmElites = undefined;
  };
  let step = 0;
  let busy = false;
  let disposed = false;

  const enter = (what: string) => {
    if (disposed) throw new Error(`planner.${what}: the planner has been disposed`);
    if (busy) throw new Error(`planner.${what}: a step is already being planned (await planAsync first)`);
  };

  const begin = (): Solve<T> => {
    const seed = o.seed === undefined ? undefined : deriveSeed(o.seed, SEED_STREAMS.mpcStep, step);
    const solver = createCem(backend, solverOptions(seed));
    try {
      const start =
        warmMean === undefined
          ? undefined
          : { mean: warmMean, ...(warmElites === undefined ? {} : { elites: warmElites }) };
      return { solver, state: solver.init(start) };
    } catch (error) {
      solver.dispose();
      throw error;
    }
  };

  /** The samples of the next iteration as plans [B, N, H, m] (and flat [B, N, D]). */
  const ask = (solve: Solve<T>): { samples: T; plans: T; n: number } => {
    const samples = solve.solver.ask(solve.state);
    const n = backend.shape(samples)[1] as number;
    return { samples, plans: backend.reshape(samples, [B, n, H, m]), n };
  };

  const checkValues = (values: unknown, n: number): T => {
    if (values === null || typeof values !== 'object') {
      throw new TypeError(
        `cost(controls) must return a tensor of shape ${formatShape([B, n])}, received ${describeValue(values)}`,
      );
    }
    const shape = backend.shape(values as T);
    if (shape.length !== 2 || shape[0] !== B || shape[1] !== n) {
      throw new RangeError(
        `cost(controls) must return shape ${formatShape([B, n])} for controls ${formatShape([B, n, H, m])}, received ${formatShape(shape)}`,
      );
    }
    return values as T;
  };

  /** Refits the solver to an evaluated iteration. */
  const tell = (solve: Solve<T>, samples: T, values: T): void => {
    const next = solve.solver.tell(solve.state, samples, values);
    solve.solver.release(solve.state);
    solve.state = next;
  };

  /** `tell` awaiting its read of the convergence flag, if it makes one. */
  const tellAsync = async (solve: Solve<T>, samples: T, values: T): Promise<void> => {
    const next = await solve.solver.tellAsync(solve.state, samples, values);
    solve.solver.release(solve.state);
    solve.state = next;
  };

  const abort = (solve: Solve<T>) => {
    solve.solver.release(solve.state);
    solve.solver.dispose();
  };

  /**
   * Draws one elite per row with probability equal to its weight: indices
   * [B, 1] for `batchGather`, from the weights [B, k] read back (`w`).
   */
  const drawElite = (w: ArrayLike<number>, k: number): T => {
    const seed = deriveSeed(o.seed ?? 0, SEED_STREAMS.plannerElite, step);
    const picks = new Float64Array(B);
    for (let b = 0; b < B; b++) {
      // A uniform draw in [0, 1) per row, hashed from the step's seed and the row.
      const u = (deriveSeed(seed, SEED_STREAMS.plannerElite, b) - 1) / 2 ** 31;
      let total = 0;
      for (let j = 0; j < k; j++) total += Math.max(0, (w[b * k + j] as number) || 0);
      let pick = 0; // the best elite when the weights are degenerate
      if (total > 0) {
        let acc = 0;
        for (let j = 0; j < k; j++) {
          acc += Math.max(0, (w[b * k + j] as number) || 0) / total;
          if (u < acc) {
            pick = j;
            break;
          }
          pick = j;
        }
      }
      picks[b] = pick;
    }
    return backend.tensor(picks, [B, 1]);
  };

  /** The step's result from the solve's `r`; `w`: the elite weights read back (action `'elite'`). */
  const finish = (
    solve: Solve<T>,
    r: CemResult<T>,
    w: ArrayLike<number> | undefined,
    known: boolean,
  ): PlanResult<T> => {
    try {
      const out = backend.tidy(() => {
        const plans = (x: T) => backend.reshape(x, [B, H, m]);
        const firstStep = (x: T) => backend.sliceColumns(x, 0, m);
        let action: T;
        if (o.action === 'best') action = firstStep(r.best.sample);
        else if (o.action === 'elite') {
          const k = backend.shape(r.elites.weights)[1] ?? 0;
          const drawn = backend.batchGather(
            r.elites.samples,
            drawElite(w ?? backend.readSync(r.elites.weights), k),
          );
          action = firstStep(backend.reshape(drawn, [B, D]));
        } else action = firstStep(r.solution);
        const tensors: Record<string, T> = {
          action,
          controls: plans(r.solution),
          bestControls: plans(r.best.sample),
          bestCost: backend.reshape(r.best.value, [B]),
          mean: plans(r.mean),
          std: plans(r.std),
          status: backend.add(r.status, backend.scalar(0)),
          nextMean: backend.reshape(shiftControls(backend, plans(r.mean), tailFill), [B, D]),
        };
        if (keptElites > 0) {
          // The ⌊ξ k⌋ best elites (best first) carried into the next step, shifted with the mean.
          const k = backend.shape(r.elites.samples)[1] as number;
          const best = backend.sliceColumns(backend.reshape(r.elites.samples, [B, k * D]), 0, keptElites * D);
          const shifted = shiftControls(backend, backend.reshape(best, [B, keptElites, H, m]), tailFill);
          tensors.nextElites = backend.reshape(shifted, [B, keptElites, D]);
        }
        return tensors;
      });
      dropWarmStart();
      warmMean = backend.keep(out.nextMean as T);
      if (out.nextElites !== undefined) warmElites = backend.keep(out.nextElites);
      const index = step;
      step += 1;
      const result = {
        action: out.action as T,
        controls: out.controls as T,
        best: { controls: out.bestControls as T, cost: out.bestCost as T },
        mean: out.mean as T,
        std: out.std as T,
        status: out.status as T,
        step: index,
      };
      // planAsync read the numbers already; plan reads them lazily, when asked.
      return attachStatus(
        backend,
        result,
        result.status,
        known ? [r.iterations, r.converged ? 1 : 0, r.nonFiniteValues] : undefined,
      );
    } finally {
      disposeCemResult(backend, r);
      solve.solver.dispose();
    }
  };

  const checkCost = (cost: unknown) => {
    if (typeof cost !== 'function') {
      throw new TypeError(`cost must be a function, received ${describeValue(cost)}`);
    }
  };

  /** Starts the solve of one planner call (`plan` or `planAsync`). */
  const open = (name: 'plan' | 'planAsync', cost: unknown): Solve<T> => {
    enter(name);
    checkCost(cost);
    busy = true;
    return begin();
  };
  /** Releases one evaluated batch: its values (when the cost made new ones), plans and samples. */
  const release = (samples: T, plans: T, values: T | undefined) => {
    if (values !== undefined && values !== plans && values !== samples) backend.dispose(values);
    backend.dispose(plans);
    backend.dispose(samples);
  };
  /** Abandons a failed solve (the warm start stays as it was) and rethrows its error. */
  const fail = (solve: Solve<T>, error: unknown): never => {
    abort(solve);
    busy = false;
    throw error;
  };
  /** Ends a finished solve: the step's result (reads the elite weights for action `'elite'`). */
  const close = (solve: Solve<T>): PlanResult<T> => {
    try {
      return finish(solve, solve.solver.result(solve.state), undefined, false);
    } finally {
      busy = false;
    }
  };
  /** `close` without synchronous reads: the numbers and the elite weights are awaited. */
  const closeAsync = async (solve: Solve<T>): Promise<PlanResult<T>> => {
    try {
      let r: CemResult<T>;
      try {
        r = await solve.solver.resultAsync(solve.state);
      } catch (error) {
        solve.solver.dispose();
        throw error;
      }
      let w: ArrayLike<number> | undefined;
      if (o.action === 'elite') {
        try {
          w = await backend.read(r.elites.weights);
        } catch (error) {
          disposeCemResult(backend, r);
          solve.solver.dispose();
          throw error;
        }
      }
      return finish(solve, r, w, true);
    } finally {
      busy = false;
    }
  };

  return {
    options: o,
    get step() {
      return step;
    },
    plan(cost) {
      const solve = open('plan', cost);
      try {
        while (!solve.solver.done(solve.state)) {
          const { samples, plans, n } = ask(solve);
          let values: T | undefined;
          try {
            values = backend.tidy(() => {
              const v = cost(plans);
              if (isThenable(v)) {
                // Nobody awaits it: keep its rejection from going unhandled.
                Promise.resolve(v).catch(() => undefined);
                throw new TypeError('cost returned a Promise: use planner.planAsync for asynchronous costs');
              }
              return checkValues(v, n);
            });
            tell(solve, samples, values);
          } finally {
            release(samples, plans, values);
          }
        }
      } catch (error) {
        return fail(solve, error);
      }
      return close(solve);
    },
    async planAsync(cost) {
      const solve = open('planAsync', cost);
      try {
        while (!solve.solver.done(solve.state)) {
          const { samples, plans, n } = ask(solve);
          let values: T | undefined;
          try {
            values = checkValues(await cost(plans), n);
            await tellAsync(solve, samples, values);
          } finally {
            release(samples, plans, values);
          }
        }
      } catch (error) {
        return fail(solve, error);
      }
      return closeAsync(solve);
    },
    reset(rows) {
      enter('reset');
      if (rows === undefined) {
        dropWarmStart();
        return;
      }
      if (!Array.isArray(rows)) {
        throw new TypeError(`rows must be an array of row indices, received ${describeValue(rows)}`);
      }
      const mask = new Float64Array(B);
      for (const [i, row] of rows.entries()) {
        if (!Number.isInteger(row) || row < 0 || row >= B) {
          throw new RangeError(
            `rows[${i}] must be an integer in [0, ${B - 1}] (batchSize ${B}), received ${describeValue(row)}`,
          );
        }
        mask[row] = 1;
      }
      if (warmMean === undefined) return;
      const previousMean = warmMean;
      const previousElites = warmElites;
      const next = backend.tidy(() => {
        const cold = backend.greater(backend.tensor(mask, [B, 1]), backend.scalar(0.5));
        const out: Record<string, T> = {
          mean: backend.where(cold, backend.add(backend.fill([B, D], 0), initMean), previousMean),
        };
        if (previousElites !== undefined) {
          // A reset row's carried candidates become fresh draws from N(μ₀, σ₀²): the same law as
          // the first iteration's samples, so the row starts cold in distribution.
          const K = backend.shape(previousElites)[1] as number;
          const noise = backend.randomNormal(
            [B, K, D],
            deriveSeed(o.seed ?? 0, SEED_STREAMS.plannerReset, step),
          );
          const fresh = backend.add(
            backend.reshape(initMean, [1, 1, D]),
            backend.mul(backend.reshape(initStd, [1, 1, D]), noise),
          );
          out.elites = backend.where(backend.reshape(cold, [B, 1, 1]), fresh, previousElites);
        }
        return out;
      });
      warmMean = backend.keep(next.mean as T);
      warmElites = next.elites === undefined ? undefined : backend.keep(next.elites);
      backend.dispose(previousMean);
      if (previousElites !== undefined) backend.dispose(previousElites);
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      dropWarmStart();
      for (const t of constants) backend.dispose(t);
    },
  };
}

/**
 * Plans once (no warm start): {@link createPlanner}, one
 * {@link Planner.plan}, then `dispose`.
 *
 * @param backend Tensor operations.
 * @param cost controls [batch, numSamples, H, m] ↦ [batch, numSamples].
 * @param options See {@link PlannerOptions}.
 * @returns The step's result; the caller owns its tensors ({@link disposePlanResult}).
 * @example
 * ```ts
 * const { controls, action } = plan(backend, cost, {
 *   horizon: 10, actionDim: 2, lowerBound: -1, upperBound: 1,
 *   solver: { numSamples: 200, numElites: 20, temperature: 1 },
 * });
 * ```
 */
export function plan<T>(backend: Backend<T>, cost: PlanCost<T>, options: PlannerOptions<T>): PlanResult<T> {
  const planner = createPlanner(backend, options);
  try {
    return planner.plan(cost);
  } finally {
    planner.dispose();
  }
}
