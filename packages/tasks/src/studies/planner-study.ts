import { deriveSeed } from '@dcem/core';
import {
  assertInteger,
  assertKnownOptions,
  assertObject,
  assertOptionalFunctions,
  describeValue,
} from '@dcem/errors';
import type { PlannerSolverOptions } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import { cartpoleReturnFused, createCartpole, sampleCartpoleStates } from '../control/cartpole.js';
import { disposeMpcResult, runMpc } from '../control/mpc.js';
import {
  createPendulum,
  PENDULUM_QUADRATIC_COST,
  pendulumSwingUpCostFused,
  samplePendulumStates,
} from '../control/pendulum.js';
import { PLANNER_NAMES, type PlannerName, plannerSolver } from '../control/planner.js';
import type { JobContext, JobKind, JobSpec } from '../jobs/jobs.js';
import { TASK_SEED_STREAMS } from '../seed-streams.js';

/** The swing-up tasks of {@link runPlannerStudy}. */
export const PLANNER_STUDY_TASKS = Object.freeze(['pendulum', 'cartpole'] as const);

/** A task of {@link PLANNER_STUDY_TASKS}. */
export type PlannerStudyTask = (typeof PLANNER_STUDY_TASKS)[number];

/** Settings of {@link runPlannerStudy} (`dcem planners`'s flags). */
export interface PlannerStudySettings {
  /** Planners to compare ({@link PLANNER_NAMES}). */
  planners: readonly PlannerName[];
  /** Budgets: rollouts evaluated per closed-loop step (all iterations together), integers ≥ 4. */
  budgets: readonly number[];
  /** Tasks ({@link PLANNER_STUDY_TASKS}). */
  tasks: readonly PlannerStudyTask[];
  /** Seeds per cell (independent start states and noise), an integer ≥ 1. */
  seeds: number;
  /** Start states per seed, an integer ≥ 1. */
  starts: number;
  /** Closed-loop steps per episode, an integer ≥ 1 (100 = 5 s). */
  steps: number;
  /** Plan horizon H, an integer ≥ 1. */
  horizon: number;
  /** Integer seed of the whole study. */
  seed: number;
}

/** One (task, planner, budget) of the study. */
export interface PlannerStudyCell {
  task: PlannerStudyTask;
  planner: PlannerName;
  /** The budget asked for: rollouts per step. */
  budget: number;
  /** N, the first iteration's samples, chosen so that the schedule fits the budget. */
  numSamples: number;
  /** k, elites (the preset's fraction k/N of N, at least 1). */
  numElites: number;
  /** Rollouts evaluated per step, measured (mean over steps; ≤ the budget, less when the solver stops early). */
  samplesPerStep: number;
  /** Closed-loop return of each seed (mean over its start states). */
  returns: number[];
  /** Mean and standard deviation of `returns` over the seeds. */
  mean: number;
  std: number;
  /** Fraction of episodes that end up (cos θ > 0.9 over the last 20 % of the steps). */
  success: number;
  seconds: number;
}

/** Callbacks of {@link runPlannerStudy}; each is optional. */
export interface PlannerStudyCallbacks {
  /** A line for people. */
  log?: (line: string) => void;
  /** Before cell `index` of `count`. */
  onCellStart?: (info: { index: number; count: number; label: string }) => void;
  /** After each closed-loop step of the current cell (`done` of `total`). */
  onStep?: (done: number, total: number) => void;
  /** After cell `index`, with its result. */
  onCellEnd?: (index: number, cell: PlannerStudyCell) => void;
}

/** The answer to "does icem reach ≥ 95 % of cem's best return with ≤ ¼ of its samples per step?" for one task. */
export interface PlannerStudyVerdict {
  task: PlannerStudyTask;
  /** cem's best mean return and the budget where it was reached. */
  cemBest: { mean: number; budget: number } | null;
  /** The smallest budget where icem's mean return ≥ 0.95 × cem's best (null: none). */
  icemBudget: number | null;
  /** icemBudget / cem's best budget (null when either is missing). */
  budgetRatio: number | null;
  /** Whether icemBudget ≤ ¼ of cem's best budget. */
  holds: boolean;
}

/** What {@link runPlannerStudy} returns (plain numbers). */
export interface PlannerStudyResult {
  settings: PlannerStudySettings;
  cells: PlannerStudyCell[];
  verdicts: PlannerStudyVerdict[];
  seconds: number;
}

