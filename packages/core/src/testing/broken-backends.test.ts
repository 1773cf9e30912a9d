// The conformance cases catch bad backends: each broken backend below fails
// the cases that cover what it breaks (and only the gradient or parity
// cases where its values are right), while the good backends pass them all.
import { describe, expect, it } from 'vitest';
import type { Backend } from '../backend.js';
import { type BackendPrimitives, completeBackend, DERIVED_METHODS } from '../complete-backend.js';
import { fitDiagonalGaussian } from '../gaussian.js';
import { backendConformanceCases, type ConformanceCase, ConformanceError } from './conformance.js';
import { createFloat64Backend, type Float64Tensor } from './float64-backend.js';

const good = createFloat64Backend();
const context = { tolerance: 1e-9, grad: good.grad };

/** The cases whose name starts with `prefix`, of the given kind (at least one). */
function cases(kind: ConformanceCase['kind'], prefix: string): ConformanceCase[] {
  const found = backendConformanceCases.filter((c) => c.kind === kind && c.name.startsWith(prefix));
  expect(found.length).toBeGreaterThan(0);
  return found;
}

/** The names of the cases `backend` fails (the asynchronous ones awaited). */
async function failures(backend: Backend<Float64Tensor>): Promise<string[]> {
  const failed: string[] = [];
  for (const c of backendConformanceCases) {
    try {
      await c.run(backend, context);
    } catch (error) {
      expect(error).toBeInstanceOf(ConformanceError);
      failed.push(`${c.kind}: ${c.name}`);
    }
  }
  return failed;
}

/** An asynchronous read that resolves with the entries in column-major order. */
const transposedRead: Backend<Float64Tensor> = {
  ...good,
  read: async (x) => {
    const [rows = 1, cols = x.data.length] = x.shape.length === 2 ? x.shape : [1, x.data.length];
    return Float64Array.from(
      { length: x.data.length },
      (_, i) => x.data[(i % rows) * cols + Math.floor(i / rows)] as number,
    );
  },
};

/** A read that returns the entries themselves, not a Promise of them. */
const syncRead = { ...good, read: (x: Float64Tensor) => x.data } as unknown as Backend<Float64Tensor>;

/** `exp` whose values are right but whose gradient is 1.001 e^x. */
const wrongExpGradient: Backend<Float64Tensor> = {
  ...good,
  exp: good.customGrad((x, save) => {
    const value = good.exp(x);
    save([value]);
    return {
      value,
      gradient: (dy, saved) => good.mul(dy, good.mul(saved[0] as Float64Tensor, good.scalar(1.001))),
    };
  }),
};

/** A fused refit that divides by Σw instead of k (the generic refit divides by k). */
const fitBySumOfWeights: Backend<Float64Tensor> = {
  ...good,
  fused: {
    fit(samples, weights, k, minStd) {
      const total = good.sum(good.sum(weights, 1, false), 0, false);
      const scale = good.div(good.scalar(k), total);
      const generic = fitDiagonalGaussian(good, samples, weights, k, minStd);
      return { mean: good.mul(generic.mean, good.reshape(scale, [])), std: generic.std };
    },
  },
};

/** A fused refit with the right values whose σ passes no gradient to the weights. */
const fitWithoutWeightGradient: Backend<Float64Tensor> = {
  ...good,
  fused: {
    fit: (samples, weights, k, minStd) => {
      const { mean } = fitDiagonalGaussian(good, samples, weights, k, minStd);
      const { std } = fitDiagonalGaussian(good, samples, good.stopGradient(weights), k, minStd);
      return { mean, std };
    },
  },
};

/** A fused refit equal to the generic one: not a broken backend, the control. */
const fitGeneric: Backend<Float64Tensor> = {
  ...good,
  fused: { fit: (samples, weights, k, minStd) => fitDiagonalGaussian(good, samples, weights, k, minStd) },
};

