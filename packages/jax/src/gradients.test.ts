// Gradients through the jax-js backend against central finite differences:
// of LML (fused and generic) and of a whole DCEM solve with respect to the
// objective's parameters. The differences are taken on the float64
// reference backend of @dcem/core/testing running the same computation (the
// same noise), where a step of 1e-5 gives them to ~1e-9; the float32
// gradients of jax-js are checked against them to 1e-3 relative to the
// largest entry (float32 rounding through 30 root-finder steps and three
// refits is ~1e-5 of that; a wrong sign, scale or missing term is O(1)).
import { type Backend, dcem, lml } from '@dcem/core';
import { createFloat64Backend, type Float64Tensor } from '@dcem/core/testing';
import { describe, expect, it } from 'vitest';
import { createJaxBackend } from './backend.js';

const jax = createJaxBackend();
const f64 = createFloat64Backend();

/** Central differences of sum(w ⊙ f(x)) on the float64 backend, entry by entry. */
function finiteDifferences(
  f: (x: Float64Tensor) => Float64Tensor,
  x: number[],
  shape: number[],
  w: number[],
): number[] {
  const h = 1e-5;
  const loss = (v: number[]) => {
    const y = f64.readSync(f(f64.tensor(v, shape)));
    return Array.from(y).reduce((s, e, i) => s + e * (w[i] as number), 0);
  };
  return x.map((_, i) => {
    const up = [...x];
    const down = [...x];
    up[i] = (up[i] as number) + h;
    down[i] = (down[i] as number) - h;
    return (loss(up) - loss(down)) / (2 * h);
  });
}

function expectClose(actual: ArrayLike<number>, expected: number[], what: string): void {
  const scale = Math.max(1e-3, ...expected.map(Math.abs));
  const worst = Math.max(...expected.map((e, i) => Math.abs((actual[i] as number) - e)));
  expect(worst / scale, `${what}: ${Array.from(actual)} vs ${expected}`).toBeLessThan(1e-3);
}

describe('jax-js gradients against finite differences', () => {
  const x = [0.5, -1, 2, 0, 1.5, 0.3, -2, 0.25, 1, -0.5];
  const w = [1, -2, 0.5, 3, -1, 0.25, 2, -0.5, 1.5, -3];

  for (const [label, ops] of [
    ['fused', jax],
    ['generic', { ...jax, fused: undefined }],
  ] as const) {
    it(`lml (k = 2, τ = 0.7), ${label}`, () => {
      const fd = finiteDifferences(
        (t) => lml(f64, t, 2, { temperature: 0.7, maxIterations: 40 }),
        x,
        [2, 5],
        w,
      );
      const g = jax.tidy(() => {
        const weights = jax.tensor(w, [2, 5]);
        return jax.keep(
          jax.grad(
            (t) => jax.mul(weights, lml(ops, t, 2, { temperature: 0.7, maxIterations: 40 })),
            jax.tensor(x, [2, 5]),
          ),
        );
      });
      expectClose(jax.readSync(g), fd, `lml ${label}`);
      jax.dispose(g);
    });
  }

  it('a whole dcem solve: ∇ of sum(w ⊙ solution) with respect to the objective’s target', () => {
    const [batch, dim, samples] = [2, 2, 12];
    const noise = [0, 1, 2].map((t) =>
      Array.from({ length: batch * samples * dim }, (_, i) => Math.sin(1.7 * i + 3.1 * t) * 1.3),
    );
    const solve = <T>(b: Backend<T>, target: T) =>
      dcem(b, (s) => b.sum(b.square(b.sub(s, b.reshape(target, [batch, 1, dim]))), -1, false), {
        dim,
        batchSize: batch,
        numSamples: samples,
        numElites: 4,
        numIterations: 3,
        temperature: 0.5,
        tolerance: 0,
        lmlIterations: 40,
        noise: (t) => b.tensor(noise[t] as number[], [batch, samples, dim]),
      }).solution;
    const target = [0.3, -0.4, 1.2, 0.8];
    const w = [1, -0.5, 2, 0.25];
    const fd = finiteDifferences((t) => solve(f64, t), target, [batch, dim], w);
    const g = jax.tidy(() => {
      const weights = jax.tensor(w, [batch, dim]);
      return jax.keep(jax.grad((t) => jax.mul(weights, solve(jax, t)), jax.tensor(target, [batch, dim])));
    });
    expect(Math.max(...fd.map(Math.abs))).toBeGreaterThan(0.05); // a gradient worth checking
    expectClose(jax.readSync(g), fd, 'dcem');
    jax.dispose(g);
  });
});
