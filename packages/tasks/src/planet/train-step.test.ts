import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAdam } from './adam.js';
import { elbo, type SequenceBatch } from './elbo.js';
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

const disposeBatch = (batch: SequenceBatch) => tf.dispose([batch.observations, batch.actions, batch.rewards]);

describe('trainStep', () => {
  it('gives identical results for the same seed and weights, other ones for another seed, and leaks nothing', () => {
    const model = createRssm(tiny, 3);
    const batch = randomBatch(4, 6, 10);
    const start = model.getWeights();
    const run = (seeds: number[]) => {
      model.setWeights(start);
      const adam = createAdam(model.variables);
      const results = seeds.map((seed) => trainStep(model, adam, batch, seed));
      adam.dispose();
      return { results, weights: model.getWeights() };
    };
    const before = tf.memory().numTensors;
    const x = run([5, 6, 7]);
    const y = run([5, 6, 7]);
    expect(tf.memory().numTensors).toBe(before);
    expect(y).toEqual(x);
    expect(x.weights).not.toEqual(start);
    const z = run([5, 6, 8]);
    expect(z.results[1]).toEqual(x.results[1]);
    expect(z.results[2]).not.toEqual(x.results[2]);
    for (const r of x.results) {
      for (const value of Object.values(r)) expect(Number.isFinite(value)).toBe(true);
      // Free nats 3: every clipped KL term is ≥ 3.
      expect(r.loss).toBeGreaterThanOrEqual(r.observation + r.reward + 3 - 1e-5);
    }
    disposeBatch(batch);
    model.dispose();
  });

  it('reports the ELBO and the global gradient norm of its noise, and clips the gradient to clipNorm', () => {
    const model = createRssm(tiny, 4);
    const batch = randomBatch(3, 5, 20);
    const start = model.getWeights();
    const seed = 42;
    // The same computation by hand: the ELBO with tf.randomNormal([L, B, S], seed), its gradient and norm.
    const noise = tf.randomNormal([5, 3, 4], 0, 1, 'float32', seed) as tf.Tensor3D;
    const { value, grads } = tf.variableGrads(
      () => elbo(model, batch, noise, { freeNats: 0.5 }).loss,
      model.variables as tf.Variable[],
    );
    const list = model.variables.map((v) => grads[v.name] as tf.Tensor);
    const norm = Math.sqrt(list.reduce((s, g) => s + (g.square().sum().dataSync()[0] as number), 0));
    const clipNorm = norm / 4;
    // ε = 1000 ≫ |g|: Adam's step is then about α g / ε, so the clip's scale shows in the weights.
    const manual = createAdam(model.variables, { learningRate: 1, epsilon: 1000 });
    const scaled = list.map((g) => tf.mul(g, clipNorm / norm));
    manual.step(scaled);
    const wanted = model.getWeights();
    model.setWeights(start);
    const unclippedAdam = createAdam(model.variables, { learningRate: 1, epsilon: 1000 });
    trainStep(model, unclippedAdam, batch, seed, { freeNats: 0.5 });
    const unclipped = model.getWeights();
    unclippedAdam.dispose();
    model.setWeights(start);
    const adam = createAdam(model.variables, { learningRate: 1, epsilon: 1000 });
    const result = trainStep(model, adam, batch, seed, { freeNats: 0.5, clipNorm });
    expect(result.loss).toBe(value.dataSync()[0]);
    expect(Math.abs(result.gradNorm - norm)).toBeLessThan(1e-5 * norm);
    const got = model.getWeights();
    const change = (x: Float32Array[]) =>
      Math.max(
        ...x.map((w, i) =>
          Math.max(...w.map((v, j) => Math.abs(v - ((start[i] as Float32Array)[j] as number)))),
        ),
      );
    // The clipped step is 4 times shorter than the unclipped one.
    expect(Math.abs(change(unclipped) / change(got) - 4)).toBeLessThan(0.05);
    got.forEach((w, i) => {
      const want = wanted[i] as Float32Array;
      w.forEach((x, j) => {
        expect(Math.abs(x - (want[j] as number))).toBeLessThan(1e-6);
      });
    });
    tf.dispose([noise, value, ...list, ...scaled]);
    manual.dispose();
    adam.dispose();
    disposeBatch(batch);
    model.dispose();
  });

  it('rejects bad arguments with typed errors', () => {
    const model = createRssm(tiny, 1);
    const other = createRssm(tiny, 2);
    const adam = createAdam(model.variables);
    const otherAdam = createAdam(other.variables);
    const batch = randomBatch(2, 3, 1);
    const wrong = tf.zeros([2, 3, 5]);
    expect(() => trainStep(model, adam, batch, 0.5)).toThrow(/seed must be an integer/);
    expect(() => trainStep(model, adam, batch, 1, { freenats: 1 } as never)).toThrow(
      /did you mean "freeNats"/,
    );
    expect(() => trainStep(model, adam, batch, 1, { clipNorm: 0 })).toThrow(RangeError);
    expect(() => trainStep(model, adam, batch, 1, { freeNats: -1 })).toThrow(/freeNats must be ≥ 0/);
    expect(() => trainStep(model, otherAdam, batch, 1)).toThrow(/optimizer must update model.variables/);
    expect(() => trainStep(model, adam, { ...batch, observations: wrong as tf.Tensor3D }, 1)).toThrow(
      /batch\.observations must have shape \[\*, \*, 3\], received \[2, 3, 5\]/,
    );
    expect(() => trainStep(model, adam, { ...batch, rewards: wrong as never }, 1)).toThrow(/batch\.rewards/);
    expect(() => trainStep(model, adam, null as never, 1)).toThrow(TypeError);
    expect(() => elbo(model, batch, wrong as tf.Tensor3D)).toThrow(/noise must have shape \[3, 2, 4\]/);
    expect(() => elbo({} as never, batch, null)).toThrow(/model must be an Rssm made by createRssm/);
    expect(() => elbo(model, batch, null, { freenats: 1 } as never)).toThrow(
      /unknown elbo option "freenats"/,
    );
    expect(() => elbo(model, batch, null, { freeNats: Number.NaN })).toThrow(RangeError);
    tf.dispose(wrong);
    disposeBatch(batch);
    adam.dispose();
    otherAdam.dispose();
    model.dispose();
    other.dispose();
  });
});
