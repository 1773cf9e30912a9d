/// <reference types="node" />
/**
 * The DCEM paper's locomotion comparison (§5.2.2, its box plots): at one
 * world-model checkpoint, on the same initial states, full CEM, latent DCEM,
 * latent DCEM after PPO and iCEM at the latent budget, with percentile
 * bootstrap confidence intervals of the mean and the median return and of
 * the ratio to full CEM. Each (planner, episode) is one job
 * ({@link PLANET_EVAL_EPISODE_JOB}), so a comparison resumes and runs on
 * workers.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  assertFiniteNumber,
  assertInteger,
  assertKnownOptions,
  assertObject,
  assertOptionalFunctions,
  assertOptions,
  describeValue,
} from '@dcem/errors';
import type { TaskName } from '@dcem/mujoco';
import { deriveSeed } from '@dcem/tfjs';
import type { ActionDecoder } from '../control/latent-decoder.js';
import type { JobContext, JobKind, JobSpec } from '../jobs/jobs.js';
import { makeEnv } from '../mujoco/mujoco-peer.js';
import { TASK_SEED_STREAMS } from '../seed-streams.js';
import { loadPlanetCheckpoint, PLANET_LATEST_FILE, type PlanetCheckpoint } from './checkpoint.js';
import { createPlanetDecoder } from './latent.js';
import { createPlanetAgent } from './plan-in-model.js';
import { loadPlanetPpoCheckpoint, PLANET_PPO_LATEST_FILE, type PlanetPpoCheckpoint } from './ppo-planet.js';
import { PlanetRandom } from './random.js';
import { createRssm } from './rssm.js';
import { type PlanetPlannerConfig, planetPlannerConfig } from './settings.js';

// ---------------------------------------------------------------------------
// The bootstrap

/** Options of {@link bootstrapInterval}. */
export interface BootstrapOptions {
  /** B, the resamples (an integer ≥ 1), default 10000. */
  resamples?: number;
  /** The interval's coverage in (0, 1), default 0.95. */
  confidence?: number;
  /** Seed of the resampling, default 0. */
  seed?: number;
}

/** A statistic and its percentile bootstrap interval. */
export interface BootstrapInterval {
  /** The statistic on the sample itself. */
  estimate: number;
  /** The lower end: the (1 − confidence)/2 quantile of the resampled statistics. */
  low: number;
  /** The upper end: the (1 + confidence)/2 quantile of the resampled statistics. */
  high: number;
}

/**
 * The p-quantile of sorted values by linear interpolation between order
 * statistics (Hyndman and Fan's type 7, R's default):
 * x₍⌊h⌋₎ + (h − ⌊h⌋)(x₍⌊h⌋+1₎ − x₍⌊h⌋₎) with h = (n − 1)p, 0-based.
 *
 * @param sorted Values in ascending order (at least one).
 * @param p The probability, in [0, 1].
 * @returns The quantile.
 * @example
 * ```ts
 * quantile([1, 2, 3, 4], 0.5); // 2.5
 * ```
 */
export function quantile(sorted: ArrayLike<number>, p: number): number {
  if (sorted === null || typeof sorted !== 'object' || typeof sorted.length !== 'number') {
    throw new TypeError(`sorted must be an array of numbers, received ${describeValue(sorted)}`);
  }
  if (sorted.length === 0) throw new RangeError('sorted must hold at least one value, received none');
  assertFiniteNumber('p', p);
  if (p < 0 || p > 1) throw new RangeError(`p must be in [0, 1], received ${p}`);
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const a = sorted[lo] as number;
  if (lo + 1 >= sorted.length) return a;
  return a + (h - lo) * ((sorted[lo + 1] as number) - a);
}

/**
 * The median (the 0.5 {@link quantile}: the middle value, or the mean of the two middle ones).
 *
 * @param values At least one number.
 * @returns The median.
 * @example
 * ```ts
 * median([3, 1, 2, 10]); // 2.5
 * ```
 */
