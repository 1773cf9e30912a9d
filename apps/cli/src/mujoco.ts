import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { renderSvg } from '@dcem/mujoco';
import { type JobSpec, jobId, parseJobRecords } from '@dcem/tasks';
import {
  assembleMujocoStudy,
  formatMujocoTable,
  MUJOCO_EPISODE_JOB,
  type MujocoEpisodeParams,
  type MujocoEpisodeRecord,
  type MujocoEpisodeSettings,
  type MujocoStudyResult,
  type MujocoStudySettings,
  mujocoStudyJobs,
  runMujocoEpisodeJob,
  runMujocoEpisodes,
} from '@dcem/tasks/mujoco';
import { VEGA_LITE_SCHEMA } from './charts/schema.js';
import type { RunContext } from './context.js';
import { writeGif } from './gif.js';
import type { ResultStore } from './jobs/store.js';
import { executeStudy } from './jobs/study.js';
import { type PlotSpec, svgToRgba, writePlot } from './plot.js';
import { startProgress } from './progress.js';

/** Settings of {@link runMujoco}: those of `runMujocoEpisodes` plus the GIF's frame budget. */
export interface MujocoSettings extends MujocoEpisodeSettings {
  /** Frames at most in the GIF of the first episode (steps are skipped evenly beyond it), default 100. */
  maxFrames?: number;
}

/** What {@link runMujoco} found. */
export interface MujocoResult {
  returns: number[];
  meanReturn: number;
  stepsPerSecond: number;
  outsideSimulator: number;
  seconds: number;
  files: string[];
}

/** The return curve: cumulative return against control step, one line per episode. */
function returnCurveSpec(title: string, records: MujocoEpisodeRecord[]): PlotSpec {
  const values = records.flatMap((r) => {
    let total = 0;
    return [
      { episode: r.episode, t: 0, value: 0 },
      ...r.rewards.map((reward, i) => {
        total += reward;
        return { episode: r.episode, t: (i + 1) * r.actionRepeat, value: total };
      }),
    ];
  });
  return {
    $schema: VEGA_LITE_SCHEMA,
    title,
    width: 480,
    height: 280,
    data: { values },
    mark: { type: 'line', strokeWidth: 1.6 },
    encoding: {
      x: { field: 't', type: 'quantitative', title: 'control step' },
      y: { field: 'value', type: 'quantitative', title: 'return so far' },
      color: { field: 'episode', type: 'nominal', title: 'episode' },
    },
  } as PlotSpec;
}

/**
 * `dcem mujoco`: MPC episodes on a MuJoCo task with the true simulator
 * (`runMujocoEpisodes` of `@dcem/tasks/mujoco`) with a progress bar; writes
 * the returns (CSV, JSON), the return curve (SVG, PNG) and a GIF of the first
 * episode.
 */
export async function runMujoco(ctx: RunContext, settings: MujocoSettings): Promise<MujocoResult> {
  const { maxFrames = 100, ...s } = settings;
  const first = s.firstEpisode ?? 0;
  const frames: string[] = [];
  let stride = 1;
  let frameMs = 40;
  let progress: ReturnType<typeof startProgress> | undefined;
  let run: Awaited<ReturnType<typeof runMujocoEpisodes>>;
  try {
    run = await runMujocoEpisodes(s, {
      log: ctx.log,
      onStep: (info) => {
        progress ??= startProgress('MPC steps', s.episodes * info.steps, ctx.interactive, [
          'episode',
          'return',
        ]);
        if (info.episode === first) {
          if (info.step === -1) {
            stride = Math.max(1, Math.ceil((info.steps + 1) / maxFrames));
            frameMs = Math.round(info.env.controlTimestep * info.env.actionRepeat * stride * 1000);
          }
          if ((info.step + 1) % stride === 0) frames.push(renderSvg(info.env, { width: 320 }));
        }
        if (info.step >= 0) {
          progress.update((info.episode - first) * info.steps + info.step + 1, {
            episode: String(info.episode),
            return: info.return.toFixed(1),
          });
        }
      },
    });
  } finally {
    progress?.stop();
  }
  const tag = `mujoco-${s.env}-${s.planner}`;
  const files: string[] = [];
  const csvPath = ctx.outPath(`${tag}-returns.csv`);
  writeFileSync(
    csvPath,
    `episode,return,agent_steps,action_repeat,non_finite,seconds\n${run.episodes
      .map((r) => `${r.episode},${r.return},${r.steps},${r.actionRepeat},${r.nonFinite},${r.seconds}`)
      .join('\n')}\n`,
  );
  files.push(csvPath);
  files.push(
    ...(await writePlot(
      ctx.outPath(`${tag}-returns`),
      returnCurveSpec(`${s.env}, ${s.planner}: mean return ${run.meanReturn.toFixed(1)}`, run.episodes),
    )),
  );
  if (frames.length > 0) {
    files.push(
      writeGif(
        ctx.outPath(`${tag}.gif`),
        frames.map((f) => svgToRgba(f)),
        frameMs,
      ),
    );
  }
  const summary = {
    settings: s,
    backend: ctx.backend,
    meanReturn: run.meanReturn,
    stepsPerSecond: run.stepsPerSecond,
    outsideSimulator: run.outsideSimulator,
    seconds: run.seconds,
    episodes: run.episodes,
  };
  files.push(ctx.writeJson(`${tag}.json`, summary));
  ctx.log(
    `mean return ${run.meanReturn.toFixed(1)} over ${run.episodes.length} episodes; ` +
      `${Math.round(run.stepsPerSecond)} physics steps/s in rollouts; ` +
      `${(100 * run.outsideSimulator).toFixed(1)} % of planning time outside the simulator; ${run.seconds.toFixed(1)} s`,
  );
  return {
    returns: run.episodes.map((r) => r.return),
    meanReturn: run.meanReturn,
    stepsPerSecond: run.stepsPerSecond,
    outsideSimulator: run.outsideSimulator,
    seconds: run.seconds,
    files,
  };
}

