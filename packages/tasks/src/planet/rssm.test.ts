import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRssm, PLANET_RSSM_SIZES } from './rssm.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const tiny = { observationSize: 3, actionSize: 2, deterministic: 5, stochastic: 4, hidden: 6 };

describe('createRssm', () => {
  it('has PlaNet sizes by default and names its variables in a fixed order', () => {
    const model = createRssm({ observationSize: 5, actionSize: 1 }, 0);
    expect(model.sizes).toEqual({ observationSize: 5, actionSize: 1, ...PLANET_RSSM_SIZES });
    expect(PLANET_RSSM_SIZES).toEqual({ deterministic: 200, stochastic: 30, hidden: 200, minStd: 0.1 });
    expect(model.variableNames.length).toBe(model.variables.length);
    const shapes = Object.fromEntries(model.variableNames.map((n, i) => [n, model.variables[i]?.shape]));
    expect(shapes['encoder.0.weight']).toEqual([5, 200]);
    expect(shapes['transition.input.weight']).toEqual([31, 200]);
    expect(shapes['transition.gru.wx']).toEqual([200, 600]);
    expect(shapes['transition.gru.wh']).toEqual([200, 600]);
    expect(shapes['transition.gru.bh']).toEqual([600]);
    expect(shapes['prior.1.weight']).toEqual([200, 60]);
    expect(shapes['posterior.0.weight']).toEqual([400, 200]);
    expect(shapes['observation.2.weight']).toEqual([200, 5]);
    expect(shapes['reward.2.weight']).toEqual([200, 1]);
    model.dispose();
  });

  it('gives every method its documented shape', () => {
    const model = createRssm(tiny, 1);
    const B = 7;
    const state = model.initialState(B);
    expect(state.h.shape).toEqual([B, 5]);
    expect(state.s.shape).toEqual([B, 4]);
    const a = tf.ones([B, 2]) as tf.Tensor2D;
    const o = tf.ones([B, 3]) as tf.Tensor2D;
    const eps = tf.randomNormal([B, 4], 0, 1, 'float32', 2) as tf.Tensor2D;
    const observed = model.observeStep(state, a, o, eps);
    for (const x of [observed.state.s, observed.prior.mean, observed.prior.std, observed.posterior.mean]) {
      expect(x.shape).toEqual([B, 4]);
    }
    expect(observed.state.h.shape).toEqual([B, 5]);
    expect(tf.min(observed.prior.std).dataSync()[0]).toBeGreaterThan(0.1);
    const imagined = model.imagineStep(observed.state, a, null);
    expect(imagined.state.h.shape).toEqual([B, 5]);
    expect(imagined.state.s.shape).toEqual([B, 4]);
    // With no noise, s' is the prior mean.
    expect(Array.from(imagined.state.s.dataSync())).toEqual(Array.from(imagined.prior.mean.dataSync()));
    expect(model.predictReward(imagined.state).shape).toEqual([B]);
    expect(model.decodeObservation(imagined.state).shape).toEqual([B, 3]);
    model.dispose();
    tf.disposeVariables();
  });
});
