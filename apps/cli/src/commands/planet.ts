import { TASK_NAMES } from '@dcem/mujoco';
import { PLANET_PLANNERS, type PlanetSettings } from '@dcem/tasks/planet';
import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  type CommonOptions,
  createContext,
  integerFlag,
  numberFlag,
  reportResult,
  withCommonOptions,
} from '../context.js';
import { runPlanetCli } from '../planet.js';

interface PlanetFlags extends CommonOptions {
  env: PlanetSettings['env'];
  planner: NonNullable<PlanetSettings['planner']>;
  episodes: number;
  seedEpisodes?: number;
  updates?: number;
  batchSize?: number;
  sequenceLength?: number;
  horizon?: number;
  samples?: number;
  elites?: number;
  iterations?: number;
  actionRepeat?: number;
  steps?: number;
  deterministic?: number;
  stochastic?: number;
  hidden?: number;
  freeNats?: number;
  learningRate?: number;
  explorationNoise?: number;
  imagination?: 'sample' | 'mean';
  evalEvery: number;
  frames: number;
  latentDim?: number;
  decoderHidden?: number[];
  decoderLr?: number;
  decoderBatch?: number;
  decoderClip?: number;
  decoderTraining: boolean;
}

/** Parses a comma-separated list of layer widths (integers ≥ 1, repeats kept). */
function widthsFlag(flag: string) {
  return (value: string): number[] => {
    const items = value.split(',').map((v) => v.trim());
    const widths = items.map(Number);
    if (items.some((v, i) => v === '' || !Number.isInteger(widths[i]) || (widths[i] as number) < 1)) {
      throw new InvalidArgumentError(`${flag} takes comma-separated integers ≥ 1, received "${value}"`);
    }
    return widths;
  };
}