/** The result file of `dcem mujoco-study` in its output folder: one job record (an episode) per line. */
export const STUDY_CHECKPOINT = 'mujoco-study-jobs.jsonl';

/** The checkpoint of earlier versions: one episode record per line, read once into {@link STUDY_CHECKPOINT}. */
export const LEGACY_CHECKPOINT = 'mujoco-study-episodes.jsonl';

/** Reads the episode records of a result file (none when it does not exist; torn lines and repeated ids dropped). */
export function readStudyCheckpoint(path: string): MujocoEpisodeRecord[] {
  if (!existsSync(path)) return [];
  return [...parseJobRecords(readFileSync(path, 'utf8')).records.values()].map(
    (r) => r.result as MujocoEpisodeRecord,
  );
}

/** Adds the records of an old checkpoint file (episode records, one per line) as jobs run on `backend`. */
function readLegacy(path: string, backend: string, store: ResultStore): void {
  if (!existsSync(path)) return;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    let r: MujocoEpisodeRecord;
    try {
      r = JSON.parse(line) as MujocoEpisodeRecord;
    } catch {
      continue; // an interrupted write: that episode runs again
    }
    const { horizon, samples, elites, iterations } = r.config;
    const params: MujocoEpisodeParams = {
      task: r.task,
      planner: r.planner,
      episode: r.episode,
      seed: r.seed,
      steps: r.steps,
      horizon,
      samples,
      elites,
      iterations,
    };
    store.add({ kind: MUJOCO_EPISODE_JOB.kind, version: MUJOCO_EPISODE_JOB.version, backend, params }, r);
  }
}

/**
 * `dcem mujoco-study`: the study of `runMujocoStudy`, one job per episode,
 * run here or on the queue at `queue`, resumable: every finished episode is
 * appended to `mujoco-study-jobs.jsonl` in the output folder, and episodes
 * found there are skipped. Writes the table (Markdown, CSV, JSON) and states
 * the wall time.
 */
export async function runMujocoStudyCli(
  ctx: RunContext,
  settings: Omit<MujocoStudySettings, 'completed'>,
  queue?: string,
): Promise<MujocoStudyResult & { files: string[] }> {
  const start = Date.now();
  const specs = mujocoStudyJobs(settings, ctx.backend);
  let bar: ReturnType<typeof startProgress> | undefined;
  const outcome = await executeStudy(ctx, {
    file: STUDY_CHECKPOINT,
    specs,
    ...(queue !== undefined ? { queue } : {}),
    legacy: (store) => readLegacy(ctx.outPath(LEGACY_CHECKPOINT), ctx.backend, store),
    local: async (spec, index, count) => {
      const p = spec.params as MujocoEpisodeParams;
      try {
        return await runMujocoEpisodeJob(p, {
          ...(settings.workers !== undefined ? { workers: settings.workers } : {}),
          log: (line) => {
            if (!ctx.interactive) return;
            bar?.stop();
            bar = undefined;
            ctx.log(line);
          },
          onStep: (step, steps) => {
            bar ??= startProgress(
              `${index + 1}/${count} ${MUJOCO_EPISODE_JOB.describe(p)}`,
              steps,
              ctx.interactive,
            );
            bar.update(step);
          },
        });
      } finally {
        bar?.stop();
        bar = undefined;
      }
    },
  });
  const records = outcome.results as MujocoEpisodeRecord[];
  const fresh = records.filter((_, i) => outcome.ran.has(jobId(specs[i] as JobSpec)));
  const result = assembleMujocoStudy(settings, records, fresh, (Date.now() - start) / 1000);
  const table = formatMujocoTable(result);
  const files = [outcome.file];
  const mdPath = ctx.outPath('mujoco-study.md');
  const note =
    `\n\nWall time of this run: ${result.seconds.toFixed(0)} s (${ctx.backend} backend). ` +
    `Rollouts: ${Math.round(result.stepsPerSecond)} physics steps/s; planning time outside the simulator: ` +
    `${(100 * result.outsideSimulator).toFixed(1)} %.\n`;
  writeFileSync(mdPath, `${table}${note}`);
  const csvPath = ctx.outPath('mujoco-study.csv');
  writeFileSync(
    csvPath,
    `task,planner,reduced,samples,elites,iterations,rollouts_per_step,agent_steps,action_repeat,episodes,mean_return,std_return,per_1000,planet\n${result.rows
      .map(
        (r) =>
          `${r.task},${r.planner},${r.reduced},${r.samples},${r.elites},${r.iterations},${r.rolloutsPerStep},${r.steps},` +
          `${r.actionRepeat},${r.episodes},${r.meanReturn},${r.stdReturn},${r.per1000},${r.planet}`,
      )
      .join('\n')}\n`,
  );
  files.push(mdPath, csvPath);
  const { episodes, ...rest } = result;
  files.push(ctx.writeJson('mujoco-study.json', { settings, backend: ctx.backend, ...rest }));
  ctx.log(table);
  ctx.log(
    `wall time ${result.seconds.toFixed(0)} s; ${Math.round(result.stepsPerSecond)} physics steps/s in rollouts; ` +
      `${(100 * result.outsideSimulator).toFixed(1)} % of planning time outside the simulator`,
  );
  return { ...result, files };
}