const primitives = (() => {
  const out: Record<string, unknown> = { ...good };
  for (const name of DERIVED_METHODS) delete out[name];
  return out as unknown as BackendPrimitives<Float64Tensor>;
})();

describe('the conformance cases catch broken backends', () => {
  it('the good backends pass every case', async () => {
    expect(await failures(good)).toEqual([]);
    expect(await failures(fitGeneric)).toEqual([]);
    expect(await failures(completeBackend(primitives))).toEqual([]);
  });

  it('an asynchronous read in the wrong order, or one that is not asynchronous, fails the read case only', async () => {
    const read =
      'value: read resolves with the entries of readSync, in row-major order (NaN and ±∞ included)';
    expect(await failures(transposedRead)).toEqual([read]);
    expect(await failures(syncRead)).toEqual([read]);
  });

  it('a wrong gradient of exp: the exp gradient case fails, the exp value case passes', async () => {
    for (const c of cases('gradient', 'exp ')) {
      expect(() => c.run(wrongExpGradient, context)).toThrow(ConformanceError);
    }
    for (const c of cases('value', 'exp ')) c.run(wrongExpGradient, context);
    expect(await failures(wrongExpGradient)).toContain('gradient: exp gradient is element-wise');
  });

  it('a fused fit that differs from the generic refit fails the fit parity case', async () => {
    const [fit] = cases('parity', 'fused.fit ');
    expect(() => fit?.run(fitBySumOfWeights, context)).toThrow(ConformanceError);
    expect(() => fit?.run(fitBySumOfWeights, context)).toThrow(/refit with minStd .*: mean/);
    expect(await failures(fitBySumOfWeights)).toEqual([`parity: ${fit?.name}`]);
  });

  it('a fused fit with the right values but a missing gradient fails the fit parity case on its gradient', () => {
    const [fit] = cases('parity', 'fused.fit ');
    expect(() => fit?.run(fitWithoutWeightGradient, context)).toThrow(
      /gradient of the refit .* in the weights/,
    );
  });

  it('a derived method overridden wrongly fails: a square with no gradient through one factor', () => {
    // The derived stopGradient would do as well; the float64 one keeps the override the only change.
    const broken = completeBackend({
      ...primitives,
      stopGradient: good.stopGradient,
      square: (x) => good.mul(good.stopGradient(x), x),
    });
    for (const c of cases('value', 'square ')) c.run(broken, context);
    for (const c of cases('gradient', 'square ')) {
      expect(() => c.run(broken, context)).toThrow(ConformanceError);
    }
  });

  it('a derived method overridden wrongly fails: minimum that returns the maximum', async () => {
    const broken = completeBackend({ ...primitives, minimum: good.maximum });
    const found = await failures(broken);
    expect(found).toContain('value: minimum broadcasts like NumPy');
    expect(found).toContain('gradient: minimum gradient sums over broadcast axes');
  });

  it('a matMul off by 0.1% fails its cases; one that passes no gradient to a fails the gradient case only', async () => {
    const valueCase =
      'value: matMul multiplies the last two axes, broadcasting the batch axes; NaN stays in its row';
    const gradientCase = 'gradient: matMul gradients are dy·bᵀ and aᵀ·dy, summed over broadcast batch axes';
    const scaled = completeBackend({
      ...primitives,
      matMul: (a, x) => good.mul(good.matMul(a, x), good.scalar(1.001)),
    });
    expect(await failures(scaled)).toEqual(expect.arrayContaining([valueCase, gradientCase]));
    const noGradientToA = completeBackend({
      ...primitives,
      matMul: (a, x) => good.matMul(good.stopGradient(a), x),
    });
    const found = await failures(noGradientToA);
    expect(found).not.toContain(valueCase);
    expect(found).toContain(gradientCase);
  });

  it('gradient cases without a grad throw a ConformanceError saying what they need', () => {
    const [c] = cases('gradient', 'exp ');
    expect(() => c?.run(good, { tolerance: 1e-9 })).toThrow(/needs context\.grad/);
  });
});
