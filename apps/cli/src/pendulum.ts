import { writeFileSync } from 'node:fs';
import {
  createPendulum,
  type PlanResult,
  pendulumSwingUpCost,
  plan,
  renderRollout,
  rollout,
  rolloutCost,
  runMpc,
  samplePendulumStates,
} from '@dcem/tasks';
import * as tf from '@tensorflow/tfjs';
import { pendulumSpec, type TrajectoryPoint } from './charts/control.js';
import type { RunContext } from './context.js';
import { writeGif } from './gif.js';
import { svgToRgba, writePlot } from './plot.js';
import { startProgress } from './progress.js';

/** Settings of {@link runPendulum} (the DCEM notebook's values by default). */
export interface PendulumSettings {
  /** Swing-ups solved at once (θ ~ U(−π/4, π/4), θ̇ ~ U(−4, 4)). */
  count: number;
  /** Plan horizon H. */
  horizon: number;
  samples: number;
  elites: number;
  /** Solver iterations at most (per plan). */
  iterations: number;
  initStd: number;
  tolerance: number;
  /** τ; null: vanilla CEM. */
  temperature: number | null;
  /** `open-loop`: one plan of H steps per swing-up, as the notebook; `mpc`: re-plan every step. */
  mode: 'open-loop' | 'mpc';
  /** Closed-loop steps in `mpc` mode. */
  mpcSteps: number;
  seed: number;
}

/** What {@link runPendulum} found. */
export interface PendulumResult {
  mode: 'open-loop' | 'mpc';
  /** Solver iterations (open loop) or per step (MPC). */
  iterations: number[];
  converged: boolean | null;
  /** Final cost of each swing-up's plan (open loop) or of its closed-loop trajectory. */
  costs: number[];
  /** cos θ at the last step of each swing-up. */
  finalCos: number[];
  /** How many end upright (cos θ > 0.95 at the last step). */
  upright: number;
  /** The cost curve plotted (mean over swing-ups per iteration, or per MPC step). */
  loss: number[];
  seconds: number;
  files: string[];
}

const UPRIGHT = 0.95;

function toPoints(values: number[][], pick: (row: number[]) => number[]): TrajectoryPoint[] {
  return values.flatMap((row, run) => pick(row).map((value, t) => ({ run, t, value })));
}

/**
 * The pendulum swing-up of the DCEM repository's notebook: plans torques for
 * `count` random start states with CEM (or DCEM), rolls the plans out and
 * writes the figure (cost per iteration, cos θ, θ̇, controls), CSV/JSON and
 * an animation (animated SVG and GIF).
 */
export async function runPendulum(ctx: RunContext, s: PendulumSettings): Promise<PendulumResult> {
  const pendulum = createPendulum();
  const maxTorque = pendulum.params.maxTorque;
  const x0 = samplePendulumStates(s.count, s.seed);
  const start = performance.now();
  const loss: number[] = [];
  let iterations: number[];
  let converged: boolean | null = null;
  let states: number[][][];
  let controls: number[][];
  let costs: number[];
  const solver = {
    horizon: s.horizon,
    numSamples: s.samples,
    numElites: s.elites,
    numIterations: s.iterations,
    initStd: s.initStd,
    tolerance: s.tolerance,
    temperature: s.temperature,
    seed: s.seed,
  };
  const method = s.temperature === null ? 'CEM' : `DCEM (τ = ${s.temperature})`;
  try {
    if (s.mode === 'open-loop') {
      ctx.log(
        `Planning ${s.count} pendulum swing-ups open loop: ${method}, horizon ${s.horizon}, ${s.samples} samples, ` +
          `${s.elites} elites, up to ${s.iterations} iterations, σ₀ = ${s.initStd}, tolerance ${s.tolerance}`,
      );
      const cost = rolloutCost(pendulum, x0, pendulumSwingUpCost);
      const progress = startProgress('planning', s.iterations, ctx.interactive, ['cost']);
      let r: PlanResult;
      try {
        r = plan(cost, {
          ...solver,
          controlDim: 1,
          lowerBound: pendulum.lowerBound,
          upperBound: pendulum.upperBound,
          batchSize: s.count,
          onIteration: (info) => {
            // The cost of the current plan μ' (clamped to the bounds), averaged over the swing-ups.
            const value = tf.tidy(() => {
              const u = tf.clipByValue(info.mean, -maxTorque, maxTorque);
              return tf.mean(cost(tf.expandDims(u, 1))).dataSync()[0] as number;
            });
            loss.push(value);
            progress.update(info.iteration + 1, { cost: value.toFixed(4) });
          },
        });
      } finally {
        progress.stop();
      }
      iterations = [r.iterations];
      converged = r.converged;
      costs = Array.from(r.cost.dataSync());
      const traj = rollout(pendulum, x0, r.controls);
      states = traj.arraySync() as number[][][];
      controls = (r.controls.arraySync() as number[][][]).map((row) => row.map((u) => u[0] as number));
      tf.dispose([traj, r.controls, r.firstAction, r.cost, r.mean, r.std]);
    } else {
      ctx.log(
        `Swinging up ${s.count} pendulums with MPC for ${s.mpcSteps} steps: ${method} re-plans every step ` +
          `(horizon ${s.horizon}, ${s.samples} samples, ${s.elites} elites, up to ${s.iterations} iterations, warm start)`,
      );
      const progress = startProgress('MPC steps', s.mpcSteps, ctx.interactive, ['plan cost']);
      try {
        const r = runMpc({
          dynamics: pendulum,
          initialState: x0,
          steps: s.mpcSteps,
          cost: pendulumSwingUpCost,
          planner: solver,
          onStep: (info) => {
            const value = tf.tidy(() => tf.mean(info.planCost).dataSync()[0] as number);
            loss.push(value);
            progress.update(info.step + 1, { 'plan cost': value.toFixed(4) });
          },
        });
        iterations = r.iterations;
        states = r.states.arraySync() as number[][][];
        controls = (r.actions.arraySync() as number[][][]).map((row) => row.map((u) => u[0] as number));
        costs = tf.tidy(() => Array.from(pendulumSwingUpCost(r.states, r.actions).dataSync()));
        tf.dispose([r.states, r.actions, r.planCosts]);
      } finally {
        progress.stop();
      }
    }
  } finally {
    x0.dispose();
  }
  const seconds = (performance.now() - start) / 1000;
  const finalCos = states.map((row) => (row.at(-1) as number[])[0] as number);
  const upright = finalCos.filter((c) => c > UPRIGHT).length;
  const steps = (states[0]?.length ?? 1) - 1;
  ctx.log(
    `${upright}/${s.count} swing-ups end upright (cos θ > ${UPRIGHT} at step ${steps}); ` +
      `cos θ_${steps} = [${finalCos.map((c) => c.toFixed(3)).join(', ')}]`,
  );
  ctx.log(
    s.mode === 'open-loop'
      ? `solver: ${iterations[0]} iterations (${converged ? 'met the tolerance' : 'did not meet the tolerance'}), ${seconds.toFixed(1)} s`
      : `MPC: ${iterations.reduce((a, b) => a + b, 0)} solver iterations over ${iterations.length} steps, ${seconds.toFixed(1)} s`,
  );
  ctx.log(`costs per swing-up: [${costs.map((c) => c.toFixed(3)).join(', ')}]`);

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
