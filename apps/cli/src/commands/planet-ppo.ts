import type { PlanetPpoSettings, PpoOptions } from '@dcem/tasks/planet';
import type { Command } from 'commander';
import {
  type CommonOptions,
  createContext,
  integerFlag,
  numberFlag,
  reportResult,
  withCommonOptions,
} from '../context.js';
import { runPlanetPpoCli } from '../planet-ppo.js';

interface PlanetPpoFlags extends CommonOptions {
  from?: string;
  iterations: number;
  episodesPerStep?: number;
  steps?: number;
  passes?: number;
  minibatchSize?: number;
  learningRate?: number;
  std?: number;
  learnStd: boolean;
  clip?: number;
  entropyCoef?: number;
  gamma?: number;
  lambda?: number;
  valueHidden?: number;
}

/** `dcem planet-ppo`: PPO fine-tuning of the latent DCEM controller of a world-model run (phase 3). */
export function registerPlanetPpo(program: Command): void {
  withCommonOptions(
    program
      .command('planet-ppo')
      .description(
        'PPO fine-tuning of the latent DCEM controller of a world-model run (the DCEM paper, phase 3): the controller ' +
          'is the mean of a Gaussian policy, trained on the true reward; PPO updates the decoder, the reward module and ' +
          'a value head on the RSSM state. Resumable: a checkpoint after every PPO step in --out, and the same command ' +
          'continues. Writes the PPO steps (CSV, JSON) and the learning curve (PNG)',
      ),
    'out/planet-ppo',
  )
    .option('--from <dir>', 'the --out folder of a `dcem planet --planner latent` run (not needed to resume)')
    .option('--iterations <n>', 'PPO steps in all', integerFlag('--iterations', 1), 10)
    .option(
      '--episodes-per-step <n>',
      'episodes collected per PPO step, in parallel (default 10)',
      integerFlag('--episodes-per-step', 1),
    )
    .option(
      '--steps <n>',
      "agent steps per episode (default the world-model run's)",
      integerFlag('--steps', 1),
    )
    .option(
      '--passes <n>',
      'passes over each batch (default 4; the paper: 1, 2, 4)',
      integerFlag('--passes', 1),
    )
    .option('--minibatch-size <n>', 'samples per minibatch (default 16)', integerFlag('--minibatch-size', 1))
    .option(
      '--learning-rate <x>',
      "Adam's learning rate (default 1e-4; the paper: 1e-4, 1e-5)",
      numberFlag('--learning-rate'),
    )
    .option('--std <x>', "the policy's σ (its start with --learn-std), default √0.1", numberFlag('--std'))
    .option('--learn-std', 'learn log σ (default: σ fixed)', false)
    .option('--clip <x>', 'ε of the clipped ratio (default 0.2)', numberFlag('--clip'))
    .option('--entropy-coef <x>', 'weight of the entropy bonus (default 0)', numberFlag('--entropy-coef'))
    .option('--gamma <x>', 'γ of GAE (default 0.99)', numberFlag('--gamma'))
    .option('--lambda <x>', 'λ of GAE (default 0.95)', numberFlag('--lambda'))
    .option('--value-hidden <n>', "the value head's width (default 200)", integerFlag('--value-hidden', 1))
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ pnpm dcem planet --env cartpole-swingup --planner latent --out out/planet-latent\n' +
        '  $ pnpm dcem planet-ppo --from out/planet-latent --out out/planet-ppo --iterations 20 --passes 2\n' +
        'Rerunning a command continues its run from the checkpoint in --out (a larger --iterations extends it).',
    )
    .action(async (opts: PlanetPpoFlags) => {
      const ctx = await createContext(opts);
      const ppo: PpoOptions = {};
      const ppoFlags = {
        passes: opts.passes,
        minibatchSize: opts.minibatchSize,
        learningRate: opts.learningRate,
        std: opts.std,
        clip: opts.clip,
        entropyCoef: opts.entropyCoef,
      } as const;
      for (const [key, value] of Object.entries(ppoFlags)) {
        if (value !== undefined) (ppo as Record<string, unknown>)[key] = value;
      }
      if (opts.learnStd) ppo.learnStd = true;
      const settings: PlanetPpoSettings = { seed: opts.seed, iterations: opts.iterations, ppo };
      const map = {
        episodesPerStep: opts.episodesPerStep,
        steps: opts.steps,
        gamma: opts.gamma,
        lambda: opts.lambda,
        valueHidden: opts.valueHidden,
      } as const;
      for (const [key, value] of Object.entries(map)) {
        if (value !== undefined) (settings as Record<string, unknown>)[key] = value;
      }
      const result = await runPlanetPpoCli(ctx, settings, opts.from === undefined ? {} : { from: opts.from });
      const { history, ...shown } = result;
      reportResult(ctx, result.files, {
        ...shown,
        steps: history.map((r) => ({ step: r.iteration, meanReturn: r.meanReturn, returns: r.returns })),
      });
    });
}
