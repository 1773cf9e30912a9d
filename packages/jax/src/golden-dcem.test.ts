// dcem over the jax-js backend against golden/dcem.json (the reference,
// float64, with its Gaussian draws stored): iterates, outputs and gradients.
import { checkGoldenDcemCase, type GoldenDcemCase, loadGolden } from '@dcem/core/testing';
import { numpy as np } from '@jax-js/jax';
import { describe, expect, it } from 'vitest';
import { createJaxBackend, type Tensor } from './backend.js';

const b = createJaxBackend();

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

describe(`dcem reproduces golden/dcem.json on ${b.name} (noise from the file, temperature = 1/temp)`, () => {
  for (const c of cases.filter((cc) => !cc.kinds.includes('lml_degenerate'))) {
    it(`${c.name} (${c.kinds.join(', ')})`, () => {
      const arrays = b.liveArrays();
      checkGoldenDcemCase(b, c, { objective, grad: b.grad });
      expect(b.liveArrays()).toBe(arrays);
    });
  }
});
