import { writeFileSync } from 'node:fs';
import {
  createPendulum,
  type PendulumStudyResult,
  type PendulumStudySettings,
  renderRollout,
  runPendulumStudy,
} from '@dcem/tasks';
import { pendulumSpec, type TrajectoryPoint } from './charts/control.js';
import type { RunContext } from './context.js';
import { writeGif } from './gif.js';
import { svgToRgba, writePlot } from './plot.js';
import { startProgress } from './progress.js';

/** Settings of {@link runPendulum}: those of `runPendulumStudy` in `@dcem/tasks`. */
export type PendulumSettings = PendulumStudySettings;

/** What {@link runPendulum} found: the study's result and the files written. */
export interface PendulumResult extends Omit<PendulumStudyResult, 'states' | 'controls'> {
  files: string[];
}

function toPoints(values: number[][], pick: (row: number[]) => number[]): TrajectoryPoint[] {
  return values.flatMap((row, run) => pick(row).map((value, t) => ({ run, t, value })));
}

/**
 * `dcem pendulum`: runs the swing-up study (`runPendulumStudy` of
 * `@dcem/tasks`) with a progress bar, then writes the figure (cost per
 * iteration, cos θ, θ̇, controls), CSV/JSON and an animation (animated SVG
 * and GIF).
 */
export async function runPendulum(ctx: RunContext, s: PendulumSettings): Promise<PendulumResult> {
  const pendulum = createPendulum();
  const maxTorque = pendulum.params.maxTorque;
  const openLoop = s.mode === 'open-loop';
  const field = openLoop ? 'cost' : 'plan cost';
  const progress = startProgress(
    openLoop ? 'planning' : 'MPC steps',
    openLoop ? (s.iterations ?? 1) : s.mpcSteps,
    ctx.interactive,
    [field],
  );
  let study: PendulumStudyResult;
  try {
    study = runPendulumStudy(s, {
      log: ctx.log,
      onProgress: (done, total, cost) => {
        progress.setTotal(total);
        progress.update(done, { [field]: cost.toFixed(4) });
      },
    });
  } finally {
    progress.stop();
  }
  const { states, controls, loss, upright, finalCos, costs, iterations, converged, seconds } = study;
  const method =
    s.planner !== undefined ? s.planner : s.temperature === null ? 'CEM' : `DCEM (τ = ${s.temperature})`;
  const steps = (states[0]?.length ?? 1) - 1;

  const files: string[] = [];
  const trajCsv = ['run,t,cos_theta,sin_theta,theta_dot,u'];
  states.forEach((row, run) => {
    row.forEach((x, t) => {
      trajCsv.push(`${run},${t},${x[0]},${x[1]},${x[2]},${t < steps ? controls[run]?.[t] : ''}`);
    });
  });
  const trajPath = ctx.outPath('pendulum-trajectories.csv');
  writeFileSync(trajPath, `${trajCsv.join('\n')}\n`);
  const lossPath = ctx.outPath('pendulum-loss.csv');
  writeFileSync(
    lossPath,
    `${s.mode === 'open-loop' ? 'iteration' : 'step'},mean_cost\n${loss.map((c, i) => `${i + 1},${c}`).join('\n')}\n`,
  );
  files.push(trajPath, lossPath);
  files.push(
    ...(await writePlot(
      ctx.outPath('pendulum'),
      pendulumSpec({
        title: `Pendulum swing-up, ${method} ${s.mode === 'open-loop' ? 'open-loop plans' : 'MPC'}: ${upright}/${s.count} upright at the end`,
        loss: loss.map((cost, i) => ({ x: i + 1, cost })),
        lossTitle: s.mode === 'open-loop' ? 'Planner cost (mean over swing-ups)' : 'Plan cost per MPC step',
        lossXTitle: s.mode === 'open-loop' ? 'CEM iteration' : 'MPC step',
        cos: toPoints(
          states.map((row) => row.map((x) => x[0] as number)),
          (r) => r,
        ),
        velocity: toPoints(
          states.map((row) => row.map((x) => x[2] as number)),
          (r) => r,
        ),
        controls: toPoints(controls, (r) => r),
        maxTorque,
      }),
    )),
  );
  const rendering = renderRollout('pendulum', states, {
    columns: Math.min(4, s.count),
    cellWidth: 120,
    controls,
    maxControl: maxTorque,
    labels: states.map((_, i) => `#${i + 1}`),
    frameDuration: pendulum.params.dt,
  });
  const svgPath = ctx.outPath('pendulum-animation.svg');
  writeFileSync(svgPath, rendering.animation);
  const gifPath = writeGif(
    ctx.outPath('pendulum.gif'),
    rendering.frames.map((frame) => svgToRgba(frame)),
    Math.round(pendulum.params.dt * 1000),
  );
  files.push(svgPath, gifPath);
  const summary = {
    settings: s,
    backend: ctx.backend,
    upright,
    count: s.count,
    finalCos,
    costs,
    iterations,
    converged,
    loss,
    seconds,
  };
  files.push(ctx.writeJson('pendulum.json', summary));
  return { mode: s.mode, iterations, converged, costs, finalCos, upright, loss, seconds, files };
}
