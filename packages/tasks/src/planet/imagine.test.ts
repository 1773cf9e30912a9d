import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { imagineReturns } from './imagine.js';
import { createRssm, type RssmState } from './rssm.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const tiny = { observationSize: 3, actionSize: 2, deterministic: 5, stochastic: 4, hidden: 6 };

describe('imagineReturns', () => {
  it.each([
    ['with noise', true],
    ['with the prior means', false],
  ])('sums the rewards of imagineStep rollouts from the start state (%s)', (_, withNoise) => {
    const model = createRssm(tiny, 1);
    const [N, H] = [5, 4];
    tf.tidy(() => {
      const start = model.observeStep(
        model.initialState(1),
        tf.ones([1, 2]) as tf.Tensor2D,
        tf.tensor2d([[0.5, -1, 2]]),
        null,
      ).state;
      const actions = tf.randomUniform([N, H, 2], -1, 1, 'float32', 3) as tf.Tensor3D;
      const noise = withNoise ? (tf.randomNormal([H, N, 4], 0, 1, 'float32', 4) as tf.Tensor3D) : null;
      const returns = imagineReturns(model, start, actions, noise);
      expect(returns.shape).toEqual([N]);
      // The same rollouts one step at a time with the public methods.
      let state: RssmState = { h: tf.tile(start.h, [N, 1]), s: tf.tile(start.s, [N, 1]) };
      let sum = tf.zeros([N]);
      for (let k = 0; k < H; k++) {
        const a = tf.squeeze(tf.slice(actions, [0, k, 0], [N, 1, 2]), [1]) as tf.Tensor2D;
        const eps =
          noise === null ? null : (tf.squeeze(tf.slice(noise, [k, 0, 0], [1, N, 4]), [0]) as tf.Tensor2D);
        state = model.imagineStep(state, a, eps).state;
        sum = tf.add(sum, model.predictReward(state));
      }
      const got = returns.dataSync();
      const want = sum.dataSync();
      got.forEach((x, i) => {
        expect(Math.abs(x - (want[i] as number))).toBeLessThan(1e-5);
      });
      // One start per candidate gives the same as a shared one.
      const perCandidate = imagineReturns(
        model,
        { h: tf.tile(start.h, [N, 1]), s: tf.tile(start.s, [N, 1]) },
        actions,
        noise,
      );
      expect(Array.from(perCandidate.dataSync())).toEqual(Array.from(got));
    });
    model.dispose();
  });

  it('leaks nothing over repeated calls and rejects bad arguments', () => {
    const model = createRssm(tiny, 2);
    const start = model.initialState(1);
    const actions = tf.zeros([7, 3, 2]) as tf.Tensor3D;
    const noise = tf.ones([3, 7, 4]) as tf.Tensor3D;
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) imagineReturns(model, start, actions, noise).dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => imagineReturns(model, start, tf.zeros([7, 3, 1]) as tf.Tensor3D, null)).toThrow(
      /actions must have shape \[\*, \*, 2\], received \[7, 3, 1\]/,
    );
    expect(() => imagineReturns(model, start, actions, tf.zeros([7, 3, 4]) as tf.Tensor3D)).toThrow(
      /noise must have shape \[3, 7, 4\]/,
    );
    const two = model.initialState(2);
    expect(() => imagineReturns(model, two, actions, null)).toThrow(
      /start\.h must have shape \[1, 5\] or \[7, 5\]/,
    );
    expect(() => imagineReturns(model, null as never, actions, null)).toThrow(TypeError);
    tf.dispose([start.h, start.s, two.h, two.s, actions, noise]);
    model.dispose();
  });
});
