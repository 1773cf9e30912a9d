import { writeFileSync } from 'node:fs';
import {
  loadPlanetCheckpoint,
  type PlanetPpoCheckpoint,
  type PlanetPpoRecord,
  type PlanetPpoRunResult,
  type PlanetPpoSettings,
  runPlanetPpo,
} from '@dcem/tasks/planet';
import { VEGA_LITE_SCHEMA } from './charts/schema.js';
import type { RunContext } from './context.js';
import { type PlotSpec, writePlot } from './plot.js';
import { type Progress, startProgress } from './progress.js';

/** Options of {@link runPlanetPpoCli} besides the phase's settings. */
export interface PlanetPpoCliOptions {
  /** The folder of the world-model run to fine-tune (`dcem planet --planner latent --out …`); needed unless `out` holds a PPO checkpoint. */
  from?: string;
}

/** What {@link runPlanetPpoCli} found. */
export interface PlanetPpoCliResult {
  /** Every PPO step (resumed ones included). */
  history: PlanetPpoRecord[];
  /** PPO steps, episodes and environment steps. */
  counters: PlanetPpoRunResult['counters'];
  /** Σ wall seconds over the history: environments, planning while collecting, PPO updates. */
  time: { environment: number; planning: number; updates: number };
  /** Wall seconds of this call. */
  seconds: number;
  /** The files written. */
  files: string[];
}

/** The PPO learning curve: each episode's return, and their mean, against the PPO step. */
export function ppoCurveSpec(title: string, history: PlanetPpoRecord[]): PlotSpec {
  return {
    $schema: VEGA_LITE_SCHEMA,
    title,
    width: 480,
    height: 280,
    data: {
      values: history.flatMap((r) => [
        ...r.returns.map((ret) => ({ step: r.iteration, return: ret, series: 'episode' })),
        { step: r.iteration, return: r.meanReturn, series: 'mean' },
      ]),
    },
    mark: { type: 'point', filled: true },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'PPO step' },
      y: { field: 'return', type: 'quantitative', title: 'episode return (true reward)' },
      color: { field: 'series', type: 'nominal', title: '', scale: { domain: ['episode', 'mean'] } },
    },
  } as PlotSpec;
}

/** CSV of the PPO steps, one line each. */
export function ppoStepsCsv(history: PlanetPpoRecord[]): string {
  const header =
    'step,mean_return,samples,environment_steps,loss,policy_loss,value_loss,entropy,approx_kl,clip_fraction,grad_norm,std,' +
    'environment_seconds,planning_seconds,update_seconds';
  const lines = history.map((r) => {
    const u = r.update;
    return (
      `${r.iteration},${r.meanReturn},${r.samples},${r.environmentSteps},${u.loss},${u.policy},${u.value},${u.entropy},` +
      `${u.approxKl},${u.clipFraction},${u.gradNorm},${u.std.join(' ')},${r.environmentSeconds},${r.planningSeconds},${r.updateSeconds}`
    );
  });
  return `${header}\n${lines.join('\n')}\n`;
}

async function writeOutputs(
  ctx: RunContext,
  state: Pick<PlanetPpoCheckpoint, 'base' | 'counters' | 'history' | 'settings'>,
): Promise<{ time: PlanetPpoCliResult['time']; files: string[] }> {
  const { history, counters, base } = state;
  const files: string[] = [ctx.outPath('latest-ppo-checkpoint.json')];
  const csv = ctx.outPath('planet-ppo-steps.csv');
  writeFileSync(csv, ppoStepsCsv(history));
  files.push(csv);
  const sum = (f: (r: PlanetPpoRecord) => number) => history.reduce((a, r) => a + f(r), 0);
  const time = {
    environment: sum((r) => r.environmentSeconds),
    planning: sum((r) => r.planningSeconds),
    updates: sum((r) => r.updateSeconds),
  };
  files.push(
    ...(await writePlot(
      ctx.outPath('planet-ppo-curve'),
      ppoCurveSpec(`PPO on the latent DCEM controller, ${base.env}: ${counters.episodes} episodes`, history),
    )),
  );
  files.push(
    ctx.writeJson('planet-ppo.json', {
      settings: state.settings,
      base,
      backend: ctx.backend,
      counters,
      time,
      steps: history,
    }),
  );
  return { time, files };
}

/**
 * `dcem planet-ppo`: phase 3 (`runPlanetPpo` of `@dcem/tasks/planet`) with a
 * progress bar, resumable from its output folder (a checkpoint after every
 * PPO step; the same command continues). Writes the PPO steps (CSV, JSON)
 * and the learning curve (SVG, PNG).
 */
export async function runPlanetPpoCli(
  ctx: RunContext,
  settings: PlanetPpoSettings,
  options: PlanetPpoCliOptions = {},
): Promise<PlanetPpoCliResult> {
  const out = ctx.outPath('.');
  const start = options.from === undefined ? undefined : loadPlanetCheckpoint(options.from);
  if (options.from !== undefined && start === undefined) {
    throw new Error(
      `--from ${options.from} holds no world-model checkpoint (run dcem planet --planner latent --out there first)`,
    );
  }
  let bar: Progress | undefined;
  let current = -1;
  let run: PlanetPpoRunResult;
  try {
    run = await runPlanetPpo(
      settings,
      {
        log: (line) => {
          if (!ctx.interactive) return;
          bar?.stop();
          bar = undefined;
          current = -1;
          ctx.log(line);
        },
        onStep: (info) => {
          if (info.iteration !== current) {
            bar?.stop();
            current = info.iteration;
            bar = startProgress(`PPO step ${info.iteration}`, info.steps, ctx.interactive, ['return']);
          }
          const mean = info.returns.reduce((a, b) => a + b, 0) / info.returns.length;
          bar?.update(info.step + 1, { return: mean.toFixed(1) });
        },
        onCheckpoint: async (checkpoint) => {
          await writeOutputs(ctx, checkpoint);
        },
      },
      { out, ...(start === undefined ? {} : { start }) },
    );
  } finally {
    bar?.stop();
  }
  const { time, files } = await writeOutputs(ctx, run.checkpoint);
  const last = run.history.at(-1);
  ctx.log(
    `${run.counters.iterations} PPO steps (${run.counters.episodes} episodes, ${run.counters.environmentSteps} environment steps); ` +
      `latest mean return ${(last?.meanReturn ?? Number.NaN).toFixed(1)}; time: environment ${time.environment.toFixed(1)} s, ` +
      `planning ${time.planning.toFixed(1)} s, updates ${time.updates.toFixed(1)} s; this call ${run.seconds.toFixed(1)} s`,
  );
  return { history: run.history, counters: run.counters, time, seconds: run.seconds, files };
}
