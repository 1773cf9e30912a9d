import { PLANNER_NAMES, PLANNER_STUDY_TASKS, type PlannerName, type PlannerStudyTask } from '@dcem/tasks';
import { type Command, InvalidArgumentError } from 'commander';
import {
  type CommonOptions,
  createContext,
  integerFlag,
  reportResult,
  withCommonOptions,
  withQueueOption,
} from '../context.js';
import { type PlannersSettings, runPlanners } from '../planners.js';

/** Parses a comma-separated list of names, each one of `allowed`. */
export function nameListFlag<N extends string>(flag: string, allowed: readonly N[]) {
  return (value: string): N[] => {
    const items = value.split(',').map((v) => v.trim());
    const bad = items.find((v) => !allowed.includes(v as N));
    if (bad !== undefined) {
      throw new InvalidArgumentError(
        `${flag} takes a comma-separated list of ${allowed.join(', ')}; "${bad}" is not one`,
      );
    }
    return [...new Set(items as N[])];
  };
}

/** Parses a comma-separated list of integers ≥ `min`. */
export function integerListFlag(flag: string, min: number) {
  return (value: string): number[] => {
    const items = value.split(',').map((v) => v.trim());
    const numbers = items.map(Number);
    if (items.some((v, i) => v === '' || !Number.isInteger(numbers[i]) || (numbers[i] as number) < min)) {
      throw new InvalidArgumentError(
        `${flag} takes a comma-separated list of integers ≥ ${min}, received "${value}"`,
      );
    }
    return [...new Set(numbers)].sort((a, b) => a - b);
  };
}

type PlannersFlags = CommonOptions & Omit<PlannersSettings, 'seed'> & { queue?: string };

/** `dcem planners`: the planner budget study. */
export function registerPlanners(program: Command): void {
  withQueueOption(
    withCommonOptions(
      program
        .command('planners')
        .description(
          `the planner budget study: closed-loop return of the ${PLANNER_NAMES.join(', ')} presets against ` +
            'rollouts per step on the pendulum and cart-pole swing-ups; writes CSV/JSON, a Markdown table and a plot',
        ),
      'out/planners',
    ),
  )
    .option('--planners <list>', 'planners', nameListFlag('--planners', PLANNER_NAMES), [
      ...PLANNER_NAMES,
    ] as PlannerName[])
    .option(
      '--budgets <list>',
      'rollouts per step',
      integerListFlag('--budgets', 4),
      [25, 50, 100, 200, 400, 1000],
    )
    .option('--tasks <list>', 'tasks', nameListFlag('--tasks', PLANNER_STUDY_TASKS), [
      ...PLANNER_STUDY_TASKS,
    ] as PlannerStudyTask[])
    .option('--seeds <n>', 'seeds per cell', integerFlag('--seeds', 1), 5)
    .option('--starts <n>', 'start states per seed', integerFlag('--starts', 1), 1)
    .option('--steps <n>', 'closed-loop steps per episode', integerFlag('--steps', 1), 100)
    .option('--horizon <n>', 'plan horizon', integerFlag('--horizon', 1), 20)
    .addHelpText(
      'after',
      '\nExamples:\n  $ pnpm dcem planners\n  $ pnpm dcem planners --planners cem,icem --budgets 50,200,1000 --tasks pendulum\n  $ pnpm dcem planners --queue redis://localhost:6379   # with `pnpm dcem worker --queue redis://localhost:6379` elsewhere',
    )
    .action(async (opts: PlannersFlags & { seed: number }) => {
      const ctx = await createContext(opts);
      const { backend, out, quiet, json, queue, ...settings } = opts;
      const result = await runPlanners(ctx, settings, queue);
      reportResult(ctx, result.files, { verdicts: result.verdicts, cells: result.cells });
    });
}
