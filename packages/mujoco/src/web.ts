/**
 * `@dcem/mujoco/web`: the package for pages and Web Workers. The same
 * environments as the main entry, a rollout pool on Web Workers, and what a
 * 3-D renderer reads (geoms and their poses). It imports nothing from Node;
 * the page compiles MuJoCo's WebAssembly from the URL its bundler gives
 * ({@link compileMujocoFrom}) or hands a compiled module over
 * ({@link useCompiledMujoco}) before the first `makeEnv`.
 *
 * @packageDocumentation
 */
export type { EnvOptions, EnvState, MujocoEnv, ObservationSlice, StepResult } from './env.js';
export { EPISODE_STEPS, makeEnv } from './env.js';
export type { RolloutOptions, RolloutPool, RolloutStats } from './pool-core.js';
export type { WebRolloutPoolOptions, WebWorkerLike, WorkerScopeLike } from './pool-web.js';
export { compileMujocoFrom, createWebRolloutPool, serveRollouts, useCompiledMujoco } from './pool-web.js';
export type { WasmModule } from './runtime.js';
export type { GeomDescription, GeomShape } from './scene.js';
export { bodyPosition, describeGeoms, readGeomPoses } from './scene.js';
export type { TaskName } from './tasks/index.js';
export { TASK_NAMES } from './tasks/index.js';
