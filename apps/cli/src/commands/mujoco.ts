import { TASK_NAMES } from '@dcem/mujoco';
import { MUJOCO_PLANNERS } from '@dcem/tasks/mujoco';
import { type Command, Option } from 'commander';
import {
  type CommonOptions,
  createContext,
  integerFlag,
  listFlag,
  numberFlag,
  reportResult,
  withCommonOptions,
  withQueueOption,
} from '../context.js';
import { type MujocoSettings, runMujoco, runMujocoStudyCli } from '../mujoco.js';

interface MujocoFlags extends CommonOptions {
  env: MujocoSettings['env'];
  planner: MujocoSettings['planner'];
  episodes: number;
  samples?: number;
  elites?: number;
  iterations?: number;
  horizon?: number;
  steps?: number;
  actionRepeat?: number;
  workers?: number;
  frames: number;
}

interface MujocoStudyFlags extends CommonOptions {
  tasks: string;
  planners: string;
  episodes: number;
  controlSteps: number;
  budget: number;
  workers?: number;
  queue?: string;
}

/** `dcem mujoco` and `dcem mujoco-study`: MPC with the true simulator on MuJoCo tasks. */
export function registerMujoco(program: Command): void {
  withCommonOptions(
    program
      .command('mujoco')
      .description(
        'MPC with the true MuJoCo simulator as the model: writes episode returns (CSV, JSON), the return curve and a GIF of the first episode',
      ),
    'out/mujoco',
  )
    .addOption(
      new Option('--env <task>', 'DeepMind Control task').choices([...TASK_NAMES]).makeOptionMandatory(),
    )
    .addOption(new Option('--planner <name>', 'planner preset').choices([...MUJOCO_PLANNERS]).default('cem'))
    .option('--episodes <n>', 'episodes', integerFlag('--episodes', 1), 1)
    .option(
      '--samples <n>',
      'candidates per iteration (default: PlaNet 1000 for cem, the preset otherwise)',
      integerFlag('--samples', 2),
    )
    .option('--elites <n>', 'elites per iteration', integerFlag('--elites', 1))
    .option('--iterations <n>', 'solver iterations per step', integerFlag('--iterations', 1))
    .option('--horizon <n>', 'planned actions per step (default 12)', integerFlag('--horizon', 1))
    .option(
      '--steps <n>',
      'agent steps per episode (default the full episode, 1000 / action repeat)',
      integerFlag('--steps', 1),
    )
    .option(
      '--action-repeat <n>',
      "control steps per action (default PlaNet's for the task)",
      integerFlag('--action-repeat', 1),
    )
    .option('--workers <n>', 'rollout worker threads (default one per core)', integerFlag('--workers', 1))
    .option('--frames <n>', 'frames at most in the GIF', integerFlag('--frames', 1), 100)
    .addHelpText(
      'after',
      '\nExamples:\n  $ pnpm dcem mujoco --env cheetah-run --planner icem --episodes 3 --seed 0\n' +
        '  $ pnpm dcem mujoco --env cartpole-swingup --planner cem --samples 100 --elites 10 --steps 20',
    )
    .action(async (opts: MujocoFlags) => {
      const ctx = await createContext(opts);
      const settings: MujocoSettings = {
        env: opts.env,
        planner: opts.planner,
        episodes: opts.episodes,
        seed: opts.seed,
        maxFrames: opts.frames,
      };
      for (const key of [
        'samples',
        'elites',
        'iterations',
        'horizon',
        'steps',
        'actionRepeat',
        'workers',
      ] as const) {
        if (opts[key] !== undefined) settings[key] = opts[key];
      }
      const result = await runMujoco(ctx, settings);
      reportResult(ctx, result.files, result);
    });

  withQueueOption(
    withCommonOptions(
      program
        .command('mujoco-study')
        .description(
          "MPC with the true simulator on PlaNet's tasks, CEM at PlaNet's budget and iCEM at a tenth, against PlaNet's Table 1; " +
            'resumable (skips episodes found in the output folder), states its wall time',
        ),
      'out/mujoco-study',
    ),
  )
    .option('--tasks <list>', 'comma-separated tasks', listFlag('--tasks', TASK_NAMES), [...TASK_NAMES])
    .option(
      '--planners <list>',
      'comma-separated: cem, icem',
      listFlag('--planners', ['cem', 'icem'] as const),
      ['cem', 'icem'],
    )
    .option('--episodes <n>', 'episodes per (task, planner)', integerFlag('--episodes', 1), 3)
    .option(
      '--control-steps <n>',
      'control steps per episode (1000: the full episode)',
      integerFlag('--control-steps', 1),
      1000,
    )
    .option(
      '--budget <x>',
      "fraction of PlaNet's candidates and elites, in (0, 1]",
      numberFlag('--budget'),
      1,
    )
    .option('--workers <n>', 'rollout worker threads (default one per core)', integerFlag('--workers', 1))
    .addHelpText(
      'after',
      '\nExamples:\n  $ pnpm dcem mujoco-study\n  $ pnpm dcem mujoco-study --planners icem --control-steps 200 --episodes 3\n  $ pnpm dcem mujoco-study --queue redis://localhost:6379   # with `pnpm dcem worker --queue redis://localhost:6379` on each machine',
    )
    .action(async (opts: MujocoStudyFlags & { tasks: unknown; planners: unknown }) => {
      const ctx = await createContext(opts);
      const result = await runMujocoStudyCli(
        ctx,
        {
          tasks: opts.tasks as never,
          planners: opts.planners as never,
          episodes: opts.episodes,
          seed: opts.seed,
          controlSteps: opts.controlSteps,
          budget: opts.budget,
          ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
        },
        opts.queue,
      );
      const { episodes, ...shown } = result;
      reportResult(ctx, result.files, shown);
    });
}
