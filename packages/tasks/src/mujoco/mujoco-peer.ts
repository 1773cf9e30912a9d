// @dcem/mujoco is an optional peer dependency of @dcem/tasks: only the entry
// points `@dcem/tasks/mujoco` and `@dcem/tasks/planet` need it. It is loaded
// here, once, with a dynamic import, so that a missing package gives an error that says what to
// install instead of Node's bare "Cannot find package".
import type * as Mujoco from '@dcem/mujoco';

/** The command the missing-package error suggests. */
export const MUJOCO_INSTALL_COMMAND = 'npm install @dcem/mujoco';

/** Whether `error` is Node's "package not found" for `@dcem/mujoco` itself (not for a module inside it). */
function isMujocoMissing(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === 'ERR_MODULE_NOT_FOUND' && typeof message === 'string' && message.includes("'@dcem/mujoco'");
}

/**
 * Loads `@dcem/mujoco` (internal). When the package is not installed, throws
 * an `Error` that names it and the command that installs it, with Node's
 * error as its `cause`; any other failure is thrown as it is.
 *
 * @param load The import, replaceable in tests.
 * @returns The module's namespace.
 */
export async function importMujoco(
  load: () => Promise<typeof Mujoco> = () => import('@dcem/mujoco'),
): Promise<typeof Mujoco> {
  try {
    return await load();
  } catch (error) {
    if (!isMujocoMissing(error)) throw error;
    throw new Error(
      '@dcem/tasks/mujoco and @dcem/tasks/planet need @dcem/mujoco, an optional peer dependency of @dcem/tasks that is not installed; ' +
        `install it with \`${MUJOCO_INSTALL_COMMAND}\` (or pnpm add / yarn add @dcem/mujoco)`,
      { cause: error },
    );
  }
}

const mujoco = await importMujoco();

/** `createRolloutPool` of `@dcem/mujoco`. */
export const createRolloutPool: typeof Mujoco.createRolloutPool = (...args) =>
  mujoco.createRolloutPool(...args);
/** `makeEnv` of `@dcem/mujoco`. */
export const makeEnv: typeof Mujoco.makeEnv = (...args) => mujoco.makeEnv(...args);
/** `TASK_NAMES` of `@dcem/mujoco`. */
export const TASK_NAMES: typeof Mujoco.TASK_NAMES = mujoco.TASK_NAMES;
