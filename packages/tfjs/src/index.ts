/**
 * `@dcem/tfjs`: the differentiable cross-entropy method (DCEM) and the LML
 * soft top-k on TensorFlow.js tensors, plus backend selection
 * (tfjs-node-gpu → webgpu → tfjs-node → wasm → cpu), and a matrix product / dense
 * layer with a backward pass that is fast on the wasm backend.
 *
 * @packageDocumentation
 */

export type {
  AsyncObjective,
  AsyncPlanCost,
  Backend,
  CemBest,
  CemElites,
  CemOptions,
  CemPreset,
  CemResult,
  CemSolver,
  CemStart,
  CemState,
  IterationInfo,
  LmlOptions,
  Objective,
  PlanCost,
  Planner,
  PlannerAction,
  PlannerOptions,
  PlannerSolverOptions,
  PlanResult,
  PlanValues,
  PresetName,
  SelectorFunction,
  SelectorName,
  ShiftFill,
} from '@dcem/core';
export { deriveSeed, presets, SEED_STREAMS, type SeedStream } from '@dcem/core';
export type { SparseTopKOptions } from '@dcem/lml';
export {
  cem,
  cemAsync,
  createCem,
  createDcem,
  type DcemOptions,
  type DcemResult,
  dcem,
  dcemAsync,
  disposeCemResult,
  lml,
  lmlWithDiagnostics,
  sparseTopK,
  tfjsBackend,
} from './api.js';
export { createTfjsBackend, type Tensor, type Tf, type TfjsBackendOptions } from './backend.js';
export {
  type GruCellStep,
  type GruCellStepGrads,
  type GruCellSteps,
  gruCell,
  gruCellSteps,
} from './matmul/gru.js';
export { type DenseOptions, dense, type MatMulOptions, matMul, type Tensor2D } from './matmul/matmul.js';
export { stack, unstack } from './matmul/unstack.js';
export { createPlanner, disposePlanResult, plan } from './planner.js';
export {
  BACKEND_ORDER,
  type BackendAttempt,
  type BackendName,
  type BackendSelection,
  BackendUnavailableError,
  type ReadMode,
  selectBackend,
  useBackend,
} from './select/select-backend.js';
export { WebGpuDeviceLostError, WebGpuError, webGpuDeviceLost } from './select/webgpu.js';
export {
  closeMatMulThreads,
  closeThreads,
  matMulThreads,
  setMatMulThreads,
  setThreads,
  threads,
} from './threads/controls.js';
