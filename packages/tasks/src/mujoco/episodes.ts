import { PRESET_NAMES, type PresetName } from '@dcem/core';
import {
  assertInteger,
  assertKnownOptions,
  assertObject,
  assertOptionalFunctions,
  assertPositive,
  describeValue,
} from '@dcem/errors';
import type { MujocoEnv, RolloutPool, TaskName } from '@dcem/mujoco';
import { createPlanner, deriveSeed, disposePlanResult, presets } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import { TASK_SEED_STREAMS } from '../seed-streams.js';
import { createRolloutPool, makeEnv, TASK_NAMES } from './mujoco-peer.js';

/** A name of {@link MUJOCO_PLANNERS}: a preset name other than `dcem`. */
export type MujocoPlannerName = Exclude<PresetName, 'dcem'>;

/**
 * The planners `runMujocoEpisodes` can run: the `PRESET_NAMES` of
 * `@dcem/core` (the presets of the same names) except `dcem`.
 */
export const MUJOCO_PLANNERS: readonly MujocoPlannerName[] = Object.freeze(
  PRESET_NAMES.filter((name): name is MujocoPlannerName => name !== 'dcem'),
);

/** PlaNet's action repeats (Hafner et al. 2019, Table 1's setup): control steps per planned action. */
export const PLANET_ACTION_REPEAT: Readonly<Record<TaskName, number>> = Object.freeze({
  'cartpole-swingup': 8,
  'reacher-easy': 4,
  'cheetah-run': 4,
  'finger-spin': 2,
  'cup-catch': 4,
  'walker-walk': 2,
});

/** PlaNet's planner budget (Hafner et al. 2019, §3): horizon 12, 10 iterations, 1000 candidates, 100 elites. */
export const PLANET_BUDGET = Object.freeze({ horizon: 12, iterations: 10, samples: 1000, elites: 100 });

/** Settings of {@link runMujocoEpisodes}; sizes left out take the planner's defaults. */
export interface MujocoEpisodeSettings {
  /** The task (one of `TASK_NAMES` of `@dcem/mujoco`). */
  env: TaskName;
  /** The planner, a name of {@link MUJOCO_PLANNERS}. */
  planner: MujocoPlannerName;
  /** Episodes to run, an integer ≥ 1. */
  episodes: number;
  /** Integer seed of the initial states (episode e: `deriveSeed(seed, TASK_SEED_STREAMS.mujocoInitialState, e)`) and of the planner's noise (`deriveSeed(seed, TASK_SEED_STREAMS.mujocoPlanner, e)`). */
  seed: number;
  /** Index of the first episode, an integer ≥ 0 (default 0): episodes `firstEpisode … firstEpisode + episodes − 1`, so a run can be split or resumed. */
  firstEpisode?: number;
  /** H, planned actions per step; default 12 (PlaNet). */
  horizon?: number;
  /** N, candidates per iteration; default: PlaNet's 1000 for `cem`, the preset's otherwise. */
  samples?: number;
  /** k, elites per iteration, 1 ≤ k < N; default: PlaNet's 100 for `cem`, the preset's otherwise. */
  elites?: number;
  /** Solver iterations per step; default: PlaNet's 10 for `cem`, the preset's otherwise. */
  iterations?: number;
  /** Control steps per action; default PlaNet's for the task ({@link PLANET_ACTION_REPEAT}). */
  actionRepeat?: number;
  /** Agent steps (planned actions applied) per episode, default the full episode, 1000 / actionRepeat. */
  steps?: number;
  /** Rollout worker threads, default one per core. */
  workers?: number;
}

/** The planner configuration an episode ran with (after defaults). */
export interface MujocoPlannerConfig {
  planner: MujocoPlannerName;
  horizon: number;
  samples: number;
  elites: number;
  iterations: number;
  /** σ₀ of the actions. */
  initStd: number;
  /** Whether a step starts from the previous plan shifted (false: from μ₀ = 0, as PlaNet's CEM). */
  warmStart: boolean;
  /**
   * Sequences the solver draws per agent step (all iterations, population decay and the mean included);
   * kept elites (iCEM) are simulated again after each shift, ⌊0.3 k⌋ more per warm step.
   */
  rolloutsPerStep: number;
}

