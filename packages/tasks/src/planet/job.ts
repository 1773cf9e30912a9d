/**
 * PlaNet runs as jobs: one whole `runPlanet` run (a seed, a planner, an
 * ablation's settings) is one job of kind `planet-run`, so the seeds and
 * ablations of a world-model study spread over `dcem worker`s like every
 * other study. A run is hours long: it checkpoints after every episode into
 * the job's state folder, and a retried job resumes there.
 *
 * @module
 */
import { assertInteger, assertObject, assertOptions, describeValue } from '@dcem/errors';
import type { JobContext, JobKind, JobSpec } from '../jobs/jobs.js';
import type { PlanetCounters, PlanetEpisodeRecord } from './checkpoint.js';
import { runPlanet } from './run.js';
import { PLANET_PLANNERS, type PlanetSettings, resolvePlanetSettings } from './settings.js';

/** One episode of a {@link PlanetRunJobResult}: its record without the wall times (which differ between runs). */
export interface PlanetJobEpisode {
  /** `seed`, `train` or `eval`. */
  kind: PlanetEpisodeRecord['kind'];
  /** Index among collected episodes (`seed`, `train`) or among evaluation episodes (`eval`). */
  index: number;
  /** Σ of the rewards. */
  return: number;
  /** Control steps of collected episodes so far (for `eval`: when it ran). */
  environmentSteps: number;
  /** Model updates taken before it. */
  updates: number;
  /** Mean ELBO loss of the updates before it; null when there were none. */
  loss: number | null;
}

/** The result of a `planet-run` job: what the run did and its learning curve. */
export interface PlanetRunJobResult {
  /** Where the run ended. */
  counters: PlanetCounters;
  /** Every episode, in order. */
  episodes: PlanetJobEpisode[];
}

function episodeOf(r: PlanetEpisodeRecord): PlanetJobEpisode {
  return {
    kind: r.kind,
    index: r.index,
    return: r.return,
    environmentSteps: r.environmentSteps,
    updates: r.updates,
    loss: Number.isFinite(r.loss) ? r.loss : null,
  };
}

/**
 * The job kind `planet-run`: its parameters are the {@link PlanetSettings}
 * of one run, checked as `runPlanet` checks them. With a state folder
 * (`JobContext.stateDir`) the run saves a checkpoint there after every
 * collected episode and resumes from it, so a job retried after its worker
 * died goes on where it stopped and gives the same result, bit for bit, as
 * one that never stopped. Register it where jobs run
 * (`createJobRegistry([PLANET_RUN_JOB, …])`).
 */
export const PLANET_RUN_JOB: JobKind<PlanetSettings, PlanetRunJobResult> = Object.freeze({
  kind: 'planet-run',
  version: 1,
  check(params: unknown): PlanetSettings {
    assertObject('params', params);
    const settings = params as unknown as PlanetSettings;
    resolvePlanetSettings(settings);
    return settings;
  },
  describe(p: PlanetSettings): string {
    return `${p.env} ${p.planner ?? 'cem'} seed ${p.seed ?? 0}`;
  },
  async run(p: PlanetSettings, context: JobContext): Promise<PlanetRunJobResult> {
    const total = resolvePlanetSettings(p).episodes;
    const run = await runPlanet(
      p,
      {
        ...(context.log !== undefined ? { log: context.log } : {}),
        onCheckpoint: (checkpoint) => context.onProgress?.(checkpoint.counters.episodes / total),
      },
      context.stateDir !== undefined ? { out: context.stateDir } : {},
    );
    return { counters: { ...run.counters }, episodes: run.history.map(episodeOf) };
  },
});

/** What a world-model study varies: {@link planetStudyJobs}'s second argument. */
export interface PlanetStudyGrid {
  /** Seeds, one run each (default: the settings' seed). */
  seeds?: readonly number[];
  /** Planner presets to compare (default: the settings' planner). */
  planners?: readonly NonNullable<PlanetSettings['planner']>[];
}

/**
 * The jobs of a world-model study: one `planet-run` job per planner × seed,
 * each with `settings` otherwise. Ids are stable (`jobId`), so a study run
 * again finds the runs already done.
 *
 * @param settings The settings every run shares (`seed` and `planner` are replaced by the grid's;
 *   `latent` goes to the `latent` planner's runs only).
 * @param grid The seeds and planners.
 * @param backend The tfjs backend the runs use (part of each id).
 * @returns The specifications, planners outermost.
 * @throws TypeError or RangeError naming a bad seed or planner, or a bad setting.
 */
export function planetStudyJobs(
  settings: PlanetSettings,
  grid: PlanetStudyGrid,
  backend: string,
): JobSpec<PlanetSettings>[] {
  assertOptions('grid', grid, ['seeds', 'planners']);
  const seeds = grid.seeds ?? [settings.seed ?? 0];
  if (!Array.isArray(seeds) || seeds.length === 0) {
    throw new RangeError(`grid.seeds must be a non-empty array, received ${describeValue(seeds)}`);
  }
  for (const [i, seed] of seeds.entries()) assertInteger(`grid.seeds[${i}]`, seed, Number.MIN_SAFE_INTEGER);
  const planners = grid.planners ?? [settings.planner ?? 'cem'];
  if (!Array.isArray(planners) || planners.length === 0) {
    throw new RangeError(`grid.planners must be a non-empty array, received ${describeValue(planners)}`);
  }
  for (const [i, planner] of planners.entries()) {
    if (!PLANET_PLANNERS.includes(planner)) {
      throw new RangeError(
        `grid.planners[${i}] must be one of ${PLANET_PLANNERS.join(', ')}, received ${describeValue(planner)}`,
      );
    }
  }
  const specs: JobSpec<PlanetSettings>[] = [];
  for (const planner of planners) {
    for (const seed of seeds) {
      // The latent planner's settings go to its runs only (another planner refuses them).
      const { latent, ...shared } = settings;
      const params =
        planner === 'latent' && latent !== undefined
          ? { ...shared, seed, planner, latent }
          : { ...shared, seed, planner };
      PLANET_RUN_JOB.check(params);
      specs.push({ kind: PLANET_RUN_JOB.kind, version: PLANET_RUN_JOB.version, backend, params });
    }
  }
  return specs;
}
