import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { planetModelError } from './diagnose.js';
import { imagineReturns } from './imagine.js';
import { createRssm, type RssmState } from './rssm.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const tiny = { observationSize: 3, actionSize: 2, deterministic: 5, stochastic: 4, hidden: 6 };

/** A seeded episode of `rows` aligned rows (row 0: zero action, reward 0). */
function episode(rows: number, seed: number) {
  let x = seed;
  const next = () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return (x / 2147483648) * 2 - 1;
  };
  const observations = Float64Array.from({ length: rows * 3 }, next);
  const actions = Float64Array.from({ length: rows * 2 }, (_, i) => (i < 2 ? 0 : next()));
  const rewards = Float64Array.from({ length: rows }, (_, t) => (t === 0 ? 0 : 2 + next()));
  return { observations, actions, rewards };
}

/** The filtered posterior-mean state after rows 0 … t, one observeStep per row. */
function filteredState(model: ReturnType<typeof createRssm>, e: ReturnType<typeof episode>, t: number) {
  let state: RssmState = model.initialState(1);
  for (let i = 0; i <= t; i++) {
    state = model.observeStep(
      state,
      tf.tensor2d(Array.from(e.actions.subarray(2 * i, 2 * i + 2)), [1, 2]),
      tf.tensor2d(Array.from(e.observations.subarray(3 * i, 3 * i + 3)), [1, 3]),
      null,
    ).state;
  }
  return state;
}

describe('planetModelError', () => {
  it('compares each depth k of the open-loop predictions with row t + k', () => {
    const model = createRssm(tiny, 3);
    const rows = 10;
    const H = 4;
    const e = episode(rows, 7);
    const got = planetModelError(model, e, { horizon: H });
    expect(got.horizon).toBe(H);
    expect(got.windows).toBe(rows - H);
    for (const a of [got.rewardError, got.rewardBias, got.observationError]) expect(a).toHaveLength(H);
    expect(got.predictedReturns).toHaveLength(rows - H);
    // Every window's predicted return is imagineReturns from the filtered state with the next H actions.
    tf.tidy(() => {
      for (let t = 0; t < rows - H; t++) {
        const actions = tf.tensor3d(Array.from(e.actions.subarray(2 * (t + 1), 2 * (t + 1 + H))), [1, H, 2]);
        const want = imagineReturns(model, filteredState(model, e, t), actions, null).dataSync()[0] as number;
        expect(got.predictedReturns[t]).toBeCloseTo(want, 4);
        const real = Array.from(e.rewards.subarray(t + 1, t + 1 + H)).reduce((a, b) => a + b, 0);
        expect(got.actualReturns[t]).toBeCloseTo(real, 5);
      }
      // Every depth's errors, window by window with the public methods.
      for (let k = 1; k <= H; k++) {
        let abs = 0;
        let bias = 0;
        let squares = 0;
        for (let t = 0; t < rows - H; t++) {
          let state = filteredState(model, e, t);
          for (let j = 1; j <= k; j++) {
            const a = tf.tensor2d(Array.from(e.actions.subarray(2 * (t + j), 2 * (t + j + 1))), [1, 2]);
            state = model.imagineStep(state, a, null).state;
          }
          const d = (model.predictReward(state).dataSync()[0] as number) - (e.rewards[t + k] as number);
          abs += Math.abs(d);
          bias += d;
          const o = model.decodeObservation(state).dataSync();
          o.forEach((x, i) => {
            squares += (x - (e.observations[3 * (t + k) + i] as number)) ** 2;
          });
        }
        expect(got.rewardError[k - 1]).toBeCloseTo(abs / (rows - H), 5);
        expect(got.rewardBias[k - 1]).toBeCloseTo(bias / (rows - H), 5);
        expect(got.observationError[k - 1]).toBeCloseTo(Math.sqrt(squares / (3 * (rows - H))), 5);
      }
    });
    // The summaries are the means of the per-window numbers.
    const returnErrors = got.predictedReturns.map((p, t) => Math.abs(p - (got.actualReturns[t] as number)));
    expect(got.returnError).toBeCloseTo(returnErrors.reduce((a, b) => a + b, 0) / (rows - H), 6);
    expect(got.meanAbsReward).toBeCloseTo(
      Array.from(e.rewards.subarray(1)).reduce((a, b) => a + Math.abs(b), 0) / (rows - 1),
      6,
    );
    expect(got.rewardError.every((x, k) => x >= Math.abs(got.rewardBias[k] as number) - 1e-9)).toBe(true);
    model.dispose();
  });

  it('gives a zero filtered reward error when the rewards are the model’s own filtered predictions', () => {
    const model = createRssm(tiny, 4);
    const e = episode(8, 11);
    const rewards = tf.tidy(() => {
      const out = [0];
      for (let t = 1; t < 8; t++)
        out.push(model.predictReward(filteredState(model, e, t)).dataSync()[0] as number);
      return out;
    });
    const got = planetModelError(model, { ...e, rewards }, { horizon: 2 });
    expect(got.filteredRewardError).toBeLessThan(1e-5);
    model.dispose();
  });

  it('leaks no tensors and rejects bad arguments by name', () => {
    const model = createRssm(tiny, 5);
    const e = episode(6, 1);
    planetModelError(model, e, { horizon: 2 });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) planetModelError(model, e, { horizon: 3 });
    expect(tf.memory().numTensors).toBe(before);
    expect(() => planetModelError(model, e, { horizon: 0 })).toThrow(/options\.horizon.*≥ 1.*0/);
    expect(() => planetModelError(model, e, { horizon: 6 })).toThrow(
      /more rows than options\.horizon \(6\), received 6 rows/,
    );
    expect(() => planetModelError(model, e, { horizn: 2 } as never)).toThrow(TypeError);
    expect(() => planetModelError(model, e, { horizn: 2 } as never)).toThrow(/did you mean "horizon"/);
    expect(() =>
      planetModelError(model, { ...e, observations: e.observations.subarray(3) }, { horizon: 2 }),
    ).toThrow(/episode\.observations must have 18 entries, received 15/);
    expect(() => planetModelError(model, { ...e, rewards: 'abc' } as never, { horizon: 2 })).toThrow(
      /episode\.rewards must be/,
    );
    const bad = Float64Array.from(e.actions);
    bad[5] = Number.NaN;
    expect(() => planetModelError(model, { ...e, actions: bad }, { horizon: 2 })).toThrow(
      /episode\.actions\[5\] must be finite, received NaN/,
    );
    expect(() => planetModelError({} as never, e)).toThrow(/model must be an Rssm/);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
