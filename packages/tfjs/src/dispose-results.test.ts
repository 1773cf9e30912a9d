import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { cem, createDcem, createPlanner, dcem, disposeCemResult, disposePlanResult } from './index.js';

// The README's promise: a result is freed by one call, `tf.dispose(result)`
// (tfjs walks the object) or the library's dispose helper, whatever fields
// the result holds.
const objective = (x: tf.Tensor) => tf.sum(tf.square(tf.sub(x, 0.5)), -1);
const options = { dim: 3, numSamples: 16, numElites: 4, numIterations: 3, seed: 7 };

function leakOf(run: () => void): number {
  run(); // warm up kernels and caches
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) run();
  return tf.memory().numTensors - before;
}

describe('results are freed by one call', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('tf.dispose(result) frees every tensor of dcem and cem results', () => {
    expect(leakOf(() => tf.dispose(dcem(objective, options)))).toBe(0);
    expect(leakOf(() => tf.dispose(cem(objective, options)))).toBe(0);
  });

  it('disposeCemResult(result) frees the same', () => {
    expect(leakOf(() => disposeCemResult(dcem(objective, options)))).toBe(0);
  });

  it('freeing only solution, mean and std leaks the rest (why the one call matters)', () => {
    const leak = leakOf(() => {
      const r = dcem(objective, options);
      tf.dispose([r.solution, r.mean, r.std]);
    });
    expect(leak).toBe(3 * 5); // best (2) and elites (3) per call
  });

  it('tf.dispose frees an ask/tell result and a plan step', () => {
    expect(
      leakOf(() => {
        const solver = createDcem(options);
        let state = solver.init();
        while (!solver.done(state)) {
          const samples = solver.ask(state);
          const values = tf.tidy(() => objective(samples));
          const next = solver.tell(state, samples, values);
          tf.dispose([samples, values]);
          solver.release(state);
          state = next;
        }
        tf.dispose(solver.result(state));
        solver.dispose();
      }),
    ).toBe(0);
    const cost = (u: tf.Tensor) => tf.sum(tf.square(tf.sub(u, 0.25)), [-2, -1]);
    const planner = createPlanner({
      horizon: 3,
      actionDim: 1,
      seed: 3,
      solver: { numSamples: 16, numElites: 4 },
    });
    expect(leakOf(() => tf.dispose(planner.plan(cost)))).toBe(0);
    expect(leakOf(() => disposePlanResult(planner.plan(cost)))).toBe(0);
    planner.dispose();
  });
});
