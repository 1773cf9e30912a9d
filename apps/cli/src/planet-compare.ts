import { writeFileSync } from 'node:fs';
import {
  assemblePlanetComparison,
  type BootstrapInterval,
  PLANET_EVAL_EPISODE_JOB,
  type PlanetComparisonResult,
  type PlanetComparisonSettings,
  type PlanetComparisonSources,
  type PlanetEvalEpisodeParams,
  type PlanetEvalRecord,
  planetComparisonJobs,
  resolvePlanetComparison,
  runPlanetEvalEpisode,
} from '@dcem/tasks/planet';
import { VEGA_LITE_SCHEMA } from './charts/schema.js';
import type { RunContext } from './context.js';
import { executeStudy } from './jobs/study.js';
import { type PlotSpec, writePlot } from './plot.js';
import { type Progress, startProgress } from './progress.js';

/** The study's result file in the output folder (one record per (planner, episode) job). */
export const PLANET_COMPARE_JOBS_FILE = 'planet-compare-jobs.jsonl';

/** What {@link runPlanetCompareCli} found. */
export interface PlanetCompareCliResult {
  /** The comparison: settings, rows with intervals, every episode's record. */
  comparison: PlanetComparisonResult;
  /** Episodes run by this call (the others were found in the output folder). */
  ran: number;
  /** Wall seconds of this call. */
  seconds: number;
  /** The files written. */
  files: string[];
}

/** The paper's figure: one box per planner of its episodes' returns, the episodes as points over it. */
export function compareBoxSpec(title: string, result: PlanetComparisonResult): PlotSpec {
  const order = result.rows.map((r) => r.planner);
  const values = result.rows.flatMap((r) => r.returns.map((ret) => ({ planner: r.planner, return: ret })));
  const x = { field: 'planner', type: 'nominal', title: 'planner', sort: order, axis: { labelAngle: 0 } };
  return {
    $schema: VEGA_LITE_SCHEMA,
    title,
    width: 120 * Math.max(2, order.length),
    height: 300,
    data: { values },
    layer: [
      {
        mark: { type: 'boxplot', extent: 1.5, size: 40 },
        encoding: {
          x,
          y: { field: 'return', type: 'quantitative', title: 'episode return (true reward)' },
          color: { field: 'planner', type: 'nominal', sort: order, legend: null },
        },
      },
      {
        mark: { type: 'point', filled: true, size: 18, opacity: 0.5, color: 'black' },
        encoding: { x, y: { field: 'return', type: 'quantitative' } },
      },
    ],
  } as PlotSpec;
}

const LABELS: Record<string, string> = {
  'full-cem': 'full CEM',
  latent: 'latent DCEM',
  'latent-ppo': 'latent DCEM + PPO',
  icem: 'iCEM',
};

function fixed(x: number, digits = 1): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '–';
}

function interval(ci: BootstrapInterval | undefined, digits = 1): string {
  if (ci === undefined) return '–';
  return `${fixed(ci.estimate, digits)} [${fixed(ci.low, digits)}, ${fixed(ci.high, digits)}]`;
}

