import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRegressionTrainer, restoreRegressionTrainer } from './regression-trainer.js';
import { resolveRegressionTrainingOptions } from './regression-training-options.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Models small enough for CI on the cpu backend (the protocol is the reference one). */
const SMALL_GD = { model: 'gd', hiddenSize: 32, hiddenLayers: 2 } as const;
const SMALL_DCEM = {
  model: 'dcem',
  hiddenSize: 16,
  hiddenLayers: 2,
  dcem: { numSamples: 20, numElites: 4 },
} as const;

describe('createRegressionTrainer', () => {
  it('uses the reference protocol by default', () => {
    const o = resolveRegressionTrainingOptions({ model: 'dcem' });
    expect(o).toMatchObject({
      seed: 0,
      numPoints: 100,
      hiddenSize: 128,
      hiddenLayers: 3,
      learningRate: 1e-3,
      innerUpdates: 3,
      batchSize: 1,
      clipNorm: 1,
      evalEvery: 100,
      plateauPatience: 20,
      plateauFactor: 0.5,
    });
    expect(o.dcem).toMatchObject({ numSamples: 100, numElites: 10, numIterations: 10, initStd: 7 });
    expect(o.gd).toEqual({ numIterations: 10, stepSize: 0.1, init: 0 });
  });

  it('lowers the full-data MSE of unrolled GD within 300 updates (reference protocol)', () => {
    const trainer = createRegressionTrainer({ ...SMALL_GD, seed: 3 });
    const updates: number[] = [];
    const last = trainer.train(300, { onUpdate: (u) => updates.push(u.update) });
    expect(updates).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    const h = trainer.history;
    expect(h.map((e) => e.update)).toEqual([0, 100, 200, 300]);
    // Measured: 6.30 → 3.84 (cpu backend, float32).
    expect(last.mse).toBeLessThan(0.75 * (h[0]?.mse as number));
    trainer.dispose();
  });

  it('lowers the full-data MSE of DCEM within 100 updates', () => {
    const trainer = createRegressionTrainer({ ...SMALL_DCEM, seed: 1, evalEvery: 50 });
    trainer.train(100);
    const h = trainer.history;
    // Measured: 11.2 → 3.8. DCEM starts far off: an untrained energy is nearly monotone in y.
    expect(h.at(-1)?.mse).toBeLessThan(0.5 * (h[0]?.mse as number));
    trainer.dispose();
  });

  it('trains on batches of points when asked', () => {
    const trainer = createRegressionTrainer({ ...SMALL_GD, batchSize: 8, evalEvery: 50 });
    trainer.train(100);
    expect(trainer.history.at(-1)?.mse).toBeLessThan(0.75 * (trainer.history[0]?.mse as number));
    trainer.dispose();
  });

  it('leaks no tensors across updates, evaluations and checkpoints', async () => {
    const baseline = tf.memory().numTensors;
    for (const options of [
      { ...SMALL_GD, hiddenSize: 8 },
      { ...SMALL_DCEM, hiddenSize: 8 },
    ]) {
      const trainer = createRegressionTrainer({ ...options, evalEvery: 3 });
      trainer.update(); // Adam creates its moment estimates on the first update.
      const after = tf.memory().numTensors;
      for (let i = 0; i < 6; i++) {
        trainer.update();
        expect(tf.memory().numTensors).toBe(after);
      }
      trainer.evaluate({ numIterations: 3 });
      trainer.predict([1, 2]);
      await trainer.checkpoint();
      expect(tf.memory().numTensors).toBe(after);
      trainer.dispose();
      expect(tf.memory().numTensors).toBe(baseline);
    }
  });

  it('is deterministic given the seed', () => {
    const run = () => {
      const t = createRegressionTrainer({ ...SMALL_DCEM, hiddenSize: 8, seed: 4 });
      const losses = Array.from({ length: 5 }, () => t.update().loss);
      const weights = t.mlp.getWeights();
      t.dispose();
      return { losses, weights };
    };
    expect(run()).toEqual(run());
  });

  it('evaluates every evalEvery updates and halves the learning rate on a plateau', () => {
    // threshold 0.99: only a 100-fold drop counts as an improvement, so every evaluation after the first is bad.
    const trainer = createRegressionTrainer({
      model: 'gd',
      hiddenSize: 8,
      evalEvery: 2,
      plateauPatience: 1,
      plateauThreshold: 0.99,
    });
    const seen: number[] = [];
    trainer.train(10, { onEvaluation: (e) => seen.push(e.update) });
    expect(seen).toEqual([0, 2, 4, 6, 8, 10]);
    // Evaluations at 2 (best), 4 (bad 1), 6 (bad 2 > 1: cut), 8 (bad 1), 10 (bad 2: cut).
    expect(trainer.history.map((e) => e.learningRate)).toEqual([1e-3, 1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4]);
    expect(trainer.learningRate).toBe(2.5e-4);
    trainer.dispose();
  });

  it('rejects bad options with typed errors that name them', async () => {
    const bad: [object, RegExp, ErrorConstructor][] = [
      [{ model: 'mlp' }, /model must be one of "dcem", "gd", received "mlp"/, RangeError],
      [{ model: 'gd', batchSize: 0 }, /batchSize must be an integer ≥ 1, received 0/, RangeError],
      [{ model: 'gd', innerUpdates: -3 }, /innerUpdates must be an integer ≥ 1, received -3/, RangeError],
      [{ model: 'gd', evalEvery: 0 }, /evalEvery must be an integer ≥ 1, received 0/, RangeError],
      [{ model: 'gd', learningRate: 0 }, /learningRate must be > 0, received 0/, RangeError],
      [{ model: 'gd', clipNorm: -1 }, /clipNorm must be > 0/, RangeError],
      [{ model: 'gd', plateauFactor: 1 }, /plateauFactor must be in \(0, 1\), received 1/, RangeError],
      [{ model: 'gd', numPoints: 1 }, /numPoints must be an integer ≥ 2/, RangeError],
      [
        { model: 'gd', gd: { numIterations: 0 } },
        /gd\.numIterations must be an integer ≥ 1, received 0/,
        RangeError,
      ],
      [
        { model: 'dcem', dcem: { numSamples: -5 } },
        /dcem\.numSamples must be an integer ≥ 2, received -5/,
        RangeError,
      ],
      [{ model: 'gd', batchSize: 1.5 }, /batchSize must be an integer, received 1.5/, TypeError],
    ];
    for (const [options, message, type] of bad) {
      expect(() => createRegressionTrainer(options as never)).toThrow(type);
      expect(() => createRegressionTrainer(options as never)).toThrow(message);
    }
    const trainer = createRegressionTrainer({ model: 'gd', hiddenSize: 4 });
    expect(() => trainer.train(-1)).toThrow(/updates must be an integer ≥ 0, received -1/);
    expect(() => trainer.evaluate({ numIterations: 0 })).toThrow(RangeError);
    expect(() => trainer.predict([Number.NaN])).toThrow(TypeError);
    const checkpoint = await trainer.checkpoint();
    await expect(restoreRegressionTrainer(checkpoint, { model: 'dcem' } as never)).rejects.toThrow(
      /cannot change model/,
    );
    await expect(restoreRegressionTrainer(checkpoint, { batchSize: 0 })).rejects.toThrow(/batchSize/);
    trainer.dispose();
    expect(() => trainer.update()).toThrow(/disposed/);
  });
});