/** One finished episode (plain numbers, JSON-safe). */
export interface MujocoEpisodeRecord {
  task: TaskName;
  planner: MujocoPlannerName;
  /** Episode index (its seeds derive from it). */
  episode: number;
  seed: number;
  actionRepeat: number;
  /** Agent steps run. */
  steps: number;
  /** Σ of the rewards (each control step's in [0, 1]): at most steps · actionRepeat. */
  return: number;
  /** Reward of each agent step. */
  rewards: number[];
  /** The action applied at each agent step, [steps][m] (replaying them from the episode's seed gives the same rewards). */
  actions: number[][];
  config: MujocoPlannerConfig;
  /** Rollout sequences whose simulation diverged (NaN returns, ranked last by the planner). */
  nonFinite: number;
  /** MuJoCo physics steps simulated by the planner's rollouts. */
  physicsSteps: number;
  /** Wall seconds of the episode. */
  seconds: number;
  /** Wall seconds inside `planAsync` (planning, rollouts included). */
  planSeconds: number;
  /** Of those, wall seconds awaiting `pool.rollout` (the simulator, as the planner sees it). */
  rolloutSeconds: number;
}

/** What {@link runMujocoEpisodes} returns. */
export interface MujocoEpisodesResult {
  episodes: MujocoEpisodeRecord[];
  /** Mean return over the episodes. */
  meanReturn: number;
  /** Physics steps per second of rollout wall time, over all episodes. */
  stepsPerSecond: number;
  /** (plan time − rollout time) / plan time: the planner's share of a step outside the simulator. */
  outsideSimulator: number;
  /** Wall seconds of the whole run (pool start included). */
  seconds: number;
}

/** Progress of one agent step, given to {@link MujocoEpisodeCallbacks.onStep}. */
export interface MujocoStepInfo {
  /** Episode index. */
  episode: number;
  /** Agent step within the episode, 0-based. */
  step: number;
  /** Agent steps per episode. */
  steps: number;
  /** This step's reward. */
  reward: number;
  /** Return so far in this episode. */
  return: number;
  /** The environment after the step (for rendering; do not step or dispose it). */
  env: MujocoEnv;
}

/** Callbacks of {@link runMujocoEpisodes}; each is optional. */
export interface MujocoEpisodeCallbacks {
  /** A line for people. */
  log?: (line: string) => void;
  /** After each agent step; also once per episode with step −1 right after reset (reward 0). */
  onStep?: (info: MujocoStepInfo) => void;
  /** After each episode, with its record (persist it to resume a study). */
  onEpisode?: (record: MujocoEpisodeRecord) => void;
}

const ENV_STREAM = TASK_SEED_STREAMS.mujocoInitialState;
const PLAN_STREAM = TASK_SEED_STREAMS.mujocoPlanner;
const SETTINGS_KEYS = new Set([
  'env',
  'planner',
  'episodes',
  'seed',
  'firstEpisode',
  'horizon',
  'samples',
  'elites',
  'iterations',
  'actionRepeat',
  'steps',
  'workers',
]);

/** Samples of iteration i under population decay γ: max(⌊N γ^(−i)⌋, minSamples) (the solver's rule). */
function decayedSamples(n: number, i: number, decay: number, minSamples: number): number {
  if (decay === 1) return n;
  return Math.max(Math.floor((n / decay ** i) * (1 + 1e-12)), minSamples);
}

function checkPlanner(name: string, value: unknown): MujocoPlannerName {
  if (typeof value !== 'string' || !(MUJOCO_PLANNERS as readonly string[]).includes(value)) {
    throw new RangeError(
      `${name} must be one of ${MUJOCO_PLANNERS.join(', ')}, received ${describeValue(value)}`,
    );
  }
  return value as MujocoPlannerName;
}

