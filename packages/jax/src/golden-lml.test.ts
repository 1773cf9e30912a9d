// lml over the jax-js backend against golden/lml.json (the reference, float64).
import { lml, lmlWithDiagnostics } from '@dcem/core';
import { EPS32, flat, type GoldenLmlCase, loadGolden, maxAbs, maxDiff } from '@dcem/core/testing';
import { describe, expect, it } from 'vitest';
import { createJaxBackend } from './backend.js';

const b = createJaxBackend();

/** Runs `fn` in a `tidy` of the backend (for blocks that return nothing). */
const scoped = (fn: () => void): void => {
  b.tidy(() => {
    fn();
    return undefined;
  });
};
const { cases } = await loadGolden<GoldenLmlCase>('lml.json');

// The tolerances of @dcem/tfjs's golden LML test (the same float32
// arithmetic): y = σ(x/τ + ν) with the logit rounded to ε₃₂·max|x/τ| and
// σ' ≤ 1/4, plus a floor for the root; the VJP adds 1/τ and the size of the
// upstream gradient.
function tolerances(c: GoldenLmlCase): { y: number; dx: number } {
  const scale = Math.max(1, maxAbs(c.x) / c.tau);
  return {
    y: 1e-6 + (EPS32 * scale) / 2,
    dx: (2e-6 + EPS32 * scale) * Math.max(1, 1 / c.tau) * Math.max(1, maxAbs(c.upstream)),
  };
}

// The generic path (customGrad by transposition, eager operations) costs
// about a second per case here, so it runs on a spread of them: ties, huge
// and tiny inputs, temperatures, n = 2 and n = 1000.
const GENERIC = [
  'n5_k3_ties_b2',
  'n10_k3_huge_spread',
  'n10_k5_b5_tau0.1',
  'n2_k1_b4_tau0.1',
  'n1000_k50_tiny_spread',
];

for (const [label, ops, subset] of [
  ['fused (jit, linear-map gradient)', b, cases],
  [
    'generic (customGrad by transposition)',
    { ...b, fused: undefined },
    cases.filter((c) => GENERIC.includes(c.name)),
  ],
] as const) {
  describe(`lml reproduces golden/lml.json on ${b.name}, ${label}`, () => {
    it('has cases', () => {
      expect(cases.length).toBeGreaterThan(20);
      expect(subset.length).toBeGreaterThanOrEqual(GENERIC.length);
    });
    for (const c of subset) {
      it(`${c.name} (${c.kinds.join(', ')})`, () => {
        const tol = tolerances(c);
        const arrays = b.liveArrays();
        scoped(() => {
          const x = b.tensor(flat(c.x), [c.batch, c.n]);
          const upstream = b.tensor(flat(c.upstream), [c.batch, c.n]);
          const y = lml(ops, x, c.k, { temperature: c.tau });
          const dx = b.grad((t) => b.mul(lml(ops, t, c.k, { temperature: c.tau }), upstream), x);
          expect(b.shape(y)).toEqual([c.batch, c.n]);
          expect(maxDiff(b.readSync(y), flat(c.y))).toBeLessThanOrEqual(tol.y);
          expect(maxDiff(b.readSync(dx), flat(c.dx))).toBeLessThanOrEqual(tol.dx);
          if (ops === b) {
            const diag = lmlWithDiagnostics(ops, x, c.k, { temperature: c.tau });
            expect(diag.converged.every(Boolean)).toBe(true);
            b.dispose(diag.value);
            b.dispose(diag.nu); // kept by lmlWithDiagnostics: the caller owns it
          }
        });
        expect(b.liveArrays()).toBe(arrays);
      });
    }
  });
}
