import {
  assertInteger,
  assertKnownOptions,
  assertObject,
  assertOptionalFunctions,
  assertPositive,
  describeValue,
} from '@dcem/errors';
import type { TaskName } from '@dcem/mujoco';
import type { JobContext, JobKind, JobSpec } from '../jobs/jobs.js';
import {
  MUJOCO_PLANNERS,
  type MujocoEpisodeRecord,
  type MujocoPlannerName,
  PLANET_ACTION_REPEAT,
  PLANET_BUDGET,
  runMujocoEpisodes,
  summariseMujocoEpisodes,
} from './episodes.js';
import { TASK_NAMES } from './mujoco-peer.js';

/** PlaNet's Table 1 row "CEM + true simulator" (Hafner et al., ICML 2019): mean return per task. */
export const PLANET_TRUE_SIMULATOR: Readonly<Record<TaskName, number>> = Object.freeze({
  'cartpole-swingup': 850,
  'reacher-easy': 964,
  'cheetah-run': 656,
  'finger-spin': 825,
  'cup-catch': 993,
  'walker-walk': 994,
});

/** Settings of {@link runMujocoStudy}. */
export interface MujocoStudySettings {
  /** Tasks to run, default PlaNet's six (`TASK_NAMES`). */
  tasks?: readonly TaskName[];
  /** Planners: `cem` (PlaNet's budget × `budget`) and/or `icem` (1/10 of that). Default both. */
  planners?: readonly ('cem' | 'icem')[];
  /** Episodes per (task, planner), an integer ≥ 1. */
  episodes: number;
  /** Integer seed (episode e of every task and planner uses the seeds of `runMujocoEpisodes`' episode e). */
  seed: number;
  /**
   * Control steps per episode, an integer in [1, 1000], default 1000 (the suite's episode): each task runs
   * max(1, ⌊controlSteps / R⌋) agent steps with its action repeat R, so returns are out of that many · R.
   */
  controlSteps?: number;
  /** Fraction of PlaNet's candidates and elites, in (0, 1], default 1 (the full budget). */
  budget?: number;
  /** Rollout worker threads, default one per core. */
  workers?: number;
  /** Records of episodes already run (a checkpoint): their (task, planner, episode) are skipped and kept in the result. */
  completed?: readonly MujocoEpisodeRecord[];
}

/** Callbacks of {@link runMujocoStudy}; each is optional. */
export interface MujocoStudyCallbacks {
  /** A line for people. */
  log?: (line: string) => void;
  /** After each agent step of a (task, planner, episode) being run. */
  onProgress?: (
    entry: { task: TaskName; planner: MujocoPlannerName; episode: number },
    step: number,
    steps: number,
  ) => void;
  /** After each new episode: persist the record to resume later. */
  onEpisode?: (record: MujocoEpisodeRecord) => void;
}

/** One row of the study's table: a (task, planner) pair. */
export interface MujocoStudyRow {
  task: TaskName;
  planner: 'cem' | 'icem';
  /** Episodes in the mean. */
  episodes: number;
  /** Agent steps per episode and the action repeat: returns are out of steps · actionRepeat control steps. */
  steps: number;
  actionRepeat: number;
  /** Mean and sample standard deviation of the returns (NaN without episodes; std NaN with one). */
  meanReturn: number;
  stdReturn: number;
  /** Mean return scaled to 1000 control steps, mean · 1000 / (steps · R): an extrapolation when episodes are shortened. */
  per1000: number;
  /** Candidates, elites, iterations and rollouts per agent step. */
  samples: number;
  elites: number;
  iterations: number;
  rolloutsPerStep: number;
  /** PlaNet's "CEM + true simulator" return for the task. */
  planet: number;
  /** Whether this row ran at less than PlaNet's setting (budget below the full one, or shortened episodes). */
  reduced: boolean;
}

/** What {@link runMujocoStudy} returns. */
export interface MujocoStudyResult {
  rows: MujocoStudyRow[];
  /** Every episode's record, the checkpointed ones included. */
  episodes: MujocoEpisodeRecord[];
  /** Physics steps per second of rollout wall time over the episodes run now. */
  stepsPerSecond: number;
  /** The planner's share of planning time outside the simulator, over the episodes run now. */
  outsideSimulator: number;
  /** Wall seconds of this call. */
  seconds: number;
}

