import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createRegressionTrainer,
  energySurface,
  type InnerIterationAblationPoint,
  innerIterationAblation,
  type RegressionModelName,
  type RegressionTrainer,
  restoreRegressionTrainer,
} from '@dcem/tasks';
import { ablationChart, lossChart, MODEL_TITLES, surfaceChart } from './charts/regression.js';
import { writePlot } from './plot.js';
import { startProgress } from './progress.js';

/** Settings of {@link runRegression} (the `dcem regression` flags). */
export interface RegressionRunOptions {
  /** Models to train, in order. */
  models: RegressionModelName[];
  /** Adam updates per model in this run. */
  updates: number;
  /** Seed of everything random. */
  seed: number;
  /** Training points per update (1: the reference protocol). */
  batchSize: number;
  /** Consecutive updates on the same points. */
  innerUpdates: number;
  /** Adam's initial learning rate. */
  learningRate: number;
  /** Updates between full-data evaluations. */
  evalEvery: number;
  /** Width of the energy's hidden layers. */
  hiddenSize: number;
  /** Largest test-time inner-iteration count of the ablation (1…this). */
  ablationMax: number;
  /** DCEM noise seeds averaged per ablation point. */
  ablationSeeds: number;
  /** Write a checkpoint every this many updates (and at the end). */
  checkpointEvery: number;
  /** Continue from `<out>/<model>.checkpoint.json` instead of starting afresh. */
  resume: boolean;
  /** Grid of the energy-surface plots, [x steps, y steps]; default [80, 97]. */
  surfaceGrid?: [number, number];
  /** Absolute path of the output folder. */
  out: string;
  /** The backend in use (for the summary). */
  backend: string;
  /** Prints a line for people. */
  log: (line: string) => void;
  /** Whether progress bars are drawn. */
  interactive: boolean;
  /** The command line, recorded in the summary. */
  command: string;
}

/** Per-model numbers of {@link RegressionSummary}. */
export interface RegressionModelSummary {
  /** Adam updates in total (across resumes). */
  updates: number;
  /** Wall-clock seconds of training in this run. */
  trainSeconds: number;
  /** Training seconds recorded over all runs (evaluations excluded). */
  totalTrainSeconds: number;
  /** Mean wall-clock milliseconds per update in this run (evaluations included). */
  msPerUpdate: number;
  /** The final full-data MSE (fixed evaluation seed) and the learning rate then. */
  finalMse: number;
  /** Learning rate at the end. */
  learningRate: number;
  /** First update at which the full-data MSE was ≤ 1e-2 (null: never). */
  firstUpdateBelow1e2: number | null;
  /** Ablation: mean MSE over the noise seeds at the trained inner-iteration count and at the largest. */
  ablation: { trained: number; mseTrained: number; max: number; mseMax: number; ratio: number };
  /** The goals. */
  goals: { mseAtMost1e2: boolean; ablation: boolean; ablationRule: string };
}

/** What `dcem regression` writes to `summary.json`. */
export interface RegressionSummary {
  command: string;
  backend: string;
  date: string;
  settings: Omit<RegressionRunOptions, 'log' | 'interactive' | 'backend' | 'command'>;
  models: Partial<Record<RegressionModelName, RegressionModelSummary>>;
  files: string[];
}

