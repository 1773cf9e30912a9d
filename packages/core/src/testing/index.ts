/**
 * `@dcem/core/testing`: what backend authors and tests need: the conformance
 * cases every `Backend` must pass (values, gradients, fused-against-generic
 * parity) and a float64 reference backend over plain typed arrays with its
 * own reverse-mode `grad` (CEM without tfjs, and a float64 oracle for values
 * and gradients); and the repository's golden data with its comparison
 * helpers, for the golden tests of every backend.
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
  type ConformanceKind,
} from './conformance.js';
export { createFloat64Backend, type Float64Backend, Float64Tensor } from './float64-backend.js';
export {
  EPS32,
  flat,
  type GoldenDcemCase,
  type GoldenFile,
  type GoldenLmlCase,
  loadGolden,
  maxAbs,
  maxDiff,
} from './golden.js';
export {
  checkGoldenDcemCase,
  GOLDEN_DCEM_TOL_GRAD_REL,
  GOLDEN_DCEM_TOL_ITERATE,
  type GoldenDcemContext,
} from './golden-dcem.js';