const STUDY_KEYS = new Set([
  'tasks',
  'planners',
  'episodes',
  'seed',
  'controlSteps',
  'budget',
  'workers',
  'completed',
]);

/** The sizes of a study planner at a budget fraction: CEM at PlaNet's × budget, iCEM at a tenth of that rollout count. */
export function mujocoStudySizes(
  planner: 'cem' | 'icem',
  budget = 1,
): { horizon: number; samples: number; elites: number; iterations: number } {
  assertPositive('budget', budget);
  if (budget > 1) throw new RangeError(`budget must be in (0, 1], received ${describeValue(budget)}`);
  const samples = Math.max(2, Math.round(PLANET_BUDGET.samples * budget));
  const elites = Math.max(1, Math.min(samples - 1, Math.round(PLANET_BUDGET.elites * budget)));
  if (planner === 'cem')
    return { horizon: PLANET_BUDGET.horizon, samples, elites, iterations: PLANET_BUDGET.iterations };
  // iCEM: 3 iterations with decay γ = 1.25 draw N (1 + 0.8 + 0.64) = 2.44 N, plus the mean: N = target / 2.44.
  const target = (PLANET_BUDGET.samples * PLANET_BUDGET.iterations * budget) / 10;
  const n = Math.max(21, Math.round(target / 2.44));
  return { horizon: PLANET_BUDGET.horizon, samples: n, elites: 10, iterations: 3 };
}

/**
 * The MuJoCo study: model-predictive control with the true simulator on
 * PlaNet's tasks (Hafner et al., "Learning Latent Dynamics for Planning from
 * Pixels", ICML 2019, Table 1 "CEM + true simulator"), with CEM at PlaNet's
 * settings (horizon 12, 10 iterations, 1000 candidates, 100 elites, PlaNet's
 * action repeats) and the `icem` preset (Pinneri et al. 2020) at a tenth of
 * that rollout budget. Runs {@link runMujocoEpisodes} for each (task,
 * planner, episode) not in `settings.completed`, hands every new record to
 * `onEpisode` (persist it to resume) and returns the table: the mean return
 * per (task, planner) next to PlaNet's, with the reduced rows marked.
 *
 * @param settings See {@link MujocoStudySettings}.
 * @param callbacks Optional log, progress and checkpoint callbacks.
 * @returns The table's rows, the records, rollout throughput and the planner's overhead.
 * @example
 * ```ts
 * import { runMujocoStudy } from '@dcem/tasks/mujoco';
 * const saved: unknown[] = [];
 * const r = await runMujocoStudy(
 *   { tasks: ['cartpole-swingup'], planners: ['icem'], episodes: 1, seed: 0, controlSteps: 16, budget: 0.05 },
 *   { onEpisode: (record) => saved.push(record) },
 * );
 * console.log(r.rows[0]?.meanReturn, r.rows[0]?.planet); // … 850
 * ```
 */
export async function runMujocoStudy(
  settings: MujocoStudySettings,
  callbacks: MujocoStudyCallbacks = {},
): Promise<MujocoStudyResult> {
  const s = settings;
  assertObject('callbacks', callbacks);
  const jobs = mujocoStudyJobs(s);
  const completed = s.completed ?? [];
  if (!Array.isArray(completed)) {
    throw new TypeError(
      `settings.completed must be an array of episode records, received ${describeValue(completed)}`,
    );
  }
  assertOptionalFunctions(callbacks, ['log', 'onProgress', 'onEpisode'], 'callbacks.');
  const log = callbacks.log ?? (() => {});
  const start = Date.now();
  const all: MujocoEpisodeRecord[] = [];
  const fresh: MujocoEpisodeRecord[] = [];
  for (const { params: p } of jobs) {
    const done = completed.find(
      (r) =>
        r.task === p.task &&
        r.planner === p.planner &&
        r.episode === p.episode &&
        r.seed === p.seed &&
        r.steps === p.steps &&
        r.config.samples === p.samples &&
        r.config.iterations === p.iterations,
    );
    if (done !== undefined) {
      all.push(done);
      continue;
    }
    const record = await runMujocoEpisodeJob(p, {
      log,
      ...(s.workers !== undefined ? { workers: s.workers } : {}),
      onStep: (step, steps) =>
        callbacks.onProgress?.({ task: p.task, planner: p.planner, episode: p.episode }, step, steps),
    });
    all.push(record);
    fresh.push(record);
    callbacks.onEpisode?.(record);
  }
  return assembleMujocoStudy(s, all, fresh, (Date.now() - start) / 1000);
}

