import { OBJECTIVES_2D } from '@dcem/tasks/objectives';
import { type Command, Option } from 'commander';
import {
  type CommonOptions,
  createContext,
  integerFlag,
  numberFlag,
  reportResult,
  withCommonOptions,
} from '../context.js';
import { type OptimizeSettings, runOptimize } from '../two-d.js';

/** The parsed flags: the common ones and every setting of {@link runOptimize} but the file-name prefix. */
type OptimizeFlags = CommonOptions & Omit<OptimizeSettings, 'seed' | 'prefix'>;

/** `dcem optimize`: minimise a built-in 2-D objective and draw the iterates. */
export function registerOptimize(program: Command): void {
  withCommonOptions(
    program
      .command('optimize')
      .description('minimise a built-in 2-D objective with CEM or DCEM and draw the iterates'),
    'out/optimize',
  )
    .addOption(
      new Option('--objective <name>', 'objective').choices(Object.keys(OBJECTIVES_2D)).default('bumps'),
    )
    .addOption(new Option('--method <name>', 'solver').choices(['cem', 'dcem']).default('dcem'))
    .option('--samples <n>', 'samples per iteration', integerFlag('--samples', 2), 100)
    .option('--elites <n>', 'elites per iteration', integerFlag('--elites', 1), 10)
    .option('--iterations <n>', 'iterations', integerFlag('--iterations', 1), 10)
    .option('--temperature <tau>', 'DCEM temperature τ > 0', numberFlag('--temperature'), 1)
    .option('--init-std <sigma>', 'initial standard deviation', numberFlag('--init-std'), 1.5)
    .addHelpText(
      'after',
      '\nExamples:\n  $ pnpm dcem optimize --objective himmelblau --method cem\n  $ pnpm dcem optimize --temperature 0.3 --samples 200 --out out/bumps',
    )
    .action(async (opts: OptimizeFlags) => {
      const ctx = await createContext(opts);
      const result = await runOptimize(ctx, {
        objective: opts.objective,
        method: opts.method,
        samples: opts.samples,
        elites: opts.elites,
        iterations: opts.iterations,
        temperature: opts.temperature,
        initStd: opts.initStd,
        seed: opts.seed,
        prefix: `${opts.objective}-${opts.method}`,
      });
      const json = ctx.writeJson('result.json', { backend: ctx.backend, ...result });
      reportResult(ctx, [...result.files, json], result);
    });
}
