import { fitMean, fitStd, lmlWeights, sampleDiagonalGaussian, valuesToScores } from '@dcem/core';
import type { GoldenDcemCase } from '@dcem/core/testing';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { dcem, disposeCemResult, tfjsBackend } from './api.js';
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

// Float32 tolerances. The reference is float64; tfjs computes in float32
// (ε₃₂ ≈ 1.2e-7). Iterates, outputs and σ are O(1) here, so their rounding
// error is a few ε₃₂ per operation; measured on the cpu backend the largest
// deviation over all cases is about 1e-7 for iterates and 4e-7 (relative to
// max(1, |grad|)) for gradients. The bounds below allow about 20× that,
// enough for other summation orders, far below any semantic difference
// (a wrong normalisation or division changes iterates by > 1e-2).
const TOL_ITERATE = 2e-6;
const TOL_GRAD_REL = 1e-5;

function paramTensors(c: DcemCase): Params {
  const out: Params = {};
  for (const [key, value] of Object.entries(c.obj_params)) out[key] = tf.tensor(value as number[]);
  return out;
}

describe(`dcem reproduces golden/dcem.json (tfjs ${TEST_BACKEND}, noise from the file, temperature = 1/temp)`, () => {
  for (const c of cases.filter((cc) => !cc.kinds.includes('lml_degenerate'))) {
    it(`${c.name} (${c.kinds.join(', ')})`, () => {
      const cfg = c.config;
      const params = paramTensors(c);
      const eps = c.eps.map((e) => tf.tensor3d(e));
      const initMean = tf.tensor2d(cfg.init_mu);
      const initStd = tf.tensor2d(cfg.init_sigma);
      const means: number[][] = [];
      const stds: number[][] = [];
      const run = (p: Params) =>
        dcem(objective(c, p), {
          dim: cfg.nx,
          batchSize: cfg.n_batch,
          numSamples: cfg.n_sample,
          numElites: cfg.n_elite,
          numIterations: cfg.n_iter,
          temperature: cfg.temp === null ? null : 1 / cfg.temp,
          normalize: cfg.normalize,
          ...(cfg.lb === null ? {} : { lowerBound: cfg.lb }),
          ...(cfg.ub === null ? {} : { upperBound: cfg.ub }),
          initMean,
          initStd,
          tolerance: cfg.iter_eps,
          lmlIterations: 30,
          noise: (t) => eps[t] as tf.Tensor,
          onIteration: (info) => {
            means.push(Array.from(info.mean.dataSync()));
            stds.push(Array.from(info.std.dataSync()));
          },
        });
      const result = run(params);
      expect(result.iterations).toBe(c.n_iter_run);
      expect(result.converged).toBe(c.early_exit);
      expect(result.nonFiniteValues).toBe(0);
      // Callbacks fire on every iteration but an early-exit one.
      expect(means.length).toBe(c.early_exit ? c.n_iter_run - 1 : c.n_iter_run);
      means.forEach((m, t) => {
        expect(maxDiff(m, flat(c.mu_per_iter[t]))).toBeLessThanOrEqual(TOL_ITERATE);
        expect(maxDiff(stds[t] as number[], flat(c.sigma_per_iter[t]))).toBeLessThanOrEqual(TOL_ITERATE);
      });
      const last = c.n_iter_run - 1;
      expect(maxDiff(result.mean.dataSync(), flat(c.mu_per_iter[last]))).toBeLessThanOrEqual(TOL_ITERATE);
      expect(maxDiff(result.std.dataSync(), flat(c.sigma_per_iter[last]))).toBeLessThanOrEqual(TOL_ITERATE);
      expect(maxDiff(result.solution.dataSync(), flat(c.output))).toBeLessThanOrEqual(TOL_ITERATE);
      disposeCemResult(result);

      if (c.grad !== null) {
        const keys = Object.keys(c.obj_params);
        const w = tf.tensor2d(c.w);
        const grads = tf.grads((...ps: tf.Tensor[]) => {
          const p: Params = {};
          keys.forEach((key, i) => {
            p[key] = ps[i] as tf.Tensor;
          });
          const r = run(p);
          return tf.sum(tf.mul(w, r.solution));
        })(keys.map((key) => params[key] as tf.Tensor));
        keys.forEach((key, i) => {
          const expected = flat((c.grad as Record<string, unknown>)[key]);
          const scale = Math.max(1, ...expected.map(Math.abs));
          const got = (grads[i] as tf.Tensor).dataSync();
          expect(maxDiff(got, expected) / scale).toBeLessThanOrEqual(TOL_GRAD_REL);
        });
        tf.dispose([w, ...grads]);
      }
      tf.dispose([...Object.values(params), ...eps, initMean, initStd]);
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
