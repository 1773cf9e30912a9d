import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { elbo, type SequenceBatch } from './elbo.js';
import { elboF64, type WeightsF64 } from './reference-f64.test-utils.js';
import { createRssm, type Rssm } from './rssm.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const tiny = { observationSize: 3, actionSize: 2, deterministic: 5, stochastic: 4, hidden: 6, minStd: 0.1 };
const B = 2;
const L = 3;

let model: Rssm;
let batch: SequenceBatch;
let noise: tf.Tensor3D;
let data: { o: number[][][]; a: number[][][]; r: number[][]; eps: number[][][] };

beforeAll(() => {
  model = createRssm(tiny, 7);
  // Non-zero biases, so that their gradients are checked in general position.
  model.setWeights(
    model
      .getWeights()
      .map((w, i) =>
        model.variableNames[i]?.endsWith('.bias') ? w.map((_, j) => 0.1 * Math.sin(3 * j + i)) : w,
      ),
  );
  batch = {
    observations: tf.randomNormal([B, L, 3], 0, 1, 'float32', 1),
    actions: tf.randomUniform([B, L, 2], -1, 1, 'float32', 2),
    rewards: tf.randomNormal([B, L], 0, 1, 'float32', 3),
  };
  noise = tf.randomNormal([L, B, 4], 0, 1, 'float32', 4);
  data = {
    o: batch.observations.arraySync(),
    a: batch.actions.arraySync(),
    r: batch.rewards.arraySync(),
    eps: noise.arraySync(),
  };
});

afterAll(() => {
  model.dispose();
  tf.dispose([batch.observations, batch.actions, batch.rewards, noise]);
});

function weightsF64(flat: Float64Array[]): WeightsF64 {
  return Object.fromEntries(model.variableNames.map((n, i) => [n, flat[i] as Float64Array]));
}

const referenceLoss = (flat: Float64Array[], freeNats: number) =>
  elboF64(weightsF64(flat), model.sizes, data.o, data.a, data.r, data.eps, freeNats);

