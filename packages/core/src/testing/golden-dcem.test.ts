// checkGoldenDcemCase on the float64 reference backend: it passes the
// golden quadratic cases and names what differs when the objective is wrong.
import { describe, expect, it } from 'vitest';
import { ConformanceError } from './conformance.js';
import { createFloat64Backend, type Float64Tensor } from './float64-backend.js';
import { type GoldenDcemCase, loadGolden } from './golden.js';
import { checkGoldenDcemCase } from './golden-dcem.js';

const b = createFloat64Backend();
const { cases } = await loadGolden<GoldenDcemCase>('dcem.json');

/** The quadratic objective ½ Σ q x² + p x, with q scaled by `scale` (1: the golden one). */
const quadratic =
  (scale: number) =>
  (c: GoldenDcemCase, params: Record<string, Float64Tensor>) =>
  (x: Float64Tensor): Float64Tensor => {
    const { n_batch: batch, nx } = c.config;
    const q = b.mul(b.reshape(params.Q_diag as Float64Tensor, [batch, 1, nx]), b.scalar(scale));
    const p = b.reshape(params.p as Float64Tensor, [batch, 1, nx]);
    return b.sum(b.add(b.mul(b.scalar(0.5), b.mul(q, b.square(x))), b.mul(p, x)), -1, false);
  };

const byName = (name: string) => cases.find((c) => c.name === name) as GoldenDcemCase;

describe('checkGoldenDcemCase', () => {
  it.each(['quad_basic', 'quad_vanilla', 'quad_bounds'])('passes %s on the float64 backend', (name) => {
    checkGoldenDcemCase(b, byName(name), { objective: quadratic(1), grad: b.grad });
  });

  it('throws a ConformanceError naming what differs when the objective is wrong', () => {
    const check = () =>
      checkGoldenDcemCase(b, byName('quad_basic'), { objective: quadratic(1.05), grad: b.grad });
    expect(check).toThrow(ConformanceError);
    expect(check).toThrow(/μ after iteration 0: differs by .* from golden\/dcem\.json/);
  });
});