export function median(values: readonly number[]): number {
  return quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

/** The arithmetic mean (NaN for no values). */
function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * The percentile bootstrap (Efron): B resamples of n indices drawn
 * uniformly with replacement from a seeded generator, the statistic of each,
 * and the (1 ∓ confidence)/2 {@link quantile}s of those B values. The
 * statistic sees indices, so paired statistics (a ratio of two planners'
 * means over the same episodes) resample pairs together.
 *
 * @param n The sample size, an integer ≥ 1.
 * @param statistic The statistic of the resample given by `indices` (each in [0, n)); called B + 1 times
 *   (first with the identity, for the estimate).
 * @param options See {@link BootstrapOptions}.
 * @returns The estimate and the interval.
 * @example
 * ```ts
 * const x = [3, 5, 4, 8, 6];
 * const ci = bootstrapInterval(x.length, (idx) => idx.reduce((a, i) => a + x[i]!, 0) / idx.length, { seed: 1 });
 * ```
 */
export function bootstrapInterval(
  n: number,
  statistic: (indices: readonly number[]) => number,
  options: BootstrapOptions = {},
): BootstrapInterval {
  assertInteger('n', n, 1);
  if (typeof statistic !== 'function') {
    throw new TypeError(`statistic must be a function, received ${describeValue(statistic)}`);
  }
  assertOptions('bootstrap options', options, ['resamples', 'confidence', 'seed']);
  const resamples = options.resamples ?? 10000;
  const confidence = options.confidence ?? 0.95;
  const seed = options.seed ?? 0;
  assertInteger('options.resamples', resamples, 1);
  assertFiniteNumber('options.confidence', confidence);
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(`options.confidence must be in (0, 1), received ${confidence}`);
  }
  assertInteger('options.seed', seed, Number.MIN_SAFE_INTEGER);
  const identity = Array.from({ length: n }, (_, i) => i);
  const estimate = statistic(identity);
  const random = new PlanetRandom(seed);
  const values = new Float64Array(resamples);
  const indices = new Array<number>(n);
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < n; i++) indices[i] = random.below(n);
    values[b] = statistic(indices);
  }
  values.sort();
  const alpha = (1 - confidence) / 2;
  return { estimate, low: quantile(values, alpha), high: quantile(values, 1 - alpha) };
}

// ---------------------------------------------------------------------------
// The planners and one evaluation episode

/**
 * The comparison's planners: `full-cem` (PlaNet's CEM, 1000 candidates,
 * 100 elites, 10 iterations), `latent` (DCEM over the checkpoint's learned
 * latent action space, 100/10), `latent-ppo` (the same after PPO
 * fine-tuning: the PPO checkpoint's decoder and reward module) and `icem`
 * (the `icem` preset at the latent budget).
 */
export type PlanetComparePlanner = 'full-cem' | 'latent' | 'latent-ppo' | 'icem';

/** Every {@link PlanetComparePlanner}, in the comparison's order. */
export const PLANET_COMPARE_PLANNERS: readonly PlanetComparePlanner[] = Object.freeze([
  'full-cem',
  'latent',
  'latent-ppo',
  'icem',
]);

/** Candidates, elites and iterations per decision. */
export interface PlanetCompareBudget {
  /** N. */
  samples: number;
  /** k. */
  elites: number;
  /** Iterations per decision. */
  iterations: number;
}

/** The paper's budgets: full CEM 1000/100, the latent planners (and iCEM) 100/10; 10 iterations each. */
export const PLANET_COMPARE_BUDGETS: Readonly<{
  full: Readonly<PlanetCompareBudget>;
  latent: Readonly<PlanetCompareBudget>;
}> = Object.freeze({
  full: Object.freeze({ samples: 1000, elites: 100, iterations: 10 }),
  latent: Object.freeze({ samples: 100, elites: 10, iterations: 10 }),
});

/** The parameters of one evaluation episode ({@link PLANET_EVAL_EPISODE_JOB}). */
export interface PlanetEvalEpisodeParams {
  /** The world-model run's folder (`runPlanet`'s `out`). */
  checkpoint: string;
  /** Collected episodes of that checkpoint (a guard: the folder must still hold the same checkpoint). */
  checkpointEpisodes: number;
  /** With `latent-ppo`: the PPO run's folder (`runPlanetPpo`'s `out`). */
  ppo?: string;
  /** With `latent-ppo`: PPO steps of that checkpoint (the same guard). */
  ppoIterations?: number;
  /** The planner. */
  planner: PlanetComparePlanner;
  /** The episode's index: its initial state and seeds (shared by every planner). */
  episode: number;
  /** The comparison's seed. */
  seed: number;
  /** Agent steps. */
  steps: number;
  /** N. */
  samples: number;
  /** k. */
  elites: number;
  /** Iterations per decision. */
  iterations: number;
}

/** One evaluation episode's result (plain JSON). */
export interface PlanetEvalRecord {
  /** The planner. */
  planner: PlanetComparePlanner;
  /** The episode's index. */
  episode: number;
  /** The environment's seed (`makeEnv(env, { seed, actionRepeat })`, then `reset()`): the same for every planner. */
  envSeed: number;
  /** Σ of the true rewards. */
  return: number;
  /** Agent steps taken (fewer than asked when the simulation diverged). */
  steps: number;
  /** Wall seconds stepping the environment. */
  environmentSeconds: number;
  /** Wall seconds filtering and planning in the model. */
  planningSeconds: number;
}

const EPISODE_KEYS = [
  'checkpoint',
  'checkpointEpisodes',
  'ppo',
  'ppoIterations',
  'planner',
  'episode',
  'seed',
  'steps',
  'samples',
  'elites',
  'iterations',
];

function checkPlanner(name: string, value: unknown): PlanetComparePlanner {
  if (!(PLANET_COMPARE_PLANNERS as readonly unknown[]).includes(value)) {
    throw new RangeError(
      `${name} must be one of ${PLANET_COMPARE_PLANNERS.join(', ')}, received ${describeValue(value)}`,
    );
  }
  return value as PlanetComparePlanner;
}

