/**
 * `@dcem/core/testing`: what backend authors and tests need: the conformance
 * cases every `Backend` must pass and a forward-only float64 reference
 * backend over plain typed arrays (CEM without tfjs, and a float64 oracle).
 *
 * @packageDocumentation
 */

export {
  backendConformanceCases,
  type ConformanceCase,
  type ConformanceContext,
  ConformanceError,
} from './conformance.js';
export { createFloat64Backend, type Float64Backend, Float64Tensor } from './float64-backend.js';
