import type { Command } from 'commander';
import { type CommonOptions, createContext, integerFlag, withCommonOptions } from '../context.js';
import { runDemo } from '../demo.js';

/** `dcem demo`: the README's main job. */
export function registerDemo(program: Command): void {
  withCommonOptions(
    program
      .command('demo')
      .description(
        'minimise the three-bumps objective with CEM and DCEM, then learn its parameters through DCEM',
      ),
    'out/demo',
  )
    .option('--steps <n>', 'gradient steps of the learning part', integerFlag('--steps', 1), 60)
    .addHelpText('after', '\nExamples:\n  $ pnpm dcem demo\n  $ pnpm dcem demo --steps 30 --seed 3')
    .action(async (opts: CommonOptions & { steps: number }) => {
      const ctx = await createContext(opts);
      const result = runDemo({ seed: opts.seed, steps: opts.steps, target: [0, 1.25], log: ctx.log });
      const path = ctx.writeJson('demo.json', { backend: ctx.backend, ...result });
      if (opts.json) console.log(JSON.stringify({ backend: ctx.backend, ...result }));
      ctx.log(`results: ${path}`);
    });
}