/**
 * The parameters of one episode of the MuJoCo study (a job of kind
 * `mujoco-episode`): the task, planner and sizes, the study's seed, the
 * episode's index (its seeds derive from it) and its agent steps.
 */
export interface MujocoEpisodeParams {
  task: TaskName;
  planner: MujocoPlannerName;
  episode: number;
  seed: number;
  steps: number;
  horizon: number;
  samples: number;
  elites: number;
  iterations: number;
}

const EPISODE_KEYS = [
  'task',
  'planner',
  'episode',
  'seed',
  'steps',
  'horizon',
  'samples',
  'elites',
  'iterations',
];

function checkEpisode(p: unknown): MujocoEpisodeParams {
  assertObject('params', p);
  assertKnownOptions('mujoco-episode parameter', p, EPISODE_KEYS);
  const e = p as unknown as MujocoEpisodeParams;
  if (!(TASK_NAMES as readonly string[]).includes(e.task)) {
    throw new RangeError(
      `params.task must be one of ${TASK_NAMES.join(', ')}, received ${describeValue(e.task)}`,
    );
  }
  if (!(MUJOCO_PLANNERS as readonly string[]).includes(e.planner)) {
    throw new RangeError(
      `params.planner must be one of ${MUJOCO_PLANNERS.join(', ')}, received ${describeValue(e.planner)}`,
    );
  }
  assertInteger('params.episode', e.episode, 0);
  assertInteger('params.seed', e.seed, Number.MIN_SAFE_INTEGER);
  assertInteger('params.steps', e.steps, 1);
  assertInteger('params.horizon', e.horizon, 1);
  assertInteger('params.samples', e.samples, 2);
  assertInteger('params.elites', e.elites, 1);
  assertInteger('params.iterations', e.iterations, 1);
  return { ...e };
}

/**
 * The jobs of the MuJoCo study, one per (task, planner, episode) in the
 * study's order: run them (here or on a queue), then
 * {@link assembleMujocoStudy} their records.
 *
 * @param settings See {@link MujocoStudySettings} (`completed` and `workers` do not matter here).
 * @param backend The tfjs backend the planner runs on (part of the ids), if any.
 * @returns The job specifications, of kind `mujoco-episode` ({@link MUJOCO_EPISODE_JOB}).
 * @example
 * ```ts
 * const specs = mujocoStudyJobs({ tasks: ['cartpole-swingup'], planners: ['icem'], episodes: 3, seed: 0 });
 * ```
 */
export function mujocoStudyJobs(
  settings: MujocoStudySettings,
  backend?: string,
): JobSpec<MujocoEpisodeParams>[] {
  const s = settings;
  assertObject('settings', s);
  assertKnownOptions('settings option', s, [...STUDY_KEYS]);
  const { tasks, planners, controlSteps, budget } = studySettings(s);
  const jobs: JobSpec<MujocoEpisodeParams>[] = [];
  for (const task of tasks) {
    const steps = Math.max(1, Math.floor(controlSteps / PLANET_ACTION_REPEAT[task]));
    for (const planner of planners) {
      const sizes = mujocoStudySizes(planner, budget);
      for (let episode = 0; episode < s.episodes; episode++) {
        jobs.push({
          kind: MUJOCO_EPISODE_JOB.kind,
          version: MUJOCO_EPISODE_JOB.version,
          ...(backend !== undefined ? { backend } : {}),
          params: { task, planner, episode, seed: s.seed, steps, ...sizes },
        });
      }
    }
  }
  return jobs;
}

