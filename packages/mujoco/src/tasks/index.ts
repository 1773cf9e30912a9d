/** The task registry. */
import type { TaskDefinition } from '../simulation.js';
import { cartpoleSwingup } from './cartpole.js';
import { cheetahRun } from './cheetah.js';
import { cupCatch } from './cup.js';
import { fingerSpin } from './finger.js';
import { reacherEasy } from './reacher.js';
import { walkerWalk } from './walker.js';

/**
 * The names of the tasks, after the DeepMind Control Suite's `domain.task`
 * (written `domain-task`).
 *
 * @example
 * ```ts
 * import { TASK_NAMES } from '@dcem/mujoco';
 * TASK_NAMES.includes('cheetah-run'); // true
 * ```
 */
export const TASK_NAMES = [
  'cartpole-swingup',
  'reacher-easy',
  'cheetah-run',
  'walker-walk',
  'finger-spin',
  'cup-catch',
] as const;

/** A task name (one of {@link TASK_NAMES}). */
export type TaskName = (typeof TASK_NAMES)[number];

const TASKS: Record<TaskName, TaskDefinition> = {
  'cartpole-swingup': cartpoleSwingup,
  'reacher-easy': reacherEasy,
  'cheetah-run': cheetahRun,
  'walker-walk': walkerWalk,
  'finger-spin': fingerSpin,
  'cup-catch': cupCatch,
};

/** The definition of a task, or a RangeError listing the valid names. */
export function taskDefinition(name: unknown): TaskDefinition {
  if (typeof name !== 'string') {
    throw new TypeError(
      `task name must be a string, received ${typeof name}; valid names: ${TASK_NAMES.join(', ')}`,
    );
  }
  if (!(TASK_NAMES as readonly string[]).includes(name)) {
    throw new RangeError(`unknown task ${JSON.stringify(name)}; valid names: ${TASK_NAMES.join(', ')}`);
  }
  return TASKS[name as TaskName];
}
