import { backendConformanceCases } from '@dcem/core/testing';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTfjsBackend } from './backend.js';

const backend = createTfjsBackend(tf);
const TOLERANCE = 1e-5;

for (const name of ['cpu', 'wasm'] as const) {
  describe(`tfjs ${name} backend conformance`, () => {
    beforeAll(async () => {
      expect(await tf.setBackend(name)).toBe(true);
      await tf.ready();
    });
    afterAll(async () => {
      await tf.setBackend('cpu');
    });
    for (const c of backendConformanceCases) {
      it(c.name, () => {
        tf.tidy(() => c.run(backend, { tolerance: TOLERANCE }));
      });
    }
  });
}