function checkEpisodeParams(params: unknown): PlanetEvalEpisodeParams {
  assertObject('params', params);
  assertKnownOptions('params option', params, EPISODE_KEYS);
  const p = params as unknown as PlanetEvalEpisodeParams;
  if (typeof p.checkpoint !== 'string' || p.checkpoint === '') {
    throw new TypeError(`params.checkpoint must be a folder path, received ${describeValue(p.checkpoint)}`);
  }
  assertInteger('params.checkpointEpisodes', p.checkpointEpisodes, 0);
  checkPlanner('params.planner', p.planner);
  if (p.planner === 'latent-ppo') {
    if (typeof p.ppo !== 'string' || p.ppo === '') {
      throw new TypeError(
        `params.ppo must be the PPO run's folder with planner latent-ppo, received ${describeValue(p.ppo)}`,
      );
    }
    assertInteger('params.ppoIterations', p.ppoIterations, 0);
  } else if (p.ppo !== undefined || p.ppoIterations !== undefined) {
    throw new TypeError(`params.ppo is taken only with planner latent-ppo, received it with ${p.planner}`);
  }
  assertInteger('params.episode', p.episode, 0);
  assertInteger('params.seed', p.seed, Number.MIN_SAFE_INTEGER);
  assertInteger('params.steps', p.steps, 1);
  assertInteger('params.samples', p.samples, 2);
  assertInteger('params.elites', p.elites, 1);
  assertInteger('params.iterations', p.iterations, 1);
  if (p.elites >= p.samples) {
    throw new RangeError(`params.elites must be < params.samples = ${p.samples}, received ${p.elites}`);
  }
  return { ...p };
}

/** The last checkpoint read, keyed by its folder and the pointer file's text (episodes of a study share it). */
let cached: { key: string; value: unknown } | undefined;

function readCached<T>(dir: string, latest: string, load: (dir: string) => T | undefined): T | undefined {
  const pointer = join(dir, latest);
  if (!existsSync(pointer)) return undefined;
  const key = `${latest}\n${dir}\n${readFileSync(pointer, 'utf8')}`;
  if (cached?.key === key) return cached.value as T;
  const value = load(dir);
  cached = { key, value };
  return value;
}

/**
 * The world-model checkpoint of a folder, checked for the comparison.
 *
 * @throws Error when the folder holds none.
 */
function worldModel(dir: string): PlanetCheckpoint {
  const c = readCached(dir, PLANET_LATEST_FILE, loadPlanetCheckpoint);
  if (c === undefined) {
    throw new Error(`${dir} holds no world-model checkpoint (runPlanet with out: ${JSON.stringify(dir)})`);
  }
  return c;
}

function ppoRun(dir: string): PlanetPpoCheckpoint {
  const c = readCached(dir, PLANET_PPO_LATEST_FILE, loadPlanetPpoCheckpoint);
  if (c === undefined) {
    throw new Error(`${dir} holds no PPO checkpoint (runPlanetPpo with out: ${JSON.stringify(dir)})`);
  }
  return c;
}

/** The PPO checkpoint must fine-tune the same world model (same task, sizes, variables). */
function checkPpoMatches(ppo: PlanetPpoCheckpoint, base: PlanetCheckpoint, dir: string): void {
  const a = ppo.base;
  const b = base.settings;
  const same =
    a.env === b.env &&
    a.seed === b.seed &&
    JSON.stringify(a.model) === JSON.stringify(b.model) &&
    JSON.stringify(a.latent) === JSON.stringify(b.latent) &&
    a.plan.horizon === b.plan.horizon &&
    ppo.model.names.length === base.weights.names.length &&
    ppo.model.names.every((n, i) => n === base.weights.names[i]);
  if (!same) {
    throw new Error(
      `the PPO checkpoint in ${dir} fine-tunes another world model than the checkpoint compared ` +
        `(task, seed, model sizes, latent settings or horizon differ)`,
    );
  }
}

/** The planner configuration of a planner at a budget, with the checkpoint's horizon. */
function plannerConfig(
  planner: PlanetComparePlanner,
  horizon: number,
  budget: PlanetCompareBudget,
): PlanetPlannerConfig {
  const sizes = { horizon, samples: budget.samples, elites: budget.elites, iterations: budget.iterations };
  if (planner === 'full-cem') return planetPlannerConfig('cem', sizes);
  if (planner === 'icem') return planetPlannerConfig('icem', sizes);
  return planetPlannerConfig('latent', sizes);
}

/**
 * The seeds of comparison episode `episode`: from
 * `base = deriveSeed(seed, TASK_SEED_STREAMS.planetCompare, episode)`, the
 * environment's reset `deriveSeed(base, planetInitialState, 0)`, the
 * planner's `deriveSeed(base, planetPlanner, 0)` and the filter's
 * `deriveSeed(base, planetFilter, 0)`; none depends on the planner.
 */
