/**
 * The seed streams of `@dcem/tasks`: the purposes its random numbers serve,
 * each a stream id of `deriveSeed(seed, stream, index)` from `@dcem/core`.
 *
 * @module
 */

/**
 * Named stream ids of `deriveSeed` for the purposes of `@dcem/tasks`, so
 * that two purposes never share a seed. The values are fixed (changing one
 * changes every result that uses it) and differ from those of core's
 * `SEED_STREAMS` (the planner's and solver's own streams); add new names
 * with new values.
 *
 * | name | what it seeds |
 * |---|---|
 * | `initialStates` | the initial states drawn for training update `index` |
 * | `trainingPlan` | the planner's noise of training update `index` |
 * | `validation` | the planner's noise on a fixed validation set |
 * | `weights` | the initial weights of layer `index` of a model |
 * | `cartpoleStates` | cart-pole start states |
 * | `pendulumAngle`, `pendulumVelocity` | pendulum start angles and velocities |
 * | `learningStep` | the solver's noise at outer learning step `index` |
 * | `validationStates`, `testStates` | a study's validation and test start states |
 * | `testPlan` | the planner's noise on a study's test set (run `index`) |
 * | `baseline` | a baseline planner's noise (`index` 0: validation set, 1: test set) |
 * | `figures` | the planners run only to draw figures (`index`: the figure) |
 * | `studyStates` | a study's start states of seed `index` |
 * | `studyPlan` | a study's planner noise of cell `index` |
 * | `mujocoInitialState` | the MuJoCo environment's reset of episode `index` |
 * | `mujocoPlanner` | the planner's seed of MuJoCo episode `index` |
 * | `planetWeights` | the initial weights of a world model (`index`: the layer) |
 * | `planetInitialState` | the environment's reset of world-model episode `index` |
 * | `planetSeedActions` | the uniform random actions of seed episode `index` |
 * | `planetExploration` | the exploration noise of episode `index` |
 * | `planetPlanner` | the planner's seed in episode `index` |
 * | `planetFilter` | the posterior samples while filtering episode `index` |
 * | `planetBatch` | the replay sequences of model update `index` |
 * | `planetLatentNoise` | the ELBO's latent samples of model update `index`; with the planner's seed as base, the imagined latent samples of its cost call `index` |
 * | `planetEvaluation` | world-model evaluation episode `index` (its reset, planner and filter seeds derive from it) |
 * | `planetDecoderWeights` | the initial weights of the latent action decoder of a world-model run |
 * | `planetDecoderStep` | the online decoder step after model update `index` (its replay batch, filter, planner and imagined-noise seeds derive from it) |
 * | `planetLatentPlan` | with the planner's seed as base, the latent planner's DCEM noise at decision `index` |
 * | `ppoAction` | PPO's Gaussian action noise in episode `index` |
 * | `ppoMinibatch` | the minibatch order of PPO update `index` |
 * | `ppoInitialState` | the environment's reset of PPO episode `index` |
 * | `ppoPlanner` | the policy's planner seed in PPO episode `index` |
 * | `ppoFilter` | the posterior samples while filtering PPO episode `index` |
 * | `ppoValueWeights` | the initial weights of PPO's value head (`index`: the layer) |
 * | `planetCompare` | episode `index` of a planner comparison (its reset, planner and filter seeds derive from it; shared by every planner) |
 * | `planetCompareBootstrap` | the bootstrap resampling of statistic `index` of a planner comparison's table |
 *
 * @example
 * ```ts
 * import { deriveSeed } from '@dcem/core';
 * import { TASK_SEED_STREAMS } from '@dcem/tasks';
 * const seed = deriveSeed(0, TASK_SEED_STREAMS.studyStates, 2); // start states of seed 2 of run 0
 * ```
 */
export const TASK_SEED_STREAMS = Object.freeze({
  initialStates: 0,
  trainingPlan: 1,
  validation: 2,
  weights: 3,
  cartpoleStates: 4,
  pendulumAngle: 5,
  pendulumVelocity: 6,
  learningStep: 8,
  validationStates: 9,
  testStates: 10,
  testPlan: 11,
  baseline: 12,
  figures: 13,
  studyStates: 16,
  studyPlan: 17,
  mujocoInitialState: 100,
  mujocoPlanner: 101,
  planetWeights: 110,
  planetInitialState: 111,
  planetSeedActions: 112,
  planetExploration: 113,
  planetPlanner: 114,
  planetFilter: 115,
  planetBatch: 116,
  planetLatentNoise: 117,
  planetEvaluation: 118,
  planetDecoderWeights: 119,
  planetDecoderStep: 120,
  planetLatentPlan: 121,
  ppoAction: 140,
  ppoMinibatch: 141,
  ppoInitialState: 142,
  ppoPlanner: 143,
  ppoFilter: 144,
  ppoValueWeights: 145,
  planetCompare: 150,
  planetCompareBootstrap: 151,
} as const);

/** A name of {@link TASK_SEED_STREAMS}. */
export type TaskSeedStream = keyof typeof TASK_SEED_STREAMS;