/** Throws a one-line `Error` unless `dir` can be created and written to. */
export function checkWritable(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    const probe = join(dir, `.dcem-write-test-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
    throw new Error(`cannot write to the output folder ${dir} (${reason}); choose another with --out`);
  }
}

function csv(header: string[], rows: (string | number)[][]): string {
  return `${[header, ...rows].map((r) => r.join(',')).join('\n')}\n`;
}

const checkpointName = (model: string) => `${model}.checkpoint.json`;

async function writeCheckpoint(trainer: RegressionTrainer, path: string, command: string): Promise<void> {
  const checkpoint = await trainer.checkpoint({ command });
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(checkpoint));
  writeFileSync(path, readFileSync(tmp));
  rmSync(tmp);
}

/**
 * Trains the requested regression models, then writes the loss curves, the
 * inner-iteration ablation, the energy surfaces, checkpoints and
 * `summary.json` into `options.out`.
 */
export async function runRegression(options: RegressionRunOptions): Promise<RegressionSummary> {
  const { out, log } = options;
  checkWritable(out);
  const files: string[] = [];
  const trainers: {
    model: RegressionModelName;
    trainer: RegressionTrainer;
    seconds: number;
    updates: number;
  }[] = [];
  try {
    for (const model of options.models) {
      const path = join(out, checkpointName(model));
      let trainer: RegressionTrainer;
      if (options.resume) {
        if (!existsSync(path)) throw new Error(`--resume: no checkpoint ${path} to continue from`);
        trainer = await restoreRegressionTrainer(readFileSync(path, 'utf8'), {
          evalEvery: options.evalEvery,
          batchSize: options.batchSize,
          innerUpdates: options.innerUpdates,
        });
        log(`${MODEL_TITLES[model]}: resumed from ${path} at update ${trainer.updates}`);
      } else {
        trainer = createRegressionTrainer({
          model,
          seed: options.seed,
          batchSize: options.batchSize,
          innerUpdates: options.innerUpdates,
          learningRate: options.learningRate,
          evalEvery: options.evalEvery,
          hiddenSize: options.hiddenSize,
        });
      }
      trainers.push({ model, trainer, seconds: 0, updates: 0 });
      const entry = trainers.at(-1) as (typeof trainers)[number];
      const start = trainer.updates;
      const bar = startProgress(`${model.padEnd(4)}`, options.updates, options.interactive, ['mse', 'lr']);
      let mse = trainer.history.at(-1)?.mse;
      const fields = () => ({
        mse: mse === undefined ? '-' : mse.toExponential(2),
        lr: trainer.learningRate.toExponential(1),
      });
      const began = Date.now();
      // Train in chunks so that checkpoints are written as we go.
      let done = 0;
      while (done < options.updates) {
        const chunk = Math.min(
          options.checkpointEvery - ((start + done) % options.checkpointEvery),
          options.updates - done,
        );
        trainer.train(chunk, {
          onUpdate: (u) => bar.update(u.update - start, fields()),
          onEvaluation: (e) => {
            mse = e.mse;
          },
        });
        done += chunk;
        await writeCheckpoint(trainer, path, options.command);
      }
      if (options.updates === 0) trainer.train(0);
      bar.update(options.updates, fields());
      bar.stop();
      entry.seconds = (Date.now() - began) / 1000;
      entry.updates = options.updates;
      if (!files.includes(path)) files.push(path);
      const last = trainer.history.at(-1);
      const timing =
        options.updates === 0
          ? 'loaded, not trained'
          : `${entry.seconds.toFixed(0)} s (${((1000 * entry.seconds) / options.updates).toFixed(1)} ms/update)`;
      log(
        `${MODEL_TITLES[model]}: ${trainer.updates} updates, full-data MSE ${last?.mse.toExponential(3)}, ${timing}`,
      );
    }

    // Loss curves.
    const lossRows = trainers.flatMap(({ model, trainer }) =>
      trainer.history.map((h) => [model, h.update, h.mse, h.learningRate, h.seconds.toFixed(3)]),
    );
    writeFileSync(
      join(out, 'loss.csv'),
      csv(['model', 'update', 'mse', 'learning_rate', 'train_seconds'], lossRows),
    );
    files.push(join(out, 'loss.csv'));
    files.push(
      ...(await writePlot(
        join(out, 'loss'),
        lossChart(trainers.map((t) => ({ model: t.model, history: t.trainer.history }))),
      )),
    );

    // Inner-iteration ablation.
    const iterations = Array.from({ length: options.ablationMax }, (_, i) => i + 1);
    const ablations: {
      model: RegressionModelName;
      points: InnerIterationAblationPoint[];
      trained: number;
    }[] = [];
    for (const { model, trainer } of trainers) {
      const bar = startProgress(`ablation ${model}`, iterations.length, options.interactive);
      const points = innerIterationAblation(trainer, {
        iterations,
        seeds: options.ablationSeeds,
        onPoint: (_p, index) => bar.update(index + 1),
      });
      bar.stop();
      const trained =
        model === 'dcem' ? trainer.options.dcem.numIterations : trainer.options.gd.numIterations;
      ablations.push({ model, points, trained });
    }
    const ablationRows = ablations.flatMap(({ model, points }) =>
      points.map((p) => [model, p.iterations, p.mse, p.mseMin, p.mseMax, p.mses.length]),
    );
    writeFileSync(
      join(out, 'ablation.csv'),
      csv(['model', 'iterations', 'mse', 'mse_min', 'mse_max', 'seeds'], ablationRows),
    );
    files.push(join(out, 'ablation.csv'));
    const trainedIterations = ablations[0]?.trained ?? 10;
    files.push(...(await writePlot(join(out, 'ablation'), ablationChart(ablations, trainedIterations))));

    // Energy surfaces.
    const panels = [...trainers]
      .sort((a, b) => (a.model === 'gd' ? -1 : b.model === 'gd' ? 1 : 0))
      .map(({ model, trainer }) => ({
        model,
        surface: energySurface(trainer.mlp, {
          xSteps: options.surfaceGrid?.[0] ?? 80,
          ySteps: options.surfaceGrid?.[1] ?? 97,
        }),
        predictions: trainer.predict(trainer.data.x),
      }));
    const data = trainers[0]?.trainer.data ?? { x: [], y: [] };
    files.push(...(await writePlot(join(out, 'surface'), surfaceChart(panels, data, 20))));

    // Summary.
    const models: RegressionSummary['models'] = {};
    for (const { model, trainer, seconds, updates } of trainers) {
      const ablation = ablations.find((a) => a.model === model) as (typeof ablations)[number];
      const at = (n: number) => ablation.points.find((p) => p.iterations === n)?.mse ?? Number.NaN;
      const mseTrained = at(ablation.trained);
      const mseMax = at(options.ablationMax);
      const ratio = mseMax / mseTrained;
      const last = trainer.history.at(-1);
      const below = trainer.history.find((h) => h.mse <= 1e-2);
      models[model] = {
        updates: trainer.updates,
        trainSeconds: seconds,
        totalTrainSeconds: last?.seconds ?? 0,
        msPerUpdate: updates > 0 ? (1000 * seconds) / updates : 0,
        finalMse: last?.mse ?? Number.NaN,
        learningRate: trainer.learningRate,
        firstUpdateBelow1e2: below?.update ?? null,
        ablation: { trained: ablation.trained, mseTrained, max: options.ablationMax, mseMax, ratio },
        goals: {
          mseAtMost1e2: (last?.mse ?? Number.POSITIVE_INFINITY) <= 1e-2,
          ablation: model === 'dcem' ? ratio <= 3 : ratio >= 10,
          ablationRule:
            model === 'dcem'
              ? `MSE at ${options.ablationMax} ≤ 3 × MSE at ${ablation.trained}`
              : `MSE at ${options.ablationMax} ≥ 10 × MSE at ${ablation.trained}`,
        },
      };
    }
    const { log: _log, interactive: _interactive, backend, command, ...settings } = options;
    const summary: RegressionSummary = {
      command,
      backend,
      date: new Date().toISOString(),
      settings,
      models,
      files: [...files, join(out, 'summary.json')],
    };
    writeFileSync(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);

    for (const [model, s] of Object.entries(models)) {
      const name = MODEL_TITLES[model] ?? model;
      const a = s.ablation;
      log(
        `${name}: final MSE ${s.finalMse.toExponential(3)} (goal ≤ 1e-2: ${s.goals.mseAtMost1e2 ? 'met' : 'NOT met'}); ` +
          `ablation MSE@${a.trained} ${a.mseTrained.toExponential(3)}, MSE@${a.max} ${a.mseMax.toExponential(3)}, ` +
          `ratio ${a.ratio.toFixed(2)} (goal ${s.goals.ablationRule}: ${s.goals.ablation ? 'met' : 'NOT met'})`,
      );
    }
    log(`results: ${out}`);
    return summary;
  } finally {
    for (const { trainer } of trainers) trainer.dispose();
  }
}
