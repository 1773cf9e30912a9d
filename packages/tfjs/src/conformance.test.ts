// The backend-agnostic conformance cases of @dcem/core/testing (values,
// gradients through tf.grad, fused-against-generic parity), run against
// createTfjsBackend on the tfjs cpu and wasm backends (and, in the webgpu
// run, on webgpu: see test-backend.test-utils.ts), and against the same
// backend rebuilt by completeBackend from its primitives.
import {
  type Backend,
  type BackendPrimitives,
  completeBackend,
  DERIVED_METHODS,
  fitDiagonalGaussian,
} from '@dcem/core';
import { backendConformanceCases, type ConformanceContext, ConformanceError } from '@dcem/core/testing';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTfjsBackend, type Tensor } from './backend.js';
import { activateBackend, TEST_BACKENDS } from './test-backend.test-utils.js';

const backend = createTfjsBackend(tf);

/** The tfjs backend with every method completeBackend derives removed, then completed again. */
const derived = (() => {
  const primitives: Record<string, unknown> = Object.defineProperties(
    {},
    Object.getOwnPropertyDescriptors(backend),
  );
  for (const name of DERIVED_METHODS) delete primitives[name];
  return completeBackend(primitives as unknown as BackendPrimitives<Tensor>);
})();

// The cases compare float32 results with values computed in float64. Their
// inputs are small integers and halves (exact in float32), their results
// have magnitude ≤ 240 (exact sums and products) or are transcendental
// values of magnitude ≤ e² ≈ 7.4, which float32 rounds to within
// 1 ulp ≈ 7.4 · 2⁻²³ ≈ 9e-7 (the kernels are accurate to a few ulp).
// 1e-5 is ~10× that and ~10⁴× smaller than the smallest difference a wrong
// operation, axis or broadcast produces (≥ 0.25 in every case).
const TOLERANCE = 1e-5;
// Gradients and parity are checked to 1e-5 relative to the magnitude of the
// expected entries: the fused kernels accumulate in float64 and the generic
// ops in float32, a few ulps apart (see fused.test.ts).
const CONTEXT: ConformanceContext<Tensor> = {
  tolerance: TOLERANCE,
  grad: (f, x) => tf.grad(f)(x),
};

for (const name of TEST_BACKENDS) {
  describe(`createTfjsBackend conformance on the tfjs ${name} backend`, () => {
    beforeAll(async () => {
      await activateBackend(name);
    });
    afterAll(async () => {
      await tf.setBackend('cpu');
    });

    it(`runs on ${name}`, () => {
      expect(tf.getBackend()).toBe(name);
      expect(backend.name).toBe(`tfjs-${name}`);
    });

    /** Runs a synchronous case in a tidy. */
    const syncRun = (
      c: (typeof backendConformanceCases)[number] | undefined,
      b: Backend<Tensor>,
      context: ConformanceContext<Tensor>,
    ) =>
      tf.tidy(() => {
        void c?.run(b, context);
      });

    /** Runs a case in a scope that releases its tensors (a tidy cannot wait for the asynchronous ones). */
    const runScoped = async (c: (typeof backendConformanceCases)[number], b: Backend<Tensor>) => {
      tf.engine().startScope();
      try {
        await c.run(b, CONTEXT);
      } finally {
        tf.engine().endScope();
      }
    };

    for (const c of backendConformanceCases) {
      it(`${c.kind}: ${c.name}`, async () => {
        const before = tf.memory().numTensors;
        await runScoped(c, backend);
        // Every case's tensors are released by the surrounding scope.
        expect(tf.memory().numTensors).toBe(before);
      });
    }

    for (const c of backendConformanceCases) {
      if (c.kind === 'parity') continue; // the same fused group as above
      it(`completeBackend, derived methods: ${c.kind}: ${c.name}`, async () => {
        const before = tf.memory().numTensors;
        await runScoped(c, derived);
        expect(tf.memory().numTensors).toBe(before);
      });
    }

    it('the cases catch a broken backend', () => {
      const broken: Backend<Tensor> = { ...backend, sub: backend.add };
      const sub = backendConformanceCases.find((c) => c.name.startsWith('sub '));
      expect(sub).toBeDefined();
      expect(() => syncRun(sub, broken, { tolerance: TOLERANCE })).toThrow(ConformanceError);
      const slightlyOff: Backend<Tensor> = { ...backend, exp: (x) => tf.mul(tf.exp(x), 1 + 1e-4) };
      const exp = backendConformanceCases.find((c) => c.name.startsWith('exp '));
      expect(() => syncRun(exp, slightlyOff, { tolerance: TOLERANCE })).toThrow(ConformanceError);
    });

    it('the gradient cases catch a wrong gradient of exp (right values)', () => {
      const wrongGradient = tf.customGrad((x, save) => {
        const value = tf.exp(x as Tensor);
        (save as (t: Tensor[]) => void)([value]);
        return {
          value,
          gradFunc: (dy: Tensor, saved: Tensor[]) => tf.mul(dy, tf.mul(saved[0] as Tensor, 1.001)),
        };
      }) as (x: Tensor) => Tensor;
      const broken: Backend<Tensor> = { ...backend, exp: wrongGradient };
      const cases = backendConformanceCases.filter((c) => c.name.startsWith('exp '));
      const value = cases.find((c) => c.kind === 'value');
      const gradient = cases.find((c) => c.kind === 'gradient');
      syncRun(value, broken, CONTEXT);
      expect(() => syncRun(gradient, broken, CONTEXT)).toThrow(ConformanceError);
    });

    it('the parity cases catch a fused fit that differs from the generic refit', () => {
      const fit = backendConformanceCases.find((c) => c.kind === 'parity' && c.name.startsWith('fused.fit '));
      expect(fit).toBeDefined();
      // σ' floored at 2·minStd instead of minStd: different only where σ' sits on the floor.
      const broken: Backend<Tensor> = {
        ...backend,
        fused: {
          ...backend.fused,
          fit: (samples, weights, k, minStd) => fitDiagonalGaussian(backend, samples, weights, k, 2 * minStd),
        },
      };
      expect(() => syncRun(fit, broken, CONTEXT)).toThrow(ConformanceError);
      // With no fused fit, the case has nothing to compare and passes.
      syncRun(fit, { ...backend, fused: undefined }, CONTEXT);
    });
  });
}
