/**
 * The settings of the online loop, with PlaNet's defaults in one frozen
 * table, and their validation.
 *
 * @module
 */
import { PRESET_NAMES, type PresetName, presets } from '@dcem/core';
import {
  assertFiniteNumber,
  assertInteger,
  assertKnownOptions,
  assertNonNegative,
  assertObject,
  assertOptions,
  assertPositive,
  describeValue,
} from '@dcem/errors';
import type { TaskName } from '@dcem/mujoco';
import { LATENT_SOLVER_DEFAULTS } from '../control/latent-planner.js';
import { mujocoPlannerConfig, PLANET_ACTION_REPEAT, PLANET_BUDGET } from '../mujoco/episodes.js';
import { TASK_NAMES } from '../mujoco/mujoco-peer.js';
import { PLANET_ADAM } from './adam.js';
import { PLANET_FREE_NATS } from './elbo.js';
import { PLANET_RSSM_SIZES } from './rssm.js';
import { PLANET_CLIP_NORM } from './train-step.js';

/** How latent states are drawn: `sample` (s = μ + σ ⊙ ε, PlaNet) or `mean` (s = μ). */
export type LatentMode = 'sample' | 'mean';

/**
 * A planner of `runPlanet`: a preset of `@dcem/core`, or `latent`: DCEM over
 * a learned latent action space z ∈ [−1, 1]^d, decoded to the H-step plan
 * (the DCEM paper's §5.2.2, step 2).
 */
export type PlanetPlannerName = PresetName | 'latent';

/** The planners `runPlanet` can plan with: every preset of `@dcem/core` (`PRESET_NAMES`; `cem` is PlaNet's CEM), then `latent`. */
export const PLANET_PLANNERS: readonly PlanetPlannerName[] = Object.freeze([
  ...PRESET_NAMES,
  'latent' as const,
]);

/**
 * The latent planner's decoder and its online training (phase 2 of the
 * DCEM paper's Alg. 3), as {@link PlanetSettings.latent} gives them.
 */
export interface PlanetLatentSettings {
  /** d, the latent size (the paper does not state it for locomotion; its cart-pole used 2). Default 2. */
  dim: number;
  /** The decoder's hidden widths (ELU), default [256, 256, 256] (the paper's cart-pole decoder). */
  hiddenSizes: readonly number[];
  /** Train the decoder online, one step after each model update (default true); false keeps it fixed. */
  train: boolean;
  /** The decoder's Adam learning rate (the paper's ablation: 1e-4 or 1e-5). Default 1e-4. */
  learningRate: number;
  /** The decoder's Adam ε, default 1e-8. */
  adamEpsilon: number;
  /** The decoder gradient's global norm is clipped to this, default 1 (the cart-pole study's). */
  clipNorm: number;
  /** Replay posterior states per decoder step, each a latent problem DCEM solves (default 8: this package's choice). */
  batchSize: number;
}

/** The defaults of {@link PlanetLatentSettings}. */
export const PLANET_LATENT_DEFAULTS: Readonly<PlanetLatentSettings> = Object.freeze({
  dim: 2,
  hiddenSizes: Object.freeze([256, 256, 256]),
  train: true,
  learningRate: 1e-4,
  adamEpsilon: 1e-8,
  clipNorm: 1,
  batchSize: 8,
});

/** The RSSM sizes a run may override (the observation and action sizes come from the task). */
export interface PlanetModelSizes {
  /** D, units of the GRU's deterministic state (PlaNet: 200). */
  deterministic: number;
  /** S, entries of the stochastic state (PlaNet: 30). */
  stochastic: number;
  /** Units of every hidden layer (PlaNet: 200). */
  hidden: number;
  /** σ_min added to softplus(ρ) in the prior and posterior (PlaNet: 0.1). */
  minStd: number;
}

/**
 * PlaNet's settings (Hafner et al., "Learning Latent Dynamics for Planning
 * from Pixels", ICML 2019, §3 and appendix A) as the online loop's
 * defaults: 5 seed episodes, C = 100 updates per collected episode,
 * batches of B = 50 sequences of L = 50 rows, free nats 3, Adam with
 * learning rate 1e-3 and ε 1e-4, gradient norm clipped at 1000,
 * exploration noise σ = 0.3, and CEM over horizon 12 with 10 iterations,
 * 1000 candidates and 100 elites ({@link PLANET_BUDGET}); the RSSM's
 * sizes D = 200, S = 30, hidden 200, σ_min = 0.1. Latent states are
 * sampled while filtering and imagining, as in PlaNet. `episodes` (100
 * collected episodes, seed episodes included: 100 000 control steps) and
 * `evaluateEvery` (0: no evaluation episodes) are this package's choices.
 */
