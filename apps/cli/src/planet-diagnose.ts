import { writeFileSync } from 'node:fs';
import {
  createRssm,
  loadPlanetCheckpoint,
  type PlanetModelError,
  planetModelError,
  ReplayBuffer,
} from '@dcem/tasks/planet';
import { VEGA_LITE_SCHEMA } from './charts/schema.js';
import type { RunContext } from './context.js';
import { type PlotSpec, writePlot } from './plot.js';

/** What `dcem planet-diagnose` measures on: a `dcem planet` folder and which of its collected episodes. */
export interface PlanetDiagnoseOptions {
  /** The `--out` folder of a `dcem planet` run. */
  checkpoint: string;
  /** The last `last` collected episodes of its replay buffer (default 1: the one collected after the last update). */
  last?: number;
  /** The depth H of the open-loop predictions (default: the run's planning horizon). */
  horizon?: number;
}

/** One episode's errors, with which episode it was. */
export interface PlanetDiagnoseEpisode extends PlanetModelError {
  /** The collected episode's index (seed episodes included). */
  episode: number;
  /** Its kind in the run (`seed` or `train`). */
  kind: string;
  /** Its return. */
  return: number;
  /** Whether an update saw it: false for the last collected episode, which the model never trained on. */
  trainedOn: boolean;
}

/** What {@link runPlanetDiagnoseCli} found. */
export interface PlanetDiagnoseResult {
  env: string;
  /** Collected episodes and updates of the checkpoint. */
  episodes: number;
  updates: number;
  horizon: number;
  results: PlanetDiagnoseEpisode[];
  files: string[];
}

function fixed(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '–';
}

/** The errors as Markdown: one summary line per episode, then the depth table of each. */
export function diagnoseMarkdown(r: Omit<PlanetDiagnoseResult, 'files'>): string {
  const lines = [
    `${r.env}: the model after ${r.updates} updates (${r.episodes} collected episodes); filtered with posterior means, ` +
      `open-loop with prior means over the actions taken, depth 1 … ${r.horizon}.`,
    '',
    '| episode | trained on | return | mean abs reward | filtered reward error | H-step return error (relative) |',
    '|---:|---|---:|---:|---:|---:|',
  ];
  for (const e of r.results) {
    lines.push(
      `| ${e.episode} (${e.kind}) | ${e.trainedOn ? 'yes' : 'no'} | ${fixed(e.return, 1)} | ${fixed(e.meanAbsReward, 3)} | ` +
        `${fixed(e.filteredRewardError, 3)} | ${fixed(e.returnError, 2)} (${fixed(100 * e.relativeReturnError, 1)} %) |`,
    );
  }
  for (const e of r.results) {
    lines.push(
      '',
      `Episode ${e.episode}, ${e.windows} windows:`,
      '',
      '| depth k | reward error mean abs | reward bias | observation error RMS |',
      '|---:|---:|---:|---:|',
    );
    e.rewardError.forEach((abs, k) => {
      lines.push(
        `| ${k + 1} | ${fixed(abs, 3)} | ${fixed(e.rewardBias[k] as number, 3)} | ${fixed(e.observationError[k] as number, 3)} |`,
      );
    });
  }
  return `${lines.join('\n')}\n`;
}

/** The reward error against the depth, one line per episode. */
function errorSpec(title: string, results: readonly PlanetDiagnoseEpisode[]): PlotSpec {
  const values = results.flatMap((e) =>
    e.rewardError.map((error, k) => ({ depth: k + 1, error, episode: `episode ${e.episode}` })),
  );
  return {
    $schema: VEGA_LITE_SCHEMA,
    title,
    width: 420,
    height: 260,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'depth', type: 'quantitative', title: 'steps predicted open-loop' },
      y: { field: 'error', type: 'quantitative', title: 'mean |predicted − real reward|' },
      color: { field: 'episode', type: 'nominal', title: null },
    },
  } as PlotSpec;
}

/**
 * `dcem planet-diagnose`: how well a `dcem planet` checkpoint's model
 * predicts the episodes it collected (`planetModelError` on the last
 * `last` episodes of its replay buffer). Writes Markdown, JSON and a chart
 * of the reward error against the depth.
 */
export async function runPlanetDiagnoseCli(
  ctx: RunContext,
  options: PlanetDiagnoseOptions,
): Promise<PlanetDiagnoseResult> {
  const c = loadPlanetCheckpoint(options.checkpoint);
  if (c === undefined) {
    throw new Error(
      `${options.checkpoint} holds no world-model checkpoint (the --out folder of dcem planet)`,
    );
  }
  const replay = ReplayBuffer.fromState(c.replay);
  const last = options.last ?? 1;
  if (last > replay.episodes) {
    throw new RangeError(
      `--last must be ≤ ${replay.episodes} (the episodes in the checkpoint), received ${last}`,
    );
  }
  const horizon = options.horizon ?? c.settings.plan.horizon;
  for (let i = replay.episodes - last; i < replay.episodes; i++) {
    const rows = replay.episode(i).rewards.length;
    if (horizon >= rows) {
      throw new RangeError(`--horizon must be < ${rows} (the rows of episode ${i}), received ${horizon}`);
    }
  }
  const model = createRssm(
    { observationSize: c.replay.observationSize, actionSize: c.replay.actionSize, ...c.settings.model },
    c.settings.seed,
  );
  const results: PlanetDiagnoseEpisode[] = [];
  try {
    model.setWeights(c.weights.values);
    for (let i = replay.episodes - last; i < replay.episodes; i++) {
      const record = c.history.find((h) => h.kind !== 'eval' && h.index === i);
      const error = planetModelError(model, replay.episode(i), { horizon });
      results.push({
        episode: i,
        kind: record?.kind ?? 'unknown',
        return: record?.return ?? Number.NaN,
        trainedOn: i < replay.episodes - 1,
        ...error,
      });
      ctx.log(
        `episode ${i}: reward error ${fixed(error.rewardError[0] as number, 3)} one step ahead, ` +
          `${fixed(error.rewardError[horizon - 1] as number, 3)} at ${horizon}; ${horizon}-step return error ` +
          `${fixed(100 * error.relativeReturnError, 1)} %`,
      );
    }
  } finally {
    model.dispose();
  }
  const result = {
    env: c.settings.env,
    episodes: c.counters.episodes,
    updates: c.counters.updates,
    horizon,
    results,
  };
  const md = ctx.outPath('planet-diagnose.md');
  writeFileSync(md, diagnoseMarkdown(result));
  const files = [md];
  files.push(
    ...(await writePlot(
      ctx.outPath('planet-diagnose-reward-error'),
      errorSpec(
        `${c.settings.env}: reward error against depth, after ${c.counters.updates} updates`,
        results,
      ),
    )),
  );
  files.push(
    ctx.writeJson('planet-diagnose.json', {
      checkpoint: options.checkpoint,
      backend: ctx.backend,
      ...result,
    }),
  );
  ctx.log(diagnoseMarkdown(result).trimEnd());
  return { ...result, files };
}