function episodeSeeds(seed: number, episode: number) {
  const base = deriveSeed(seed, TASK_SEED_STREAMS.planetCompare, episode);
  return {
    envSeed: deriveSeed(base, TASK_SEED_STREAMS.planetInitialState, 0),
    plannerSeed: deriveSeed(base, TASK_SEED_STREAMS.planetPlanner, 0),
    filterSeed: deriveSeed(base, TASK_SEED_STREAMS.planetFilter, 0),
  };
}

/**
 * Runs one evaluation episode of the comparison: the world model (and
 * decoder) of the checkpoint, or of the PPO checkpoint for `latent-ppo`,
 * filters the real observations and plans every step (no exploration
 * noise), from the episode's initial state, which every planner shares.
 * Tensors are released on return and on errors; prints nothing.
 *
 * @param params The episode ({@link planetComparisonJobs} makes them).
 * @param options A callback per agent step (`step` from 1).
 * @returns The episode's record.
 * @throws Error when a folder holds no checkpoint or another checkpoint than the params name.
 * @example
 * ```ts
 * const [spec] = planetComparisonJobs({ episodes: 1, planners: ['latent'] }, { checkpoint: 'out/planet-latent' });
 * const record = await runPlanetEvalEpisode(spec!.params);
 * ```
 */
export async function runPlanetEvalEpisode(
  params: PlanetEvalEpisodeParams,
  options: { onStep?: (step: number, steps: number, total: number) => void } = {},
): Promise<PlanetEvalRecord> {
  const p = checkEpisodeParams(params);
  assertOptions('options', options, ['onStep']);
  assertOptionalFunctions(options, ['onStep'], 'options.');
  const base = worldModel(p.checkpoint);
  if (base.counters.episodes !== p.checkpointEpisodes) {
    throw new Error(
      `${p.checkpoint} now holds a checkpoint after ${base.counters.episodes} episodes, not ${p.checkpointEpisodes} (the comparison's); ` +
        'compare into another folder',
    );
  }
  const s = base.settings;
  let weights = base.weights.values;
  let decoderWeights = base.decoder?.weights;
  if (p.planner === 'latent-ppo') {
    const ppo = ppoRun(p.ppo as string);
    if (ppo.counters.iterations !== p.ppoIterations) {
      throw new Error(
        `${p.ppo} now holds a PPO checkpoint after ${ppo.counters.iterations} steps, not ${p.ppoIterations}; compare into another folder`,
      );
    }
    checkPpoMatches(ppo, base, p.ppo as string);
    weights = ppo.model.values;
    decoderWeights = ppo.decoder;
  }
  const latent = p.planner === 'latent' || p.planner === 'latent-ppo';
  if (latent && (s.latent === undefined || decoderWeights === undefined)) {
    throw new Error(
      `planner ${p.planner} needs a latent action decoder, and ${p.checkpoint} is a run without one ` +
        `(planner ${JSON.stringify(s.plan.planner)}; run dcem planet --planner latent)`,
    );
  }
  const plan = plannerConfig(p.planner, s.plan.horizon, p);
  const seeds = episodeSeeds(p.seed, p.episode);
  const now = () => performance.now() / 1000;
  let environmentSeconds = 0;
  let planningSeconds = 0;
  let t0 = now();
  const env = await makeEnv(s.env as TaskName, { seed: seeds.envSeed, actionRepeat: s.actionRepeat });
  environmentSeconds += now() - t0;
  const model = createRssm(
    { observationSize: env.observationSize, actionSize: env.actionDim, ...s.model },
    s.seed,
  );
  let decoder: ActionDecoder | undefined;
  let agent: ReturnType<typeof createPlanetAgent> | undefined;
  try {
    model.setWeights(weights);
    if (latent) {
      decoder = createPlanetDecoder(model, s.plan.horizon, s.latent as NonNullable<typeof s.latent>, 0);
      decoder.setWeights(decoderWeights as Float32Array[]);
    }
    agent = createPlanetAgent(model, {
      plan,
      plannerSeed: seeds.plannerSeed,
      filterSeed: seeds.filterSeed,
      imagination: s.imagination,
      filter: s.filter,
      ...(decoder === undefined ? {} : { decoder }),
    });
    const A = env.actionDim;
    t0 = now();
    const first = env.reset();
    environmentSeconds += now() - t0;
    t0 = now();
    agent.observe(new Float32Array(A), first);
    planningSeconds += now() - t0;
    let total = 0;
    let steps = 0;
    for (let t = 0; t < p.steps; t++) {
      t0 = now();
      const action = agent.act();
      planningSeconds += now() - t0;
      t0 = now();
      const result = env.step(action);
      environmentSeconds += now() - t0;
      if (result.diverged || !Number.isFinite(result.reward) || !result.observation.every(Number.isFinite))
        break;
      total += result.reward;
      steps++;
      if (t + 1 < p.steps) {
        t0 = now();
        agent.observe(action, result.observation);
        planningSeconds += now() - t0;
      }
      options.onStep?.(t + 1, p.steps, total);
    }
    return {
      planner: p.planner,
      episode: p.episode,
      envSeed: seeds.envSeed,
      return: total,
      steps,
      environmentSeconds,
      planningSeconds,
    };
  } finally {
    agent?.dispose();
    decoder?.dispose();
    model.dispose();
    env.dispose();
  }
}

