import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAdam } from './adam.js';
import type { SequenceBatch } from './elbo.js';
import { imagineReturns } from './imagine.js';
import { createRssm } from './rssm.js';
import { trainStep } from './train-step.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const tiny = { observationSize: 3, actionSize: 2, deterministic: 5, stochastic: 4, hidden: 6 };

function randomBatch(b: number, l: number, seed: number): SequenceBatch {
  return {
    observations: tf.randomNormal([b, l, 3], 0, 1, 'float32', seed),
    actions: tf.randomUniform([b, l, 2], -1, 1, 'float32', seed + 1),
    rewards: tf.randomNormal([b, l], 0, 1, 'float32', seed + 2),
  };
}

describe('trainStep', () => {
  it('gives identical results for the same seed and weights, and leaks nothing', () => {
    const model = createRssm(tiny, 3);
    const batch = randomBatch(4, 6, 10);
    const start = model.getWeights();
    const run = () => {
      model.setWeights(start);
      const adam = createAdam(model.variables);
      const r = [trainStep(model, adam, batch, 5), trainStep(model, adam, batch, 6)];
      adam.dispose();
      return { r, w: model.getWeights() };
    };
    const before = tf.memory().numTensors;
    const x = run();
    const y = run();
    expect(tf.memory().numTensors).toBe(before);
    expect(y).toEqual(x);
    expect(Number.isFinite(x.r[0]?.loss)).toBe(true);
    expect(x.w).not.toEqual(start);
    const returns = imagineReturns(model, model.initialState(1), tf.zeros([9, 4, 2]), null);
    expect(returns.shape).toEqual([9]);
    tf.dispose([returns, batch.observations, batch.actions, batch.rewards]);
    model.dispose();
  });
});
