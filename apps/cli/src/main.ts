#!/usr/bin/env node
import { selectBackend } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import { Command, InvalidArgumentError } from 'commander';
import { runDemo } from './demo.js';

function integer(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n))
      throw new InvalidArgumentError(`${name} must be an integer, received "${value}"`);
    return n;
  };
}

// tfjs prints a banner about tfjs-node on first use unless in production mode.
tf.enableProdMode();

const program = new Command();
program.name('dcem').description('Differentiable cross-entropy method: demos and experiments.');

program
  .command('demo')
  .description('minimise the three-bumps objective with CEM and DCEM, then learn its parameters through DCEM')
  .option('--seed <n>', 'random seed', integer('--seed'), 0)
  .option('--steps <n>', 'gradient steps of the learning part', integer('--steps'), 60)
  .addHelpText('after', '\nExample:\n  $ pnpm dcem demo --steps 30')
  .action(async (opts: { seed: number; steps: number }) => {
    if (opts.steps < 1) throw new InvalidArgumentError(`--steps must be ≥ 1, received ${opts.steps}`);
    const selection = await selectBackend();
    console.log(selection.message);
    runDemo({ seed: opts.seed, steps: opts.steps, target: [0, 1.25], log: (line) => console.log(line) });
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(`dcem: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
