// Synchronous reads of a solve on TensorFlow.js, counted with spies on
// Tensor.dataSync / arraySync and the engine's readSync (what every
// synchronous read of a tensor goes through; the backend's own readSync is
// also what tfjs's cpu kernels call on their inputs, so it is not a host
// read there and is not counted): none with early stopping off (until the result's
// numbers are read), none at all through dcemAsync, cemAsync and planAsync,
// on every tfjs backend of the test run (cpu and wasm; WebGPU in its run).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cem, cemAsync, dcem, dcemAsync, disposeCemResult } from './api.js';
import { createPlanner, disposePlanResult } from './planner.js';
import { activateBackend, TEST_BACKENDS } from './test-backend.test-utils.js';

/** Counts every synchronous read path of tfjs until `restore`. */
function spyOnReads(): { count: () => number; restore: () => void } {
  let reads = 0;
  const proto = tf.Tensor.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const engine = tf.engine() as unknown as Record<string, (...args: unknown[]) => unknown>;
  const patched: [
    Record<string, (...args: unknown[]) => unknown>,
    string,
    (...args: unknown[]) => unknown,
  ][] = [];
  const wrap = (owner: Record<string, (...args: unknown[]) => unknown>, name: string) => {
    const original = owner[name];
    if (typeof original !== 'function') throw new Error(`no ${name} to spy on`);
    patched.push([owner, name, original]);
    owner[name] = function (this: unknown, ...args: unknown[]) {
      reads++;
      return original.apply(this, args);
    };
  };
  wrap(proto, 'dataSync');
  wrap(proto, 'arraySync');
  wrap(engine, 'readSync');
  return {
    count: () => reads,
    restore: () => {
      for (const [owner, name, original] of patched.reverse()) owner[name] = original;
    },
  };
}

const centre = () => tf.tensor3d([0.5, -1, 2, -0.3, 0.8, 0.1], [2, 1, 3]);
const options = {
  dim: 3,
  batchSize: 2,
  numSamples: 30,
  numElites: 6,
  numIterations: 12,
  seed: 5,
  tolerance: 0.2,
};

for (const name of TEST_BACKENDS) {
  describe(`synchronous reads on ${name}`, () => {
    let c: tf.Tensor;
    const f = (x: tf.Tensor) => tf.sum(tf.square(tf.sub(x, c)), -1);
    beforeAll(async () => {
      await activateBackend(name);
      c = centre();
    });
    afterAll(async () => {
      c.dispose();
      await tf.setBackend('cpu');
    });
    let spy: ReturnType<typeof spyOnReads>;
    beforeEach(() => {
      spy = spyOnReads();
    });
    afterEach(() => {
      spy.restore();
    });

    it('the spies see a read (the test can fail)', () => {
      const x = tf.scalar(1);
      x.dataSync();
      expect(spy.count()).toBeGreaterThan(0);
      x.dispose();
    });

    for (const [solveName, solve] of [
      ['dcem', dcem],
      ['cem', cem],
    ] as const) {
      it(`${solveName} with early stopping off (coloured noise, tensor bounds and σ₀) reads nothing`, () => {
        const before = tf.memory().numTensors;
        const r = solve(f, {
          ...options,
          noiseExponent: 1,
          initStd: tf.fill([2, 3], 0.8),
          lowerBound: tf.fill([3], -3),
          upperBound: tf.fill([3], 3),
        });
        expect(spy.count()).toBe(0);
        spy.restore();
        expect(r.converged).toBe(true);
        expect(r.iterations).toBeLessThan(12);
        disposeCemResult(r);
        expect(tf.memory().numTensors).toBe(before + 3); // the σ₀ and bound tensors given
      });
    }

    for (const [solveName, solve] of [
      ['dcemAsync', dcemAsync],
      ['cemAsync', cemAsync],
    ] as const) {
      for (const earlyStopping of [false, true]) {
        it(`${solveName} (earlyStopping ${earlyStopping}, onIteration) reads nothing synchronously`, async () => {
          const before = tf.memory().numTensors;
          let calls = 0;
          const r = await solve(f, { ...options, earlyStopping, onIteration: () => void calls++ });
          expect(spy.count()).toBe(0);
          spy.restore();
          // Plain values, and the result of the synchronous solve.
          expect(Object.keys(r)).toContain('iterations');
          const s = (earlyStopping ? (solve === dcemAsync ? dcem : cem) : solve === dcemAsync ? dcem : cem)(
            f,
            {
              ...options,
              earlyStopping,
            },
          );
          expect([r.iterations, r.converged, r.nonFiniteValues]).toEqual([s.iterations, s.converged, 0]);
          expect(calls).toBe(r.converged ? r.iterations - 1 : r.iterations);
          expect(Array.from(r.solution.dataSync())).toEqual(Array.from(s.solution.dataSync()));
          disposeCemResult(r);
          disposeCemResult(s);
          expect(tf.memory().numTensors).toBe(before);
        });
      }
    }

    it("planAsync (action 'elite', kept elites, coloured noise) reads nothing synchronously", async () => {
      const before = tf.memory().numTensors;
      const planner = createPlanner({
        horizon: 5,
        actionDim: 2,
        lowerBound: -1,
        upperBound: 1,
        seed: 2,
        action: 'elite',
        solver: {
          numSamples: 20,
          numElites: 4,
          numIterations: 3,
          keepElites: 0.5,
          noiseExponent: 1,
          temperature: 1,
        },
      });
      for (let t = 0; t < 2; t++) {
        const step = await planner.planAsync(async (u) => tf.tidy(() => tf.sum(tf.square(u), [2, 3])));
        expect(step.iterations).toBe(3);
        disposePlanResult(step);
      }
      planner.dispose();
      expect(spy.count()).toBe(0);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