/**
 * The per-iteration sizes of a preset for a budget of rollouts per step:
 * the largest N whose schedule Σᵢ max(⌊N γ^{−i}⌋, n_min) (+1 with
 * `addMeanToLast`) fits the budget, with k = max(1, round(N · k₀/N₀)) (the
 * preset's elite fraction) and n_min = 2k under population decay (internal).
 */
export function budgetSizes(
  solver: PlannerSolverOptions<tf.Tensor>,
  budget: number,
): { numSamples: number; numElites: number; minSamples?: number; total: number } | null {
  const n0 = solver.numSamples ?? 20;
  const k0 = solver.numElites ?? 10;
  const iterations = solver.numIterations ?? 10;
  const decay = solver.populationDecay ?? 1;
  const extra = solver.addMeanToLast ? 1 : 0;
  for (let n = budget; n >= 2; n--) {
    const k = Math.min(n - 1, Math.max(1, Math.round((n * k0) / n0)));
    const floor = decay > 1 ? 2 * k : 0;
    let total = extra;
    for (let i = 0; i < iterations; i++) total += Math.max(Math.floor(n * decay ** -i), floor, k + 1);
    if (total <= budget) {
      return { numSamples: n, numElites: k, ...(decay > 1 ? { minSamples: floor } : {}), total };
    }
  }
  return null;
}

function check(s: PlannerStudySettings): void {
  assertObject('settings', s);
  for (const [name, list] of [
    ['planners', s.planners],
    ['budgets', s.budgets],
    ['tasks', s.tasks],
  ] as const) {
    if (!Array.isArray(list) || list.length === 0) {
      throw new TypeError(`settings.${name} must be a non-empty array, received ${JSON.stringify(list)}`);
    }
  }
  s.planners.forEach((p, i) => {
    if (!PLANNER_NAMES.includes(p)) {
      throw new TypeError(
        `settings.planners[${i}] must be one of ${PLANNER_NAMES.join(', ')}, received ${JSON.stringify(p)}`,
      );
    }
  });
  s.tasks.forEach((t, i) => {
    if (!PLANNER_STUDY_TASKS.includes(t)) {
      throw new TypeError(
        `settings.tasks[${i}] must be one of ${PLANNER_STUDY_TASKS.join(', ')}, received ${JSON.stringify(t)}`,
      );
    }
  });
  s.budgets.forEach((b, i) => {
    assertInteger(`settings.budgets[${i}]`, b, 4);
  });
  assertInteger('settings.seeds', s.seeds, 1);
  assertInteger('settings.starts', s.starts, 1);
  assertInteger('settings.steps', s.steps, 1);
  assertInteger('settings.horizon', s.horizon, 1);
  assertInteger('settings.seed', s.seed, Number.MIN_SAFE_INTEGER);
}

/**
 * The planner budget study as a function: closed-loop return against the
 * rollouts evaluated per step, for each planner and swing-up task.
 *
 * Each (task, planner, budget) cell runs ONE batched closed loop
 * ({@link runMpc}: one planner, warm-started, one planner call per step) whose
 * rows are seeds × start states; every row draws its own noise. Seed s's
 * start states are `sample…States(starts, deriveSeed(seed, TASK_SEED_STREAMS.studyStates, s))`,
 * the same for every planner and budget; the cell's planner noise has the
 * seed `deriveSeed(seed, TASK_SEED_STREAMS.studyPlan, cell)`. The preset's
 * per-iteration sizes are scaled to the budget ({@link budgetSizes}).
 *
 * The tasks: the pendulum swing-up (θ₀ ~ U(−π/4, π/4), θ̇₀ ~ U(−4, 4)),
 * planned with mpc.pytorch's quadratic cost ({@link PENDULUM_QUADRATIC_COST},
 * fused), return Σ_{t<T} cos θ_t; the cart-pole swing-up (θ₀ ~ U(−π, π)),
 * planned for the return of the DCEM cart-pole experiment (fused,
 * σ₀ = 10 N), return Σ_{t<T} (cos θ_t − 0.1 p_t² − 10⁻⁵ u_t²). Both are at
 * most T (upright all the time).
 *
 * @param settings See {@link PlannerStudySettings}.
 * @param callbacks Optional log and progress callbacks.
 * @returns Every cell and, per task, whether icem reaches ≥ 95 % of cem's
 *   best return with ≤ ¼ of its samples per step.
 * @example
 * ```ts
 * const r = runPlannerStudy({
 *   planners: ['cem', 'icem'], budgets: [50, 200], tasks: ['pendulum'],
 *   seeds: 2, starts: 3, steps: 60, horizon: 20, seed: 0,
 * });
 * console.log(r.verdicts);
 * ```
 * @see Pinneri et al., "Sample-efficient Cross-Entropy Method for Real-time
 *   Planning" (iCEM, CoRL 2020), whose claim the study checks.
 */
