import { writeFileSync } from 'node:fs';
import { makeEnv, renderSvg, type TaskName } from '@dcem/mujoco';
import {
  type PlanetCheckpoint,
  type PlanetEpisodeRecord,
  type PlanetRunResult,
  type PlanetSettings,
  runPlanet,
} from '@dcem/tasks/planet';
import { VEGA_LITE_SCHEMA } from './charts/schema.js';
import type { RunContext } from './context.js';
import { writeGif } from './gif.js';
import { type PlotSpec, svgToRgba, writePlot } from './plot.js';
import { type Progress, startProgress } from './progress.js';

/** Options of {@link runPlanetCli} besides the run's settings. */
export interface PlanetCliOptions {
  /** Frames at most in the GIF of the latest evaluation episode (steps are skipped evenly beyond it), default 100. */
  maxFrames?: number;
}

/** What {@link runPlanetCli} found. */
export interface PlanetCliResult {
  /** The run's episodes (resumed ones included). */
  history: PlanetEpisodeRecord[];
  /** Episodes collected, updates, evaluations and environment steps. */
  counters: PlanetRunResult['counters'];
  /** Σ wall seconds over the history: stepping the environment, planning (filtering included), updates. */
  time: { environment: number; planning: number; updates: number };
  /** Wall seconds of this call. */
  seconds: number;
  /** The files written. */
  files: string[];
}

/** The learning curve: return against environment steps, one series per kind of episode. */
export function learningCurveSpec(title: string, history: PlanetEpisodeRecord[]): PlotSpec {
  return {
    $schema: VEGA_LITE_SCHEMA,
    title,
    width: 480,
    height: 280,
    data: {
      values: history.map((r) => ({ steps: r.environmentSteps, return: r.return, kind: r.kind })),
    },
    mark: { type: 'line', point: true, strokeWidth: 1.4 },
    encoding: {
      x: { field: 'steps', type: 'quantitative', title: 'environment steps' },
      y: { field: 'return', type: 'quantitative', title: 'episode return' },
      color: {
        field: 'kind',
        type: 'nominal',
        title: 'episode',
        scale: { domain: ['seed', 'train', 'eval'] },
      },
    },
  } as PlotSpec;
}

/** CSV of the episodes, one line each. */
export function episodesCsv(history: PlanetEpisodeRecord[]): string {
  const header =
    'kind,index,return,steps,environment_steps,updates,loss,environment_seconds,planning_seconds,update_seconds,decoder_cost';
  const lines = history.map(
    (r) =>
      `${r.kind},${r.index},${r.return},${r.steps},${r.environmentSteps},${r.updates},${r.loss},` +
      `${r.environmentSeconds},${r.planningSeconds},${r.updateSeconds},${r.decoderCost ?? ''}`,
  );
  return `${header}\n${lines.join('\n')}\n`;
}

/** Replays an evaluation episode from its seed and actions and renders it (at most `maxFrames` frames). */
async function renderEpisode(
  env: TaskName,
  actionRepeat: number,
  record: PlanetEpisodeRecord,
  maxFrames: number,
): Promise<{ frames: ReturnType<typeof svgToRgba>[]; frameMs: number; return: number }> {
  const sim = await makeEnv(env, { seed: record.envSeed, actionRepeat });
  try {
    sim.reset();
    const actions = record.actions ?? [];
    const stride = Math.max(1, Math.ceil((actions.length + 1) / maxFrames));
    const frames = [svgToRgba(renderSvg(sim, { width: 320 }))];
    let total = 0;
    actions.forEach((a, t) => {
      total += sim.step(a).reward;
      if ((t + 1) % stride === 0) frames.push(svgToRgba(renderSvg(sim, { width: 320 })));
    });
    return { frames, frameMs: Math.round(sim.controlTimestep * actionRepeat * stride * 1000), return: total };
  } finally {
    sim.dispose();
  }
}

interface PlanetOutputs {
  time: { environment: number; planning: number; updates: number };
  lastReturn: number;
  files: string[];
}

