import { fitMean, fitStd, lmlWeights, sampleDiagonalGaussian, valuesToScores } from '@dcem/core';
import { checkGoldenDcemCase, GOLDEN_DCEM_TOL_ITERATE, type GoldenDcemCase } from '@dcem/core/testing';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { dcem, tfjsBackend } from './api.js';
import { flat, loadGolden, maxDiff } from './golden.test-utils.js';
import { activateBackend, TEST_BACKEND } from './test-backend.test-utils.js';

type DcemCase = GoldenDcemCase;

const { cases } = await loadGolden<DcemCase>('dcem.json');

beforeAll(async () => {
  await activateBackend(TEST_BACKEND);
});

type Params = Record<string, tf.Tensor>;

/** The golden objectives, written from their definitions in dcem.json's meta. */
function objective(c: DcemCase, params: Params): (x: tf.Tensor) => tf.Tensor {
  if (c.objective === 'quadratic') {
    const { n_batch: b, nx } = c.config;
    return (x) => {
      const q = tf.reshape(params.Q_diag as tf.Tensor, [b, 1, nx]);
      const p = tf.reshape(params.p as tf.Tensor, [b, 1, nx]);
      return tf.sum(tf.add(tf.mul(0.5, tf.mul(q, tf.square(x))), tf.mul(p, x)), -1);
    };
  }
  return (x) => {
    const theta = params.theta as tf.Tensor;
    const [u, v] = tf.unstack(x, -1) as [tf.Tensor, tf.Tensor];
    let f = tf.mul(0.15, tf.mul(u, tf.cos(v)));
    for (let i = 0; i < 3; i++) {
      const a = tf.slice(theta, [3 * i], [1]);
      const cx = tf.slice(theta, [3 * i + 1], [1]);
      const cy = tf.slice(theta, [3 * i + 2], [1]);
      const bump = tf.exp(tf.neg(tf.add(tf.square(tf.sub(u, cx)), tf.square(tf.sub(v, cy)))));
      f = tf.sub(f, tf.mul(a, bump));
    }
    return f;
  };
}

// The golden DCEM tolerance of @dcem/core/testing (float32 against the float64 reference; see its doc).
const TOL_ITERATE = GOLDEN_DCEM_TOL_ITERATE;

function paramTensors(c: DcemCase): Params {
  const out: Params = {};
  for (const [key, value] of Object.entries(c.obj_params)) out[key] = tf.tensor(value as number[]);
  return out;
}

describe(`dcem reproduces golden/dcem.json (tfjs ${TEST_BACKEND}, noise from the file, temperature = 1/temp)`, () => {
  for (const c of cases.filter((cc) => !cc.kinds.includes('lml_degenerate'))) {
    it(`${c.name} (${c.kinds.join(', ')})`, () => {
      const tensors = tf.memory().numTensors;
      checkGoldenDcemCase(tfjsBackend, c, { objective, grad: (f, x) => tf.grad(f)(x) });
      expect(tf.memory().numTensors).toBe(tensors);
    });
  }

  // numElites ≥ numSamples is rejected by dcem (it makes the output ignore the
  // objective, reference quirk 12). The reference's degenerate behaviour is
  // reproduced here from core's building blocks: LML with k ≥ n gives
  // 1 − 1e-5 everywhere.
  for (const c of cases.filter((cc) => cc.kinds.includes('lml_degenerate'))) {
    it(`${c.name}: building blocks reproduce the degenerate LML branch`, () => {
      const b = tfjsBackend;
      const cfg = c.config;
      const params = paramTensors(c);
      const f = objective(c, params);
      let mean: tf.Tensor = tf.tensor2d(cfg.init_mu);
      let std: tf.Tensor = tf.tensor2d(cfg.init_sigma);
      for (let t = 0; t < c.n_iter_run; t++) {
        const next = tf.tidy(() => {
          const x = sampleDiagonalGaussian(b, mean, std, tf.tensor3d(c.eps[t] as number[][][]));
          const { scores } = valuesToScores(b, f(x), {
            normalize: cfg.normalize,
            temperature: 1 / (cfg.temp as number),
          });
          const w = lmlWeights(b, scores, cfg.n_elite, 1 / (cfg.temp as number));
          const m = fitMean(b, x, w, cfg.n_elite);
          return { m, s: fitStd(b, x, w, m, cfg.n_elite, 1e-6) };
        });
        tf.dispose([mean, std]);
        mean = next.m;
        std = next.s;
        expect(maxDiff(mean.dataSync(), flat(c.mu_per_iter[t]))).toBeLessThanOrEqual(TOL_ITERATE);
        expect(maxDiff(std.dataSync(), flat(c.sigma_per_iter[t]))).toBeLessThanOrEqual(TOL_ITERATE);
      }
      expect(maxDiff(mean.dataSync(), flat(c.output))).toBeLessThanOrEqual(TOL_ITERATE);
      expect(() => dcem(f, { dim: cfg.nx, numSamples: cfg.n_sample, numElites: cfg.n_elite })).toThrow(
        RangeError,
      );
      tf.dispose([mean, std, ...Object.values(params)]);
    });
  }
});
