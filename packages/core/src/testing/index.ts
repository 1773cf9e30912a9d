/**
 * `@dcem/core/testing`: what backend authors and tests need: the conformance
 * cases every `Backend` must pass and a forward-only float64 reference
 * backend over plain typed arrays (CEM without tfjs, and a float64 oracle).
 *
 * @packageDocumentation
 */

/**
 * The generic best-sample update of a solver iteration (the composition of
 * backend operations that a backend's `fusedBest` replaces): for parity
 * tests of a fused fast path against it.
 */
export { updateBest } from '../solver.js';
export {
  backendConformanceCases,
  type ConformanceCase,
  type ConformanceContext,
  ConformanceError,
} from './conformance.js';
export { createFloat64Backend, Float64Tensor } from './float64-backend.js';