/** Writes the episodes (CSV, JSON), the learning curve and, when `gifFrames` > 0, the GIF of the latest evaluation episode. */
async function writePlanetOutputs(
  ctx: RunContext,
  state: Pick<PlanetCheckpoint, 'settings' | 'counters' | 'history'>,
  gifFrames: number,
): Promise<PlanetOutputs> {
  const { settings: s, counters, history } = state;
  const files: string[] = [ctx.outPath('latest-checkpoint.json')];
  const csvPath = ctx.outPath('planet-episodes.csv');
  writeFileSync(csvPath, episodesCsv(history));
  files.push(csvPath);
  const sum = (f: (r: PlanetEpisodeRecord) => number) => history.reduce((a, r) => a + f(r), 0);
  const time = {
    environment: sum((r) => r.environmentSeconds),
    planning: sum((r) => r.planningSeconds),
    updates: sum((r) => r.updateSeconds),
  };
  const evals = history.filter((r) => r.kind === 'eval');
  const trains = history.filter((r) => r.kind !== 'eval');
  const lastReturn = (evals.at(-1) ?? trains.at(-1))?.return ?? Number.NaN;
  files.push(
    ...(await writePlot(
      ctx.outPath('planet-learning-curve'),
      learningCurveSpec(
        `PlaNet on ${s.env}, ${s.plan.planner}: ${counters.environmentSteps} environment steps`,
        history,
      ),
    )),
  );
  const latestEval = evals.at(-1);
  if (latestEval !== undefined && gifFrames > 0) {
    const rendered = await renderEpisode(s.env, s.actionRepeat, latestEval, gifFrames);
    if (rendered.return !== latestEval.return) {
      ctx.log(
        `note: replaying evaluation episode ${latestEval.index} gave return ${rendered.return}, the run recorded ${latestEval.return}`,
      );
    }
    files.push(writeGif(ctx.outPath('planet-eval.gif'), rendered.frames, rendered.frameMs));
  }
  files.push(
    ctx.writeJson('planet-episodes.json', {
      settings: s,
      backend: ctx.backend,
      counters,
      time,
      episodes: history,
    }),
  );
  return { time, lastReturn, files };
}

/**
 * `dcem planet`: PlaNet's online loop (`runPlanet` of `@dcem/tasks/planet`)
 * with progress bars, resumable from its output folder (a checkpoint after
 * every collected episode; the same command continues the run). Writes the
 * episodes (JSON, CSV), the learning curve (SVG, PNG: return against
 * environment steps) and a GIF of the latest evaluation episode.
 */
export async function runPlanetCli(
  ctx: RunContext,
  settings: PlanetSettings,
  options: PlanetCliOptions = {},
): Promise<PlanetCliResult> {
  const maxFrames = options.maxFrames ?? 100;
  const out = ctx.outPath('.');
  let bar: Progress | undefined;
  let current = '';
  const phase = (key: string, total: number, fields: string[]) => {
    if (key === current) return bar as Progress;
    bar?.stop();
    current = key;
    bar = startProgress(key, total, ctx.interactive, fields);
    return bar;
  };
  // The files are rewritten after every checkpoint (a run of hundreds of episodes shows its curve as it
  // goes); the run waits for them (runPlanet awaits onCheckpoint's Promise).
  let lastGif = -1;
  const write = async (state: Pick<PlanetCheckpoint, 'settings' | 'counters' | 'history'>) => {
    const evals = state.history.filter((r) => r.kind === 'eval');
    const gif = evals.length > 0 && evals.length - 1 !== lastGif;
    const outputs = await writePlanetOutputs(ctx, state, gif ? maxFrames : 0);
    if (gif) lastGif = evals.length - 1;
    return outputs;
  };
  let run: PlanetRunResult;
  try {
    run = await runPlanet(
      settings,
      {
        log: (line) => {
          if (!ctx.interactive) return;
          bar?.stop();
          bar = undefined;
          current = '';
          ctx.log(line);
        },
        onUpdate: (info) => {
          const decoder = info.decoderCost === undefined ? '' : ` decoder ${info.decoderCost.toFixed(2)}`;
          phase(`updates before episode ${info.episode}`, info.of, ['loss']).update(info.done, {
            loss: `${info.loss.toFixed(2)}${decoder}`,
          });
        },
        onStep: (info) => {
          if (info.step < 0) return;
          phase(`${info.kind} episode ${info.index}`, info.steps, ['return']).update(info.step + 1, {
            return: info.return.toFixed(1),
          });
        },
        onCheckpoint: async (checkpoint) => {
          await write(checkpoint);
        },
      },
      { out },
    );
  } finally {
    bar?.stop();
  }
  const { time, lastReturn, files } = await write(run.checkpoint);
  ctx.log(
    `${run.counters.episodes} episodes (${run.counters.environmentSteps} environment steps, ${run.counters.updates} updates, ` +
      `${run.counters.evaluations} evaluations); latest return ${lastReturn.toFixed(1)}; ` +
      `time: environment ${time.environment.toFixed(1)} s, planning ${time.planning.toFixed(1)} s, updates ${time.updates.toFixed(1)} s; ` +
      `this call ${run.seconds.toFixed(1)} s`,
  );
  return { history: run.history, counters: run.counters, time, seconds: run.seconds, files };
}