export const PLANET_DEFAULTS = Object.freeze({
  seed: 0,
  episodes: 100,
  seedEpisodes: 5,
  updatesPerEpisode: 100,
  batchSize: 50,
  sequenceLength: 50,
  freeNats: PLANET_FREE_NATS,
  learningRate: PLANET_ADAM.learningRate,
  adamEpsilon: PLANET_ADAM.epsilon,
  clipNorm: PLANET_CLIP_NORM,
  explorationNoise: 0.3,
  planner: 'cem' as PlanetPlannerName,
  horizon: PLANET_BUDGET.horizon,
  imagination: 'sample' as LatentMode,
  filter: 'sample' as LatentMode,
  evaluateEvery: 0,
  model: PLANET_RSSM_SIZES as Readonly<PlanetModelSizes>,
});

/**
 * Settings of `runPlanet`. Only `env` is required; every other field
 * defaults to {@link PLANET_DEFAULTS} (PlaNet's values), so a tiny run
 * overrides the sizes it wants smaller.
 */
export interface PlanetSettings {
  /** The task (one of `TASK_NAMES` of `@dcem/mujoco`). */
  env: TaskName;
  /** Integer seed of every random draw (through `deriveSeed` and `TASK_SEED_STREAMS.planet*`). Default 0. */
  seed?: number;
  /** Episodes to collect in all, seed episodes included, an integer ≥ 1 (default 100). Raising it resumes a finished run. */
  episodes?: number;
  /** Seed episodes with uniform random actions, an integer ≥ 1 (default 5). */
  seedEpisodes?: number;
  /** C, model updates before each planner episode, an integer ≥ 0 (default 100). */
  updatesPerEpisode?: number;
  /** B, sequences per update (default 50). */
  batchSize?: number;
  /** L, rows per sequence (default 50); episodes need ≥ L rows (`steps` + 1 ≥ L). */
  sequenceLength?: number;
  /** Free nats of the KL term (default 3). */
  freeNats?: number;
  /** Adam's learning rate (default 1e-3). */
  learningRate?: number;
  /** Adam's ε (default 1e-4). */
  adamEpsilon?: number;
  /** The global gradient norm is clipped to this (default 1000). */
  clipNorm?: number;
  /** σ of the Gaussian noise added to the planner's action in training episodes, then clipped to [−1, 1] (default 0.3). */
  explorationNoise?: number;
  /**
   * The planner: a preset of `@dcem/core` (default `cem`, PlaNet's CEM), or
   * `latent` (DCEM over a learned latent action space; see `latent`).
   */
  planner?: PlanetPlannerName;
  /** H, planned actions per decision (default 12). */
  horizon?: number;
  /** Solver iterations per decision (default: 10 for `cem`, `dcem` and `latent`, the preset's otherwise). */
  iterations?: number;
  /** N, candidates per iteration (default: 1000 for `cem` and `dcem`, 100 for `latent`, the preset's otherwise). */
  samples?: number;
  /** k, elites per iteration, 1 ≤ k < N (default: 100 for `cem` and `dcem`, 10 for `latent`, the preset's otherwise). */
  elites?: number;
  /** Control steps per agent step (default PlaNet's for the task, `PLANET_ACTION_REPEAT`). */
  actionRepeat?: number;
  /** Agent steps per episode (default the full episode, 1000 / `actionRepeat`). */
  steps?: number;
  /** The RSSM's sizes (each defaults to PlaNet's). */
  model?: Partial<PlanetModelSizes>;
  /** Latent states of imagined rollouts: sampled from the prior (`sample`, PlaNet, default) or its mean. */
  imagination?: LatentMode;
  /** The posterior while acting: sampled (`sample`, PlaNet, default) or its mean. */
  filter?: LatentMode;
  /** An evaluation episode (planner without exploration noise) after every this many collected episodes; 0 (default): none. */
  evaluateEvery?: number;
  /** The latent planner's decoder and its online training (only with `planner: 'latent'`); each field defaults to {@link PLANET_LATENT_DEFAULTS}. */
  latent?: Partial<PlanetLatentSettings>;
}

