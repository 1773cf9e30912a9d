import { resolve } from 'node:path';
import { checkRegressionModel, type RegressionModelName } from '@dcem/tasks';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type CommonOptions, createContext, integerFlag, withCommonOptions } from '../context.js';
import { checkWritable, type RegressionRunOptions, runRegression } from '../regression.js';

/** Parses `--models dcem,gd`: known names only, no repeats. */
export function parseModels(value: string): RegressionModelName[] {
  const names = value.split(',').map((s) => s.trim());
  const models: RegressionModelName[] = [];
  for (const name of names) {
    try {
      const model = checkRegressionModel(name, '--models');
      if (!models.includes(model)) models.push(model);
    } catch (error) {
      throw new InvalidArgumentError(
        `${(error as Error).message.replace(/^--models must be one of/, '--models takes a comma-separated list of')}`,
      );
    }
  }
  return models;
}

/** Parses a flag that must be a finite number > 0. */
function positiveFlag(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
      throw new InvalidArgumentError(`${flag} must be a number > 0, received "${value}"`);
    }
    return n;
  };
}

/** The parsed flags: the common ones and the study's settings of {@link runRegression}. */
type RegressionFlags = CommonOptions &
  Omit<RegressionRunOptions, 'surfaceGrid' | 'out' | 'backend' | 'log' | 'interactive' | 'command'>;

/** `dcem regression`: the paper's energy-based regression study (DCEM vs unrolled GD). */
export function registerRegression(program: Command): void {
  withCommonOptions(
    program
      .command('regression')
      .description(
        'learn an energy E(x, y) whose minimiser fits y = x sin x, through DCEM and through unrolled gradient descent; ' +
          'writes loss curves, the inner-iteration ablation, the energy surfaces, checkpoints and summary.json',
      ),
    'out/regression',
  )
    .option(
      '--updates <n>',
      'Adam updates per model (0 with --resume: evaluate and plot the saved models only); ' +
        '30 000 reach MSE ≤ 1e-2 for both models (about 50 min on wasm here), 15 000 do not',
      integerFlag('--updates', 0),
      30_000,
    )
    .addOption(
      new Option('--models <list>', 'comma-separated models to train: dcem, gd')
        .argParser(parseModels)
        .default(['dcem', 'gd'], 'dcem,gd'),
    )
    .option(
      '--batch-size <n>',
      'training points per update (1: the reference protocol)',
      integerFlag('--batch-size', 1),
      1,
    )
    .option(
      '--inner-updates <n>',
      'consecutive updates on the same points',
      integerFlag('--inner-updates', 1),
      3,
    )
    .option('--learning-rate <x>', "Adam's initial learning rate", positiveFlag('--learning-rate'), 1e-3)
    .option('--eval-every <n>', 'updates between full-data evaluations', integerFlag('--eval-every', 1), 100)
    .option(
      '--hidden-size <n>',
      'width of the energy MLP’s hidden layers',
      integerFlag('--hidden-size', 1),
      128,
    )
    .option(
      '--ablation-max <n>',
      'ablation: evaluate with 1…n inner iterations',
      integerFlag('--ablation-max', 1),
      20,
    )
    .option(
      '--ablation-seeds <n>',
      'ablation: DCEM noise seeds per point',
      integerFlag('--ablation-seeds', 1),
      5,
    )
    .option(
      '--checkpoint-every <n>',
      'write checkpoints every n updates',
      integerFlag('--checkpoint-every', 1),
      1000,
    )
    .option('--resume', 'continue from the checkpoints in --out for --updates more updates', false)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ pnpm dcem regression\n' +
        '  $ pnpm dcem regression --models gd --updates 2000 --out out/gd\n' +
        '  $ pnpm dcem regression --resume --updates 5000   # 5000 more updates from out/regression\n' +
        '  $ pnpm dcem regression --resume --updates 0      # re-evaluate and re-plot the saved models',
    )
    .action(async (opts: RegressionFlags) => {
      if (opts.updates === 0 && !opts.resume) {
        throw new InvalidArgumentError('--updates must be ≥ 1 (0 only with --resume), received 0');
      }
      const out = resolve(opts.out);
      checkWritable(out);
      const ctx = await createContext(opts);
      const { backend, out: _out, quiet, json, ...settings } = opts;
      const summary = await runRegression({
        ...settings,
        out,
        backend: ctx.backend,
        log: ctx.log,
        interactive: ctx.interactive,
        command: ['dcem', ...process.argv.slice(2)].join(' '),
      });
      if (opts.json) console.log(JSON.stringify(summary));
    });
}