/** The study's settings with defaults, checked. */
function studySettings(s: MujocoStudySettings) {
  const tasks: readonly TaskName[] = s.tasks ?? TASK_NAMES;
  const planners: readonly ('cem' | 'icem')[] = s.planners ?? (['cem', 'icem'] as const);
  if (!Array.isArray(tasks as unknown) || tasks.length === 0) {
    throw new TypeError(
      `settings.tasks must be a non-empty array of task names, received ${describeValue(tasks)}`,
    );
  }
  if (!Array.isArray(planners as unknown) || planners.length === 0) {
    throw new TypeError(`settings.planners must be a non-empty array, received ${describeValue(planners)}`);
  }
  tasks.forEach((t, i) => {
    if (!(TASK_NAMES as readonly string[]).includes(t)) {
      throw new RangeError(
        `settings.tasks[${i}] must be one of ${TASK_NAMES.join(', ')}, received ${describeValue(t)}`,
      );
    }
  });
  planners.forEach((p, i) => {
    if (p !== 'cem' && p !== 'icem') {
      throw new RangeError(`settings.planners[${i}] must be 'cem' or 'icem', received ${describeValue(p)}`);
    }
  });
  assertInteger('settings.episodes', s.episodes, 1);
  assertInteger('settings.seed', s.seed, Number.MIN_SAFE_INTEGER);
  const controlSteps = s.controlSteps ?? 1000;
  assertInteger('settings.controlSteps', controlSteps, 1);
  if (controlSteps > 1000)
    throw new RangeError(`settings.controlSteps must be ≤ 1000, received ${controlSteps}`);
  const budget = s.budget ?? 1;
  mujocoStudySizes('cem', budget);
  return { tasks, planners, controlSteps, budget };
}

/**
 * Runs one episode of the MuJoCo study ({@link runMujocoEpisodes} with one episode).
 *
 * @param params The episode ({@link mujocoStudyJobs} makes them).
 * @param options Rollout worker threads (never change the result), a log and a progress callback per agent step.
 * @returns The episode's record.
 * @example
 * ```ts
 * const [spec] = mujocoStudyJobs({ tasks: ['cartpole-swingup'], planners: ['icem'], episodes: 1, seed: 0,
 *   controlSteps: 16, budget: 0.05 });
 * const record = await runMujocoEpisodeJob(spec!.params);
 * ```
 */
export async function runMujocoEpisodeJob(
  params: MujocoEpisodeParams,
  options: {
    workers?: number;
    log?: (line: string) => void;
    onStep?: (step: number, steps: number) => void;
  } = {},
): Promise<MujocoEpisodeRecord> {
  const p = checkEpisode(params);
  const run = await runMujocoEpisodes(
    {
      env: p.task,
      planner: p.planner,
      episodes: 1,
      firstEpisode: p.episode,
      seed: p.seed,
      steps: p.steps,
      horizon: p.horizon,
      samples: p.samples,
      elites: p.elites,
      iterations: p.iterations,
      ...(options.workers !== undefined ? { workers: options.workers } : {}),
    },
    {
      ...(options.log !== undefined ? { log: options.log } : {}),
      onStep: (info) => {
        if (info.step >= 0) options.onStep?.(info.step + 1, info.steps);
      },
    },
  );
  return run.episodes[0] as MujocoEpisodeRecord;
}

/**
 * The job kind `mujoco-episode`: one episode of the MuJoCo study
 * ({@link runMujocoEpisodeJob}); its result is the episode's record. The
 * machine that runs it chooses the rollout threads (`context.workers`).
 */
export const MUJOCO_EPISODE_JOB: JobKind<MujocoEpisodeParams, MujocoEpisodeRecord> = Object.freeze({
  kind: 'mujoco-episode',
  version: 1,
  check: checkEpisode,
  describe: (p: MujocoEpisodeParams) => `${p.task} ${p.planner} #${p.episode}`,
  run: (p: MujocoEpisodeParams, context: JobContext) =>
    runMujocoEpisodeJob(p, {
      ...(context.workers !== undefined ? { workers: context.workers } : {}),
      ...(context.log !== undefined ? { log: context.log } : {}),
      onStep: (step, steps) => context.onProgress?.(step / steps),
    }),
});

