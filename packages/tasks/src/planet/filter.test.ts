import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filterComposed, filterSequence } from './filter.js';
import { createRssm, type Rssm, rssmParts } from './rssm.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const tiny = { observationSize: 3, actionSize: 2, deterministic: 5, stochastic: 4, hidden: 6, minStd: 0.1 };
const B = 3;
const L = 4;

let model: Rssm;
let actions: tf.Tensor3D;
let embeddings: tf.Tensor3D;
let noise: tf.Tensor3D;

beforeAll(() => {
  model = createRssm(tiny, 11);
  // Non-zero biases, so that their gradients are checked in general position.
  model.setWeights(
    model
      .getWeights()
      .map((w, i) =>
        model.variableNames[i]?.endsWith('.bias') ? w.map((_, j) => 0.1 * Math.cos(2 * j + i)) : w,
      ),
  );
  actions = tf.randomUniform([L, B, 2], -1, 1, 'float32', 1);
  embeddings = tf.randomNormal([L, B, 6], 0, 1, 'float32', 2);
  noise = tf.randomNormal([L, B, 4], 0, 1, 'float32', 3);
});

afterAll(() => {
  model.dispose();
  tf.dispose([actions, embeddings, noise]);
});

/** A scalar of every output with fixed random weights (so that every output's gradient matters). */
function lossOf(filter: typeof filterSequence, eps: tf.Tensor3D | null) {
  return (emb: tf.Tensor) => {
    const out = filter(rssmParts(model), actions, emb as tf.Tensor3D, eps);
    const term = (x: tf.Tensor, seed: number) =>
      tf.sum(tf.mul(tf.sin(x), tf.randomNormal(x.shape, 0, 1, 'float32', seed)));
    return tf.addN([term(out.h, 4), term(out.s, 5), term(out.mean, 6), term(out.std, 7)]);
  };
}

function relDiff(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  let scale = 1e-12;
  let diff = 0;
  for (let i = 0; i < y.length; i++) {
    scale = Math.max(scale, Math.abs(y[i] as number));
    diff = Math.max(diff, Math.abs((x[i] as number) - (y[i] as number)));
  }
  return diff / scale;
}

describe('filterSequence', () => {
  it.each([
    ['with latent noise', true],
    ['with the posterior means (noise null)', false],
  ])(
    'equals the step-by-step composition: values bit for bit, gradients to float32 rounding (%s)',
    (_, withNoise) => {
      const eps = withNoise ? noise : null;
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        const fast = filterSequence(rssmParts(model), actions, embeddings, eps);
        const slow = filterComposed(rssmParts(model), actions, embeddings, eps);
        for (const key of ['h', 's', 'mean', 'std'] as const) {
          expect(fast[key].shape, key).toEqual(slow[key].shape);
          expect(Array.from(fast[key].dataSync()), key).toEqual(Array.from(slow[key].dataSync()));
        }
        const recurrent = Object.entries(rssmParts(model).recurrent);
        expect(recurrent).toHaveLength(10);
        const grads = (filter: typeof filterSequence) => {
          const f = lossOf(filter, eps);
          const { grads: g } = tf.variableGrads(
            () => f(embeddings) as tf.Scalar,
            recurrent.map(([, v]) => v),
          );
          const de = tf.grad(f)(embeddings);
          return { weights: recurrent.map(([, v]) => g[v.name] as tf.Tensor), de };
        };
        const ours = grads(filterSequence);
        const theirs = grads(filterComposed);
        expect(relDiff(ours.de, theirs.de)).toBeLessThan(2e-6);
        recurrent.forEach(([name], i) => {
          const want = theirs.weights[i] as tf.Tensor;
          expect(tf.max(tf.abs(want)).dataSync()[0], name).toBeGreaterThan(1e-3);
          expect(relDiff(ours.weights[i] as tf.Tensor, want), name).toBeLessThan(2e-6);
        });
      });
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it('runs the written-out backward pass here (the GRU step kernels, one weight product over all steps)', async () => {
    const profile = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(
        () => lossOf(filterSequence, noise)(embeddings) as tf.Scalar,
        Object.values(rssmParts(model).recurrent),
      );
      tf.dispose([value, ...Object.values(grads)]);
    });
    const names = profile.kernels.map((k) => k.name);
    expect(names).toContain('DcemGruCellGateGrad');
    expect(names).not.toContain('DcemGruCellGrad');
  });
});
