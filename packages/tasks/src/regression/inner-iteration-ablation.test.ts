import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { innerIterationAblation } from './inner-iteration-ablation.js';
import { createRegressionTrainer } from './regression-trainer.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('innerIterationAblation', () => {
  it('evaluates the trained model with each inner-iteration count', () => {
    const gd = createRegressionTrainer({ model: 'gd', hiddenSize: 8 });
    const seen: number[] = [];
    const points = innerIterationAblation(gd, {
      iterations: [1, 10, 20],
      onPoint: (p) => seen.push(p.iterations),
    });
    expect(seen).toEqual([1, 10, 20]);
    expect(points.map((p) => p.iterations)).toEqual([1, 10, 20]);
    for (const p of points) {
      expect(p.mses).toHaveLength(1); // unrolled GD is deterministic: one run
      expect(p.mse).toBe(p.mses[0]);
    }
    expect(points[1]?.mse).toBe(gd.evaluate({ numIterations: 10 }));
    gd.dispose();

    const dcem = createRegressionTrainer({
      model: 'dcem',
      hiddenSize: 8,
      dcem: { numSamples: 20, numElites: 4 },
    });
    const [p] = innerIterationAblation(dcem, { iterations: [2], seeds: 3 });
    expect(p?.mses).toHaveLength(3);
    expect(p?.mse).toBeCloseTo((p?.mses.reduce((a, b) => a + b, 0) ?? 0) / 3, 10);
    expect(p?.mseMin).toBe(Math.min(...(p?.mses ?? [])));
    expect(p?.mseMax).toBe(Math.max(...(p?.mses ?? [])));
    expect(() => innerIterationAblation(dcem, { iterations: [0] })).toThrow(
      /iterations\[0\] must be an integer ≥ 1/,
    );
    expect(() => innerIterationAblation(dcem, { iterations: [] })).toThrow(TypeError);
    expect(() => innerIterationAblation(dcem, { seeds: 0 })).toThrow(
      /seeds must be an integer ≥ 1, received 0/,
    );
    dcem.dispose();
  });
});
