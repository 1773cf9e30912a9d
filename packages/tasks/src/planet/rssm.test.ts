import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRssm, type DiagGaussian, PLANET_RSSM_SIZES, type RssmImagineResult } from './rssm.js';

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
    tf.tidy(() => {
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
    });
    model.dispose();
  });
});

describe('Rssm weights', () => {
  it('round-trips getWeights/setWeights into another model exactly', () => {
    const a = createRssm(tiny, 1);
    const b = createRssm(tiny, 2);
    const weights = a.getWeights();
    expect(b.getWeights()).not.toEqual(weights);
    b.setWeights(weights);
    expect(b.getWeights()).toEqual(weights);
    // Copies both ways: changing the arrays changes neither model.
    (weights[0] as Float32Array)[0] = 123;
    expect(a.getWeights()[0]?.[0]).not.toBe(123);
    expect(b.getWeights()[0]?.[0]).not.toBe(123);
    const state = a.initialState(2);
    const o = tf.ones([2, 3]) as tf.Tensor2D;
    const act = tf.ones([2, 2]) as tf.Tensor2D;
    const x = a.observeStep(state, act, o, null);
    const y = b.observeStep(state, act, o, null);
    expect(Array.from(y.state.s.dataSync())).toEqual(Array.from(x.state.s.dataSync()));
    tf.dispose([state.h, state.s, o, act, x.state.h, x.state.s, y.state.h, y.state.s]);
    tf.dispose([x.prior.mean, x.prior.std, x.posterior.mean, x.posterior.std]);
    tf.dispose([y.prior.mean, y.prior.std, y.posterior.mean, y.posterior.std]);
    a.dispose();
    b.dispose();
  });

  it('draws the initial weights from the seed (Glorot-uniform layers, zero biases, GRU U(±1/√D))', () => {
    const first = createRssm(tiny, 5);
    const a = first.getWeights();
    first.dispose();
    const b = createRssm(tiny, 5);
    expect(b.getWeights()).toEqual(a);
    const names = b.variableNames;
    const w = a[names.indexOf('encoder.1.weight')] as Float32Array; // 6 × 6: limit √(6/12)
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(Math.sqrt(0.5));
    expect(Math.max(...(a[names.indexOf('encoder.1.bias')] as Float32Array).map(Math.abs))).toBe(0);
    const gru = a[names.indexOf('transition.gru.bh')] as Float32Array;
    expect(Math.max(...gru.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(5));
    expect(Math.max(...gru.map(Math.abs))).toBeGreaterThan(0);
    b.dispose();
  });
});

describe('Rssm arguments', () => {
  it('rejects bad sizes, unknown size names and bad seeds with typed errors', () => {
    expect(() => createRssm({ observationSize: 0, actionSize: 1 }, 0)).toThrow(RangeError);
    expect(() => createRssm({ observationSize: 0, actionSize: 1 }, 0)).toThrow(/sizes\.observationSize/);
    expect(() => createRssm({ observationSize: 2.5, actionSize: 1 }, 0)).toThrow(TypeError);
    expect(() => createRssm({ observationSize: 2, actionSize: 1, hiden: 3 } as never, 0)).toThrow(
      /unknown RSSM size "hiden"; did you mean "hidden"\?/,
    );
    expect(() => createRssm({ observationSize: 2, actionSize: 1, minStd: -1 }, 0)).toThrow(/minStd/);
    expect(() => createRssm({ observationSize: 2, actionSize: 1 }, 0.5)).toThrow(/seed must be an integer/);
    expect(() => createRssm(null as never, 0)).toThrow(TypeError);
  });

  it('rejects tensors of the wrong shape, naming the argument', () => {
    const model = createRssm(tiny, 1);
    const state = model.initialState(2);
    const a = tf.zeros([2, 2]) as tf.Tensor2D;
    const o = tf.zeros([2, 3]) as tf.Tensor2D;
    const wrong = tf.zeros([3, 3]) as tf.Tensor2D;
    expect(() => model.observeStep(state, a, wrong, null)).toThrow(
      /observation must have shape \[2, 3\], received \[3, 3\]/,
    );
    expect(() => model.observeStep(state, wrong, o, null)).toThrow(/action must have shape \[2, 2\]/);
    expect(() => model.observeStep(state, a, o, wrong)).toThrow(/noise must have shape \[2, 4\]/);
    expect(() => model.imagineStep({ h: state.h, s: wrong }, a, null)).toThrow(
      /state\.s must have shape \[2, 4\]/,
    );
    expect(() => model.predictReward({ h: wrong, s: state.s })).toThrow(/state\.h must have shape \[\*, 5\]/);
    expect(() => model.decodeObservation(null as never)).toThrow(TypeError);
    expect(() => model.initialState(0)).toThrow(RangeError);
    expect(() => model.setWeights([])).toThrow(/weights must be an array of 30 Float32Arrays/);
    const bad = model.getWeights();
    bad[3] = new Float32Array(1);
    expect(() => model.setWeights(bad)).toThrow(/weights\[3\] \(encoder\.1\.bias\) must hold 6 numbers/);
    tf.dispose([state.h, state.s, a, o, wrong]);
    model.dispose();
    expect(() => model.initialState(1)).toThrow(/disposed/);
  });
});

describe('Rssm memory', () => {
  it('leaks no tensors over repeated observe and imagine steps', () => {
    const model = createRssm(tiny, 1);
    const before = tf.memory().numTensors;
    let state = model.initialState(3);
    const a = tf.ones([3, 2]) as tf.Tensor2D;
    const o = tf.ones([3, 3]) as tf.Tensor2D;
    const eps = tf.ones([3, 4]) as tf.Tensor2D;
    for (let t = 0; t < 5; t++) {
      const step: RssmImagineResult & { posterior?: DiagGaussian } =
        t % 2 === 0 ? model.observeStep(state, a, o, eps) : model.imagineStep(state, a, null);
      tf.dispose([state.h, state.s, step.prior.mean, step.prior.std]);
      if (step.posterior !== undefined) tf.dispose([step.posterior.mean, step.posterior.std]);
      state = step.state;
      tf.dispose([model.predictReward(state), model.decodeObservation(state)]);
    }
    tf.dispose([state.h, state.s, a, o, eps]);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before - 30);
  });
});