/**
 * The job kind `planet-eval-episode`: one episode of a planner comparison
 * ({@link runPlanetEvalEpisode}); its result is the episode's record. The
 * checkpoint folders must be readable where the job runs (a shared disk for
 * `dcem worker`s on other machines).
 */
export const PLANET_EVAL_EPISODE_JOB: JobKind<PlanetEvalEpisodeParams, PlanetEvalRecord> = Object.freeze({
  kind: 'planet-eval-episode',
  version: 1,
  check: checkEpisodeParams,
  describe: (p: PlanetEvalEpisodeParams) => `${p.planner} #${p.episode}`,
  run: (p: PlanetEvalEpisodeParams, context: JobContext) =>
    runPlanetEvalEpisode(p, { onStep: (step, steps) => context.onProgress?.(step / steps) }),
});

// ---------------------------------------------------------------------------
// The comparison

/** Settings of a comparison ({@link planetComparisonJobs}, {@link runPlanetComparison}). */
export interface PlanetComparisonSettings {
  /** Evaluation episodes per planner, an integer ≥ 1 (the paper: 100). */
  episodes: number;
  /** Seed of the initial states and the planners' noise, default 0. */
  seed?: number;
  /** The planners, default all of {@link PLANET_COMPARE_PLANNERS} (`latent-ppo` only with a PPO checkpoint). */
  planners?: readonly PlanetComparePlanner[];
  /** Agent steps per episode, default the checkpoint's. */
  steps?: number;
  /** Full CEM's budget; each field defaults to {@link PLANET_COMPARE_BUDGETS}`.full`. */
  full?: Partial<PlanetCompareBudget>;
  /** The latent planners' budget, also iCEM's; each field defaults to {@link PLANET_COMPARE_BUDGETS}`.latent`. */
  latent?: Partial<PlanetCompareBudget>;
  /** B, bootstrap resamples, default 10000. */
  resamples?: number;
  /** The intervals' coverage, default 0.95. */
  confidence?: number;
}

/** The checkpoints compared: folders. */
export interface PlanetComparisonSources {
  /** A `runPlanet` run's folder (its latest checkpoint). */
  checkpoint: string;
  /** A `runPlanetPpo` run's folder, fine-tuned from that checkpoint: adds `latent-ppo`. */
  ppo?: string;
}

/** {@link PlanetComparisonSettings} with every default filled in. */
export interface ResolvedPlanetComparisonSettings {
  /** Episodes per planner. */
  episodes: number;
  /** Seed. */
  seed: number;
  /** The planners, in order. */
  planners: PlanetComparePlanner[];
  /** Agent steps per episode. */
  steps: number;
  /** Full CEM's budget. */
  full: PlanetCompareBudget;
  /** The latent planners' and iCEM's budget. */
  latent: PlanetCompareBudget;
  /** B. */
  resamples: number;
  /** Coverage. */
  confidence: number;
  /** The task. */
  env: string;
  /** H (the checkpoint's). */
  horizon: number;
  /** Control steps per agent step. */
  actionRepeat: number;
}

const SETTINGS_KEYS = ['episodes', 'seed', 'planners', 'steps', 'full', 'latent', 'resamples', 'confidence'];

function budget(name: string, value: unknown, defaults: PlanetCompareBudget): PlanetCompareBudget {
  if (value === undefined) return { ...defaults };
  assertObject(name, value);
  assertKnownOptions(`${name} option`, value, ['samples', 'elites', 'iterations']);
  const given = Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
  const b = { ...defaults, ...given } as PlanetCompareBudget;
  assertInteger(`${name}.samples`, b.samples, 2);
  assertInteger(`${name}.elites`, b.elites, 1);
  assertInteger(`${name}.iterations`, b.iterations, 1);
  if (b.elites >= b.samples) {
    throw new RangeError(`${name}.elites must be < ${name}.samples = ${b.samples}, received ${b.elites}`);
  }
  return b;
}

/**
 * Checks a comparison's settings against its checkpoints and fills in the defaults.
 *
 * @param settings See {@link PlanetComparisonSettings}.
 * @param sources The checkpoint folders.
 * @returns The settings with defaults.
 * @throws TypeError / RangeError for bad settings or an unknown planner; Error when a folder holds no
 *   checkpoint, when a latent planner is asked of a run without a decoder, when `latent-ppo` is asked
 *   without a PPO checkpoint, or when the PPO checkpoint fine-tunes another model.
 * @example
 * ```ts
 * const s = resolvePlanetComparison({ episodes: 10 }, { checkpoint: 'out/planet-latent', ppo: 'out/planet-ppo' });
 * ```
 */