function checkTask(name: string, value: unknown): TaskName {
  if (typeof value !== 'string' || !(TASK_NAMES as readonly string[]).includes(value)) {
    throw new RangeError(`${name} must be one of ${TASK_NAMES.join(', ')}, received ${describeValue(value)}`);
  }
  return value as TaskName;
}

/**
 * The solver options and σ₀ of a planner at the given sizes: `cem` is
 * PlaNet's CEM (hard top-k, all iterations, σ₀ = 1, μ₀ = 0 at every step),
 * the others their `presets` with σ₀ from the preset's source (iCEM 0.5,
 * MPPI 1, TD-MPC2 2) and the shifted warm start.
 */
export function mujocoPlannerConfig(
  planner: MujocoPlannerName,
  sizes: { horizon?: number; samples?: number; elites?: number; iterations?: number } = {},
): { config: MujocoPlannerConfig; solver: Record<string, unknown> } {
  checkPlanner('planner', planner);
  const base: Record<string, unknown> =
    planner === 'cem'
      ? {
          ...presets.cem,
          numSamples: PLANET_BUDGET.samples,
          numElites: PLANET_BUDGET.elites,
          numIterations: PLANET_BUDGET.iterations,
          tolerance: 0,
        }
      : { ...presets[planner] };
  const horizon = sizes.horizon ?? PLANET_BUDGET.horizon;
  assertInteger('horizon', horizon, 1);
  const solver: Record<string, unknown> = {
    ...base,
    ...(sizes.samples !== undefined ? { numSamples: sizes.samples } : {}),
    ...(sizes.elites !== undefined ? { numElites: sizes.elites } : {}),
    ...(sizes.iterations !== undefined ? { numIterations: sizes.iterations } : {}),
  };
  const samples = solver.numSamples as number;
  const elites = solver.numElites as number;
  const iterations = solver.numIterations as number;
  assertInteger('samples', samples, 2);
  assertInteger('elites', elites, 1);
  assertInteger('iterations', iterations, 1);
  if (elites >= samples) throw new RangeError(`elites must be < samples (${samples}), received ${elites}`);
  const decay = (solver.populationDecay as number | undefined) ?? 1;
  const minSamples = (solver.minSamples as number | undefined) ?? 2 * elites;
  let rolloutsPerStep = 0;
  for (let i = 0; i < iterations; i++) rolloutsPerStep += decayedSamples(samples, i, decay, minSamples);
  if (solver.addMeanToLast === true) rolloutsPerStep += 1;
  const initStd = planner === 'icem' ? 0.5 : planner === 'tdmpc2' ? 2 : 1;
  return {
    config: {
      planner,
      horizon,
      samples,
      elites,
      iterations,
      initStd,
      warmStart: planner !== 'cem',
      rolloutsPerStep,
    },
    solver,
  };
}

/**
 * Model-predictive control on a MuJoCo task with the true simulator as the
 * model: at each agent step the planner (`createPlanner` of `@dcem/tfjs`,
 * `planAsync`) searches action sequences u ∈ [−1, 1]^{H×m}, and the cost of a
 * candidate is its negated return from the environment's current state,
 * c(u) = −Σ_{h<H} Σ_{r<R} reward, computed by `pool.rollout` on worker
 * threads (candidates [1, N, H, m] ↦ costs [1, N]). A diverged rollout's NaN
 * cost is counted and ranked last. The planner's action is applied with
 * action repeat R; an episode has `steps` agent steps (1000 / R by default,
 * the suite's 1000 control steps). Cartpole's and PlaNet's other settings:
 * Hafner et al., "Learning Latent Dynamics for Planning from Pixels", ICML
 * 2019 (Table 1, "CEM + true simulator").
 *
 * Episode e resets the environment with seed
 * `deriveSeed(seed, TASK_SEED_STREAMS.mujocoInitialState, e)` and plans with
 * seed `deriveSeed(seed, TASK_SEED_STREAMS.mujocoPlanner, e)`, so an episode's result does
 * not depend on which other episodes run. The rollout pool, the environment
 * and the planner are released on return and on errors. Needs a tfjs
 * backend; prints nothing.
 *
 * @param settings See {@link MujocoEpisodeSettings}.
 * @param callbacks Optional log, per-step and per-episode callbacks.
 * @returns The episodes' records, the mean return, rollout throughput and the planner's share of time outside the simulator.
 * @example
 * ```ts
 * import { runMujocoEpisodes } from '@dcem/tasks/mujoco';
 * const r = await runMujocoEpisodes({
 *   env: 'cartpole-swingup', planner: 'icem', episodes: 1, seed: 0, steps: 5, samples: 30, iterations: 2,
 * });
 * console.log(r.meanReturn, r.stepsPerSecond);
 * ```
 */
