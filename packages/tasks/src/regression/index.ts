// Energy-based structured prediction: the regression study of the DCEM paper (§5.1).
export {
  DCEM_INFERENCE_DEFAULTS,
  type DcemInferenceOptions,
  dcemInference,
  type ResolvedDcemInferenceOptions,
  resolveDcemInferenceOptions,
} from './dcem-inference.js';
export {
  type BoundEnergy,
  createEnergyMlp,
  ENERGY_MLP_DEFAULTS,
  type EnergyAndGradient,
  type EnergyMlp,
  type EnergyMlpOptions,
  energyMlpShapes,
  type NamedWeight,
} from './energy-mlp.js';
export { type EnergySurface, type EnergySurfaceOptions, energySurface } from './energy-surface.js';
export {
  type InnerIterationAblationOptions,
  type InnerIterationAblationPoint,
  innerIterationAblation,
} from './inner-iteration-ablation.js';
export type { PlateauState } from './plateau-scheduler.js';
export {
  type AdamState,
  parseRegressionCheckpoint,
  REGRESSION_CHECKPOINT_FORMAT,
  REGRESSION_CHECKPOINT_VERSION,
  type RegressionCheckpoint,
  type RegressionEvaluation,
  type RegressionTrainingState,
} from './regression-checkpoint.js';
export { type RegressionData, regressionData, regressionTarget } from './regression-data.js';
export {
  checkRegressionModel,
  type PredictWithEnergyOptions,
  predictWithEnergy,
  REGRESSION_MODELS,
  type RegressionModelName,
} from './regression-model.js';
export {
  createRegressionTrainer,
  type RegressionEvaluateOptions,
  type RegressionResumeOverrides,
  type RegressionTrainCallbacks,
  type RegressionTrainer,
  type RegressionUpdate,
  restoreRegressionTrainer,
} from './regression-trainer.js';
export {
  REGRESSION_TRAINING_DEFAULTS,
  type RegressionTrainingOptions,
  type ResolvedRegressionTrainingOptions,
  resolveRegressionTrainingOptions,
} from './regression-training-options.js';
export {
  type ResolvedUnrolledGdOptions,
  resolveUnrolledGdOptions,
  UNROLLED_GD_DEFAULTS,
  type UnrolledGdOptions,
  unrolledGdInference,
} from './unrolled-gd.js';
