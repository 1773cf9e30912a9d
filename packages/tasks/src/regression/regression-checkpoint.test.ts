import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseRegressionCheckpoint, type RegressionCheckpoint } from './regression-checkpoint.js';
import { createRegressionTrainer, restoreRegressionTrainer } from './regression-trainer.js';

const SMALL_GD = { model: 'gd', hiddenSize: 8, hiddenLayers: 2 } as const;
const SMALL_DCEM = {
  model: 'dcem',
  hiddenSize: 8,
  hiddenLayers: 2,
  dcem: { numSamples: 20, numElites: 4 },
} as const;

let saved: RegressionCheckpoint;

beforeAll(async () => {
  await tf.setBackend('cpu');
  const trainer = createRegressionTrainer({ model: 'gd', hiddenSize: 4, hiddenLayers: 2, evalEvery: 2 });
  trainer.train(3);
  saved = await trainer.checkpoint({ run: 'unit' });
  trainer.dispose();
});

const edit = (change: (c: RegressionCheckpoint) => void): unknown => {
  const copy = JSON.parse(JSON.stringify(saved)) as RegressionCheckpoint;
  change(copy);
  return copy;
};

describe('regression checkpoints', () => {
  it('hold the options, weights (values + shapes), Adam and scheduler state, history and metadata', () => {
    expect(saved.format).toBe('dcem-regression-checkpoint');
    expect(saved.version).toBe(1);
    expect(saved.options.model).toBe('gd');
    expect(saved.weights.map((w) => [w.name, w.shape])).toEqual([
      ['layer0/kernel', [2, 4]],
      ['layer0/bias', [4]],
      ['layer1/kernel', [4, 4]],
      ['layer1/bias', [4]],
      ['layer2/kernel', [4, 1]],
      ['layer2/bias', [1]],
    ]);
    expect(saved.training.updates).toBe(3);
    expect(saved.training.optimizer?.iterations).toBe(3);
    expect(saved.training.optimizer?.moments).toHaveLength(12);
    expect(saved.training.history.map((h) => h.update)).toEqual([0, 2]);
    expect(saved.metadata).toMatchObject({ package: '@dcem/tasks', run: 'unit' });
    expect(parseRegressionCheckpoint(JSON.stringify(saved))).toEqual(saved);
  });

  it('reject malformed input with messages that name the field', () => {
    const cases: [unknown, RegExp, ErrorConstructor][] = [
      ['{nope', /checkpoint is not valid JSON/, TypeError],
      [42, /checkpoint must be an object, received 42/, TypeError],
      [
        edit((c) => Object.assign(c, { format: 'x' })),
        /checkpoint.format must be "dcem-regression-checkpoint"/,
        RangeError,
      ],
      [edit((c) => Object.assign(c, { version: 2 })), /checkpoint.version must be 1, received 2/, RangeError],
      [edit((c) => Object.assign(c.options, { model: 'rnn' })), /model must be one of/, RangeError],
      [edit((c) => c.weights.pop()), /checkpoint.weights must hold 6 tensors, received 5/, RangeError],
      [
        edit((c) => Object.assign(c.weights[2] as object, { shape: [4, 2], values: new Array(8).fill(0) })),
        /checkpoint.weights\[2\] must be layer1\/kernel of shape \[4, 4\]/,
        RangeError,
      ],
      [
        edit((c) => (c.weights[0] as { values: number[] }).values.pop()),
        /values must hold 8 numbers/,
        RangeError,
      ],
      [
        edit((c) => Object.assign(c.training, { updates: -1 })),
        /training.updates must be an integer ≥ 0/,
        RangeError,
      ],
      [
        edit((c) => c.training.optimizer?.moments.pop()),
        /moments must hold 0 or 12 tensors, received 11/,
        RangeError,
      ],
      [edit((c) => Object.assign(c.training, { history: {} })), /history must be an array/, TypeError],
    ];
    for (const [input, message, type] of cases) {
      expect(() => parseRegressionCheckpoint(input)).toThrow(type);
      expect(() => parseRegressionCheckpoint(input)).toThrow(message);
    }
  });

  it('save → load → evaluate gives the same predictions, and resumed training continues the run', async () => {
    for (const options of [
      { ...SMALL_GD, hiddenSize: 8 },
      { ...SMALL_DCEM, hiddenSize: 8 },
    ]) {
      const straight = createRegressionTrainer({ ...options, seed: 2, evalEvery: 4 });
      straight.train(10);
      const half = createRegressionTrainer({ ...options, seed: 2, evalEvery: 4 });
      half.train(5);
      const json = JSON.stringify(await half.checkpoint({ note: 'test' }));
      const restored = await restoreRegressionTrainer(json);
      expect(restored.updates).toBe(5);
      expect(restored.predict(half.data.x)).toEqual(half.predict(half.data.x));
      expect(restored.evaluate()).toBe(half.evaluate());
      expect(restored.evaluate({ numIterations: 3, seed: 9 })).toBe(
        half.evaluate({ numIterations: 3, seed: 9 }),
      );
      restored.train(5);
      expect(restored.history.map((e) => e.update)).toEqual([0, 4, 8]);
      const a = restored.mlp.getWeights();
      const b = straight.mlp.getWeights();
      // DCEM's ŷ does not depend on the output bias (the energies are standardised), so its
      // gradient is float32 noise that Adam scales up to ±lr steps: compare the others.
      const compared = options.model === 'dcem' ? a.slice(0, -1) : a;
      compared.forEach((w, i) => {
        const other = b[i]?.values as number[];
        // Adam's β-powers are rebuilt with pow() instead of products: float32 rounding only.
        const diff = Math.max(...w.values.map((v, j) => Math.abs(v - (other[j] as number))));
        expect(diff).toBeLessThan(1e-6);
      });
      const yA = restored.predict(half.data.x);
      const yB = straight.predict(half.data.x);
      expect(Math.max(...yA.map((v, i) => Math.abs(v - (yB[i] as number))))).toBeLessThan(1e-4);
      for (const t of [straight, half, restored]) t.dispose();
    }
  });
});
