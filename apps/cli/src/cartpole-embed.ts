import { writeFileSync } from 'node:fs';
import {
  assembleCartpoleEmbedStudy,
  CARTPOLE_EMBED_RUN_JOB,
  type CartpoleEmbedFigures,
  type CartpoleEmbedRun,
  type CartpoleEmbedRunParams,
  type CartpoleEmbedRunResult,
  type CartpoleEmbedStudyResult,
  type CartpoleEmbedStudySettings,
  cartpoleEmbedBaseline,
  cartpoleEmbedJobs,
  cartpoleEmbedRuns,
  createCartpole,
  renderRollout,
  runCartpoleEmbedRun,
} from '@dcem/tasks';
import {
  type CurvePoint,
  controlIteratesSpec,
  convergenceSpec,
  type FactorBar,
  improvementSpec,
  latentSurfaceSpec,
  type SurfaceCell,
} from './charts/control.js';
import type { RunContext } from './context.js';
import { writeGif } from './gif.js';
import { executeStudy } from './jobs/study.js';
import { svgToRgba, writePlot } from './plot.js';
import { type Progress, startProgress } from './progress.js';

/** Settings of {@link runCartpoleEmbed}: those of `runCartpoleEmbedStudy` in `@dcem/tasks`. */
export type CartpoleEmbedSettings = CartpoleEmbedStudySettings;

/** One training run of the study. */
export type EmbedRun = CartpoleEmbedRun;

/** What {@link runCartpoleEmbed} found: the study's result and the files written. */
export interface CartpoleEmbedResult extends CartpoleEmbedStudyResult {
  files: string[];
}

const temperatureLabel = (temperature: number | null) =>
  temperature === null ? 'no τ (CEM)' : `τ = ${temperature}`;
/** τ in file names and CSV: the number, or `none`. */
const temperatureName = (temperature: number | null) => (temperature === null ? 'none' : String(temperature));

function movingAverage(values: number[], window: number): number[] {
  const out: number[] = [];
  let sum = 0;
  values.forEach((v, i) => {
    sum += v;
    if (i >= window) sum -= values[i - window] as number;
    out.push(sum / Math.min(i + 1, window));
  });
  return out;
}

/** Writes a run's checkpoint as raw float32 plus a JSON manifest. */
function saveWeights(ctx: RunContext, run: EmbedRun): string[] {
  const name = `cartpole-embed-d${run.latent}-tau${temperatureName(run.temperature)}-seed${run.seed}`;
  const total = run.weights.reduce((n, w) => n + w.length, 0);
  const all = new Float32Array(total);
  let offset = 0;
  for (const w of run.weights) {
    all.set(w, offset);
    offset += w.length;
  }
  const bin = ctx.outPath(`${name}.weights.bin`);
  writeFileSync(bin, Buffer.from(all.buffer));
  const manifest = ctx.writeJson(`${name}.weights.json`, {
    latent: run.latent,
    temperature: run.temperature,
    seed: run.seed,
    horizon: run.horizon,
    bestIteration: run.bestIteration,
    bestValidationCost: run.bestValidationCost,
    format: 'float32 little-endian, variables concatenated in order',
    file: `${name}.weights.bin`,
    shapes: run.weightShapes,
  });
  return [bin, manifest];
}

/**
 * `dcem cartpole-embed`: runs the cart-pole latent-action-embedding study
 * (`runCartpoleEmbedStudy` of `@dcem/tasks`) with a progress bar per run,
 * then writes the checkpoints, curves, the improvement-factor table, the cost
 * surface over the latent square, the iterates of both planners and an
 * animation.
 */