describe('elbo', () => {
  it('equals an independent float64 evaluation of the same equations', () => {
    for (const freeNats of [0, 3]) {
      const terms = elbo(model, batch, noise, { freeNats });
      const got = {
        loss: terms.loss.dataSync()[0] as number,
        observation: terms.observation.dataSync()[0] as number,
        reward: terms.reward.dataSync()[0] as number,
        kl: terms.kl.dataSync()[0] as number,
      };
      tf.dispose(Object.values(terms));
      const want = referenceLoss(
        model.getWeights().map((w) => Float64Array.from(w)),
        freeNats,
      );
      for (const key of ['loss', 'observation', 'reward', 'kl'] as const) {
        expect(Math.abs(got[key] - want[key])).toBeLessThan(1e-5 * Math.max(1, Math.abs(want[key])));
      }
      expect(want.kl).toBeGreaterThan(0);
    }
  });

  it('filters as observeStep does: the same states, decodings and KL one row at a time', () => {
    const freeNats = 0.2;
    const terms = elbo(model, batch, noise, { freeNats });
    const got = terms.loss.dataSync()[0] as number;
    tf.dispose(Object.values(terms));
    const want = tf.tidy(() => {
      let state = model.initialState(B);
      let sum = tf.scalar(0);
      for (let t = 0; t < L; t++) {
        const row = (x: tf.Tensor, size: number) =>
          tf.reshape(tf.slice(x, [0, t, 0], [B, 1, size]), [B, size]) as tf.Tensor2D;
        const eps = tf.reshape(tf.slice(noise, [t, 0, 0], [1, B, 4]), [B, 4]) as tf.Tensor2D;
        const step = model.observeStep(state, row(batch.actions, 2), row(batch.observations, 3), eps);
        state = step.state;
        const obs = tf.mul(
          0.5,
          tf.sum(tf.square(tf.sub(model.decodeObservation(state), row(batch.observations, 3))), 1),
        );
        const reward = tf.mul(
          0.5,
          tf.square(
            tf.sub(model.predictReward(state), tf.reshape(tf.slice(batch.rewards, [0, t], [B, 1]), [B])),
          ),
        );
        const q = step.posterior;
        const p = step.prior;
        const kl = tf.sum(
          tf.sub(
            tf.add(
              tf.log(tf.div(p.std, q.std)),
              tf.div(
                tf.add(tf.square(q.std), tf.square(tf.sub(q.mean, p.mean))),
                tf.mul(2, tf.square(p.std)),
              ),
            ),
            0.5,
          ),
          1,
        );
        sum = tf.add(sum, tf.sum(tf.add(tf.add(obs, reward), tf.maximum(kl, freeNats))));
      }
      return tf.div(sum, B * L).dataSync()[0] as number;
    });
    expect(Math.abs(got - want)).toBeLessThan(1e-5 * Math.abs(want));
  });

  // The gradient of the float32 tfjs ELBO against central differences of the
  // float64 reference (step 1e-6: truncation and rounding errors ~1e-9), for
  // every one of the model's weights. Per variable, relative to its largest
  // entry, float32 autodiff agrees to ≤ 3e-7 here; the bound 1e-5 fails for
  // any wrong derivative (a missing term or factor is an O(1) change).
  it.each([
    ['every KL term active (freeNats 0)', 0],
    ['some KL terms clipped by the free nats', Number.NaN],
  ])('has the gradient of central finite differences: %s', (_, nats) => {
    const start = model.getWeights().map((w) => Float64Array.from(w));
    let freeNats = nats;
    if (Number.isNaN(nats)) {
      // A clip between the smallest and the largest per-row KL.
      const klRows: number[] = [];
      const flat = weightsF64(start);
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < L; t++) {
          // KL of row (b, t) alone: the reference on sequence b cut at t + 1 minus at t.
          const upTo = (k: number) =>
            k === 0
              ? 0
              : k *
                elboF64(
                  flat,
                  model.sizes,
                  [(data.o[b] as number[][]).slice(0, k)],
                  [(data.a[b] as number[][]).slice(0, k)],
                  [(data.r[b] as number[]).slice(0, k)],
                  data.eps.slice(0, k).map((row) => [row[b] as number[]]),
                  0,
                ).kl;
          klRows.push(upTo(t + 1) - upTo(t));
        }
      }
      klRows.sort((x, y) => x - y);
      freeNats = ((klRows[1] as number) + (klRows[klRows.length - 2] as number)) / 2;
      expect(klRows[0]).toBeLessThan(freeNats);
      expect(klRows[klRows.length - 1]).toBeGreaterThan(freeNats);
    }
    const { grads } = tf.variableGrads(
      () => elbo(model, batch, noise, { freeNats }).loss,
      model.variables as tf.Variable[],
    );
    const got = model.variables.map((v) => Float64Array.from((grads[v.name] as tf.Tensor).dataSync()));
    tf.dispose(Object.values(grads));
    const step = 1e-6;
    const differences = (at: number) =>
      start.map((w) => {
        const out = new Float64Array(w.length);
        for (let j = 0; j < w.length; j++) {
          const x = w[j] as number;
          w[j] = x + step;
          const up = referenceLoss(start, at).loss;
          w[j] = x - step;
          const down = referenceLoss(start, at).loss;
          w[j] = x;
          out[j] = (up - down) / (2 * step);
        }
        return out;
      });
    const fd = differences(freeNats);
    const maxAbs = (x: Float64Array) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    fd.forEach((want, i) => {
      const scale = maxAbs(want);
      const error = maxAbs(want.map((v, j) => v - ((got[i] as Float64Array)[j] as number)));
      expect(scale, model.variableNames[i]).toBeGreaterThan(0.01);
      expect(error, model.variableNames[i]).toBeLessThan(1e-5 * scale);
    });
    if (freeNats > 0) {
      // The clip matters: the prior's gradient (which only the KL term gives) changes.
      const prior = model.variableNames.indexOf('prior.1.weight');
      const unclipped = differences(0)[prior] as Float64Array;
      const clipped = fd[prior] as Float64Array;
      expect(maxAbs(unclipped.map((v, j) => v - (clipped[j] as number)))).toBeGreaterThan(
        0.1 * maxAbs(unclipped),
      );
    }
  });
});