/** The solver settings a run plans with (after defaults). */
export interface PlanetPlannerConfig {
  /** The preset, or `latent`. */
  planner: PlanetPlannerName;
  /** H. */
  horizon: number;
  /** N. */
  samples: number;
  /** k. */
  elites: number;
  /** Iterations per decision. */
  iterations: number;
  /** σ₀ of the actions. */
  initStd: number;
  /** Whether a decision starts from the previous plan shifted (false: from μ₀ = 0, as PlaNet's CEM). */
  warmStart: boolean;
  /** Candidate sequences imagined per decision (every iteration; population decay and the mean included). */
  rolloutsPerStep: number;
  /** The `solver` options given to `createPlanner` (for `latent`: to `planLatent`, over z). */
  solver: Readonly<Record<string, unknown>>;
}

/** {@link PlanetSettings} with every default filled in (plain data, saved in checkpoints). */
export interface ResolvedPlanetSettings {
  /** The task. */
  env: TaskName;
  /** Seed. */
  seed: number;
  /** Episodes to collect, seed episodes included. */
  episodes: number;
  /** Seed episodes. */
  seedEpisodes: number;
  /** C. */
  updatesPerEpisode: number;
  /** B. */
  batchSize: number;
  /** L. */
  sequenceLength: number;
  /** Free nats. */
  freeNats: number;
  /** Adam's learning rate. */
  learningRate: number;
  /** Adam's ε. */
  adamEpsilon: number;
  /** Gradient norm clip. */
  clipNorm: number;
  /** Exploration noise σ. */
  explorationNoise: number;
  /** Control steps per agent step. */
  actionRepeat: number;
  /** Agent steps per episode. */
  steps: number;
  /** The RSSM's sizes. */
  model: PlanetModelSizes;
  /** Imagined latent states. */
  imagination: LatentMode;
  /** Filtered latent states while acting. */
  filter: LatentMode;
  /** Evaluation episodes after every this many collected episodes (0: none). */
  evaluateEvery: number;
  /** The planner. */
  plan: PlanetPlannerConfig;
  /** The latent decoder and its training; present only when `plan.planner` is `latent`. */
  latent?: PlanetLatentSettings;
}

const SETTINGS_KEYS = [
  'env',
  'seed',
  'episodes',
  'seedEpisodes',
  'updatesPerEpisode',
  'batchSize',
  'sequenceLength',
  'freeNats',
  'learningRate',
  'adamEpsilon',
  'clipNorm',
  'explorationNoise',
  'planner',
  'horizon',
  'iterations',
  'samples',
  'elites',
  'actionRepeat',
  'steps',
  'model',
  'imagination',
  'filter',
  'evaluateEvery',
  'latent',
] as const;

const LATENT_KEYS = [
  'dim',
  'hiddenSizes',
  'train',
  'learningRate',
  'adamEpsilon',
  'clipNorm',
  'batchSize',
] as const;

function oneOf<T extends string>(name: string, value: unknown, valid: readonly T[]): T {
  if (typeof value !== 'string') {
    throw new TypeError(`${name} must be one of ${valid.join(', ')}, received ${describeValue(value)}`);
  }
  if (!(valid as readonly string[]).includes(value)) {
    throw new RangeError(`${name} must be one of ${valid.join(', ')}, received ${describeValue(value)}`);
  }
  return value as T;
}

/**
 * The solver settings of a preset at the given sizes: `latent` is the DCEM
 * paper's latent planner (DCEM over z ∈ [−1, 1]^d: 100 samples, 10 elites,
 * 10 iterations, τ = 1, H = 12, σ₀ = 0.5, normalised costs, tolerance 1e-4,
 * from μ₀ = 0 at every decision; `LATENT_SOLVER_DEFAULTS`), `cem` is PlaNet's CEM
 * (hard top-k, all iterations, 1000 candidates, 100 elites, 10 iterations,
 * σ₀ = 1, μ₀ = 0 at every decision), `dcem` the same budget with the `dcem`
 * preset's LML selector; the others their presets (σ₀: iCEM 0.5, MPPI 1,
 * TD-MPC2 2) with the shifted warm start (as `mujocoPlannerConfig` of
 * `@dcem/tasks/mujoco`). Sizes given override the preset's.
 *
 * @param planner A name of `PRESET_NAMES`.
 * @param sizes H, N, k and iterations to override.
 * @returns The configuration, `solver` included.
 * @example
 * ```ts
 * import { planetPlannerConfig } from '@dcem/tasks/planet';
 * const icem = planetPlannerConfig('icem', { samples: 100 }); // iCEM at a tenth of PlaNet's candidates
 * ```
 */