/** The comparison as a Markdown table: per planner its budget, episodes, mean and median with bootstrap intervals, and the ratios to full CEM. */
export function compareMarkdown(result: PlanetComparisonResult): string {
  const s = result.settings;
  const pct = `${Math.round(100 * s.confidence)} %`;
  const lines = [
    `${s.env}, H = ${s.horizon}, ${s.steps} agent steps × action repeat ${s.actionRepeat}; ` +
      `${pct} percentile bootstrap intervals (B = ${s.resamples}; the ratios paired over the shared episodes).`,
    '',
    `| planner | N / k / iterations | episodes | mean [${pct} CI] | median [${pct} CI] | mean / full CEM | median / full CEM |`,
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of result.rows) {
    lines.push(
      `| ${LABELS[r.planner] ?? r.planner} | ${r.budget.samples} / ${r.budget.elites} / ${r.budget.iterations} | ${r.episodes} | ` +
        `${interval(r.mean)} | ${interval(r.median)} | ${interval(r.ratioMean, 3)} | ${interval(r.ratioMedian, 3)} |`,
    );
  }
  const gain = result.rows.find((r) => r.ppoGain !== undefined)?.ppoGain;
  if (gain !== undefined) {
    lines.push(
      '',
      `PPO's gain over latent DCEM (mean of the paired differences of return, ${pct} CI): ${interval(gain)}.`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The comparison's rows as CSV, one line per planner. */
export function compareCsv(result: PlanetComparisonResult): string {
  const header =
    'planner,samples,elites,iterations,episodes,mean,mean_low,mean_high,median,median_low,median_high,' +
    'ratio_mean,ratio_mean_low,ratio_mean_high,ratio_median,ratio_median_low,ratio_median_high,planning_seconds,environment_seconds,' +
    'ppo_gain,ppo_gain_low,ppo_gain_high';
  const ci = (c: BootstrapInterval | undefined) =>
    c === undefined ? ',,' : `${c.estimate},${c.low},${c.high}`;
  const lines = result.rows.map(
    (r) =>
      `${r.planner},${r.budget.samples},${r.budget.elites},${r.budget.iterations},${r.episodes},${ci(r.mean)},${ci(r.median)},` +
      `${ci(r.ratioMean)},${ci(r.ratioMedian)},${r.seconds.planning},${r.seconds.environment},${ci(r.ppoGain)}`,
  );
  return `${header}\n${lines.join('\n')}\n`;
}

/** Every episode as CSV, one line each. */
export function compareEpisodesCsv(records: readonly PlanetEvalRecord[]): string {
  const lines = records.map(
    (r) =>
      `${r.planner},${r.episode},${r.envSeed},${r.return},${r.steps},${r.planningSeconds},${r.environmentSeconds}`,
  );
  return `planner,episode,env_seed,return,steps,planning_seconds,environment_seconds\n${lines.join('\n')}\n`;
}

/**
 * `dcem planet-compare`: the DCEM paper's comparison at one world-model
 * checkpoint (`runPlanetComparison`'s planners and statistics, as
 * `planet-eval-episode` jobs): every (planner, episode) result is recorded
 * in the output folder as it finishes, so rerunning the command resumes;
 * with `queue`, the episodes run on `dcem worker`s (which must read the
 * checkpoint folders at the same paths). Writes the box plot (SVG, PNG),
 * the table (Markdown), CSV and JSON.
 */
export async function runPlanetCompareCli(
  ctx: RunContext,
  settings: PlanetComparisonSettings,
  sources: PlanetComparisonSources,
  queue?: string,
): Promise<PlanetCompareCliResult> {
  const start = Date.now();
  const resolved = resolvePlanetComparison(settings, sources);
  const specs = planetComparisonJobs(settings, sources, ctx.backend);
  ctx.log(
    `${resolved.env}: ${resolved.planners.join(', ')}; ${resolved.episodes} episodes each of ${resolved.steps} steps ` +
      `(full CEM ${resolved.full.samples}/${resolved.full.elites}, latent budget ${resolved.latent.samples}/${resolved.latent.elites})`,
  );
  let bar: Progress | undefined;
  const outcome = await executeStudy(ctx, {
    file: PLANET_COMPARE_JOBS_FILE,
    specs,
    ...(queue !== undefined ? { queue } : {}),
    local: async (spec, index, count) => {
      const p = spec.params as PlanetEvalEpisodeParams;
      try {
        return await runPlanetEvalEpisode(p, {
          onStep: (step, steps, total) => {
            bar ??= startProgress(
              `${index + 1}/${count} ${PLANET_EVAL_EPISODE_JOB.describe(p)}`,
              steps,
              ctx.interactive,
              ['return'],
            );
            bar.update(step, { return: total.toFixed(1) });
          },
        });
      } finally {
        bar?.stop();
        bar = undefined;
      }
    },
  });
  const records = outcome.results.filter((r): r is PlanetEvalRecord => r !== undefined);
  const comparison = assemblePlanetComparison(resolved, records);
  const files: string[] = [ctx.outPath(PLANET_COMPARE_JOBS_FILE)];
  const md = ctx.outPath('planet-compare.md');
  writeFileSync(md, compareMarkdown(comparison));
  const csv = ctx.outPath('planet-compare.csv');
  writeFileSync(csv, compareCsv(comparison));
  const episodes = ctx.outPath('planet-compare-episodes.csv');
  writeFileSync(episodes, compareEpisodesCsv(comparison.records));
  files.push(md, csv, episodes);
  files.push(
    ...(await writePlot(
      ctx.outPath('planet-compare-box'),
      compareBoxSpec(
        `${resolved.env}: ${resolved.episodes} episodes per planner at one checkpoint`,
        comparison,
      ),
    )),
  );
  files.push(
    ctx.writeJson('planet-compare.json', {
      sources,
      backend: ctx.backend,
      settings: comparison.settings,
      rows: comparison.rows,
      episodes: comparison.records,
    }),
  );
  ctx.log(compareMarkdown(comparison).trimEnd());
  return { comparison, ran: outcome.ran.size, seconds: (Date.now() - start) / 1000, files };
}
