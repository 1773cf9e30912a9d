import { PLANNER_NAMES } from '@dcem/tasks';
import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  type CommonOptions,
  createContext,
  integerFlag,
  numberFlag,
  reportResult,
  temperatureFlag,
  withCommonOptions,
} from '../context.js';
import { type PendulumSettings, runPendulum } from '../pendulum.js';

/** The solver flags that override a --planner preset only when given. */
const SOLVER_FLAGS = ['samples', 'elites', 'iterations', 'tolerance', 'temperature', 'initStd'] as const;

/** The parsed flags: the common ones and the settings of {@link runPendulum}. */
type PendulumFlags = CommonOptions & PendulumSettings;

/** `dcem pendulum`: the swing-up example of the DCEM repository's notebook. */
export function registerPendulum(program: Command): void {
  withCommonOptions(
    program
      .command('pendulum')
      .description(
        'swing up 12 pendulums with CEM trajectory planning (the DCEM notebook): writes the cost, cos θ, θ̇ ' +
          'and control plots, trajectories as CSV/JSON and an animation (SVG and GIF)',
      ),
    'out/pendulum',
  )
    .option('--count <n>', 'swing-ups (random start states)', integerFlag('--count', 1), 12)
    .option('--horizon <n>', 'plan horizon (steps)', integerFlag('--horizon', 1), 50)
    .option('--samples <n>', 'sampled plans per iteration', integerFlag('--samples', 2), 250)
    .option('--elites <n>', 'elites per iteration', integerFlag('--elites', 1), 10)
    .option('--iterations <n>', 'solver iterations at most (per plan)', integerFlag('--iterations', 1), 300)
    .option('--init-std <x>', 'initial standard deviation of the torques', numberFlag('--init-std'), 3)
    .option('--tolerance <x>', 'stop when the plan moves less than this', numberFlag('--tolerance'), 1e-6)
    .option(
      '--temperature <τ>',
      'DCEM temperature τ, or "none" for vanilla CEM',
      temperatureFlag('--temperature'),
      null,
    )
    .addOption(
      new Option('--mode <mode>', 'one open-loop plan per swing-up (the notebook) or receding-horizon MPC')
        .choices(['open-loop', 'mpc'])
        .default('open-loop'),
    )
    .option('--mpc-steps <n>', 'closed-loop steps in --mode mpc', integerFlag('--mpc-steps', 1), 50)
    .addOption(
      new Option(
        '--planner <name>',
        'a planner preset (core presets, and sparse: DCEM with the sparse top-k); the solver flags given explicitly override it',
      ).choices([...PLANNER_NAMES]),
    )
    .addOption(
      new Option(
        '--cost <name>',
        'the planned cost: swing-up (the notebook) or quadratic (mpc.pytorch weights); default swing-up open loop, quadratic with --mode mpc',
      ).choices(['swing-up', 'quadratic']),
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ pnpm dcem pendulum\n  $ pnpm dcem pendulum --mode mpc --planner icem --horizon 20 --mpc-steps 100\n  $ pnpm dcem pendulum --mode mpc --planner cem --samples 200',
    )
    .action(async (opts: PendulumFlags, command: Command) => {
      if (opts.planner !== undefined) {
        // With a preset, only the solver flags given on the command line override it.
        for (const key of SOLVER_FLAGS) {
          if (command.getOptionValueSource(key) === 'default') delete opts[key];
        }
      }
      if (opts.elites !== undefined && opts.samples !== undefined && opts.elites >= opts.samples) {
        throw new InvalidArgumentError(
          `--elites must be < --samples (${opts.samples}), received ${opts.elites}`,
        );
      }
      const ctx = await createContext(opts);
      const { backend, out, quiet, json, ...settings } = opts;
      const result = await runPendulum(ctx, settings);
      reportResult(ctx, result.files, result);
    });
}