export function resolvePlanetComparison(
  settings: PlanetComparisonSettings,
  sources: PlanetComparisonSources,
): ResolvedPlanetComparisonSettings {
  assertObject('settings', settings);
  assertKnownOptions('settings option', settings, SETTINGS_KEYS);
  assertObject('sources', sources);
  assertOptions('sources', sources, ['checkpoint', 'ppo']);
  if (typeof sources.checkpoint !== 'string' || sources.checkpoint === '') {
    throw new TypeError(
      `sources.checkpoint must be a folder path, received ${describeValue(sources.checkpoint)}`,
    );
  }
  if (sources.ppo !== undefined && (typeof sources.ppo !== 'string' || sources.ppo === '')) {
    throw new TypeError(`sources.ppo must be a folder path, received ${describeValue(sources.ppo)}`);
  }
  assertInteger('settings.episodes', settings.episodes, 1);
  const seed = settings.seed ?? 0;
  assertInteger('settings.seed', seed, Number.MIN_SAFE_INTEGER);
  const base = worldModel(sources.checkpoint);
  const hasDecoder = base.settings.latent !== undefined && base.decoder !== undefined;
  let planners: PlanetComparePlanner[];
  if (settings.planners === undefined) {
    planners = PLANET_COMPARE_PLANNERS.filter(
      (p) =>
        (p !== 'latent-ppo' || sources.ppo !== undefined) &&
        (hasDecoder || (p !== 'latent' && p !== 'latent-ppo')),
    );
  } else {
    if (!Array.isArray(settings.planners) || settings.planners.length === 0) {
      throw new TypeError(
        `settings.planners must be a non-empty array of planner names, received ${describeValue(settings.planners)}`,
      );
    }
    planners = settings.planners.map((p, i) => checkPlanner(`settings.planners[${i}]`, p));
    const dup = planners.find((p, i) => planners.indexOf(p) !== i);
    if (dup !== undefined) throw new RangeError(`settings.planners names ${dup} twice`);
  }
  for (const p of planners) {
    if ((p === 'latent' || p === 'latent-ppo') && !hasDecoder) {
      throw new Error(
        `planner ${p} needs a latent action decoder, and ${sources.checkpoint} is a run without one ` +
          `(planner ${JSON.stringify(base.settings.plan.planner)}; run dcem planet --planner latent)`,
      );
    }
  }
  if (planners.includes('latent-ppo') && sources.ppo === undefined) {
    throw new Error('planner latent-ppo needs a PPO checkpoint (sources.ppo: a runPlanetPpo folder)');
  }
  if (sources.ppo !== undefined) checkPpoMatches(ppoRun(sources.ppo), base, sources.ppo);
  const steps = settings.steps ?? base.settings.steps;
  assertInteger('settings.steps', steps, 1);
  const resamples = settings.resamples ?? 10000;
  assertInteger('settings.resamples', resamples, 1);
  const confidence = settings.confidence ?? 0.95;
  assertFiniteNumber('settings.confidence', confidence);
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(`settings.confidence must be in (0, 1), received ${confidence}`);
  }
  return {
    episodes: settings.episodes,
    seed,
    planners,
    steps,
    full: budget('settings.full', settings.full, PLANET_COMPARE_BUDGETS.full),
    latent: budget('settings.latent', settings.latent, PLANET_COMPARE_BUDGETS.latent),
    resamples,
    confidence,
    env: base.settings.env,
    horizon: base.settings.plan.horizon,
    actionRepeat: base.settings.actionRepeat,
  };
}

/**
 * The comparison's jobs, one per (planner, episode), planners in order:
 * run them (here, with {@link runPlanetComparison}, or on a queue), then
 * {@link assemblePlanetComparison} their records. Every planner's episode
 * `e` starts from the same state with the same filter and planner seeds.
 *
 * @param settings See {@link PlanetComparisonSettings}.
 * @param sources The checkpoint folders.
 * @param backend The tfjs backend (part of the ids), if any.
 * @returns The job specifications, of kind `planet-eval-episode`.
 * @example
 * ```ts
 * const specs = planetComparisonJobs({ episodes: 10 }, { checkpoint: 'out/planet-latent' });
 * ```
 */
export function planetComparisonJobs(
  settings: PlanetComparisonSettings,
  sources: PlanetComparisonSources,
  backend?: string,
): JobSpec<PlanetEvalEpisodeParams>[] {
  const s = resolvePlanetComparison(settings, sources);
  const base = worldModel(sources.checkpoint);
  const ppoIterations = sources.ppo === undefined ? undefined : ppoRun(sources.ppo).counters.iterations;
  const jobs: JobSpec<PlanetEvalEpisodeParams>[] = [];
  for (const planner of s.planners) {
    const b = planner === 'full-cem' ? s.full : s.latent;
    for (let episode = 0; episode < s.episodes; episode++) {
      jobs.push({
        kind: PLANET_EVAL_EPISODE_JOB.kind,
        version: PLANET_EVAL_EPISODE_JOB.version,
        ...(backend !== undefined ? { backend } : {}),
        params: {
          checkpoint: sources.checkpoint,
          checkpointEpisodes: base.counters.episodes,
          ...(planner === 'latent-ppo'
            ? { ppo: sources.ppo as string, ppoIterations: ppoIterations as number }
            : {}),
          planner,
          episode,
          seed: s.seed,
          steps: s.steps,
          samples: b.samples,
          elites: b.elites,
          iterations: b.iterations,
        },
      });
    }
  }
  return jobs;
}

