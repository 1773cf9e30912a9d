/**
 * `@dcem/lml`: the Limited Multi-Label projection (soft top-k) with an
 * implicit gradient, over any tensor library that implements {@link LmlOps}.
 *
 * @packageDocumentation
 */

export {
  LML_DEFAULTS,
  LML_DEGENERATE_FILL,
  type LmlDiagnostics,
  type LmlOptions,
  lml,
  lmlWithDiagnostics,
} from './lml.js';
export type { LmlFusedOps, LmlOps } from './lml-ops.js';
export { type DualSolution, type DualSolveSettings, dualBracket, solveDual } from './solve-dual.js';
export { SPARSE_TOP_K_DEFAULTS, type SparseTopKOptions, sparseTopK } from './sparse-top-k.js';
