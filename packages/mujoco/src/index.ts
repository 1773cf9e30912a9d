/**
 * `@dcem/mujoco`: DeepMind-Control-style tasks on MuJoCo's WebAssembly build,
 * an environment API, batched rollouts on worker threads and side-view SVG
 * frames. No tensors.
 *
 * @packageDocumentation
 */
export type { EnvOptions, EnvState, MujocoEnv, ObservationSlice, StepResult } from './env.js';
export { EPISODE_STEPS, makeEnv } from './env.js';
export type { RolloutOptions, RolloutPool, RolloutPoolOptions, RolloutStats } from './pool.js';
export { createRolloutPool } from './pool.js';
export type { RenderOptions } from './render.js';
export { renderSvg } from './render.js';
export type { TaskName } from './tasks/index.js';
export { TASK_NAMES } from './tasks/index.js';
export type { Sigmoid, ToleranceOptions } from './tolerance.js';
export { tolerance } from './tolerance.js';