export async function runCartpoleEmbed(
  ctx: RunContext,
  s: CartpoleEmbedSettings,
  queue?: string,
): Promise<CartpoleEmbedResult> {
  const start = Date.now();
  const files: string[] = [];
  const baseline = cartpoleEmbedBaseline(s, ctx.log);
  const jobs = cartpoleEmbedJobs(s, ctx.backend);
  const outcome = await executeStudy(ctx, {
    file: 'cartpole-embed-jobs.jsonl',
    specs: jobs.map((j) => j.spec),
    ...(queue !== undefined ? { queue } : {}),
    local: (spec, index, count) => {
      const p = spec.params as CartpoleEmbedRunParams;
      const progress: Progress = startProgress(
        `run ${index + 1}/${count} ${CARTPOLE_EMBED_RUN_JOB.describe(p)}`,
        p.iterations,
        ctx.interactive,
        ['cost', 'val'],
      );
      let lastVal = '-';
      let recent: number[] = [];
      try {
        return runCartpoleEmbedRun(p, {
          onStep: (step) => {
            recent.push(step.cost);
            if (recent.length > 50) recent = recent.slice(-50);
            const avg = recent.reduce((a, b) => a + b, 0) / recent.length;
            progress.update(step.iteration, { cost: avg.toFixed(3), val: lastVal });
          },
          onValidation: (v) => {
            lastVal = v.cost.toFixed(3);
          },
        });
      } finally {
        progress.stop();
      }
    },
  });
  files.push(outcome.file);
  const runsDone = cartpoleEmbedRuns(jobs, outcome.results as CartpoleEmbedRunResult[], baseline);
  for (const run of runsDone) {
    ctx.log(
      `d=${run.latent} ${temperatureLabel(run.temperature)} seed ${run.seed}: improvement factor ` +
        `${run.improvementFactor.toFixed(3)} (validation), ${run.testFactor.toFixed(3)} (test); ${run.seconds.toFixed(0)} s`,
    );
    files.push(...saveWeights(ctx, run));
  }
  const study: CartpoleEmbedStudyResult = assembleCartpoleEmbedStudy(s, baseline, runsDone, {
    log: ctx.log,
    start,
  });
  const { runs, table, fullCem } = study;

  // Curves and tables as files.
  const curveCsv = ['latent,temperature,seed,curve,iteration,cost'];
  const points: CurvePoint[] = [];
  for (const run of runs) {
    const temperature = temperatureName(run.temperature);
    run.trainCosts.forEach((c, i) => {
      curveCsv.push(`${run.latent},${temperature},${run.seed},training,${i + 1},${c}`);
    });
    for (const v of run.validations)
      curveCsv.push(`${run.latent},${temperature},${run.seed},validation,${v.iteration},${v.cost}`);
    const smooth = movingAverage(run.trainCosts, 50);
    const stride = Math.max(1, Math.floor(smooth.length / 200));
    smooth.forEach((c, i) => {
      if ((i + 1) % stride === 0 || i === smooth.length - 1) {
        points.push({
          latent: run.latent,
          temperature: temperatureLabel(run.temperature),
          seed: run.seed,
          curve: 'training',
          iteration: i + 1,
          cost: c,
        });
      }
    });
    for (const v of run.validations) {
      points.push({
        latent: run.latent,
        temperature: temperatureLabel(run.temperature),
        seed: run.seed,
        curve: 'validation',
        iteration: v.iteration,
        cost: v.cost,
      });
    }
  }
  const bars: FactorBar[] = table.map((cell) => ({
    latent: cell.latent,
    temperature: temperatureLabel(cell.temperature),
    factor: cell.factor,
    low: cell.low,
    high: cell.high,
    seeds: cell.seeds,
  }));
  const curvePath = ctx.outPath('cartpole-embed-curves.csv');
  writeFileSync(curvePath, `${curveCsv.join('\n')}\n`);
  const tablePath = ctx.outPath('cartpole-embed-table.csv');
  writeFileSync(
    tablePath,
    `latent,temperature,seeds,mean_factor,min_factor,max_factor\n${bars.map((b) => `${b.latent},"${b.temperature}",${b.seeds},${b.factor},${b.low},${b.high}`).join('\n')}\n`,
  );
  files.push(curvePath, tablePath);
  files.push(
    ...(await writePlot(
      ctx.outPath('cartpole-embed-convergence'),
      convergenceSpec(points, fullCem.validationCost, [
        'Cart-pole latent action embedding: training cost (moving average of 50 updates) and validation cost',
        'dashed: full-space CEM on the validation states',
      ]),
    )),
  );
  files.push(
    ...(await writePlot(
      ctx.outPath('cartpole-embed-improvement'),
      improvementSpec(bars, [
        'Improvement factor',
        'latent DCEM return / full-space CEM return (validation)',
      ]),
    )),
  );
  if (study.figures !== undefined) files.push(...(await drawLatentFigures(ctx, study.figures)));

  const result: CartpoleEmbedResult = { ...study, files };
  files.push(
    ctx.writeJson('cartpole-embed.json', {
      settings: s,
      backend: ctx.backend,
      ...result,
      runs: runs.map(({ trainCosts, weights, weightShapes, ...rest }) => rest),
      figures: undefined,
    }),
  );
  return result;
}

/** Draws the latent cost surface with the DCEM iterates, full-space vs latent iterates, and an animation. */
async function drawLatentFigures(ctx: RunContext, f: CartpoleEmbedFigures): Promise<string[]> {
  const files: string[] = [];
  const cartpole = createCartpole();
  const { maxForce } = cartpole.params;
  const half = 0.51 * f.surface.step;
  const cells: SurfaceCell[] = f.surface.points.map(({ x, y, cost }) => ({
    x0: x - half,
    x1: x + half,
    y0: y - half,
    y1: y + half,
    cost,
  }));
  files.push(
    ...(await writePlot(
      ctx.outPath('cartpole-embed-latent-surface'),
      latentSurfaceSpec(cells, f.latentIterates, [
        'Cost over the learned 2-D latent space for validation state 0, with the latent DCEM samples',
        `(d = 2, ${temperatureLabel(f.run.temperature)}, seed ${f.run.seed}, best-validation checkpoint)`,
      ]),
    )),
  );
  files.push(
    ...(await writePlot(
      ctx.outPath('cartpole-embed-iterates'),
      controlIteratesSpec(
        [
          {
            method: `CEM over the full action space (return of the plan ${f.fullReturn.toFixed(2)})`,
            iterates: f.fullControls,
          },
          {
            method: `DCEM over the latent action space (return of the plan ${f.latentReturn.toFixed(2)})`,
            iterates: f.latentControls,
          },
        ],
        maxForce,
        'Iterates as control sequences, validation state 0',
      ),
    )),
  );
  // Animation of the latent planner's plans from six validation states.
  const { states, controls, returns } = f.animation;
  const rendering = renderRollout('cartpole', states, {
    columns: 3,
    cellWidth: 200,
    controls,
    maxControl: maxForce,
    labels: returns.map((r, i) => `state ${i}: return ${r.toFixed(2)}`),
    frameDuration: cartpole.params.dt * 2, // played at half speed
    timeStep: cartpole.params.dt,
  });
  const svgPath = ctx.outPath('cartpole-embed-animation.svg');
  writeFileSync(svgPath, rendering.animation);
  files.push(
    svgPath,
    writeGif(
      ctx.outPath('cartpole-embed.gif'),
      rendering.frames.map((frame) => svgToRgba(frame)),
      Math.round(cartpole.params.dt * 2000),
    ),
  );
  return files;
}
