import type { Command } from 'commander';
import {
  type CommonOptions,
  createContext,
  integerFlag,
  reportResult,
  withCommonOptions,
} from '../context.js';
import { runPlanetDiagnoseCli } from '../planet-diagnose.js';

interface PlanetDiagnoseFlags extends CommonOptions {
  checkpoint: string;
  last: number;
  horizon?: number;
}

/** `dcem planet-diagnose`: how well a world-model checkpoint predicts the episodes it collected. */
export function registerPlanetDiagnose(program: Command): void {
  withCommonOptions(
    program
      .command('planet-diagnose')
      .description(
        'How well a `dcem planet` checkpoint’s model predicts real episodes: the reward and observation errors ' +
          'of its predictions k = 1 … H steps ahead along the last collected episodes (the last one the model ' +
          'never trained on), and the error of the H-step returns a planner compares. Tells a weak model from a ' +
          'weak planner. Writes Markdown, JSON and a chart (PNG)',
      ),
    'out/planet-diagnose',
  )
    .requiredOption('--checkpoint <dir>', 'the --out folder of a `dcem planet` run')
    .option(
      '--last <n>',
      'measure on the last n collected episodes of the replay buffer',
      integerFlag('--last', 1),
      1,
    )
    .option(
      '--horizon <n>',
      "the depth H of the open-loop predictions (default: the run's planning horizon)",
      integerFlag('--horizon', 1),
    )
    .addHelpText(
      'after',
      '\nExample:\n  $ pnpm dcem planet-diagnose --checkpoint out/planet-cartpole --last 3',
    )
    .action(async (opts: PlanetDiagnoseFlags) => {
      const ctx = await createContext(opts);
      const result = await runPlanetDiagnoseCli(ctx, {
        checkpoint: opts.checkpoint,
        last: opts.last,
        ...(opts.horizon !== undefined ? { horizon: opts.horizon } : {}),
      });
      reportResult(ctx, result.files, {
        env: result.env,
        updates: result.updates,
        horizon: result.horizon,
        results: result.results,
      });
    });
}