/**
 * The MuJoCo study's result from its episodes' records: the table's rows
 * (one per (task, planner) of the settings, whatever records are missing),
 * rollout throughput over `fresh`.
 *
 * @param settings The study's settings.
 * @param records Every episode's record, in any order.
 * @param fresh The records run now (for the throughput; `records` when unknown).
 * @param seconds The wall time.
 * @returns What {@link runMujocoStudy} returns.
 * @example
 * ```ts
 * const records = await Promise.all(mujocoStudyJobs(settings).map((j) => runMujocoEpisodeJob(j.params)));
 * console.log(formatMujocoTable(assembleMujocoStudy(settings, records, records, 0)));
 * ```
 */
export function assembleMujocoStudy(
  settings: MujocoStudySettings,
  records: readonly MujocoEpisodeRecord[],
  fresh: readonly MujocoEpisodeRecord[],
  seconds: number,
): MujocoStudyResult {
  const { tasks, planners, controlSteps, budget } = studySettings(settings);
  const rows: MujocoStudyRow[] = [];
  for (const task of tasks) {
    for (const planner of planners) {
      const mine = records.filter((r) => r.task === task && r.planner === planner);
      const returns = mine.map((r) => r.return);
      const n = returns.length;
      const mean = n === 0 ? Number.NaN : returns.reduce((a, b) => a + b, 0) / n;
      const std = n < 2 ? Number.NaN : Math.sqrt(returns.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
      const sizes = mujocoStudySizes(planner, budget);
      const first = mine[0];
      const repeat = PLANET_ACTION_REPEAT[task];
      const steps = first?.steps ?? Math.max(1, Math.floor(controlSteps / repeat));
      rows.push({
        task,
        planner,
        episodes: n,
        steps,
        actionRepeat: repeat,
        meanReturn: mean,
        stdReturn: std,
        per1000: (mean * 1000) / (steps * repeat),
        samples: sizes.samples,
        elites: sizes.elites,
        iterations: sizes.iterations,
        rolloutsPerStep: first?.config.rolloutsPerStep ?? Number.NaN,
        planet: PLANET_TRUE_SIMULATOR[task],
        reduced: budget < 1 || steps * repeat < 1000,
      });
    }
  }
  const summary = summariseMujocoEpisodes([...fresh], 0);
  return {
    rows,
    episodes: [...records],
    stepsPerSecond: summary.stepsPerSecond,
    outsideSimulator: summary.outsideSimulator,
    seconds,
  };
}

/**
 * The study's table as Markdown: task, planner, setting, episodes, mean ±
 * std return, the return scaled to 1000 control steps, and PlaNet's.
 *
 * @param result What {@link runMujocoStudy} returned.
 * @returns Markdown text, one row per (task, planner).
 * @example
 * ```ts
 * console.log(formatMujocoTable(await runMujocoStudy({ episodes: 3, seed: 0 })));
 * ```
 */
export function formatMujocoTable(result: Pick<MujocoStudyResult, 'rows'>): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');
  const lines = [
    '| task | planner | N × iterations (rollouts/step) | episode (control steps) | episodes | return (mean ± std) | scaled to 1000 steps | PlaNet CEM + true sim. |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of result.rows) {
    lines.push(
      `| ${r.task} | ${r.planner}${r.reduced ? ' (reduced)' : ''} | ${r.samples} × ${r.iterations} (${r.rolloutsPerStep}) | ` +
        `${r.steps} × ${r.actionRepeat} = ${r.steps * r.actionRepeat} | ${r.episodes} | ${f(r.meanReturn)} ± ${f(r.stdReturn)} | ` +
        `${r.steps * r.actionRepeat < 1000 ? `${f(r.per1000)} (extrapolated)` : f(r.meanReturn)} | ${r.planet} |`,
    );
  }
  return lines.join('\n');
}