/** One planner's row of the comparison. */
export interface PlanetComparisonRow {
  /** The planner. */
  planner: PlanetComparePlanner;
  /** Its budget. */
  budget: PlanetCompareBudget;
  /** Imagined candidate sequences per decision. */
  rolloutsPerStep: number;
  /** Episodes found. */
  episodes: number;
  /** Their returns, in episode order. */
  returns: number[];
  /** Mean return and its bootstrap interval (NaN without episodes). */
  mean: BootstrapInterval;
  /** Median return and its bootstrap interval. */
  median: BootstrapInterval;
  /**
   * Mean return over full CEM's on the episodes both ran, with a paired
   * bootstrap interval (the episodes resampled together); absent without `full-cem`.
   */
  ratioMean?: BootstrapInterval;
  /** The same for the medians. */
  ratioMedian?: BootstrapInterval;
  /**
   * On the `latent-ppo` row: the mean of the paired differences
   * (latent DCEM + PPO − latent DCEM) over the episodes both ran, with a
   * bootstrap interval of the episodes resampled in pairs: PPO improved the
   * controller where the interval lies above 0. Absent without `latent`.
   */
  ppoGain?: BootstrapInterval;
  /** Σ wall seconds planning (filtering included) and stepping the environments. */
  seconds: { planning: number; environment: number };
}

/** What {@link runPlanetComparison} and {@link assemblePlanetComparison} return. */
export interface PlanetComparisonResult {
  /** The settings, with defaults. */
  settings: ResolvedPlanetComparisonSettings;
  /** One row per planner, in the settings' order. */
  rows: PlanetComparisonRow[];
  /** Every episode's record, in the jobs' order. */
  records: PlanetEvalRecord[];
}

const NAN_INTERVAL: BootstrapInterval = Object.freeze({
  estimate: Number.NaN,
  low: Number.NaN,
  high: Number.NaN,
});

/**
 * The comparison's table from its episodes' records: per planner the
 * returns, the mean and the median with percentile bootstrap intervals
 * (each planner's resampling seeded from the comparison's seed and its
 * position, so the table is reproducible), the paired ratio to full CEM,
 * and on the `latent-ppo` row the paired gain over `latent`.
 *
 * @param settings The resolved settings ({@link resolvePlanetComparison}).
 * @param records The episodes' records, in any order (missing ones leave their planner's row shorter).
 * @returns The comparison.
 * @example
 * ```ts
 * const result = assemblePlanetComparison(settings, records);
 * console.log(result.rows.map((r) => [r.planner, r.median.estimate]));
 * ```
 */
export function assemblePlanetComparison(
  settings: ResolvedPlanetComparisonSettings,
  records: readonly PlanetEvalRecord[],
): PlanetComparisonResult {
  assertObject('settings', settings);
  if (!Array.isArray(records)) {
    throw new TypeError(`records must be an array of episode records, received ${describeValue(records)}`);
  }
  const s = settings;
  const options = (k: number) => ({
    resamples: s.resamples,
    confidence: s.confidence,
    seed: deriveSeed(s.seed, TASK_SEED_STREAMS.planetCompareBootstrap, k),
  });
  const byPlanner = new Map<PlanetComparePlanner, Map<number, PlanetEvalRecord>>();
  for (const r of records) {
    const m = byPlanner.get(r.planner) ?? new Map<number, PlanetEvalRecord>();
    m.set(r.episode, r);
    byPlanner.set(r.planner, m);
  }
  const full = byPlanner.get('full-cem');
  const rows = s.planners.map((planner, k): PlanetComparisonRow => {
    const mine = [...(byPlanner.get(planner)?.values() ?? [])].sort((a, b) => a.episode - b.episode);
    const returns = mine.map((r) => r.return);
    const b = planner === 'full-cem' ? s.full : s.latent;
    const n = returns.length;
    const at = (idx: readonly number[]) => idx.map((i) => returns[i] as number);
    const row: PlanetComparisonRow = {
      planner,
      budget: { ...b },
      rolloutsPerStep: plannerConfig(planner, s.horizon, b).rolloutsPerStep,
      episodes: n,
      returns,
      mean: n === 0 ? { ...NAN_INTERVAL } : bootstrapInterval(n, (idx) => mean(at(idx)), options(2 * k)),
      median:
        n === 0 ? { ...NAN_INTERVAL } : bootstrapInterval(n, (idx) => median(at(idx)), options(2 * k + 1)),
      seconds: {
        planning: mine.reduce((a, r) => a + r.planningSeconds, 0),
        environment: mine.reduce((a, r) => a + r.environmentSeconds, 0),
      },
    };
    if (full !== undefined && s.planners.includes('full-cem')) {
      const paired = mine.filter((r) => full.has(r.episode));
      const mineR = paired.map((r) => r.return);
      const fullR = paired.map((r) => (full.get(r.episode) as PlanetEvalRecord).return);
      const m = paired.length;
      const ratio = (f: (x: number[]) => number) => (idx: readonly number[]) =>
        f(idx.map((i) => mineR[i] as number)) / f(idx.map((i) => fullR[i] as number));
      const seed = 2 * s.planners.length + 2 * k;
      row.ratioMean = m === 0 ? { ...NAN_INTERVAL } : bootstrapInterval(m, ratio(mean), options(seed));
      row.ratioMedian =
        m === 0 ? { ...NAN_INTERVAL } : bootstrapInterval(m, ratio(median), options(seed + 1));
    }
    const latent = byPlanner.get('latent');
    if (planner === 'latent-ppo' && latent !== undefined) {
      const paired = mine.filter((r) => latent.has(r.episode));
      const gains = paired.map((r) => r.return - (latent.get(r.episode) as PlanetEvalRecord).return);
      row.ppoGain =
        gains.length === 0
          ? { ...NAN_INTERVAL }
          : bootstrapInterval(
              gains.length,
              (idx) => mean(idx.map((i) => gains[i] as number)),
              options(4 * s.planners.length + k),
            );
    }
    return row;
  });
  return { settings: s, rows, records: [...records] };
}

