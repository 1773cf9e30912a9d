// The minimal snippets of docs/jax-js-issues.md, in plain jax-js. Each is
// `it.fails`: it fails while jax-js 0.1.25 has the problem (so the suite
// passes) and passes once jax-js fixes it, which `it.fails` reports: then
// drop the work-around (or the blocked mark) and the `.fails`.
import { grad, lax, nn, numpy as np } from '@jax-js/jax';
import { beforeAll, describe, expect, it } from 'vitest';
import { liveBuffers, startCounting } from './buffers.test-utils.js';

beforeAll(async () => {
  await startCounting();
});

/** Buffers left by a third call of `work` (the first two warm caches up). */
function leakOf(work: () => void): number {
  work();
  work();
  const before = liveBuffers();
  work();
  return liveBuffers() - before;
}

describe('jax-js 0.1.25 issues (docs/jax-js-issues.md)', () => {
  it('the buffer count sees a leak and a release', () => {
    const before = liveBuffers();
    const x = np.array([1, 2, 3]);
    const y = np.add(x.ref, x.ref);
    y.dataSync();
    expect(liveBuffers()).toBeGreaterThan(before);
    x.dispose();
    expect(liveBuffers()).toBe(before);
  });

  it('a plain gradient frees its buffers (the counting works under grad)', () => {
    const x = np.array([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(leakOf(() => grad((t: np.Array) => np.sum(np.exp(np.multiply(t, 2))))(x.ref).dispose())).toBe(0);
    x.dispose();
  });

  it.fails('1 (blocking): grad(t ↦ Σ stopGradient(t)·c) frees its buffers', () => {
    const x = np.array([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const c = np.array([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const leak = leakOf(() =>
      grad((t: np.Array) => np.sum(np.multiply(lax.stopGradient(t), c.ref)))(x.ref).dispose(),
    );
    x.dispose();
    c.dispose();
    expect(leak).toBe(0);
  });

  it.fails('2: grad(t ↦ Σ 1/exp(t)) frees its buffers (reciprocal’s JVP)', () => {
    const x = np.array([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const leak = leakOf(() => grad((t: np.Array) => np.sum(np.reciprocal(np.exp(t))))(x.ref).dispose());
    x.dispose();
    expect(leak).toBe(0);
  });

  it.fails('3: nn.sigmoid has a finite derivative at −100', () => {
    const g = grad((t: np.Array) => np.sum(nn.sigmoid(t)))(np.array([-100, 0, 100]));
    expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
  });

  it.fails('5: np.array of an empty typed array', () => {
    const empty = np.array(new Float32Array(0), { shape: [0, 3] });
    expect(empty.shape).toEqual([0, 3]);
    empty.dispose();
  });
});