export async function runMujocoEpisodes(
  settings: MujocoEpisodeSettings,
  callbacks: MujocoEpisodeCallbacks = {},
): Promise<MujocoEpisodesResult> {
  const s = settings;
  assertObject('settings', s);
  assertObject('callbacks', callbacks);
  assertKnownOptions('settings option', s, [...SETTINGS_KEYS]);
  const task = checkTask('settings.env', s.env);
  const plannerName = checkPlanner('settings.planner', s.planner);
  assertInteger('settings.episodes', s.episodes, 1);
  assertInteger('settings.seed', s.seed, Number.MIN_SAFE_INTEGER);
  const firstEpisode = s.firstEpisode ?? 0;
  assertInteger('settings.firstEpisode', firstEpisode, 0);
  const actionRepeat = s.actionRepeat ?? PLANET_ACTION_REPEAT[task];
  assertInteger('settings.actionRepeat', actionRepeat, 1);
  if (1000 % actionRepeat !== 0) {
    throw new RangeError(`settings.actionRepeat must divide 1000, received ${actionRepeat}`);
  }
  const maxSteps = 1000 / actionRepeat;
  const steps = s.steps ?? maxSteps;
  assertInteger('settings.steps', steps, 1);
  if (steps > maxSteps) {
    throw new RangeError(`settings.steps must be ≤ ${maxSteps} (1000 / actionRepeat), received ${steps}`);
  }
  if (s.workers !== undefined) assertPositive('settings.workers', s.workers);
  assertOptionalFunctions(callbacks, ['log', 'onStep', 'onEpisode'], 'callbacks.');
  const sizes: { horizon?: number; samples?: number; elites?: number; iterations?: number } = {};
  for (const key of ['horizon', 'samples', 'elites', 'iterations'] as const) {
    const v = s[key];
    if (v !== undefined) {
      assertInteger(`settings.${key}`, v, key === 'samples' ? 2 : 1);
      sizes[key] = v;
    }
  }
  const { config, solver } = mujocoPlannerConfig(plannerName, sizes);
  const log = callbacks.log ?? (() => {});
  const start = Date.now();
  const records: MujocoEpisodeRecord[] = [];
  let pool: RolloutPool | undefined;
  try {
    pool = await createRolloutPool(task, {
      actionRepeat,
      ...(s.workers !== undefined ? { workers: s.workers } : {}),
    });
    log(
      `${task}, ${plannerName}: H = ${config.horizon}, N = ${config.samples}, k = ${config.elites}, ` +
        `${config.iterations} iterations (${config.rolloutsPerStep} rollouts per step), action repeat ${actionRepeat}, ` +
        `${steps} steps per episode, ${pool.workers} workers`,
    );
    for (let e = firstEpisode; e < firstEpisode + s.episodes; e++) {
      const record = await runEpisode(pool, task, e, s.seed, actionRepeat, steps, config, solver, callbacks);
      records.push(record);
      log(`episode ${e}: return ${record.return.toFixed(1)} in ${record.seconds.toFixed(1)} s`);
      callbacks.onEpisode?.(record);
    }
  } finally {
    await pool?.close();
  }
  return summarise(records, (Date.now() - start) / 1000);
}

