/**
 * `@dcem/tfjs`: the differentiable cross-entropy method (DCEM) and the LML
 * soft top-k on TensorFlow.js tensors, plus backend selection
 * (tfjs-node-gpu → tfjs-node → wasm → cpu), and a matrix product / dense
 * layer with a backward pass that is fast on the wasm backend.
 *
 * @packageDocumentation
 */

export type { Backend, CemOptions, CemResult, IterationInfo, LmlOptions, Objective } from '@dcem/core';
export {
  cem,
  createCem,
  type DcemOptions,
  type DcemResult,
  dcem,
  lml,
  lmlWithDiagnostics,
  tfjsBackend,
} from './api.js';
export { createTfjsBackend, type Tensor, type Tf, type TfjsBackendOptions } from './backend.js';
export { type DenseOptions, dense, matMul } from './matmul.js';
export {
  BACKEND_ORDER,
  type BackendAttempt,
  type BackendName,
  type BackendSelection,
  selectBackend,
  useBackend,
} from './select-backend.js';
export { closeMatMulThreads, matMulThreads, setMatMulThreads } from './threads.js';
