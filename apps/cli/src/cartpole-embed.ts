import { writeFileSync } from 'node:fs';
import {
  type ActionDecoder,
  type Cartpole,
  cartpoleReturnFused,
  createActionDecoder,
  createCartpole,
  type LatentPlannerOptions,
  plan,
  planLatent,
  renderRollout,
  rollout,
  sampleCartpoleStates,
  trainLatentEmbedding,
} from '@dcem/tasks';
import * as tf from '@tensorflow/tfjs';
import {
  type ControlIterate,
  type CurvePoint,
  controlIteratesSpec,
  convergenceSpec,
  type FactorBar,
  improvementSpec,
  type LatentIterate,
  latentSurfaceSpec,
  type SurfaceCell,
} from './charts/control.js';
import type { RunContext } from './context.js';
import { writeGif } from './gif.js';
import { svgToRgba, writePlot } from './plot.js';
import { startProgress } from './progress.js';

/** Settings of {@link runCartpoleEmbed}. */
export interface CartpoleEmbedSettings {
  /** Latent size d of the main study. */
  latent: number;
  /** τ of the main study (0: vanilla CEM, gradient through the decoder at ẑ only). */
  tau: number;
  /** Seeds of the main study (runs seed, seed + 1, …). */
  seeds: number;
  /** Adam updates per run of the main study. */
  iterations: number;
  /** Also train every (latent, τ) of the table. */
  table: boolean;
  tableLatents: number[];
  tableTaus: number[];
  /** Seeds per table cell (the main study's cell reuses its runs). */
  tableSeeds: number;
  /** Adam updates per table run. */
  tableIterations: number;
  validateEvery: number;
  /** Initial states per update (1: the reference). */
  batch: number;
  learningRate: number;
  /** Validation (and test) states. */
  validationCount: number;
  seed: number;
}

const HORIZON = 20;
const FULL_CEM = { numSamples: 100, numElites: 10, numIterations: 30 } as const;
const LATENT: LatentPlannerOptions = { numSamples: 100, numElites: 10, numIterations: 10, initStd: 0.5 };

/** One training run of the study. */
export interface EmbedRun {
  latent: number;
  tau: number;
  seed: number;
  iterations: number;
  group: 'main' | 'table';
  /** Best validation cost and the update where it was reached. */
  bestValidationCost: number;
  bestIteration: number;
  /** Best-validation return / full-space CEM validation return. */
  improvementFactor: number;
  /** The checkpoint on fresh test states, with fresh noise: return and factor. */
  testCost: number;
  testFactor: number;
  seconds: number;
  msPerUpdate: number;
  trainCosts: number[];
  validations: { iteration: number; cost: number; learningRate: number }[];
}

/** What {@link runCartpoleEmbed} found. */
export interface CartpoleEmbedResult {
  fullCem: { validationCost: number; testCost: number; iterations: number };
  runs: EmbedRun[];
  /** Mean improvement factor of the main study over its seeds. */
  mainFactor: number;
  table: FactorBar[];
  seconds: number;
  files: string[];
}

const tauLabel = (tau: number) => (tau === 0 ? 'τ = 0 (CEM)' : `τ = ${tau}`);

/** The cost C(u; x₀) = −R of the embedding experiment for fixed initial states [B, 5]. */
function costFor(cartpole: Cartpole, x0: tf.Tensor) {
  return (u: tf.Tensor) => tf.neg(cartpoleReturnFused(cartpole, x0, u));
}

function meanOf(t: tf.Tensor): number {
  return tf.tidy(() => tf.mean(t).dataSync()[0] as number);
}

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

/** Writes a decoder's weights as raw float32 plus a JSON manifest. */
function saveWeights(
  ctx: RunContext,
  name: string,
  decoder: ActionDecoder,
  weights: Float32Array[],
  meta: object,
) {
  const total = weights.reduce((n, w) => n + w.length, 0);
  const all = new Float32Array(total);
  let offset = 0;
  for (const w of weights) {
    all.set(w, offset);
    offset += w.length;
  }
  const bin = ctx.outPath(`${name}.weights.bin`);
  writeFileSync(bin, Buffer.from(all.buffer));
  const manifest = ctx.writeJson(`${name}.weights.json`, {
    ...meta,
    format: 'float32 little-endian, variables concatenated in order',
    file: `${name}.weights.bin`,
    shapes: decoder.variables.map((v) => v.shape),
  });
  return [bin, manifest];
}

