import { writeFileSync } from 'node:fs';
import {
  assemblePlannerStudy,
  PLANNER_CELL_JOB,
  type PlannerCellParams,
  type PlannerStudyCell,
  type PlannerStudyResult,
  type PlannerStudySettings,
  plannerStudyJobs,
  runPlannerCell,
} from '@dcem/tasks';
import type { RunContext } from './context.js';
import { executeStudy } from './jobs/study.js';
import { type PlotSpec, writePlot } from './plot.js';
import { startProgress } from './progress.js';

/** Settings of {@link runPlanners}: those of `runPlannerStudy` in `@dcem/tasks`. */
export type PlannersSettings = PlannerStudySettings;

/** What {@link runPlanners} found: the study's result and the files written. */
export interface PlannersResult extends PlannerStudyResult {
  files: string[];
}

/** The Markdown table of the study: mean ± std return per planner (rows) and budget (columns), per task. */
export function plannersTable(result: PlannerStudyResult): string {
  const { budgets, planners, tasks, seeds, starts, steps, horizon } = result.settings;
  const lines: string[] = [];
  for (const task of tasks) {
    lines.push(
      `**${task}** (return over ${steps} steps, at most ${steps}; mean ± std over ${seeds} seeds × ${starts} start states; H = ${horizon}; columns: rollouts per step)`,
      '',
      `| planner | ${budgets.join(' | ')} |`,
      `| --- |${budgets.map(() => ' ---: |').join('')}`,
    );
    for (const planner of planners) {
      const cells = budgets.map((budget) => {
        const c = result.cells.find((x) => x.task === task && x.planner === planner && x.budget === budget);
        return c === undefined ? '–' : `${c.mean.toFixed(1)} ± ${c.std.toFixed(1)}`;
      });
      lines.push(`| ${planner} | ${cells.join(' | ')} |`);
    }
    const v = result.verdicts.find((x) => x.task === task);
    if (v?.cemBest != null) {
      lines.push(
        '',
        `cem's best: ${v.cemBest.mean.toFixed(1)} at ${v.cemBest.budget} rollouts/step; icem reaches 95 % of it at ` +
          `${v.icemBudget === null ? 'no budget tried' : `${v.icemBudget} rollouts/step (ratio ${(v.budgetRatio as number).toFixed(2)})`}: ` +
          `${v.holds ? 'holds' : 'does not hold'} (target: ≤ 1/4).`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}

/**
 * `dcem planners`: runs the budget study's cells (`plannerStudyJobs` of
 * `@dcem/tasks`) here with a progress bar, or on the queue at `queue`,
 * skipping those in `planners-jobs.jsonl`; then writes `planners.csv`,
 * `planners.json`, `planners.md` (the table) and the plot (SVG and PNG).
 */
export async function runPlanners(
  ctx: RunContext,
  s: PlannersSettings,
  queue?: string,
): Promise<PlannersResult> {
  const start = Date.now();
  const specs = plannerStudyJobs(s, ctx.backend);
  const outcome = await executeStudy(ctx, {
    file: 'planners-jobs.jsonl',
    specs,
    ...(queue !== undefined ? { queue } : {}),
    local: (spec, index, count) => {
      const p = spec.params as PlannerCellParams;
      const bar = startProgress(
        `${index + 1}/${count} ${PLANNER_CELL_JOB.describe(p)}`,
        s.steps,
        ctx.interactive,
      );
      try {
        return runPlannerCell(p, { log: ctx.log, onStep: (done) => bar.update(done) });
      } finally {
        bar.stop();
      }
    },
  });
  const result = assemblePlannerStudy(
    s,
    outcome.results as (PlannerStudyCell | null)[],
    (Date.now() - start) / 1000,
  );
  const files: string[] = [outcome.file];
  const csv = [
    'task,planner,budget,num_samples,num_elites,samples_per_step,mean_return,std_return,success,seconds,returns',
  ];
  for (const c of result.cells) {
    csv.push(
      [
        c.task,
        c.planner,
        c.budget,
        c.numSamples,
        c.numElites,
        c.samplesPerStep,
        c.mean,
        c.std,
        c.success,
        c.seconds,
        `"${c.returns.join(' ')}"`,
      ].join(','),
    );
  }
  const csvPath = ctx.outPath('planners.csv');
  writeFileSync(csvPath, `${csv.join('\n')}\n`);
  files.push(csvPath);
  files.push(ctx.writeJson('planners.json', { backend: ctx.backend, ...result }));
  const mdPath = ctx.outPath('planners.md');
  const table = plannersTable(result);
  writeFileSync(mdPath, `${table}\n`);
  files.push(mdPath);
  const spec: PlotSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Closed-loop return against rollouts per step',
    data: {
      values: result.cells.map((c) => ({
        task: c.task,
        planner: c.planner,
        samples: c.samplesPerStep,
        mean: c.mean,
        low: c.mean - c.std,
        high: c.mean + c.std,
      })),
    },
    facet: { column: { field: 'task', type: 'nominal', title: null } },
    spec: {
      width: 320,
      height: 240,
      layer: [
        {
          mark: { type: 'line', point: true },
          encoding: {
            x: {
              field: 'samples',
              type: 'quantitative',
              scale: { type: 'log', nice: false },
              title: 'rollouts per step (measured)',
            },
            y: { field: 'mean', type: 'quantitative', title: 'return (mean ± std over seeds)' },
            color: { field: 'planner', type: 'nominal' },
          },
        },
        {
          mark: { type: 'errorbar' },
          encoding: {
            x: { field: 'samples', type: 'quantitative', scale: { type: 'log', nice: false } },
            y: { field: 'low', type: 'quantitative', title: 'return (mean ± std over seeds)' },
            y2: { field: 'high' },
            color: { field: 'planner', type: 'nominal' },
          },
        },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  } as PlotSpec;
  files.push(...(await writePlot(ctx.outPath('planners'), spec)));
  ctx.log(table);
  return { ...result, files };
}