export function planetPlannerConfig(
  planner: PlanetPlannerName,
  sizes: { horizon?: number; samples?: number; elites?: number; iterations?: number } = {},
): PlanetPlannerConfig {
  oneOf('planner', planner, PLANET_PLANNERS);
  assertOptions('sizes', sizes, ['horizon', 'samples', 'elites', 'iterations']);
  const defined = Object.fromEntries(Object.entries(sizes).filter(([, v]) => v !== undefined));
  if (planner === 'latent') return latentPlannerConfig(defined);
  const { config, solver } = mujocoPlannerConfig(planner === 'dcem' ? 'cem' : planner, defined);
  const full: Record<string, unknown> =
    planner === 'dcem'
      ? { ...solver, temperature: presets.dcem.temperature, selector: presets.dcem.selector }
      : solver;
  return {
    planner,
    horizon: config.horizon,
    samples: config.samples,
    elites: config.elites,
    iterations: config.iterations,
    initStd: config.initStd,
    warmStart: config.warmStart,
    rolloutsPerStep: config.rolloutsPerStep,
    solver: Object.freeze(full),
  };
}

function latentPlannerConfig(sizes: {
  horizon?: number;
  samples?: number;
  elites?: number;
  iterations?: number;
}): PlanetPlannerConfig {
  const horizon = sizes.horizon ?? PLANET_BUDGET.horizon;
  assertInteger('horizon', horizon, 1);
  const samples = sizes.samples ?? (LATENT_SOLVER_DEFAULTS.numSamples as number);
  assertInteger('samples', samples, 2);
  const elites = sizes.elites ?? Math.min(LATENT_SOLVER_DEFAULTS.numElites as number, samples - 1);
  assertInteger('elites', elites, 1);
  if (elites >= samples) {
    throw new RangeError(`elites must be < samples = ${samples}, received ${elites}`);
  }
  const iterations = sizes.iterations ?? (LATENT_SOLVER_DEFAULTS.numIterations as number);
  assertInteger('iterations', iterations, 1);
  const solver = {
    ...LATENT_SOLVER_DEFAULTS,
    numSamples: samples,
    numElites: elites,
    numIterations: iterations,
  };
  return {
    planner: 'latent',
    horizon,
    samples,
    elites,
    iterations,
    initStd: solver.initStd as number,
    warmStart: false,
    // The iterations' candidates, and the decoded plan's cost at the end.
    rolloutsPerStep: samples * iterations + 1,
    solver: Object.freeze(solver),
  };
}

/**
 * Validates `settings.latent` (only given with `planner: 'latent'`) and fills
 * in {@link PLANET_LATENT_DEFAULTS}.
 */
function resolveLatent(value: unknown): PlanetLatentSettings {
  if (value === undefined)
    return { ...PLANET_LATENT_DEFAULTS, hiddenSizes: [...PLANET_LATENT_DEFAULTS.hiddenSizes] };
  assertObject('settings.latent', value);
  assertKnownOptions('settings.latent option', value, LATENT_KEYS);
  const given = Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
  const l = { ...PLANET_LATENT_DEFAULTS, ...given } as PlanetLatentSettings;
  assertInteger('settings.latent.dim', l.dim, 1);
  if (!Array.isArray(l.hiddenSizes)) {
    throw new TypeError(
      `settings.latent.hiddenSizes must be an array of integers ≥ 1, received ${describeValue(l.hiddenSizes)}`,
    );
  }
  l.hiddenSizes.forEach((h, i) => {
    assertInteger(`settings.latent.hiddenSizes[${i}]`, h, 1);
  });
  if (typeof l.train !== 'boolean') {
    throw new TypeError(`settings.latent.train must be a boolean, received ${describeValue(l.train)}`);
  }
  assertPositive('settings.latent.learningRate', l.learningRate);
  assertPositive('settings.latent.adamEpsilon', l.adamEpsilon);
  assertPositive('settings.latent.clipNorm', l.clipNorm);
  assertInteger('settings.latent.batchSize', l.batchSize, 1);
  return { ...l, hiddenSizes: [...l.hiddenSizes] };
}

/**
 * Validates `settings` and fills in the defaults of {@link PLANET_DEFAULTS}.
 * Unknown keys (in `settings` and `settings.model`) are `TypeError`s that
 * name the key and suggest the nearest valid one; a value of the wrong type
 * is a `TypeError` and one out of range a `RangeError`, each naming the
 * field and the value.
 *
 * @param settings See {@link PlanetSettings}.
 * @returns The settings with every default filled in.
 * @example
 * ```ts
 * import { resolvePlanetSettings } from '@dcem/tasks/planet';
 * const s = resolvePlanetSettings({ env: 'cheetah-run' });
 * // s.actionRepeat === 4, s.steps === 250, s.plan.samples === 1000
 * ```
 */
