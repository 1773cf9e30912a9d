import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type JobSpec, jobId } from '@dcem/tasks';
import {
  PLANET_RUN_JOB,
  type PlanetRunJobResult,
  type PlanetSettings,
  type PlanetStudyGrid,
  planetStudyJobs,
} from '@dcem/tasks/planet';
import { VEGA_LITE_SCHEMA } from './charts/schema.js';
import type { RunContext } from './context.js';
import { executeStudy } from './jobs/study.js';
import { type PlotSpec, writePlot } from './plot.js';
import { type Progress, startProgress } from './progress.js';

/** The result file of a PlaNet study in its output folder (JSONL, one record per run). */
export const PLANET_STUDY_FILE = 'planet-study-jobs.jsonl';

/** One run of a study, as {@link runPlanetStudyCli} reports it. */
export interface PlanetStudyRun {
  /** The job's id (its checkpoints are in `runs/<id>` of a local study). */
  id: string;
  /** The planner preset. */
  planner: string;
  /** The seed. */
  seed: number;
  /** The run's result. */
  result: PlanetRunJobResult;
}

/** One row of the study's table: a planner over its seeds. */
export interface PlanetStudyRow {
  /** The planner preset. */
  planner: string;
  /** Runs (seeds). */
  runs: number;
  /** Mean and standard deviation over the seeds of each run's last evaluation return (NaN without evaluations). */
  lastEval: { mean: number; std: number };
  /** Mean and standard deviation over the seeds of each run's last training return. */
  lastTrain: { mean: number; std: number };
  /** Environment steps of each run (the same for every seed). */
  environmentSteps: number;
}

function meanStd(values: number[]): { mean: number; std: number } {
  if (values.length === 0) return { mean: Number.NaN, std: Number.NaN };
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance =
    values.length > 1 ? values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1) : 0;
  return { mean, std: Math.sqrt(variance) };
}

/** The study's table: one row per planner, in the grid's order. */
export function planetStudyRows(runs: readonly PlanetStudyRun[]): PlanetStudyRow[] {
  const planners = [...new Set(runs.map((r) => r.planner))];
  return planners.map((planner) => {
    const mine = runs.filter((r) => r.planner === planner);
    const last = (kind: 'eval' | 'train') =>
      mine.flatMap((r) => {
        const e = r.result.episodes.filter((x) => x.kind === kind).at(-1);
        return e === undefined ? [] : [e.return];
      });
    return {
      planner,
      runs: mine.length,
      lastEval: meanStd(last('eval')),
      lastTrain: meanStd(last('train')),
      environmentSteps: mine[0]?.result.counters.environmentSteps ?? 0,
    };
  });
}

/** The learning curves of every run: return against environment steps, a colour per planner, a line per seed. */
export function planetStudySpec(title: string, runs: readonly PlanetStudyRun[]): PlotSpec {
  return {
    $schema: VEGA_LITE_SCHEMA,
    title,
    width: 480,
    height: 280,
    data: {
      values: runs.flatMap((r) =>
        r.result.episodes
          .filter((e) => e.kind !== 'seed')
          .map((e) => ({
            steps: e.environmentSteps,
            return: e.return,
            planner: r.planner,
            run: `${r.planner} seed ${r.seed} ${e.kind}`,
            kind: e.kind,
          })),
      ),
    },
    mark: { type: 'line', point: true, strokeWidth: 1.2 },
    encoding: {
      x: { field: 'steps', type: 'quantitative', title: 'environment steps' },
      y: { field: 'return', type: 'quantitative', title: 'episode return' },
      color: { field: 'planner', type: 'nominal', title: 'planner' },
      strokeDash: { field: 'kind', type: 'nominal', title: 'episode' },
      detail: { field: 'run', type: 'nominal' },
    },
  } as PlotSpec;
}

const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');

/**
 * `dcem planet --seeds … --planners … [--queue …]`: a world-model study, one
 * `planet-run` job per planner × seed, run here one after the other or on
 * the queue's `dcem worker`s. Resumable twice over: finished runs are found
 * in `planet-study-jobs.jsonl`, and a local run interrupted mid-way resumes
 * from its checkpoint in `runs/<job id>` (a queued one from the worker's
 * `--state` folder). Writes the table (Markdown, CSV), every run's episodes
 * (JSON) and the learning curves (PNG).
 */
export async function runPlanetStudyCli(
  ctx: RunContext,
  settings: PlanetSettings,
  grid: PlanetStudyGrid,
  queue?: string,
): Promise<{
  runs: PlanetStudyRun[];
  rows: PlanetStudyRow[];
  ran: number;
  seconds: number;
  files: string[];
}> {
  const start = Date.now();
  const specs = planetStudyJobs(settings, grid, ctx.backend);
  let bar: Progress | undefined;
  const outcome = await executeStudy(ctx, {
    file: PLANET_STUDY_FILE,
    specs,
    ...(queue !== undefined ? { queue } : {}),
    local: async (spec, index, count) => {
      const p = spec.params as PlanetSettings;
      const episodes = p.episodes ?? 100;
      try {
        return await PLANET_RUN_JOB.run(p, {
          stateDir: ctx.outPath(join('runs', jobId(spec))),
          log: (line) => {
            if (!ctx.interactive) return;
            bar?.stop();
            bar = undefined;
            ctx.log(line);
          },
          onProgress: (fraction) => {
            bar ??= startProgress(
              `${index + 1}/${count} ${PLANET_RUN_JOB.describe(p)}`,
              episodes,
              ctx.interactive,
            );
            bar.update(Math.round(fraction * episodes));
          },
        });
      } finally {
        bar?.stop();
        bar = undefined;
      }
    },
  });
  const runs = specs.map((spec, i) => {
    const p = spec.params;
    return {
      id: jobId(spec as JobSpec),
      planner: p.planner ?? 'cem',
      seed: p.seed ?? 0,
      result: outcome.results[i] as PlanetRunJobResult,
    };
  });
  const rows = planetStudyRows(runs);
  const seconds = (Date.now() - start) / 1000;
  const files = [outcome.file];
  const table = [
    '| planner | seeds | environment steps | last evaluation return | last training return |',
    '|---|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.planner} | ${r.runs} | ${r.environmentSteps} | ${fmt(r.lastEval.mean)} ± ${fmt(r.lastEval.std)} | ` +
        `${fmt(r.lastTrain.mean)} ± ${fmt(r.lastTrain.std)} |`,
    ),
  ].join('\n');
  const mdPath = ctx.outPath('planet-study.md');
  writeFileSync(
    mdPath,
    `${table}\n\nMean ± standard deviation over the seeds (${ctx.backend} backend); wall time of this call: ${seconds.toFixed(0)} s.\n`,
  );
  const csvPath = ctx.outPath('planet-study.csv');
  writeFileSync(
    csvPath,
    `planner,seed,kind,index,return,environment_steps,updates,loss\n${runs
      .flatMap((r) =>
        r.result.episodes.map(
          (e) =>
            `${r.planner},${r.seed},${e.kind},${e.index},${e.return},${e.environmentSteps},${e.updates},${e.loss ?? ''}`,
        ),
      )
      .join('\n')}\n`,
  );
  files.push(mdPath, csvPath);
  files.push(
    ...(await writePlot(
      ctx.outPath('planet-study-curves'),
      planetStudySpec(`PlaNet on ${settings.env}: ${runs.length} runs`, runs),
    )),
  );
  files.push(ctx.writeJson('planet-study.json', { settings, grid, backend: ctx.backend, rows, runs }));
  ctx.log(table);
  return { runs, rows, ran: outcome.ran.size, seconds, files };
}
