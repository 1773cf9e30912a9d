// The backend-agnostic conformance cases of @dcem/core/testing, run against
// createTfjsBackend on the tfjs cpu and wasm backends (and, in the webgpu
// run, on webgpu: see test-backend.test-utils.ts).
import type { Backend } from '@dcem/core';
import { backendConformanceCases, ConformanceError } from '@dcem/core/testing';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTfjsBackend, type Tensor } from './backend.js';
import { activateBackend, TEST_BACKENDS } from './test-backend.test-utils.js';

const backend = createTfjsBackend(tf);

// The cases compare float32 results with values computed in float64. Their
// inputs are small integers and halves (exact in float32), their results
// have magnitude ≤ 240 (exact sums and products) or are transcendental
// values of magnitude ≤ e² ≈ 7.4, which float32 rounds to within
// 1 ulp ≈ 7.4 · 2⁻²³ ≈ 9e-7 (the kernels are accurate to a few ulp).
// 1e-5 is ~10× that and ~10⁴× smaller than the smallest difference a wrong
// operation, axis or broadcast produces (≥ 0.25 in every case).
const TOLERANCE = 1e-5;

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

    for (const c of backendConformanceCases) {
      it(c.name, () => {
        const before = tf.memory().numTensors;
        tf.tidy(() => c.run(backend, { tolerance: TOLERANCE }));
        // Every case's tensors are released by the surrounding tidy.
        expect(tf.memory().numTensors).toBe(before);
      });
    }

    it('the cases catch a broken backend', () => {
      const broken: Backend<Tensor> = { ...backend, sub: backend.add };
      const sub = backendConformanceCases.find((c) => c.name.startsWith('sub '));
      expect(sub).toBeDefined();
      expect(() => tf.tidy(() => sub?.run(broken, { tolerance: TOLERANCE }))).toThrow(ConformanceError);
      const slightlyOff: Backend<Tensor> = { ...backend, exp: (x) => tf.mul(tf.exp(x), 1 + 1e-4) };
      const exp = backendConformanceCases.find((c) => c.name.startsWith('exp '));
      expect(() => tf.tidy(() => exp?.run(slightlyOff, { tolerance: TOLERANCE }))).toThrow(ConformanceError);
    });
  });
}