export function resolvePlanetSettings(settings: PlanetSettings): ResolvedPlanetSettings {
  assertObject('settings', settings);
  assertKnownOptions('settings option', settings, SETTINGS_KEYS);
  const s = settings;
  const env = oneOf('settings.env', s.env, TASK_NAMES);
  const d = PLANET_DEFAULTS;
  const int = (key: keyof PlanetSettings, fallback: number, min: number): number => {
    const v = s[key] ?? fallback;
    assertInteger(`settings.${key}`, v, min);
    return v as number;
  };
  const seed = int('seed', d.seed, Number.MIN_SAFE_INTEGER);
  if (!Number.isSafeInteger(seed))
    throw new RangeError(`settings.seed must be a safe integer, received ${seed}`);
  const seedEpisodes = int('seedEpisodes', d.seedEpisodes, 1);
  const episodes = int('episodes', d.episodes, 1);
  const updatesPerEpisode = int('updatesPerEpisode', d.updatesPerEpisode, 0);
  const batchSize = int('batchSize', d.batchSize, 1);
  const sequenceLength = int('sequenceLength', d.sequenceLength, 1);
  const actionRepeat = int('actionRepeat', PLANET_ACTION_REPEAT[env], 1);
  if (1000 % actionRepeat !== 0) {
    throw new RangeError(`settings.actionRepeat must divide 1000, received ${actionRepeat}`);
  }
  const maxSteps = 1000 / actionRepeat;
  const steps = int('steps', maxSteps, 1);
  if (steps > maxSteps) {
    throw new RangeError(`settings.steps must be ≤ ${maxSteps} (1000 / actionRepeat), received ${steps}`);
  }
  if (steps + 1 < sequenceLength) {
    throw new RangeError(
      `settings.sequenceLength must be ≤ steps + 1 = ${steps + 1} (an episode's rows), received ${sequenceLength}`,
    );
  }
  const num = (key: keyof PlanetSettings, fallback: number, check: (name: string, v: unknown) => void) => {
    const v = s[key] ?? fallback;
    check(`settings.${key}`, v);
    return v as number;
  };
  const freeNats = num('freeNats', d.freeNats, assertNonNegative);
  const learningRate = num('learningRate', d.learningRate, assertPositive);
  const adamEpsilon = num('adamEpsilon', d.adamEpsilon, assertPositive);
  const clipNorm = num('clipNorm', d.clipNorm, assertPositive);
  const explorationNoise = num('explorationNoise', d.explorationNoise, assertNonNegative);
  const evaluateEvery = int('evaluateEvery', d.evaluateEvery, 0);
  const planner = oneOf('settings.planner', s.planner ?? d.planner, PLANET_PLANNERS);
  if (planner !== 'latent' && s.latent !== undefined) {
    throw new TypeError(
      `settings.latent is taken only with planner "latent", received it with planner ${JSON.stringify(planner)}`,
    );
  }
  const latent = planner === 'latent' ? resolveLatent(s.latent) : undefined;
  const sizes: { horizon?: number; samples?: number; elites?: number; iterations?: number } = {};
  for (const key of ['horizon', 'samples', 'elites', 'iterations'] as const) {
    if (s[key] !== undefined) sizes[key] = int(key, 0, key === 'samples' ? 2 : 1);
  }
  const plan = planetPlannerConfig(planner, sizes);
  const imagination = oneOf('settings.imagination', s.imagination ?? d.imagination, [
    'sample',
    'mean',
  ] as const);
  const filter = oneOf('settings.filter', s.filter ?? d.filter, ['sample', 'mean'] as const);
  assertOptions('settings.model', s.model, ['deterministic', 'stochastic', 'hidden', 'minStd']);
  const m = {
    ...d.model,
    ...Object.fromEntries(Object.entries(s.model ?? {}).filter(([, v]) => v !== undefined)),
  };
  assertInteger('settings.model.deterministic', m.deterministic, 1);
  assertInteger('settings.model.stochastic', m.stochastic, 1);
  assertInteger('settings.model.hidden', m.hidden, 1);
  assertFiniteNumber('settings.model.minStd', m.minStd);
  assertNonNegative('settings.model.minStd', m.minStd);
  return {
    env,
    seed,
    episodes,
    seedEpisodes,
    updatesPerEpisode,
    batchSize,
    sequenceLength,
    freeNats,
    learningRate,
    adamEpsilon,
    clipNorm,
    explorationNoise,
    actionRepeat,
    steps,
    model: m,
    imagination,
    filter,
    evaluateEvery,
    plan,
    ...(latent === undefined ? {} : { latent }),
  };
}
