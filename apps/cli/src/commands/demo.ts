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
    .option(
      '--frame-every <n>',
      'animation frame every n steps (0: none)',
      integerFlag('--frame-every', 0),
      3,
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ pnpm dcem demo\n  $ pnpm dcem demo --steps 30 --seed 3 --out /tmp/demo',
    )
    .action(async (opts: CommonOptions & { steps: number; frameEvery: number }) => {
      const ctx = await createContext(opts);
      const result = await runDemo(ctx, {
        seed: opts.seed,
        steps: opts.steps,
        target: [0, 1.25],
        frameEvery: opts.frameEvery,
      });
      const summary = { backend: ctx.backend, ...result };
      const path = ctx.writeJson('summary.json', summary);
      if (opts.json) console.log(JSON.stringify(summary));
      ctx.log(`Plots and data in ${ctx.outPath('')} (summary: ${path}):`);
      for (const file of [...result.cem.files, ...result.dcem.files, ...result.learn.files]) {
        if (file.endsWith('.png') || file.endsWith('.gif')) ctx.log(`   ${file}`);
      }
    });
}