export function runPlannerStudy(
  settings: PlannerStudySettings,
  callbacks: PlannerStudyCallbacks = {},
): PlannerStudyResult {
  const s = settings;
  check(s);
  assertObject('callbacks', callbacks);
  assertOptionalFunctions(callbacks, ['log', 'onCellStart', 'onStep', 'onCellEnd'], 'callbacks.');
  const log = callbacks.log ?? (() => {});
  const start = Date.now();
  const jobs = plannerStudyJobs(s);
  const cells = jobs.map((job, index) => {
    const p = job.params;
    callbacks.onCellStart?.({ index, count: jobs.length, label: PLANNER_CELL_JOB.describe(p) });
    const cell = runPlannerCell(p, { log, onStep: callbacks.onStep });
    if (cell !== null) callbacks.onCellEnd?.(index, cell);
    return cell;
  });
  return assemblePlannerStudy(s, cells, (Date.now() - start) / 1000);
}

/**
 * The parameters of one cell of the planner budget study (a job of kind
 * `planner-cell`): the study's settings that matter to the cell, its
 * (task, planner, budget) and its index in the study (its planner noise
 * derives from it).
 */
export interface PlannerCellParams {
  task: PlannerStudyTask;
  planner: PlannerName;
  budget: number;
  seeds: number;
  starts: number;
  steps: number;
  horizon: number;
  /** The study's seed. */
  seed: number;
  /** The cell's index in the study: its planner noise has the seed `deriveSeed(seed, TASK_SEED_STREAMS.studyPlan, cell)`. */
  cell: number;
}

const CELL_KEYS = ['task', 'planner', 'budget', 'seeds', 'starts', 'steps', 'horizon', 'seed', 'cell'];

function checkCell(p: unknown): PlannerCellParams {
  assertObject('params', p);
  assertKnownOptions('planner-cell parameter', p, CELL_KEYS);
  const c = p as unknown as PlannerCellParams;
  if (!PLANNER_STUDY_TASKS.includes(c.task)) {
    throw new TypeError(
      `params.task must be one of ${PLANNER_STUDY_TASKS.join(', ')}, received ${describeValue(c.task)}`,
    );
  }
  if (!PLANNER_NAMES.includes(c.planner)) {
    throw new TypeError(
      `params.planner must be one of ${PLANNER_NAMES.join(', ')}, received ${describeValue(c.planner)}`,
    );
  }
  assertInteger('params.budget', c.budget, 4);
  assertInteger('params.seeds', c.seeds, 1);
  assertInteger('params.starts', c.starts, 1);
  assertInteger('params.steps', c.steps, 1);
  assertInteger('params.horizon', c.horizon, 1);
  assertInteger('params.seed', c.seed, Number.MIN_SAFE_INTEGER);
  assertInteger('params.cell', c.cell, 0);
  return { ...c };
}

/**
 * The jobs of the planner budget study, one per (task, planner, budget) in
 * the study's order: run them (on this machine or a queue), then
 * {@link assemblePlannerStudy} their results.
 *
 * @param settings See {@link PlannerStudySettings}.
 * @param backend The tfjs backend the cells run on (part of their ids), if any.
 * @returns The job specifications, of kind `planner-cell` ({@link PLANNER_CELL_JOB}).
 * @example
 * ```ts
 * const specs = plannerStudyJobs({ planners: ['cem'], budgets: [50], tasks: ['pendulum'],
 *   seeds: 1, starts: 1, steps: 10, horizon: 10, seed: 0 });
 * const cells = specs.map((spec) => runPlannerCell(spec.params));
 * ```
 */
