import { type Command, InvalidArgumentError, Option } from 'commander';
import { type CartpoleEmbedSettings, runCartpoleEmbed } from '../cartpole-embed.js';
import {
  type CommonOptions,
  createContext,
  integerFlag,
  numberFlag,
  temperatureFlag,
  withCommonOptions,
  withQueueOption,
} from '../context.js';

/** Parses a comma-separated list of numbers that each pass `check`. */
export function numberListFlag(flag: string, check: (n: number) => boolean, what: string) {
  return (value: string): number[] => {
    const items = value.split(',').map((v) => v.trim());
    const numbers = items.map(Number);
    const bad = items.findIndex(
      (v, i) => v === '' || !Number.isFinite(numbers[i]) || !check(numbers[i] as number),
    );
    if (bad >= 0) {
      throw new InvalidArgumentError(`${flag} takes a comma-separated list of ${what}, received "${value}"`);
    }
    return [...new Set(numbers)];
  };
}

/**
 * Parses `--table-temperatures`: a comma-separated list of temperatures, each a
 * number > 0 or `none` (vanilla CEM). 0 is an error that says to write `none`.
 */
export function temperatureListFlag(flag: string) {
  const one = temperatureFlag(flag);
  return (value: string): (number | null)[] => {
    const items = value.split(',').map((v) => v.trim());
    const temperatures = items.map((item) => {
      try {
        return one(item);
      } catch (error) {
        if (Number(item) === 0 && item !== '') throw error;
        throw new InvalidArgumentError(
          `${flag} takes a comma-separated list of numbers > 0 or "none" (vanilla CEM), received "${value}"`,
        );
      }
    });
    return [...new Set(temperatures)];
  };
}

/** The parsed flags: the common ones and the settings of {@link runCartpoleEmbed} (`--table-iterations` defaults to `--iterations`). */
type CartpoleEmbedFlags = CommonOptions &
  Omit<CartpoleEmbedSettings, 'tableIterations'> & { tableIterations?: number; queue?: string };

/** `dcem cartpole-embed`: the paper's latent action embedding study on the cart-pole. */
export function registerCartpoleEmbed(program: Command): void {
  withQueueOption(
    withCommonOptions(
      program
        .command('cartpole-embed')
        .description(
          'learn a latent action space for the cart-pole with DCEM (Algorithm 2 of the paper) and compare the ' +
            'latent DCEM controller with CEM over the full control space; writes curves, the improvement-factor ' +
            'table, the latent cost surface, the iterates of both planners, checkpoints and an animation',
        ),
      'out/cartpole-embed',
    ),
  )
    .option('--latent <d>', 'latent size of the main study', integerFlag('--latent', 1), 2)
    .option(
      '--temperature <τ>',
      'DCEM temperature of the main study, or "none" for vanilla CEM',
      temperatureFlag('--temperature'),
      1,
    )
    .option('--seeds <n>', 'seeds of the main study', integerFlag('--seeds', 1), 3)
    .option('--iterations <n>', 'Adam updates per run', integerFlag('--iterations', 0), 1500)
    .option('--no-table', 'skip the table of other latent sizes and temperatures')
    .option(
      '--table-latents <list>',
      'latent sizes of the table',
      numberListFlag('--table-latents', (n) => Number.isInteger(n) && n >= 1, 'integers ≥ 1'),
      [2, 8],
    )
    .addOption(
      new Option('--table-temperatures <list>', 'temperatures of the table ("none": vanilla CEM)')
        .argParser(temperatureListFlag('--table-temperatures'))
        .default([1, 0.1, null], '1,0.1,none'),
    )
    .option('--table-seeds <n>', 'seeds per table cell', integerFlag('--table-seeds', 1), 1)
    .option(
      '--table-iterations <n>',
      'Adam updates per table run (default: --iterations)',
      integerFlag('--table-iterations', 0),
    )
    .option('--validate-every <n>', 'updates between validations', integerFlag('--validate-every', 1), 100)
    .option('--batch <n>', 'initial states per update (1: the reference)', integerFlag('--batch', 1), 1)
    .option('--learning-rate <x>', "Adam's initial learning rate", numberFlag('--learning-rate'), 5e-4)
    .option(
      '--validation-count <n>',
      'validation (and test) states',
      integerFlag('--validation-count', 2),
      100,
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ pnpm dcem cartpole-embed\n  $ pnpm dcem cartpole-embed --seeds 1 --no-table --iterations 300\n  $ pnpm dcem cartpole-embed --temperature none --table-temperatures 1,none   # vanilla CEM (no temperature)',
    )
    .action(async (opts: CartpoleEmbedFlags) => {
      if (!(opts.learningRate > 0)) {
        throw new InvalidArgumentError(`--learning-rate must be > 0, received ${opts.learningRate}`);
      }
      const ctx = await createContext(opts);
      const { backend, out, quiet, json, queue, ...settings } = opts;
      const result = await runCartpoleEmbed(
        ctx,
        { ...settings, tableIterations: opts.tableIterations ?? opts.iterations },
        queue,
      );
      if (opts.json) {
        console.log(
          JSON.stringify({
            backend: ctx.backend,
            ...result,
            runs: result.runs.map(({ trainCosts, weights, weightShapes, ...rest }) => rest),
            figures: undefined,
          }),
        );
      }
      ctx.log(`results in ${ctx.outPath('')}`);
    });
}
