import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { dcemInference } from './dcem-inference.js';
import { createEnergyMlp } from './energy-mlp.js';
import { checkRegressionModel, predictWithEnergy, REGRESSION_MODELS } from './regression-model.js';
import { unrolledGdInference } from './unrolled-gd.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('regression models', () => {
  it('knows dcem and gd and rejects anything else with a message listing them', () => {
    expect(REGRESSION_MODELS).toEqual(['dcem', 'gd']);
    expect(checkRegressionModel('gd')).toBe('gd');
    expect(() => checkRegressionModel('mlp')).toThrow(RangeError);
    expect(() => checkRegressionModel('mlp')).toThrow('model must be one of "dcem", "gd", received "mlp"');
    expect(() => checkRegressionModel(3, '--models')).toThrow(TypeError);
    expect(() => checkRegressionModel(3, '--models')).toThrow(/^--models must be one of/);
  });

  it('dispatches to the inference layer with the iteration override', () => {
    const mlp = createEnergyMlp({ seed: 1, hiddenSize: 8 });
    const x = tf.tensor1d([1, 2]);
    const pairs = [
      [
        predictWithEnergy('gd', mlp, x, { numIterations: 4, gd: { stepSize: 0.2 } }),
        unrolledGdInference(mlp, x, { numIterations: 4, stepSize: 0.2 }),
      ],
      [
        predictWithEnergy('dcem', mlp, x, {
          numIterations: 3,
          seed: 5,
          dcem: { numSamples: 20, numElites: 3 },
        }),
        dcemInference(mlp, x, { numIterations: 3, seed: 5, numSamples: 20, numElites: 3 }),
      ],
    ];
    for (const [a, b] of pairs)
      expect(Array.from(a?.dataSync() ?? [])).toEqual(Array.from(b?.dataSync() ?? []));
    expect(() => predictWithEnergy('nope' as 'gd', mlp, x)).toThrow(RangeError);
    tf.dispose([x, ...pairs.flat()] as tf.Tensor[]);
    mlp.dispose();
  });
});