export function plannerStudyJobs(
  settings: PlannerStudySettings,
  backend?: string,
): JobSpec<PlannerCellParams>[] {
  const s = settings;
  check(s);
  const jobs: JobSpec<PlannerCellParams>[] = [];
  for (const task of s.tasks) {
    for (const planner of s.planners) {
      for (const budget of s.budgets) {
        const { seeds, starts, steps, horizon, seed } = s;
        const params = { task, planner, budget, seeds, starts, steps, horizon, seed, cell: jobs.length };
        jobs.push({
          kind: PLANNER_CELL_JOB.kind,
          version: PLANNER_CELL_JOB.version,
          ...(backend !== undefined ? { backend } : {}),
          params,
        });
      }
    }
  }
  return jobs;
}

/**
 * Runs one cell of the planner budget study: ONE batched closed loop (rows:
 * seeds × start states) of the cell's planner at its budget (see
 * {@link runPlannerStudy}).
 *
 * @param params The cell ({@link plannerStudyJobs} makes them).
 * @param callbacks Optional log line and progress per closed-loop step.
 * @returns The cell, or null when the budget is below the preset's smallest schedule.
 * @example
 * ```ts
 * const [spec] = plannerStudyJobs({ planners: ['icem'], budgets: [100], tasks: ['cartpole'],
 *   seeds: 1, starts: 1, steps: 10, horizon: 10, seed: 0 });
 * console.log(runPlannerCell(spec!.params)?.mean);
 * ```
 */
export function runPlannerCell(
  params: PlannerCellParams,
  callbacks: Pick<PlannerStudyCallbacks, 'log' | 'onStep'> = {},
): PlannerStudyCell | null {
  const s = checkCell(params);
  const log = callbacks.log ?? (() => {});
  const spec = { task: s.task, planner: s.planner, budget: s.budget };
  const label = PLANNER_CELL_JOB.describe(s);
  const preset = plannerSolver(spec.planner);
  const sizes = budgetSizes(preset, spec.budget);
  if (sizes === null) {
    log(`${label}: the budget is below the preset's smallest schedule; skipped`);
    return null;
  }
  const pendulum = createPendulum();
  const cartpole = createCartpole();
  const weights = { state: PENDULUM_QUADRATIC_COST.weights, control: PENDULUM_QUADRATIC_COST.controlPenalty };
  const rows = s.seeds * s.starts;
  const tail = Math.ceil(0.8 * s.steps);
  const { total: _total, ...size } = sizes;
  const cellStart = Date.now();
  const sample = spec.task === 'pendulum' ? samplePendulumStates : sampleCartpoleStates;
  const x0 = tf.tidy(() =>
    tf.concat(
      Array.from({ length: s.seeds }, (_, k) =>
        sample(s.starts, deriveSeed(s.seed, TASK_SEED_STREAMS.studyStates, k)),
      ),
      0,
    ),
  );
  let evaluated = 0;
  const count = (u: tf.Tensor) => {
    evaluated += u.shape[1] as number; // per row: every row evaluates the same count
  };
  try {
    const r = runMpc({
      dynamics: spec.task === 'pendulum' ? pendulum : cartpole,
      initialState: x0,
      steps: s.steps,
      controlCost:
        spec.task === 'pendulum'
          ? (x) => (u) => {
              count(u);
              return pendulumSwingUpCostFused(pendulum, x, u, weights);
            }
          : (x) => (u) => {
              count(u);
              return tf.neg(cartpoleReturnFused(cartpole, x, u));
            },
      planCosts: false,
      planner: {
        horizon: s.horizon,
        ...(spec.task === 'cartpole' ? { initStd: 10 } : {}),
        solver: { ...preset, ...size },
        seed: deriveSeed(s.seed, TASK_SEED_STREAMS.studyPlan, s.cell),
      },
      onStep: (info) => callbacks.onStep?.(info.step + 1, s.steps),
    });
    const states = r.states.arraySync() as number[][][];
    const actions = r.actions.arraySync() as number[][][];
    disposeMpcResult(r);
    const cosIndex = spec.task === 'pendulum' ? 0 : 2;
    const episode = states.map((row, b) => {
      let ret = 0;
      for (let t = 0; t < s.steps; t++) {
        const x = row[t] as number[];
        const c = x[cosIndex] as number;
        if (spec.task === 'pendulum') ret += c;
        else {
          const u = (actions[b]?.[t]?.[0] ?? 0) as number;
          ret += c - 0.1 * (x[0] as number) ** 2 - 1e-5 * u * u;
        }
      }
      const up = row.slice(tail).every((x) => (x[cosIndex] as number) > 0.9);
      return { ret, up };
    });
    const returns = Array.from({ length: s.seeds }, (_, k) => {
      const mine = episode.slice(k * s.starts, (k + 1) * s.starts);
      return mine.reduce((a, e) => a + e.ret, 0) / s.starts;
    });
    const mean = returns.reduce((a, b) => a + b, 0) / returns.length;
    const std =
      returns.length > 1
        ? Math.sqrt(returns.reduce((a, b) => a + (b - mean) ** 2, 0) / (returns.length - 1))
        : 0;
    const cell: PlannerStudyCell = {
      ...spec,
      numSamples: size.numSamples,
      numElites: size.numElites,
      samplesPerStep: evaluated / s.steps,
      returns,
      mean,
      std,
      success: episode.filter((e) => e.up).length / rows,
      seconds: (Date.now() - cellStart) / 1000,
    };
    log(
      `${label}: N = ${cell.numSamples}, k = ${cell.numElites}, ${cell.samplesPerStep.toFixed(1)} rollouts/step, ` +
        `return ${mean.toFixed(2)} ± ${std.toFixed(2)}, ${(cell.success * 100).toFixed(0)} % up, ${cell.seconds.toFixed(1)} s`,
    );
    return cell;
  } finally {
    x0.dispose();
  }
}

