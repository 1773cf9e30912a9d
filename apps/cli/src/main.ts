#!/usr/bin/env node
import { Command } from 'commander';

const program = new Command();
program
  .name('dcem')
  .description('Differentiable cross-entropy method: demos and the paper’s experiments.')
  .showHelpAfterError('(run with --help for usage)');

// `dcem worker` loads only what it needs (its jobs load the rest on their threads), so that it starts fast.
const { registerWorker } = await import('./commands/worker.js');
if (process.argv[2] !== 'worker') {
  const tf = await import('@tensorflow/tfjs');
  // tfjs prints a banner about tfjs-node on first use unless in production mode.
  tf.enableProdMode();
  const commands = await Promise.all([
    import('./commands/demo.js').then((m) => m.registerDemo),
    import('./commands/pendulum.js').then((m) => m.registerPendulum),
    import('./commands/planners.js').then((m) => m.registerPlanners),
    import('./commands/cartpole-embed.js').then((m) => m.registerCartpoleEmbed),
    import('./commands/regression.js').then((m) => m.registerRegression),
    import('./commands/optimize.js').then((m) => m.registerOptimize),
    import('./commands/learn.js').then((m) => m.registerLearn),
    import('./commands/mujoco.js').then((m) => m.registerMujoco),
    import('./commands/planet.js').then((m) => m.registerPlanet),
    import('./commands/planet-ppo.js').then((m) => m.registerPlanetPpo),
    import('./commands/planet-compare.js').then((m) => m.registerPlanetCompare),
    import('./commands/planet-diagnose.js').then((m) => m.registerPlanetDiagnose),
  ]);
  for (const register of commands) register(program);
}
registerWorker(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(`dcem: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