function summarise(records: MujocoEpisodeRecord[], seconds: number): MujocoEpisodesResult {
  const sum = (f: (r: MujocoEpisodeRecord) => number) => records.reduce((a, r) => a + f(r), 0);
  const plan = sum((r) => r.planSeconds);
  const roll = sum((r) => r.rolloutSeconds);
  return {
    episodes: records,
    meanReturn: records.length === 0 ? Number.NaN : sum((r) => r.return) / records.length,
    stepsPerSecond: roll > 0 ? sum((r) => r.physicsSteps) / roll : Number.NaN,
    outsideSimulator: plan > 0 ? (plan - roll) / plan : Number.NaN,
    seconds,
  };
}

async function runEpisode(
  pool: RolloutPool,
  task: TaskName,
  episode: number,
  seed: number,
  actionRepeat: number,
  steps: number,
  config: MujocoPlannerConfig,
  solver: Record<string, unknown>,
  callbacks: MujocoEpisodeCallbacks,
): Promise<MujocoEpisodeRecord> {
  const begin = Date.now();
  const env = await makeEnv(task, { seed: deriveSeed(seed, ENV_STREAM, episode), actionRepeat });
  const statsBefore = pool.stats();
  let planner: ReturnType<typeof createPlanner> | undefined;
  try {
    env.reset();
    const m = env.actionDim;
    const H = config.horizon;
    planner = createPlanner({
      horizon: H,
      actionDim: m,
      lowerBound: -1,
      upperBound: 1,
      initMean: 0,
      initStd: config.initStd,
      solver: solver as never,
      seed: deriveSeed(seed, PLAN_STREAM, episode),
    });
    const rewards: number[] = [];
    const actions: number[][] = [];
    let total = 0;
    let nonFinite = 0;
    let planMs = 0;
    let rolloutMs = 0;
    callbacks.onStep?.({ episode, step: -1, steps, reward: 0, return: 0, env });
    for (let t = 0; t < steps; t++) {
      const state = env.getState();
      const cost = async (controls: tf.Tensor): Promise<tf.Tensor> => {
        const [batch, n] = controls.shape as [number, number];
        const data = (await controls.data()) as Float32Array;
        const r0 = Date.now();
        const returns = await (pool as RolloutPool).rollout([state], data, { horizon: H, actionDim: m });
        rolloutMs += Date.now() - r0;
        const costs = new Float32Array(returns.length);
        for (let i = 0; i < returns.length; i++) {
          const v = returns[i] as number;
          if (!Number.isFinite(v)) nonFinite++;
          costs[i] = -v;
        }
        return tf.tensor2d(costs, [batch, n]);
      };
      if (!config.warmStart) planner.reset();
      const p0 = Date.now();
      const result = await planner.planAsync(cost);
      planMs += Date.now() - p0;
      let action: Float32Array;
      try {
        action = result.action.dataSync() as Float32Array;
      } finally {
        disposePlanResult(result);
      }
      const { reward } = env.step(action);
      actions.push(Array.from(action));
      rewards.push(reward);
      total += reward;
      callbacks.onStep?.({ episode, step: t, steps, reward, return: total, env });
    }
    const statsAfter = pool.stats();
    return {
      task,
      planner: config.planner,
      episode,
      seed,
      actionRepeat,
      steps,
      return: total,
      rewards,
      actions,
      config,
      nonFinite,
      physicsSteps: statsAfter.physicsSteps - statsBefore.physicsSteps,
      seconds: (Date.now() - begin) / 1000,
      planSeconds: planMs / 1000,
      rolloutSeconds: rolloutMs / 1000,
    };
  } finally {
    planner?.dispose();
    env.dispose();
  }
}

export { summarise as summariseMujocoEpisodes };
