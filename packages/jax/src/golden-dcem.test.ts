// dcem over the jax-js backend against golden/dcem.json (the reference,
// float64, with its Gaussian draws stored): iterates, outputs and gradients.
import { dcem, disposeCemResult } from '@dcem/core';
import { flat, type GoldenDcemCase, loadGolden, maxDiff } from '@dcem/core/testing';
import { numpy as np } from '@jax-js/jax';
import { describe, expect, it } from 'vitest';
import { createJaxBackend, type Tensor } from './backend.js';

const b = createJaxBackend();

/** Runs `fn` in a `tidy` of the backend (for blocks that return nothing). */
const scoped = (fn: () => void): void => {
  b.tidy(() => {
    fn();
    return undefined;
  });
};
const { cases } = await loadGolden<GoldenDcemCase>('dcem.json');

type Params = Record<string, Tensor>;

/** The golden objectives, from their definitions in dcem.json's meta, with the backend's ops (cos from jax-js). */
function objective(c: GoldenDcemCase, params: Params): (x: Tensor) => Tensor {
  const { n_batch: batch, nx, n_sample: samples } = c.config;
  if (c.objective === 'quadratic') {
    return (x) => {
      const q = b.reshape(params.Q_diag as Tensor, [batch, 1, nx]);
      const p = b.reshape(params.p as Tensor, [batch, 1, nx]);
      return b.sum(b.add(b.mul(b.scalar(0.5), b.mul(q, b.square(x))), b.mul(p, x)), -1, false);
    };
  }
  const cos = b.wrap((t) => np.cos(t));
  const theta = b.reshape(params.theta as Tensor, [1, 9]);
  const entry = (i: number) => b.sliceColumns(theta, i, 1); // [1, 1]
  return (x) => {
    const rows = b.reshape(x, [batch * samples, 2]);
    const u = b.sliceColumns(rows, 0, 1);
    const v = b.sliceColumns(rows, 1, 1);
    let f = b.mul(b.scalar(0.15), b.mul(u, cos(v)));
    for (let i = 0; i < 3; i++) {
      const d = b.add(b.square(b.sub(u, entry(3 * i + 1))), b.square(b.sub(v, entry(3 * i + 2))));
      f = b.sub(f, b.mul(entry(3 * i), b.exp(b.mul(d, b.scalar(-1)))));
    }
    return b.reshape(f, [batch, samples]);
  };
}

// The tolerances of @dcem/tfjs's golden DCEM test (the same float32
// arithmetic, measured there at ~1e-7 for iterates and 4e-7 for gradients).
const TOL_ITERATE = 2e-6;
const TOL_GRAD_REL = 1e-5;

describe(`dcem reproduces golden/dcem.json on ${b.name} (noise from the file, temperature = 1/temp)`, () => {
  for (const c of cases.filter((cc) => !cc.kinds.includes('lml_degenerate'))) {
    it(`${c.name} (${c.kinds.join(', ')})`, () => {
      const arrays = b.liveArrays();
      scoped(() => {
        const cfg = c.config;
        const params: Params = {};
        for (const [key, value] of Object.entries(c.obj_params)) {
          const shape = Array.isArray(value[0])
            ? [value.length, (value[0] as number[]).length]
            : [value.length];
          params[key] = b.tensor(flat(value), shape);
        }
        const eps = c.eps.map((e) => b.tensor(flat(e), [cfg.n_batch, cfg.n_sample, cfg.nx]));
        const means: number[][] = [];
        const stds: number[][] = [];
        const run = (p: Params, record: boolean) =>
          dcem(b, objective(c, p), {
            dim: cfg.nx,
            batchSize: cfg.n_batch,
            numSamples: cfg.n_sample,
            numElites: cfg.n_elite,
            numIterations: cfg.n_iter,
            temperature: cfg.temp === null ? null : 1 / cfg.temp,
            normalize: cfg.normalize,
            ...(cfg.lb === null ? {} : { lowerBound: cfg.lb }),
            ...(cfg.ub === null ? {} : { upperBound: cfg.ub }),
            initMean: b.tensor(flat(cfg.init_mu), [cfg.n_batch, cfg.nx]),
            initStd: b.tensor(flat(cfg.init_sigma), [cfg.n_batch, cfg.nx]),
            tolerance: cfg.iter_eps,
            // Stop at convergence as the reference does (a read of the flag per
            // iteration); without it the solve runs its frozen iterations too.
            earlyStopping: true,
            lmlIterations: 30,
            noise: (t) => eps[t] as Tensor,
            ...(record
              ? {
                  onIteration: (info) => {
                    means.push(Array.from(b.readSync(info.mean)));
                    stds.push(Array.from(b.readSync(info.std)));
                  },
                }
              : {}),
          });
        const result = run(params, true);
        expect(result.iterations).toBe(c.n_iter_run);
        expect(result.converged).toBe(c.early_exit);
        expect(result.nonFiniteValues).toBe(0);
        expect(means.length).toBe(c.early_exit ? c.n_iter_run - 1 : c.n_iter_run);
        means.forEach((m, t) => {
          expect(maxDiff(m, flat(c.mu_per_iter[t]))).toBeLessThanOrEqual(TOL_ITERATE);
          expect(maxDiff(stds[t] as number[], flat(c.sigma_per_iter[t]))).toBeLessThanOrEqual(TOL_ITERATE);
        });
        const last = c.n_iter_run - 1;
        expect(maxDiff(b.readSync(result.mean), flat(c.mu_per_iter[last]))).toBeLessThanOrEqual(TOL_ITERATE);
        expect(maxDiff(b.readSync(result.std), flat(c.sigma_per_iter[last]))).toBeLessThanOrEqual(
          TOL_ITERATE,
        );
        expect(maxDiff(b.readSync(result.solution), flat(c.output))).toBeLessThanOrEqual(TOL_ITERATE);
        disposeCemResult(b, result);

        if (c.grad !== null) {
          const w = b.tensor(flat(c.w), [cfg.n_batch, cfg.nx]);
          for (const key of Object.keys(c.obj_params)) {
            const g = b.grad(
              (t) => b.mul(w, run({ ...params, [key]: t }, false).solution),
              params[key] as Tensor,
            );
            const expected = flat(c.grad[key]);
            const scale = Math.max(1, ...expected.map(Math.abs));
            expect(maxDiff(b.readSync(g), expected) / scale).toBeLessThanOrEqual(TOL_GRAD_REL);
          }
        }
      });
      expect(b.liveArrays()).toBe(arrays);
    });
  }
});
