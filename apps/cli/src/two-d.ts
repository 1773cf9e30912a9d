import { writeFileSync } from 'node:fs';
import { createMinimumMover, OBJECTIVES_2D, type Objective2DId } from '@dcem/tasks/objectives';
import { cem, dcem, disposeCemResult } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import { gridCells, type IterationSamples, iteratesSpec, lossSpec } from './charts/contour.js';
import type { RunContext } from './context.js';
import { type Frame, writeGif } from './gif.js';
import { svgToRgba, toSvg, writePlot } from './plot.js';
import { startProgress } from './progress.js';

/** Settings of {@link runOptimize}. */
export interface OptimizeSettings {
  objective: Objective2DId;
  method: 'cem' | 'dcem';
  samples: number;
  elites: number;
  iterations: number;
  temperature: number;
  initStd: number;
  seed: number;
  /** File-name prefix inside the output folder. */
  prefix: string;
}

/** What {@link runOptimize} found. */
export interface OptimizeResult {
  objective: string;
  method: string;
  solution: number[];
  value: number;
  iterations: number;
  files: string[];
}

const fmt = (values: ArrayLike<number>) => `(${Array.from(values, (v) => v.toFixed(3)).join(', ')})`;

/** Minimises a built-in 2-D objective with CEM or DCEM and draws the iterates on its contour plot. */
export async function runOptimize(ctx: RunContext, s: OptimizeSettings): Promise<OptimizeResult> {
  const objective = OBJECTIVES_2D[s.objective];
  const f = objective.f();
  const recorded: IterationSamples[] = [];
  const options = {
    dim: 2,
    numSamples: s.samples,
    numElites: s.elites,
    numIterations: s.iterations,
    initStd: s.initStd,
    seed: s.seed,
    onIteration: (info: { iteration: number; samples: tf.Tensor; mean: tf.Tensor }) => {
      recorded.push({
        iteration: info.iteration,
        samples: (info.samples.arraySync() as number[][][])[0] as number[][],
        mean: Array.from(info.mean.dataSync()),
      });
    },
  };
  const r = s.method === 'cem' ? cem(f, options) : dcem(f, { ...options, temperature: s.temperature });
  const solution = Array.from(r.solution.dataSync());
  const value = tf.tidy(() => f(tf.reshape(r.solution, [1, 1, 2])).dataSync()[0] as number);
  const iterations = r.iterations;
  disposeCemResult(r);

  const label = s.method === 'cem' ? 'CEM (hard top-k)' : `DCEM (τ = ${s.temperature})`;
  ctx.log(
    `${label} on ${objective.title}: x̂ = ${fmt(solution)}, f(x̂) = ${value.toFixed(4)}, ${iterations} iterations`,
  );
  const csv = [
    'iteration,sample,x,y',
    ...recorded.flatMap((it) => it.samples.map(([x, y], i) => `${it.iteration + 1},${i},${x},${y}`)),
  ];
  const csvPath = ctx.outPath(`${s.prefix}-iterates.csv`);
  writeFileSync(csvPath, `${csv.join('\n')}\n`);
  const plot = await writePlot(
    ctx.outPath(`${s.prefix}-iterates`),
    iteratesSpec({
      title: `${label}: ${s.samples} samples, ${s.elites} elites per iteration`,
      cells: gridCells(f, objective.box),
      box: objective.box,
      iterations: recorded,
    }),
  );
  return { objective: s.objective, method: s.method, solution, value, iterations, files: [csvPath, ...plot] };
}

/** Settings of {@link runLearn}. */
export interface LearnSettings {
  target: [number, number];
  steps: number;
  seed: number;
  /** Draw an animation frame every this many steps (0: no animation). */
  frameEvery: number;
  prefix: string;
}

/** What {@link runLearn} did. */
export interface LearnResult {
  losses: number[];
  theta: number[];
  solution: number[];
  target: [number, number];
  files: string[];
}

/**
 * Moves the minimum of the three-bumps objective to a target by
 * differentiating through DCEM; writes the loss curve and an animation of
 * the learned objective.
 */
export async function runLearn(ctx: RunContext, s: LearnSettings): Promise<LearnResult> {
  const mover = createMinimumMover({ target: s.target, seed: s.seed });
  const box = OBJECTIVES_2D.bumps.box;
  const losses: number[] = [];
  const frames: Frame[] = [];
  const trail: IterationSamples[] = [];
  let solution: number[] = [];
  const progress = startProgress('learning θ', s.steps, ctx.interactive, ['loss']);
  ctx.log(`Learning θ so that the DCEM minimiser moves to ${fmt(s.target)} (loss = ‖x̂(θ) − target‖²)`);
  try {
    for (let step = 0; step < s.steps; step++) {
      if (s.frameEvery > 0 && step % s.frameEvery === 0) {
        frames.push(await frame(mover.objective(), trail, step));
      }
      const r = mover.step();
      losses.push(r.loss);
      solution = r.solution;
      trail.push({ iteration: step, samples: [], mean: r.solution });
      progress.update(step + 1, { loss: r.loss.toExponential(2) });
    }
    const theta = mover.theta();
    if (s.frameEvery > 0) frames.push(await frame(mover.objective(), trail, s.steps));
    progress.stop();
    ctx.log(
      `   loss: ${losses[0]?.toExponential(3)} → ${losses.at(-1)?.toExponential(3)} after ${s.steps} steps`,
    );
    ctx.log(`   learned θ = ${fmt(theta)}; DCEM minimiser ${fmt(solution)}`);
    const csvPath = ctx.outPath(`${s.prefix}-loss.csv`);
    writeFileSync(csvPath, `step,loss\n${losses.map((l, i) => `${i + 1},${l}`).join('\n')}\n`);
    const files = [
      csvPath,
      ...(await writePlot(
        ctx.outPath(`${s.prefix}-loss`),
        lossSpec('Learning θ through DCEM: ‖x̂(θ) − target‖²', losses),
      )),
    ];
    if (frames.length > 0) files.push(writeGif(ctx.outPath(`${s.prefix}.gif`), frames, 150));
    return { losses, theta, solution, target: s.target, files };
  } finally {
    progress.stop();
    mover.dispose();
  }

  async function frame(
    f: (x: tf.Tensor) => tf.Tensor,
    path: IterationSamples[],
    step: number,
  ): Promise<Frame> {
    const svg = await toSvg(
      iteratesSpec({
        title: `step ${step}: the learned objective and its DCEM minimiser`,
        cells: gridCells(f, box, 50),
        box,
        iterations: path.slice(-1).map((p) => ({ ...p, samples: [p.mean] })),
        target: s.target,
        size: 360,
      }),
    );
    return svgToRgba(svg);
  }
}