/**
 * The cart-pole latent-action-embedding study of the DCEM paper (§5.2):
 * trains decoders with Algorithm 2 and compares the best-validation latent
 * DCEM controller with CEM over the full control space on the same
 * validation states; writes curves, the improvement-factor table, the cost
 * surface over the latent square, the iterates of both planners and an
 * animation.
 */
export async function runCartpoleEmbed(
  ctx: RunContext,
  s: CartpoleEmbedSettings,
): Promise<CartpoleEmbedResult> {
  const start = performance.now();
  const cartpole = createCartpole();
  const { maxForce } = cartpole.params;
  const validation = sampleCartpoleStates(s.validationCount, 1_000_003 + s.seed);
  const test = sampleCartpoleStates(s.validationCount, 2_000_003 + s.seed);
  const files: string[] = [];
  try {
    // Full-space CEM: 100 samples, 10 elites, 30 iterations, σ₀ = 0.5 (ub − lb), μ₀ = 0.
    const full = (x0: tf.Tensor, seed: number) => {
      const r = plan(costFor(cartpole, x0), {
        horizon: HORIZON,
        controlDim: 1,
        lowerBound: -maxForce,
        upperBound: maxForce,
        batchSize: x0.shape[0] as number,
        ...FULL_CEM,
        initStd: 0.5 * 2 * maxForce,
        seed,
      });
      const cost = meanOf(r.cost);
      tf.dispose([r.controls, r.firstAction, r.cost, r.mean, r.std]);
      return { cost, iterations: r.iterations };
    };
    const fullVal = full(validation, s.seed + 11);
    const fullTest = full(test, s.seed + 12);
    ctx.log(
      `Full-space CEM (${FULL_CEM.numSamples} samples, ${FULL_CEM.numElites} elites, ${FULL_CEM.numIterations} iterations, ` +
        `σ₀ = ${maxForce}): mean return ${(-fullVal.cost).toFixed(3)} on ${s.validationCount} validation states, ` +
        `${(-fullTest.cost).toFixed(3)} on ${s.validationCount} test states`,
    );

    const specs: Pick<EmbedRun, 'latent' | 'tau' | 'seed' | 'iterations' | 'group'>[] = [];
    for (let i = 0; i < s.seeds; i++) {
      specs.push({ latent: s.latent, tau: s.tau, seed: s.seed + i, iterations: s.iterations, group: 'main' });
    }
    if (s.table) {
      for (const latent of s.tableLatents) {
        for (const tau of s.tableTaus) {
          if (latent === s.latent && tau === s.tau) continue;
          for (let i = 0; i < s.tableSeeds; i++) {
            specs.push({ latent, tau, seed: s.seed + i, iterations: s.tableIterations, group: 'table' });
          }
        }
      }
    }
    ctx.log(
      `Training ${specs.length} decoders (d → 256 → 256 → 256 → ${HORIZON}, Adam 5e-4, clip 1, batch ${s.batch}); ` +
        `latent DCEM: ${LATENT.numSamples} samples, ${LATENT.numElites} elites, ${LATENT.numIterations} iterations, σ₀ = ${LATENT.initStd}`,
    );

    const runs: EmbedRun[] = [];
    let bestMain: { run: EmbedRun; weights: Float32Array[] } | undefined;
    for (const [index, spec] of specs.entries()) {
      const decoder = createActionDecoder({
        latentDim: spec.latent,
        horizon: HORIZON,
        lowerBound: -maxForce,
        upperBound: maxForce,
        seed: spec.seed,
      });
      const label = `run ${index + 1}/${specs.length} d=${spec.latent} ${tauLabel(spec.tau)} seed ${spec.seed}`;
      const progress = startProgress(label, spec.iterations, ctx.interactive, ['cost', 'val']);
      const runStart = performance.now();
      let lastVal = '-';
      let recent: number[] = [];
      try {
        const planner = { ...LATENT, temperature: spec.tau };
        const r = trainLatentEmbedding(decoder, {
          iterations: spec.iterations,
          sampleInitialStates: sampleCartpoleStates,
          cost: (x0) => costFor(cartpole, x0),
          validationStates: validation,
          planner,
          batchSize: s.batch,
          learningRate: s.learningRate,
          validateEvery: s.validateEvery,
          seed: spec.seed,
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
        progress.stop();
        const seconds = (performance.now() - runStart) / 1000;
        // The checkpoint (restored by trainLatentEmbedding) on fresh test states with fresh noise.
        const t = planLatent(decoder, costFor(cartpole, test), s.validationCount, {
          ...planner,
          seed: 3_000_017 + spec.seed,
        });
        const testCost = meanOf(t.cost);
        tf.dispose([t.latent, t.controls, t.cost]);
        const run: EmbedRun = {
          ...spec,
          bestValidationCost: r.best.cost,
          bestIteration: r.best.iteration,
          improvementFactor: r.best.cost / fullVal.cost,
          testCost,
          testFactor: testCost / fullTest.cost,
          seconds,
          msPerUpdate: spec.iterations > 0 ? (1000 * seconds) / spec.iterations : 0,
          trainCosts: r.trainCosts,
          validations: r.validations.map(({ iteration, cost, learningRate }) => ({
            iteration,
            cost,
            learningRate,
          })),
        };
        runs.push(run);
        ctx.log(
          `${label}: best validation return ${(-r.best.cost).toFixed(3)} at update ${r.best.iteration} ` +
            `(factor ${run.improvementFactor.toFixed(3)}), test return ${(-testCost).toFixed(3)} ` +
            `(factor ${run.testFactor.toFixed(3)}); ${seconds.toFixed(0)} s, ${run.msPerUpdate.toFixed(0)} ms/update incl. validation`,
        );
        const name = `cartpole-embed-d${spec.latent}-tau${spec.tau}-seed${spec.seed}`;
        files.push(
          ...saveWeights(ctx, name, decoder, r.bestWeights, {
            latent: spec.latent,
            tau: spec.tau,
            seed: spec.seed,
            horizon: HORIZON,
            bestIteration: r.best.iteration,
            bestValidationCost: r.best.cost,
          }),
        );
        if (
          spec.group === 'main' &&
          spec.latent === 2 &&
          (bestMain === undefined || run.bestValidationCost < bestMain.run.bestValidationCost)
        ) {
          bestMain = { run, weights: r.bestWeights };
        }
      } finally {
        progress.stop();
        decoder.dispose();
      }
    }

    // The table: mean (and range) of the improvement factor per (latent, τ).
    const cells = new Map<string, EmbedRun[]>();
    for (const run of runs) {
      const key = `${run.latent}|${run.tau}`;
      cells.set(key, [...(cells.get(key) ?? []), run]);
    }
    const groups = [...cells.values()];
    const table: FactorBar[] = groups.map((group) => {
      const factors = group.map((r) => r.improvementFactor);
      return {
        latent: (group[0] as EmbedRun).latent,
        tau: tauLabel((group[0] as EmbedRun).tau),
        factor: factors.reduce((a, b) => a + b, 0) / factors.length,
        low: Math.min(...factors),
        high: Math.max(...factors),
        seeds: factors.length,
      };
    });
    const mainRuns = runs.filter((r) => r.group === 'main');
    const mainFactor = mainRuns.reduce((a, r) => a + r.improvementFactor, 0) / Math.max(1, mainRuns.length);
    const mainTest = mainRuns.reduce((a, r) => a + r.testFactor, 0) / Math.max(1, mainRuns.length);
    ctx.log('');
    ctx.log(
      `Main study (d = ${s.latent}, ${tauLabel(s.tau)}, ${mainRuns.length} seeds, ${s.iterations} updates): mean improvement ` +
        `factor ${mainFactor.toFixed(3)} on validation (bar: ≥ 0.95; paper ≈ 1.08), ${mainTest.toFixed(3)} on test states`,
    );
    ctx.log('latent  τ             seeds  updates  improvement factor (validation)   test factor');
    table.forEach((bar, i) => {
      const group = groups[i] as EmbedRun[];
      const testFactor = group.reduce((a, r) => a + r.testFactor, 0) / group.length;
      const range = bar.seeds > 1 ? ` [${bar.low.toFixed(3)}, ${bar.high.toFixed(3)}]` : '';
      ctx.log(
        `${String(bar.latent).padEnd(8)}${bar.tau.padEnd(14)}${String(bar.seeds).padEnd(7)}` +
          `${String((group[0] as EmbedRun).iterations).padEnd(9)}${`${bar.factor.toFixed(3)}${range}`.padEnd(34)}` +
          `${testFactor.toFixed(3)}`,
      );
    });

    // Curves and tables as files.
    const curveCsv = ['latent,tau,seed,curve,iteration,cost'];
    const points: CurvePoint[] = [];
    for (const run of runs) {
      run.trainCosts.forEach((c, i) => {
        curveCsv.push(`${run.latent},${run.tau},${run.seed},training,${i + 1},${c}`);
      });
      for (const v of run.validations)
        curveCsv.push(`${run.latent},${run.tau},${run.seed},validation,${v.iteration},${v.cost}`);
      const smooth = movingAverage(run.trainCosts, 50);
      const stride = Math.max(1, Math.floor(smooth.length / 200));
      smooth.forEach((c, i) => {
        if ((i + 1) % stride === 0 || i === smooth.length - 1) {
          points.push({
            latent: run.latent,
            tau: tauLabel(run.tau),
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
          tau: tauLabel(run.tau),
          seed: run.seed,
          curve: 'validation',
          iteration: v.iteration,
          cost: v.cost,
        });
      }
    }
    const curvePath = ctx.outPath('cartpole-embed-curves.csv');
    writeFileSync(curvePath, `${curveCsv.join('\n')}\n`);
    const tablePath = ctx.outPath('cartpole-embed-table.csv');
    writeFileSync(
      tablePath,
      `latent,tau,seeds,mean_factor,min_factor,max_factor\n${table.map((b) => `${b.latent},"${b.tau}",${b.seeds},${b.factor},${b.low},${b.high}`).join('\n')}\n`,
    );
    files.push(curvePath, tablePath);
    files.push(
      ...(await writePlot(
        ctx.outPath('cartpole-embed-convergence'),
        convergenceSpec(points, fullVal.cost, [
          'Cart-pole latent action embedding: training cost (moving average of 50 updates) and validation cost',
          'dashed: full-space CEM on the validation states',
        ]),
      )),
    );
    files.push(
      ...(await writePlot(
        ctx.outPath('cartpole-embed-improvement'),
        improvementSpec(table, [
          'Improvement factor',
          'latent DCEM return / full-space CEM return (validation)',
        ]),
      )),
    );

    // Pictures of the best latent-2 decoder of the main study.
    if (bestMain !== undefined) {
      files.push(
        ...(await drawLatentFigures(ctx, cartpole, validation, bestMain.weights, bestMain.run, s.seed)),
      );
    }

    const seconds = (performance.now() - start) / 1000;
    const result: CartpoleEmbedResult = {
      fullCem: { validationCost: fullVal.cost, testCost: fullTest.cost, iterations: fullVal.iterations },
      runs,
      mainFactor,
      table,
      seconds,
      files,
    };
    files.push(
      ctx.writeJson('cartpole-embed.json', {
        settings: s,
        backend: ctx.backend,
        ...result,
        runs: runs.map(({ trainCosts, ...rest }) => rest),
      }),
    );
    ctx.log(`total ${(seconds / 60).toFixed(1)} min`);
    return result;
  } finally {
    tf.dispose([validation, test]);
  }
}

/** The latent cost surface with the DCEM iterates, full-space vs latent iterates, and an animation. */
async function drawLatentFigures(
  ctx: RunContext,
  cartpole: Cartpole,
  validation: tf.Tensor,
  weights: Float32Array[],
  run: EmbedRun,
  seed: number,
): Promise<string[]> {
  const files: string[] = [];
  const { maxForce } = cartpole.params;
  const decoder = createActionDecoder({
    latentDim: 2,
    horizon: HORIZON,
    lowerBound: -maxForce,
    upperBound: maxForce,
    seed: run.seed,
  });
  const x0 = tf.slice(validation, [0, 0], [1, 5]);
  try {
    decoder.setWeights(weights);
    const cost = costFor(cartpole, x0);
    // Cost surface over z ∈ [−1, 1]².
    const size = 60;
    const step = 2 / size;
    const grid: number[][] = [];
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < size; j++) grid.push([-1 + (j + 0.5) * step, -1 + (i + 0.5) * step]);
    }
    const values = tf.tidy(() => Array.from(cost(decoder.decode(tf.tensor3d([grid]))).dataSync()));
    const cells: SurfaceCell[] = grid.map(([x, y], k) => ({
      x0: (x as number) - 0.51 * step,
      x1: (x as number) + 0.51 * step,
      y0: (y as number) - 0.51 * step,
      y1: (y as number) + 0.51 * step,
      cost: values[k] as number,
    }));
    const shown = [0, 3, 6, 9];
    const latentIterates: LatentIterate[] = [];
    const latentSequences: ControlIterate[] = [];
    const latent = planLatent(decoder, cost, 1, {
      ...LATENT,
      temperature: run.tau,
      seed: seed + 99,
      onIteration: (info) => {
        if (!shown.includes(info.iteration)) return;
        const z = (info.samples.arraySync() as number[][][])[0] as number[][];
        latentIterates.push({
          iteration: info.iteration,
          points: z.map((p) => [p[0] as number, p[1] as number]),
        });
        const u = tf.tidy(() => decoder.decode(info.samples).arraySync() as number[][][][]);
        latentSequences.push({
          iteration: info.iteration,
          sequences: (u[0] as number[][][]).map((seq) => seq.map((v) => v[0] as number)),
        });
      },
    });
    const fullSequences: ControlIterate[] = [];
    const full = plan(cost, {
      horizon: HORIZON,
      controlDim: 1,
      lowerBound: -maxForce,
      upperBound: maxForce,
      ...FULL_CEM,
      initStd: maxForce,
      seed: seed + 98,
      onIteration: (info) => {
        if (!shown.includes(info.iteration)) return;
        const u = info.samples.arraySync() as number[][][][];
        fullSequences.push({
          iteration: info.iteration,
          sequences: (u[0] as number[][][]).map((seq) => seq.map((v) => v[0] as number)),
        });
      },
    });
    const latentReturn = -meanOf(latent.cost);
    const fullReturn = -meanOf(full.cost);
    tf.dispose([
      latent.latent,
      latent.controls,
      latent.cost,
      full.controls,
      full.firstAction,
      full.cost,
      full.mean,
      full.std,
    ]);
    files.push(
      ...(await writePlot(
        ctx.outPath('cartpole-embed-latent-surface'),
        latentSurfaceSpec(cells, latentIterates, [
          'Cost over the learned 2-D latent space for validation state 0, with the latent DCEM samples',
          `(d = 2, ${tauLabel(run.tau)}, seed ${run.seed}, best-validation checkpoint)`,
        ]),
      )),
    );
    files.push(
      ...(await writePlot(
        ctx.outPath('cartpole-embed-iterates'),
        controlIteratesSpec(
          [
            {
              method: `CEM over the full action space (return of the plan ${fullReturn.toFixed(2)})`,
              iterates: fullSequences,
            },
            {
              method: `DCEM over the latent action space (return of the plan ${latentReturn.toFixed(2)})`,
              iterates: latentSequences,
            },
          ],
          maxForce,
          'Iterates as control sequences, validation state 0',
        ),
      )),
    );
    // Animation of the latent planner's plans from six validation states.
    const count = Math.min(6, validation.shape[0] as number);
    const starts = tf.slice(validation, [0, 0], [count, 5]);
    const planned = planLatent(decoder, costFor(cartpole, starts), count, {
      ...LATENT,
      temperature: run.tau,
      seed: seed + 97,
    });
    const states = tf.tidy(() => rollout(cartpole, starts, planned.controls).arraySync() as number[][][]);
    const controls = (planned.controls.arraySync() as number[][][]).map((row) =>
      row.map((u) => u[0] as number),
    );
    const returns = Array.from(planned.cost.dataSync(), (c) => -c);
    tf.dispose([starts, planned.latent, planned.controls, planned.cost]);
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
        rendering.frames.map((f) => svgToRgba(f)),
        Math.round(cartpole.params.dt * 2000),
      ),
    );
  } finally {
    x0.dispose();
    decoder.dispose();
  }
  return files;
}