/** `dcem planet`: PlaNet's world model trained online on a MuJoCo task, planning in the model. */
export function registerPlanet(program: Command): void {
  withCommonOptions(
    program
      .command('planet')
      .description(
        "PlaNet's recurrent state-space model trained online on a MuJoCo task, acting by planning in the model " +
          '(seed episodes, then model updates and one planner episode at a time); resumable: a checkpoint after every ' +
          'episode in --out, and the same command continues the run. Writes the episodes (CSV, JSON), the learning ' +
          'curve (PNG) and a GIF of the latest evaluation episode',
      ),
    'out/planet',
  )
    .addOption(
      new Option('--env <task>', 'DeepMind Control task').choices([...TASK_NAMES]).makeOptionMandatory(),
    )
    .addOption(
      new Option(
        '--planner <name>',
        "planner preset (cem: PlaNet's CEM; latent: DCEM over a learned latent action space, its decoder trained online)",
      )
        .choices([...PLANET_PLANNERS])
        .default('cem'),
    )
    .option(
      '--episodes <n>',
      'episodes to collect in all, seed episodes included',
      integerFlag('--episodes', 1),
      100,
    )
    .option(
      '--seed-episodes <n>',
      'episodes with random actions first (default 5)',
      integerFlag('--seed-episodes', 1),
    )
    .option(
      '--updates <n>',
      'model updates before each planner episode (default 100)',
      integerFlag('--updates', 0),
    )
    .option('--batch-size <n>', 'sequences per update (default 50)', integerFlag('--batch-size', 1))
    .option('--sequence-length <n>', 'rows per sequence (default 50)', integerFlag('--sequence-length', 1))
    .option('--horizon <n>', 'planned actions per decision (default 12)', integerFlag('--horizon', 1))
    .option(
      '--samples <n>',
      'candidates per iteration (default: 1000 for cem and dcem, 100 for latent, the preset otherwise)',
      integerFlag('--samples', 2),
    )
    .option(
      '--elites <n>',
      'elites per iteration (default: 100 for cem and dcem, 10 for latent)',
      integerFlag('--elites', 1),
    )
    .option(
      '--iterations <n>',
      'solver iterations per decision (default: 10 for cem, dcem and latent)',
      integerFlag('--iterations', 1),
    )
    .option(
      '--action-repeat <n>',
      "control steps per action (default PlaNet's for the task)",
      integerFlag('--action-repeat', 1),
    )
    .option(
      '--steps <n>',
      'agent steps per episode (default the full episode, 1000 / action repeat)',
      integerFlag('--steps', 1),
    )
    .option(
      '--deterministic <n>',
      "the model's GRU state size (default 200)",
      integerFlag('--deterministic', 1),
    )
    .option(
      '--stochastic <n>',
      "the model's stochastic state size (default 30)",
      integerFlag('--stochastic', 1),
    )
    .option('--hidden <n>', "the model's hidden layer width (default 200)", integerFlag('--hidden', 1))
    .option('--free-nats <x>', 'free nats of the KL term (default 3)', numberFlag('--free-nats'))
    .option('--learning-rate <x>', "Adam's learning rate (default 1e-3)", numberFlag('--learning-rate'))
    .option(
      '--exploration-noise <x>',
      'σ of the action noise in training episodes (default 0.3)',
      numberFlag('--exploration-noise'),
    )
    .addOption(
      new Option(
        '--imagination <mode>',
        'imagined latent states: sampled from the prior (PlaNet) or its mean',
      )
        .choices(['sample', 'mean'])
        .default('sample'),
    )
    .option(
      '--eval-every <n>',
      'an evaluation episode (no exploration noise) after every n collected episodes; 0: none',
      integerFlag('--eval-every', 0),
      10,
    )
    .option('--frames <n>', 'frames at most in the GIF', integerFlag('--frames', 1), 100)
    .option(
      '--latent-dim <n>',
      'latent planner: d, the latent size (default 2)',
      integerFlag('--latent-dim', 1),
    )
    .option(
      '--decoder-hidden <list>',
      "latent planner: the decoder's hidden widths, comma-separated (default 256,256,256)",
      widthsFlag('--decoder-hidden'),
    )
    .option(
      '--decoder-lr <x>',
      "latent planner: the decoder's Adam learning rate (default 1e-4)",
      numberFlag('--decoder-lr'),
    )
    .option(
      '--decoder-batch <n>',
      'latent planner: replay posterior states per decoder step (default 8)',
      integerFlag('--decoder-batch', 1),
    )
    .option(
      '--decoder-clip <x>',
      "latent planner: the decoder gradient's norm clip (default 1)",
      numberFlag('--decoder-clip'),
    )
    .option(
      '--no-decoder-training',
      'latent planner: keep the decoder fixed (no decoder step after each model update)',
    )
    .addHelpText(
      'after',
      "\nExamples:\n  $ pnpm dcem planet --env cartpole-swingup --out out/planet-cartpole      # PlaNet's settings, 100 episodes\n" +
        '  $ pnpm dcem planet --env cheetah-run --planner icem --samples 100 --out out/planet-cheetah\n' +
        '  $ pnpm dcem planet --env cheetah-run --planner latent --latent-dim 4 --out out/planet-cheetah-latent\n' +
        '  $ pnpm dcem planet --env cartpole-swingup --episodes 3 --seed-episodes 2 --steps 20 --updates 5 \\\n' +
        '      --batch-size 4 --sequence-length 10 --samples 50 --elites 5 --iterations 2 --eval-every 1 --out out/planet-tiny\n' +
        'Rerunning a command continues its run from the checkpoint in --out (a larger --episodes extends it);\n' +
        'the planner may change between runs of one --out (e.g. --planner cem first, then --planner latent).',
    )
    .action(async (opts: PlanetFlags) => {
      const ctx = await createContext(opts);
      const settings: PlanetSettings = {
        env: opts.env,
        seed: opts.seed,
        planner: opts.planner,
        episodes: opts.episodes,
        imagination: opts.imagination ?? 'sample',
        evaluateEvery: opts.evalEvery,
      };
      const map = {
        seedEpisodes: opts.seedEpisodes,
        updatesPerEpisode: opts.updates,
        batchSize: opts.batchSize,
        sequenceLength: opts.sequenceLength,
        horizon: opts.horizon,
        samples: opts.samples,
        elites: opts.elites,
        iterations: opts.iterations,
        actionRepeat: opts.actionRepeat,
        steps: opts.steps,
        freeNats: opts.freeNats,
        learningRate: opts.learningRate,
        explorationNoise: opts.explorationNoise,
      } as const;
      for (const [key, value] of Object.entries(map)) {
        if (value !== undefined) (settings as unknown as Record<string, unknown>)[key] = value;
      }
      const model: NonNullable<PlanetSettings['model']> = {};
      if (opts.deterministic !== undefined) model.deterministic = opts.deterministic;
      if (opts.stochastic !== undefined) model.stochastic = opts.stochastic;
      if (opts.hidden !== undefined) model.hidden = opts.hidden;
      if (Object.keys(model).length > 0) settings.model = model;
      const latent: NonNullable<PlanetSettings['latent']> = {};
      if (opts.latentDim !== undefined) latent.dim = opts.latentDim;
      if (opts.decoderHidden !== undefined) latent.hiddenSizes = opts.decoderHidden;
      if (opts.decoderLr !== undefined) latent.learningRate = opts.decoderLr;
      if (opts.decoderBatch !== undefined) latent.batchSize = opts.decoderBatch;
      if (opts.decoderClip !== undefined) latent.clipNorm = opts.decoderClip;
      if (!opts.decoderTraining) latent.train = false;
      if (Object.keys(latent).length > 0) {
        if (opts.planner !== 'latent') {
          throw new InvalidArgumentError(
            `--latent-dim and the --decoder-* flags are taken only with --planner latent (received --planner ${opts.planner})`,
          );
        }
        settings.latent = latent;
      }
      const result = await runPlanetCli(ctx, settings, { maxFrames: opts.frames });
      const { history, ...shown } = result;
      reportResult(ctx, result.files, {
        ...shown,
        returns: history.map((r) => ({ kind: r.kind, return: r.return })),
      });
    });
}
