/**
 * `@dcem/core`: the cross-entropy method (CEM) and its differentiable
 * variant (DCEM) over a small, autodiff-agnostic {@link Backend} interface.
 *
 * @packageDocumentation
 */

export {
  LML_DEFAULTS,
  LML_DEGENERATE_FILL,
  type LmlDiagnostics,
  type LmlFusedOps,
  type LmlOps,
  type LmlOptions,
  lml,
  lmlWithDiagnostics,
  SPARSE_TOP_K_DEFAULTS,
  type SparseTopKOptions,
  sparseTopK,
} from '@dcem/lml';
export type { Backend, BackendFusedOps } from './backend.js';
export { type AsyncObjective, cem, cemAsync, dcem, dcemAsync, type Objective } from './cem.js';
export { colouredNoise } from './coloured-noise.js';
export {
  type BackendPrimitives,
  completeBackend,
  DERIVED_METHODS,
  type DerivedMethod,
} from './complete-backend.js';
export { fitDiagonalGaussian, fitMean, fitStd, sampleDiagonalGaussian } from './gaussian.js';
export {
  CEM_DEFAULTS,
  CEM_OPTION_NAMES,
  type CemOptions,
  type IterationInfo,
  type ResolvedCemOptions,
} from './options.js';
export {
  type AsyncPlanCost,
  createPlanner,
  disposePlanResult,
  type PlanCost,
  type Planner,
  type PlanResult,
  plan,
} from './planner.js';
export {
  PLANNER_DEFAULTS,
  PLANNER_OWNED_SOLVER_OPTIONS,
  type PlannerAction,
  type PlannerOptions,
  type PlannerSolverOptions,
  type PlanValues,
  type ResolvedPlannerOptions,
  type ShiftFill,
} from './planner-options.js';
export { shiftControls } from './planner-shift.js';
export { type CemPreset, PRESET_NAMES, type PresetName, presets } from './presets.js';
export { deriveSeed, SEED_STREAMS, type SeedStream } from './seed.js';
export { SELECTOR_NAMES, type SelectorFunction, type SelectorName } from './selector-names.js';
export {
  eliteSoftmaxWeights,
  hardTopK,
  lmlWeights,
  type ScoreOptions,
  type Scores,
  scaledSoftmaxWeights,
  selectWeights,
  softmaxWeights,
  sparseWeights,
  valuesToScores,
} from './selectors.js';
export {
  type CemBest,
  type CemElites,
  type CemResult,
  type CemSolver,
  type CemStart,
  type CemState,
  createCem,
  createDcem,
  disposeCemResult,
} from './solver.js';
