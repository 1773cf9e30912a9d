import type { GoldenLmlCase } from '@dcem/core/testing';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { lml, lmlWithDiagnostics } from './api.js';
import { EPS32, flat, loadGolden, maxAbs, maxDiff } from './golden.test-utils.js';
import { activateBackend, TEST_BACKEND } from './test-backend.test-utils.js';

type LmlCase = GoldenLmlCase;

const { cases } = await loadGolden<LmlCase>('lml.json');

beforeAll(async () => {
  await activateBackend(TEST_BACKEND);
});

// Tolerances from float32 precision. y = σ(x/τ + ν): the logit x/τ + ν is
// formed in float32 with an absolute error of about ε₃₂·max|x/τ| (the golden
// ν is exact), and σ' ≤ 1/4, so |Δy| ≲ ε₃₂·max|x/τ|/2, plus a small floor for
// the root itself (|Δν| of a few ε₃₂). The VJP adds the factor 1/τ and the
// size of the upstream gradient.
function tolerances(c: LmlCase): { y: number; dx: number } {
  const scale = Math.max(1, maxAbs(c.x) / c.tau);
  const y = 1e-6 + (EPS32 * scale) / 2;
  const dx = (2e-6 + EPS32 * scale) * Math.max(1, 1 / c.tau) * Math.max(1, maxAbs(c.upstream));
  return { y, dx };
}

describe(`lml reproduces golden/lml.json through the tfjs ${TEST_BACKEND} backend`, () => {
  it('has cases', () => {
    expect(cases.length).toBeGreaterThan(20);
  });
  for (const c of cases) {
    it(`${c.name} (${c.kinds.join(', ')})`, () => {
      const tol = tolerances(c);
      const x = tf.tensor2d(c.x);
      const upstream = tf.tensor2d(c.upstream);
      const y = lml(x, c.k, { temperature: c.tau });
      const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(lml(xx, c.k, { temperature: c.tau }), upstream)))(
        x,
      );
      expect(y.shape).toEqual([c.batch, c.n]);
      expect(maxDiff(y.dataSync(), flat(c.y))).toBeLessThanOrEqual(tol.y);
      expect(maxDiff(dx.dataSync(), flat(c.dx))).toBeLessThanOrEqual(tol.dx);
      const diag = lmlWithDiagnostics(x, c.k, { temperature: c.tau });
      expect(diag.converged.every(Boolean)).toBe(true);
      tf.dispose([x, upstream, y, dx, diag.value, diag.nu]);
    });
  }
});
