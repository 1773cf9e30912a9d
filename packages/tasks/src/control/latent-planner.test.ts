import { cem, disposeCemResult } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleCartpoleStates } from './cartpole.js';
import { maxAbs, maxAbsDiff } from './dynamics-f64.test-utils.js';
import { costFor, small } from './latent.test-utils.js';
import { disposeLatentPlanResult, LATENT_SOLVER_DEFAULTS, planLatent } from './latent-planner.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('planLatent', () => {
  it('plans ẑ ∈ [−1, 1]^d per initial state; temperature null is vanilla CEM; τ > 0 passes gradients to the decoder', () => {
    const decoder = small(3);
    const x0 = sampleCartpoleStates(4, 2);
    const r = planLatent(decoder, costFor(x0), 4, { solver: { seed: 1 } });
    expect(r.latent.shape).toEqual([4, 2]);
    expect(r.controls.shape).toEqual([4, 20, 1]);
    expect(r.cost.shape).toEqual([4]);
    expect(maxAbs(r.latent.dataSync())).toBeLessThanOrEqual(1);
    const direct = tf.tidy(() => costFor(x0)(tf.expandDims(decoder.decode(r.latent), 1)).dataSync());
    expect(maxAbsDiff(direct, r.cost.dataSync())).toBeLessThan(1e-5);
    // null is vanilla CEM: the same plan as cem over z with the same seed, bounds and settings.
    const vanilla = planLatent(decoder, costFor(x0), 4, { solver: { seed: 1, temperature: null } });
    const reference = cem((z) => costFor(x0)(decoder.decode(z)), {
      ...LATENT_SOLVER_DEFAULTS,
      temperature: null,
      dim: 2,
      batchSize: 4,
      lowerBound: -1,
      upperBound: 1,
      initMean: 0,
      seed: 1,
    });
    expect(maxAbsDiff(reference.solution.dataSync(), vanilla.latent.dataSync())).toBe(0);
    expect(maxAbsDiff(r.latent.dataSync(), vanilla.latent.dataSync())).toBeGreaterThan(0);
    disposeCemResult(reference);
    const { value, grads } = tf.variableGrads(
      () => tf.mean(planLatent(decoder, costFor(x0), 4, { solver: { seed: 1 } }).cost) as tf.Scalar,
      decoder.variables,
    );
    expect(maxAbs((grads[decoder.variables[0]?.name ?? ''] as tf.Tensor).dataSync())).toBeGreaterThan(0);
    tf.dispose([x0, value, ...Object.values(grads)]);
    for (const p of [r, vanilla]) disposeLatentPlanResult(p);
    expect(() => planLatent(decoder, costFor(x0), 0)).toThrow(/batchSize must be an integer ≥ 1/);
    decoder.dispose();
  });

  it('rejects τ = 0 saying what to write, and options outside `solver`', () => {
    const decoder = small(3);
    const x0 = sampleCartpoleStates(4, 2);
    const before = tf.memory().numTensors;
    expect(() => planLatent(decoder, costFor(x0), 4, { solver: { temperature: 0 } })).toThrow(
      new RangeError(
        'solver.temperature must be > 0 or null, received 0; for vanilla CEM (no temperature) write null',
      ),
    );
    expect(() => planLatent(decoder, costFor(x0), 4, { solver: { temperature: -1 } })).toThrow(
      new RangeError('solver.temperature must be > 0 or null (vanilla CEM), received -1'),
    );
    expect(() => planLatent(decoder, costFor(x0), 4, { solver: { temperature: Number.NaN } })).toThrow(
      RangeError,
    );
    expect(() => planLatent(decoder, costFor(x0), 4, { temperature: 0.1 } as never)).toThrow(
      new TypeError(
        'unknown option "temperature": the latent planner takes { solver } (write { solver: { temperature: … } } for a solver setting)',
      ),
    );
    expect(() => planLatent(decoder, costFor(x0), 4, { solver: { dim: 3 } as never })).toThrow(
      /solver.dim is set by the latent planner/,
    );
    expect(() => planLatent(decoder, costFor(x0), 4, { solver: 3 as never })).toThrow(
      new TypeError('solver must be an object, received 3'),
    );
    expect(tf.memory().numTensors).toBe(before);
    x0.dispose();
    decoder.dispose();
  });
});

describe('disposeLatentPlanResult', () => {
  it('frees every tensor of a result: repeated plans leak nothing', () => {
    const decoder = small(4);
    const x0 = sampleCartpoleStates(3, 5);
    const solver = { numSamples: 20, numElites: 4, numIterations: 3 };
    disposeLatentPlanResult(planLatent(decoder, costFor(x0), 3, { solver })); // warm up tfjs's caches
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      const r = planLatent(decoder, costFor(x0), 3, { solver: { ...solver, seed: i } });
      expect(tf.memory().numTensors).toBe(before + 3);
      disposeLatentPlanResult(r);
      disposeLatentPlanResult(r); // twice is harmless
    }
    expect(tf.memory().numTensors).toBe(before);
    x0.dispose();
    decoder.dispose();
  });
});
