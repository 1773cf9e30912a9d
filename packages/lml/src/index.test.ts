import { describe, expect, it } from 'vitest';
import * as lmlPackage from './index.js';

// The projections' numerical tests need a tensor backend, so they live in
// @dcem/core (src/lml.test.ts, src/sparse-top-k.test.ts) over its float64
// reference backend, and in @dcem/tfjs against the golden data. Here: the
// package exports soft top-k and nothing else (argument checks live in
// @dcem/errors).
describe('@dcem/lml public surface', () => {
  it('exports the soft top-k projections and their settings only', () => {
    expect(Object.keys(lmlPackage).sort()).toEqual([
      'LML_DEFAULTS',
      'LML_DEGENERATE_FILL',
      'SPARSE_TOP_K_DEFAULTS',
      'dualBracket',
      'lml',
      'lmlWithDiagnostics',
      'solveDual',
      'sparseTopK',
    ]);
  });
});
