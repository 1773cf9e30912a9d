import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type RegressionModelName,
  type RegressionStudyModel,
  type RegressionStudySettings,
  type RegressionTrainer,
  restoreRegressionTrainer,
  runRegressionStudy,
} from '@dcem/tasks';
import { ablationChart, lossChart, MODEL_TITLES, surfaceChart } from './charts/regression.js';
import { writePlot } from './plot.js';
import { type Progress, startProgress } from './progress.js';

/**
 * Settings of {@link runRegression} (the `dcem regression` flags): the
 * study's settings, plus resuming and what the CLI needs to write its files.
 */
export interface RegressionRunOptions extends RegressionStudySettings {
  /** Continue from `<out>/<model>.checkpoint.json` instead of starting afresh. */
  resume: boolean;
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

/**
 * Per-model numbers of {@link RegressionSummary}: the study's, without the
 * history, the surface and the predictions (written to their own files), and
 * with the ablation's summary numbers only.
 */
export type RegressionModelSummary = Omit<
  RegressionStudyModel,
  'model' | 'history' | 'surface' | 'predictions' | 'ablation'
> & {
  ablation: Omit<RegressionStudyModel['ablation'], 'points'>;
};

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
 * `dcem regression`: runs the regression study (`runRegressionStudy` of
 * `@dcem/tasks`) with progress bars, writing checkpoints as it trains, then
 * writes the loss curves, the inner-iteration ablation, the energy surfaces
 * and `summary.json` into `options.out`.
 */
export async function runRegression(options: RegressionRunOptions): Promise<RegressionSummary> {
  const { out, log } = options;
  checkWritable(out);
  const files: string[] = [];
  let bar: Progress | undefined;
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  let study: Awaited<ReturnType<typeof runRegressionStudy>>;
  try {
    study = await runRegressionStudy(options, {
      ...(options.resume
        ? {
            resume: async (model: RegressionModelName): Promise<RegressionTrainer> => {
              const path = join(out, checkpointName(model));
              if (!existsSync(path)) throw new Error(`--resume: no checkpoint ${path} to continue from`);
              const trainer = await restoreRegressionTrainer(readFileSync(path, 'utf8'), {
                evalEvery: options.evalEvery,
                batchSize: options.batchSize,
                innerUpdates: options.innerUpdates,
              });
              log(`${MODEL_TITLES[model]}: resumed from ${path} at update ${trainer.updates}`);
              return trainer;
            },
          }
        : {}),
      onTrainStart: (model) => {
        bar = startProgress(`${model.padEnd(4)}`, options.updates, options.interactive, ['mse', 'lr']);
      },
      onUpdate: (_model, done, mse, learningRate) =>
        bar?.update(done, {
          mse: mse === undefined ? '-' : mse.toExponential(2),
          lr: learningRate.toExponential(1),
        }),
      onCheckpoint: async (model, trainer) => {
        const path = join(out, checkpointName(model));
        await writeCheckpoint(trainer, path, options.command);
        if (!files.includes(path)) files.push(path);
      },
      onTrainEnd: (model, trainer, seconds) => {
        stop();
        const last = trainer.history.at(-1);
        const timing =
          options.updates === 0
            ? 'loaded, not trained'
            : `${seconds.toFixed(0)} s (${((1000 * seconds) / options.updates).toFixed(1)} ms/update)`;
        log(
          `${MODEL_TITLES[model]}: ${trainer.updates} updates, full-data MSE ${last?.mse.toExponential(3)}, ${timing}`,
        );
      },
      onAblation: (model, done, total) => {
        if (done === 0) bar = startProgress(`ablation ${model}`, total, options.interactive);
        bar?.update(done);
        if (done === total) stop();
      },
    });
  } finally {
    stop();
  }
  // With --resume and --updates 0 nothing was written, but the checkpoints are still results.
  for (const { model } of study.models) {
    const path = join(out, checkpointName(model));
    if (existsSync(path) && !files.includes(path)) files.push(path);
  }

  // Loss curves.
  const lossRows = study.models.flatMap(({ model, history }) =>
    history.map((h) => [model, h.update, h.mse, h.learningRate, h.seconds.toFixed(3)]),
  );
  writeFileSync(
    join(out, 'loss.csv'),
    csv(['model', 'update', 'mse', 'learning_rate', 'train_seconds'], lossRows),
  );
  files.push(join(out, 'loss.csv'));
  files.push(
    ...(await writePlot(
      join(out, 'loss'),
      lossChart(study.models.map((m) => ({ model: m.model, history: m.history }))),
    )),
  );

  // Inner-iteration ablation.
  const ablations = study.models.map((m) => ({
    model: m.model,
    points: m.ablation.points,
    trained: m.ablation.trained,
  }));
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
  const panels = [...study.models]
    .sort((a, b) => (a.model === 'gd' ? -1 : b.model === 'gd' ? 1 : 0))
    .map(({ model, surface, predictions }) => ({ model, surface, predictions }));
  files.push(...(await writePlot(join(out, 'surface'), surfaceChart(panels, study.data, 20))));

  // Summary.
  const models: RegressionSummary['models'] = {};
  for (const m of study.models) {
    const { points, ...ablation } = m.ablation;
    models[m.model] = {
      updates: m.updates,
      trainSeconds: m.trainSeconds,
      totalTrainSeconds: m.totalTrainSeconds,
      msPerUpdate: m.msPerUpdate,
      finalMse: m.finalMse,
      learningRate: m.learningRate,
      firstUpdateBelow1e2: m.firstUpdateBelow1e2,
      ablation,
      goals: m.goals,
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
}
