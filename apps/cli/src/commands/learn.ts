import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import {
  type CommonOptions,
  createContext,
  integerFlag,
  reportResult,
  withCommonOptions,
} from '../context.js';
import { runLearn } from '../two-d.js';

function pointFlag(value: string): [number, number] {
  const parts = value.split(',').map(Number);
  if (parts.length !== 2 || parts.some((v) => !Number.isFinite(v))) {
    throw new InvalidArgumentError(`--target must be two numbers "x,y", received "${value}"`);
  }
  return parts as [number, number];
}

/** `dcem learn`: move the optimum of the three-bumps objective by differentiating through DCEM. */
export function registerLearn(program: Command): void {
  withCommonOptions(
    program
      .command('learn')
      .description('learn the three-bumps parameters through DCEM so that its minimum moves to a target'),
    'out/learn',
  )
    .option('--target <x,y>', 'where the minimum should move', pointFlag, [0, 1.25] as [number, number])
    .option('--steps <n>', 'gradient steps', integerFlag('--steps', 1), 60)
    .option(
      '--frame-every <n>',
      'animation frame every n steps (0: none)',
      integerFlag('--frame-every', 0),
      3,
    )
    .addHelpText('after', '\nExamples:\n  $ pnpm dcem learn\n  $ pnpm dcem learn --target -1,2 --steps 100')
    .action(async (opts: CommonOptions & { target: [number, number]; steps: number; frameEvery: number }) => {
      const ctx = await createContext(opts);
      const result = await runLearn(ctx, {
        target: opts.target,
        steps: opts.steps,
        seed: opts.seed,
        frameEvery: opts.frameEvery,
        prefix: 'learn',
      });
      const json = ctx.writeJson('result.json', { backend: ctx.backend, ...result });
      reportResult(ctx, [...result.files, json], result);
    });
}
