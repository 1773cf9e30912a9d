#!/usr/bin/env node
import * as tf from '@tensorflow/tfjs';
import { Command } from 'commander';
import { registerCartpoleEmbed } from './commands/cartpole-embed.js';
import { registerDemo } from './commands/demo.js';
import { registerLearn } from './commands/learn.js';
import { registerMujoco } from './commands/mujoco.js';
import { registerOptimize } from './commands/optimize.js';
import { registerPendulum } from './commands/pendulum.js';
import { registerPlanners } from './commands/planners.js';
import { registerRegression } from './commands/regression.js';
import { registerWorker } from './commands/worker.js';

// tfjs prints a banner about tfjs-node on first use unless in production mode.
tf.enableProdMode();

const program = new Command();
program
  .name('dcem')
  .description('Differentiable cross-entropy method: demos and the paper’s experiments.')
  .showHelpAfterError('(run with --help for usage)');

registerDemo(program);
registerPendulum(program);
registerPlanners(program);
registerCartpoleEmbed(program);
registerRegression(program);
registerOptimize(program);
registerLearn(program);
registerMujoco(program);
registerWorker(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(`dcem: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
