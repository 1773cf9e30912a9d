import {
  PLANET_COMPARE_BUDGETS,
  PLANET_COMPARE_PLANNERS,
  type PlanetCompareBudget,
  type PlanetComparePlanner,
  type PlanetComparisonSettings,
} from '@dcem/tasks/planet';
import { type Command, InvalidArgumentError } from 'commander';
import {
  type CommonOptions,
  createContext,
  integerFlag,
  numberFlag,
  reportResult,
  withCommonOptions,
  withQueueOption,
} from '../context.js';
import { runPlanetCompareCli } from '../planet-compare.js';

interface PlanetCompareFlags extends CommonOptions {
  checkpoint: string;
  ppo?: string;
  planners?: PlanetComparePlanner[];
  episodes: number;
  steps?: number;
  fullSamples?: number;
  fullElites?: number;
  fullIterations?: number;
  latentSamples?: number;
  latentElites?: number;
  latentIterations?: number;
  resamples?: number;
  confidence?: number;
  queue?: string;
}

/** Splits a comma list of planner names, each checked (unknown names are errors). */
function plannersFlag(value: string): PlanetComparePlanner[] {
  const items = value.split(',').map((v) => v.trim());
  for (const item of items) {
    if (!(PLANET_COMPARE_PLANNERS as readonly string[]).includes(item)) {
      throw new InvalidArgumentError(
        `--planners: "${item}" is not one of ${PLANET_COMPARE_PLANNERS.join(', ')}`,
      );
    }
  }
  return items as PlanetComparePlanner[];
}

function budget(
  samples: number | undefined,
  elites: number | undefined,
  iterations: number | undefined,
): Partial<PlanetCompareBudget> | undefined {
  const b: Partial<PlanetCompareBudget> = {};
  if (samples !== undefined) b.samples = samples;
  if (elites !== undefined) b.elites = elites;
  if (iterations !== undefined) b.iterations = iterations;
  return Object.keys(b).length === 0 ? undefined : b;
}

/** `dcem planet-compare`: full CEM, latent DCEM, latent DCEM + PPO and iCEM at one world-model checkpoint. */
export function registerPlanetCompare(program: Command): void {
  const { full, latent } = PLANET_COMPARE_BUDGETS;
  withQueueOption(
    withCommonOptions(
      program
        .command('planet-compare')
        .description(
          'The DCEM paper’s comparison at one world-model checkpoint, on the same initial states: full CEM ' +
            `(${full.samples}/${full.elites}), latent DCEM (${latent.samples}/${latent.elites}), latent DCEM + PPO (with --ppo) ` +
            'and iCEM at the latent budget. Writes a box plot (PNG), a table with bootstrap confidence intervals (Markdown), ' +
            'CSV and JSON; resumable (every episode is recorded in --out as it finishes)',
        ),
      'out/planet-compare',
    ),
  )
    .requiredOption(
      '--checkpoint <dir>',
      'the --out folder of a `dcem planet` run (with --planner latent for the latent planners)',
    )
    .option(
      '--ppo <dir>',
      'the --out folder of a `dcem planet-ppo` run from that checkpoint (adds latent-ppo)',
    )
    .option(
      '--planners <list>',
      `comma-separated, of ${PLANET_COMPARE_PLANNERS.join(', ')} (default: all that the checkpoints allow)`,
      plannersFlag,
    )
    .option(
      '--episodes <n>',
      'evaluation episodes per planner (the paper: 100)',
      integerFlag('--episodes', 1),
      10,
    )
    .option('--steps <n>', "agent steps per episode (default the checkpoint's)", integerFlag('--steps', 1))
    .option(
      '--full-samples <n>',
      `full CEM's candidates (default ${full.samples})`,
      integerFlag('--full-samples', 2),
    )
    .option(
      '--full-elites <n>',
      `full CEM's elites (default ${full.elites})`,
      integerFlag('--full-elites', 1),
    )
    .option(
      '--full-iterations <n>',
      `full CEM's iterations (default ${full.iterations})`,
      integerFlag('--full-iterations', 1),
    )
    .option(
      '--latent-samples <n>',
      `candidates of the latent planners and iCEM (default ${latent.samples})`,
      integerFlag('--latent-samples', 2),
    )
    .option(
      '--latent-elites <n>',
      `elites of the latent planners and iCEM (default ${latent.elites})`,
      integerFlag('--latent-elites', 1),
    )
    .option(
      '--latent-iterations <n>',
      `iterations of the latent planners and iCEM (default ${latent.iterations})`,
      integerFlag('--latent-iterations', 1),
    )
    .option('--resamples <n>', 'bootstrap resamples B (default 10000)', integerFlag('--resamples', 1))
    .option('--confidence <x>', 'the intervals’ coverage (default 0.95)', numberFlag('--confidence'))
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ pnpm dcem planet --env cartpole-swingup --planner latent --out out/planet-latent\n' +
        '  $ pnpm dcem planet-ppo --from out/planet-latent --out out/planet-ppo\n' +
        '  $ pnpm dcem planet-compare --checkpoint out/planet-latent --ppo out/planet-ppo --episodes 10\n' +
        'Rerunning a command continues from the episodes recorded in --out.',
    )
    .action(async (opts: PlanetCompareFlags) => {
      const ctx = await createContext(opts);
      const settings: PlanetComparisonSettings = { episodes: opts.episodes, seed: opts.seed };
      const f = budget(opts.fullSamples, opts.fullElites, opts.fullIterations);
      const l = budget(opts.latentSamples, opts.latentElites, opts.latentIterations);
      if (opts.planners !== undefined) settings.planners = opts.planners;
      if (opts.steps !== undefined) settings.steps = opts.steps;
      if (f !== undefined) settings.full = f;
      if (l !== undefined) settings.latent = l;
      if (opts.resamples !== undefined) settings.resamples = opts.resamples;
      if (opts.confidence !== undefined) settings.confidence = opts.confidence;
      const result = await runPlanetCompareCli(
        ctx,
        settings,
        { checkpoint: opts.checkpoint, ...(opts.ppo !== undefined ? { ppo: opts.ppo } : {}) },
        opts.queue,
      );
      reportResult(ctx, result.files, {
        ran: result.ran,
        seconds: result.seconds,
        rows: result.comparison.rows,
      });
    });
}