/**
 * The planner budget study's result from its cells' results (in the order of
 * {@link plannerStudyJobs}; null for skipped cells): the cells and, per
 * task, whether icem reaches ≥ 95 % of cem's best return with ≤ ¼ of its
 * rollouts per step.
 *
 * @param settings The study's settings.
 * @param cells The cells' results.
 * @param seconds The study's wall time.
 * @returns What {@link runPlannerStudy} returns.
 * @example
 * ```ts
 * const result = assemblePlannerStudy(settings, plannerStudyJobs(settings).map((j) => runPlannerCell(j.params)), 0);
 * ```
 */
export function assemblePlannerStudy(
  settings: PlannerStudySettings,
  cells: readonly (PlannerStudyCell | null)[],
  seconds: number,
): PlannerStudyResult {
  const s = settings;
  check(s);
  if (!Array.isArray(cells)) throw new TypeError(`cells must be an array, received ${describeValue(cells)}`);
  const kept = cells.filter((c): c is PlannerStudyCell => c !== null);
  const verdicts = s.tasks.map((task): PlannerStudyVerdict => {
    const of = (planner: PlannerName) =>
      kept.filter((c) => c.task === task && c.planner === planner).sort((a, b) => a.budget - b.budget);
    const cem = of('cem');
    const best = cem.reduce<PlannerStudyCell | null>((a, c) => (a === null || c.mean > a.mean ? c : a), null);
    if (best === null) return { task, cemBest: null, icemBudget: null, budgetRatio: null, holds: false };
    const reach = of('icem').find((c) => c.mean >= 0.95 * best.mean);
    const icemBudget = reach?.budget ?? null;
    const budgetRatio = icemBudget === null ? null : icemBudget / best.budget;
    return {
      task,
      cemBest: { mean: best.mean, budget: best.budget },
      icemBudget,
      budgetRatio,
      holds: budgetRatio !== null && budgetRatio <= 0.25,
    };
  });
  return { settings: s, cells: kept, verdicts, seconds };
}

/**
 * The job kind `planner-cell`: one cell of the planner budget study
 * ({@link runPlannerCell}); its result is the cell, or null when skipped.
 * Register it where jobs run (`createJobRegistry([PLANNER_CELL_JOB, …])`).
 */
export const PLANNER_CELL_JOB: JobKind<PlannerCellParams, PlannerStudyCell | null> = Object.freeze({
  kind: 'planner-cell',
  version: 1,
  check: checkCell,
  describe: (p: PlannerCellParams) => `${p.task} ${p.planner} budget ${p.budget}`,
  run: (p: PlannerCellParams, context: JobContext) =>
    runPlannerCell(p, {
      ...(context.log !== undefined ? { log: context.log } : {}),
      onStep: (done, total) => context.onProgress?.(done / total),
    }),
});
