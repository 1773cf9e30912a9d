import { CARTPOLE_EMBED_RUN_JOB, createJobRegistry, PLANNER_CELL_JOB } from '@dcem/tasks';
import { MUJOCO_EPISODE_JOB } from '@dcem/tasks/mujoco';
import { PLANET_EVAL_EPISODE_JOB, PLANET_RUN_JOB } from '@dcem/tasks/planet';
import { PROBE_JOB } from './probe.js';

/**
 * Every kind of job the `dcem` command can run, here or on a `dcem worker`.
 * A new study makes its jobs runnable on every worker with one call, here:
 * `JOBS.register(MY_STUDY_JOB)` (the worker's processor thread imports this
 * module, so kinds registered anywhere else are unknown to workers).
 */
export const JOBS = createJobRegistry([
  PLANNER_CELL_JOB,
  CARTPOLE_EMBED_RUN_JOB,
  MUJOCO_EPISODE_JOB,
  PLANET_RUN_JOB,
  PLANET_EVAL_EPISODE_JOB,
  PROBE_JOB,
]);
