/**
 * `@dcem/tasks/planet`: PlaNet's recurrent state-space model (RSSM) on the
 * observation vectors of the MuJoCo tasks of `@dcem/mujoco`, trained online
 * with planning inside it (Hafner et al. 2019; the DCEM paper's §5.2.2,
 * steps 1 and 2): the model, its ELBO and Adam, a replay buffer of episodes,
 * planning in the model with the core planner or DCEM over a learned latent
 * action space (with the decoder trained online), the online loop
 * (`runPlanet`) and its checkpoints, PPO fine-tuning (`runPlanetPpo`) and the
 * planners' comparison at one checkpoint (`runPlanetComparison`). A separate entry point, so users of the
 * rest of `@dcem/tasks` never load MuJoCo or the model.
 *
 * @module
 */

export type { ActionDecoder } from '../control/latent-decoder.js';
export type { ControlCost } from '../control/planner.js';
export type { Adam, AdamOptions, AdamState } from './adam.js';
export { createAdam, PLANET_ADAM } from './adam.js';
export type {
  PlanetCheckpoint,
  PlanetCounters,
  PlanetEpisodeRecord,
} from './checkpoint.js';
export {
  loadPlanetCheckpoint,
  PLANET_CHECKPOINT_VERSION,
  PLANET_LATEST_FILE,
  savePlanetCheckpoint,
} from './checkpoint.js';
export type {
  BootstrapInterval,
  BootstrapOptions,
  PlanetCompareBudget,
  PlanetComparePlanner,
  PlanetComparisonCallbacks,
  PlanetComparisonResult,
  PlanetComparisonRow,
  PlanetComparisonSettings,
  PlanetComparisonSources,
  PlanetEvalEpisodeParams,
  PlanetEvalRecord,
  ResolvedPlanetComparisonSettings,
} from './compare.js';
export {
  assemblePlanetComparison,
  bootstrapInterval,
  median,
  PLANET_COMPARE_BUDGETS,
  PLANET_COMPARE_PLANNERS,
  PLANET_EVAL_EPISODE_JOB,
  planetComparisonJobs,
  quantile,
  resolvePlanetComparison,
  runPlanetComparison,
  runPlanetEvalEpisode,
} from './compare.js';
export type { PlanetEpisodeRows, PlanetModelError, PlanetModelErrorOptions } from './diagnose.js';
export { planetModelError } from './diagnose.js';
export type { ElboOptions, ElboTerms, SequenceBatch } from './elbo.js';
export { elbo, PLANET_FREE_NATS } from './elbo.js';
export type { DiagGaussian } from './gaussian.js';
export { imagineReturns } from './imagine.js';
export type { PlanetJobEpisode, PlanetRunJobResult, PlanetStudyGrid } from './job.js';
export { PLANET_RUN_JOB, planetStudyJobs } from './job.js';
export type { PlanetDecoderStepOptions, PlanetDecoderStepResult } from './latent.js';
export {
  createPlanetDecoder,
  planetDecoderStep,
  planetLatentCost,
  replayPosteriorStates,
} from './latent.js';
export type { PlanetAgent, PlanetAgentOptions } from './plan-in-model.js';
export { createPlanetAgent } from './plan-in-model.js';
export type {
  GaeEpisode,
  GaeOptions,
  GaeResult,
  PpoBatch,
  PpoForward,
  PpoLearner,
  PpoLearnerOptions,
  PpoLossInputs,
  PpoLossOptions,
  PpoLossTerms,
  PpoOptions,
  PpoSample,
  PpoState,
  PpoUpdateStats,
  ResolvedPpoOptions,
} from './ppo.js';
export {
  computeGae,
  createPpoLearner,
  gaussianEntropy,
  gaussianLogProb,
  PPO_DEFAULTS,
  ppoLoss,
  resolvePpoOptions,
} from './ppo.js';
export type {
  PlanetPpoCallbacks,
  PlanetPpoCheckpoint,
  PlanetPpoCounters,
  PlanetPpoRecord,
  PlanetPpoRunOptions,
  PlanetPpoRunResult,
  PlanetPpoSettings,
  PlanetPpoStepInfo,
  ResolvedPlanetPpoSettings,
} from './ppo-planet.js';
export {
  loadPlanetPpoCheckpoint,
  PLANET_PPO_CHECKPOINT_VERSION,
  PLANET_PPO_DEFAULTS,
  PLANET_PPO_LATEST_FILE,
  resolvePlanetPpoSettings,
  runPlanetPpo,
  savePlanetPpoCheckpoint,
} from './ppo-planet.js';
export type { PlanetEpisodeData, ReplayState, SequenceBatchData } from './replay.js';
export { ReplayBuffer, sequenceBatchTensors } from './replay.js';
export type { Rssm, RssmImagineResult, RssmObserveResult, RssmSizes, RssmState } from './rssm.js';
export { createRssm, PLANET_RSSM_SIZES } from './rssm.js';
export type {
  PlanetCallbacks,
  PlanetRunOptions,
  PlanetRunResult,
  PlanetStepInfo,
  PlanetUpdateInfo,
} from './run.js';
export { runPlanet } from './run.js';
export type {
  LatentMode,
  PlanetLatentSettings,
  PlanetModelSizes,
  PlanetPlannerConfig,
  PlanetPlannerName,
  PlanetSettings,
  ResolvedPlanetSettings,
} from './settings.js';
export {
  PLANET_DEFAULTS,
  PLANET_LATENT_DEFAULTS,
  PLANET_PLANNERS,
  planetPlannerConfig,
  resolvePlanetSettings,
} from './settings.js';
export type { TrainStepOptions, TrainStepResult } from './train-step.js';
export { PLANET_CLIP_NORM, trainStep } from './train-step.js';