/** Callbacks of {@link runPlanetComparison}. */
export interface PlanetComparisonCallbacks {
  /** Each agent step of the episode being run (`index` among the jobs run now, `count` of them). */
  onStep?: (info: {
    planner: PlanetComparePlanner;
    episode: number;
    index: number;
    count: number;
    step: number;
    steps: number;
    return: number;
  }) => void;
  /** Each finished episode (for example to record it, so that a later call resumes). */
  onEpisode?: (record: PlanetEvalRecord) => void | Promise<void>;
}

/**
 * The DCEM paper's comparison at one checkpoint: every planner's
 * {@link runPlanetEvalEpisode} on the same initial states, here and one
 * after the other, skipping the (planner, episode) pairs of
 * `options.completed` (records of an interrupted call: the result equals an
 * uninterrupted one's), then {@link assemblePlanetComparison}.
 *
 * @param settings See {@link PlanetComparisonSettings}.
 * @param sources The checkpoint folders (`runPlanet`'s `out`, and `runPlanetPpo`'s for `latent-ppo`).
 * @param callbacks Progress and each finished episode.
 * @param options Records already made.
 * @returns The comparison.
 * @throws What {@link resolvePlanetComparison} throws.
 * @example
 * ```ts
 * import { runPlanetComparison } from '@dcem/tasks/planet';
 * const result = await runPlanetComparison({ episodes: 10 }, { checkpoint: 'out/planet-latent', ppo: 'out/planet-ppo' });
 * for (const row of result.rows) console.log(row.planner, row.median.estimate, row.ratioMedian?.estimate);
 * ```
 */
export async function runPlanetComparison(
  settings: PlanetComparisonSettings,
  sources: PlanetComparisonSources,
  callbacks: PlanetComparisonCallbacks = {},
  options: { completed?: readonly PlanetEvalRecord[] } = {},
): Promise<PlanetComparisonResult> {
  assertObject('callbacks', callbacks);
  assertOptions('callbacks', callbacks, ['onStep', 'onEpisode']);
  assertOptionalFunctions(callbacks, ['onStep', 'onEpisode'], 'callbacks.');
  assertOptions('options', options, ['completed']);
  const s = resolvePlanetComparison(settings, sources);
  const specs = planetComparisonJobs(settings, sources);
  const completed = options.completed ?? [];
  if (!Array.isArray(completed)) {
    throw new TypeError(
      `options.completed must be an array of episode records, received ${describeValue(completed)}`,
    );
  }
  const done = new Map(completed.map((r) => [`${r.planner}#${r.episode}`, r]));
  const todo = specs.filter((j) => !done.has(`${j.params.planner}#${j.params.episode}`));
  const records: PlanetEvalRecord[] = [];
  let index = 0;
  for (const spec of specs) {
    const key = `${spec.params.planner}#${spec.params.episode}`;
    const old = done.get(key);
    if (old !== undefined) {
      records.push(old);
      continue;
    }
    const i = index++;
    const record = await runPlanetEvalEpisode(spec.params, {
      onStep: (step, steps, total) =>
        callbacks.onStep?.({
          planner: spec.params.planner,
          episode: spec.params.episode,
          index: i,
          count: todo.length,
          step,
          steps,
          return: total,
        }),
    });
    records.push(record);
    await callbacks.onEpisode?.(record);
  }
  return assemblePlanetComparison(s, records);
}
