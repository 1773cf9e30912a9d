// The bound API of @dcem/tfjs on TensorFlow.js: convergence, the τ → 0
// limit, seeding, tensor-valued options, non-finite objective values and
// backend selection.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cem, type DcemResult, dcem, disposeCemResult } from './api.js';
import { maxDiff } from './golden.test-utils.js';
import { BACKEND_ORDER, selectBackend, useBackend } from './select/select-backend.js';

beforeAll(async () => {
  expect(await tf.setBackend('cpu')).toBe(true);
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

/** Reads and disposes a solve's tensors. */
function read(r: DcemResult): {
  solution: number[];
  mean: number[];
  std: number[];
} {
  const out = {
    solution: Array.from(r.solution.dataSync()),
    mean: Array.from(r.mean.dataSync()),
    std: Array.from(r.std.dataSync()),
  };
  disposeCemResult(r);
  return out;
}

function maxAbs(values: readonly number[]): number {
  return values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}

describe("the reference's quadratic test (facebookresearch/dcem test_dcem.py)", () => {
  // f_b(x) = scale · (½ xᵀx + p_bᵀx), Q = I, x*_b = −p_b; |p| ≈ 0.1 (the reference draws 0.1·N(0, 1)).
  const p = [0.154, -0.0612, -0.1091, 0.0837];
  const xStar = p.map((v) => -v);
  const options = {
    dim: 2,
    batchSize: 2,
    numSamples: 100,
    numElites: 50,
    numIterations: 40,
    temperature: 1,
    normalize: true,
    initStd: 1,
    tolerance: 0,
  };
  const objective = (pp: tf.Tensor, scale: number) => (x: tf.Tensor) =>
    tf.mul(scale, tf.sum(tf.add(tf.mul(0.5, tf.square(x)), tf.mul(tf.reshape(pp, [2, 1, 2]), x)), -1));

  for (const backendName of ['cpu', 'wasm'] as const) {
    describe(`on ${backendName}`, () => {
      beforeAll(async () => {
        expect(await tf.setBackend(backendName)).toBe(true);
      });
      afterAll(async () => {
        await tf.setBackend('cpu');
      });

      // The values are standardised as (v − mean)/(std + 1e-6) (reference quirk 2).
      // For f = ½xᵀx + pᵀx the spread of f over the samples is ~σ², which falls
      // below that 1e-6 once σ ≲ 1e-3: the scores then shrink towards 0, the
      // soft top-k weights towards k/N, and the mean random-walks at ~1e-4.
      // Scaling f by 1000 (same minimiser) keeps the spread above 1e-6 for
      // the 40 iterations: then ‖x̂ − x*‖∞ < 1e-4 holds (20 of 20 seeds, max
      // 5.2e-5 on cpu and wasm).
      it('f scaled by 1000 (same minimiser): ‖x̂ − x*‖∞ < 1e-4 after 40 iterations', () => {
        const pp = tf.tensor2d(p, [2, 2]);
        const r = dcem(objective(pp, 1000), { ...options, seed: 0 });
        pp.dispose();
        expect(tf.getBackend()).toBe(backendName);
        expect(r.iterations).toBe(40);
        expect(r.converged).toBe(false);
        const { solution, std } = read(r);
        expect(maxDiff(solution, xStar)).toBeLessThan(1e-4);
        expect(maxAbs(std)).toBeLessThan(1e-3);
      });

      // As written (Q = I, |p| ≈ 0.1), the reference's own assertion (< 1e-4)
      // holds only by luck: over 20 seeds the float64 backend of
      // @dcem/core/testing meets it for 15 % (median 1.6e-4, max 3.4e-4) and
      // tfjs float32 gives median 1.9e-4, max 3.6e-4. We check the accuracy
      // the standardisation floor allows.
      it('as written (Q = I): ‖x̂ − x*‖∞ < 1e-3 and σ < 2e-3 after 40 iterations', () => {
        const pp = tf.tensor2d(p, [2, 2]);
        const r = dcem(objective(pp, 1), { ...options, seed: 0 });
        pp.dispose();
        const { solution, std } = read(r);
        expect(maxDiff(solution, xStar)).toBeLessThan(1e-3);
        expect(maxAbs(std)).toBeLessThan(2e-3);
      });
    });
  }
});

describe('temperature → 0', () => {
  it('dcem with τ = 1e-3 follows the iterates of vanilla CEM with the same noise', () => {
    const batch = 2;
    const dim = 3;
    const numSamples = 10;
    const numElites = 3;
    const numIterations = 5;
    const tau = 1e-3;
    const c = tf.tensor2d([
      [1, -0.5, 0.25],
      [-1.5, 0.75, 2],
    ]);
    const q = tf.tensor2d([
      [1, 2, 0.5],
      [3, 1, 1.5],
    ]);
    const f = (x: tf.Tensor) =>
      tf.sum(
        tf.mul(tf.reshape(q, [batch, 1, dim]), tf.square(tf.sub(x, tf.reshape(c, [batch, 1, dim])))),
        -1,
      );
    type Trace = { mean: number[]; std: number[]; weights: number[]; values: number[][] };
    const run = (temperature: number | null, eps: tf.Tensor[]) => {
      const trace: Trace[] = [];
      const solve = temperature === null ? cem : dcem;
      const r = solve(f, {
        dim,
        batchSize: batch,
        numSamples,
        numElites,
        numIterations,
        temperature,
        initStd: 2,
        tolerance: 0,
        noise: (t) => eps[t] as tf.Tensor,
        onIteration: (info) => {
          trace.push({
            mean: Array.from(info.mean.dataSync()),
            std: Array.from(info.std.dataSync()),
            weights: Array.from(info.weights.dataSync()),
            values: info.values.arraySync() as number[][],
          });
        },
      });
      return { result: read(r), trace };
    };
    /** Smallest gap, in standardised values, between the k-th and (k+1)-th best sample of a row. */
    const minEliteGap = (trace: Trace[]) => {
      let gap = Number.POSITIVE_INFINITY;
      for (const it of trace) {
        for (const row of it.values) {
          const mean = row.reduce((a, v) => a + v, 0) / row.length;
          const sd = Math.sqrt(row.reduce((a, v) => a + (v - mean) ** 2, 0) / (row.length - 1));
          const sorted = [...row].sort((a, b) => a - b);
          gap = Math.min(gap, ((sorted[numElites] as number) - (sorted[numElites - 1] as number)) / sd);
        }
      }
      return gap;
    };
    // The limit holds where the hard elite set is unambiguous at the scale of τ:
    // with a gap g between the k-th and (k+1)-th standardised value, LML's
    // weights differ from the indicator by about e^(−g/2τ). Take the first
    // noise (seeds 700, 701, …) whose gaps are all ≥ 40τ (weights within ~e^(−20)).
    let eps: tf.Tensor[] = [];
    let hard: ReturnType<typeof run> | undefined;
    for (let seed = 700; seed < 800 && hard === undefined; seed++) {
      tf.dispose(eps);
      eps = Array.from({ length: numIterations }, (_, t) =>
        tf.randomNormal([batch, numSamples, dim], 0, 1, 'float32', seed * 100 + t),
      );
      const candidate = run(null, eps);
      if (minEliteGap(candidate.trace) >= 40 * tau) hard = candidate;
    }
    expect(hard, 'no noise seed in 700…799 gives elite gaps ≥ 40τ').toBeDefined();
    if (hard === undefined) return;
    const soft = run(tau, eps);
    const warm = run(1, eps);
    tf.dispose([...eps, c, q]);

    expect(hard.trace.length).toBe(numIterations);
    expect(soft.trace.length).toBe(numIterations);
    // The hard weights are exactly k ones per row.
    for (const it of hard.trace) {
      expect(it.weights.every((w) => w === 0 || w === 1)).toBe(true);
      expect(it.weights.reduce((a, w) => a + w, 0)).toBe(batch * numElites);
    }
    // Same elites, same iterates (float32 rounding of the weighted sums only).
    for (let t = 0; t < numIterations; t++) {
      const s = soft.trace[t] as Trace;
      const h = hard.trace[t] as Trace;
      expect(maxDiff(s.weights, h.weights), `weights at iteration ${t}`).toBeLessThan(1e-6);
      expect(maxDiff(s.mean, h.mean), `mean at iteration ${t}`).toBeLessThan(1e-5);
      expect(maxDiff(s.std, h.std), `std at iteration ${t}`).toBeLessThan(1e-5);
    }
    expect(maxDiff(soft.result.solution, hard.result.solution)).toBeLessThan(1e-5);
    // CEM made progress towards c (from μ₀ = 0, 2 away), so the runs are not compared at a standstill.
    expect(maxDiff(hard.result.solution, [1, -0.5, 0.25, -1.5, 0.75, 2])).toBeLessThan(1);
    // At τ = 1 the iterates differ: the comparison can fail.
    expect(maxDiff(warm.result.solution, hard.result.solution)).toBeGreaterThan(1e-2);
  });
});

describe('seed', () => {
  const f = (x: tf.Tensor) => tf.sum(tf.square(tf.sub(x, 0.5)), -1);
  const options = { dim: 3, batchSize: 2, numSamples: 16, numElites: 4, numIterations: 5, tolerance: 0 };

  it('the same seed gives identical results; different seeds differ (dcem and cem)', () => {
    for (const solve of [dcem, cem]) {
      const a = read(solve(f, { ...options, seed: 42 }));
      const b = read(solve(f, { ...options, seed: 42 }));
      const c = read(solve(f, { ...options, seed: 43 }));
      expect(b).toEqual(a);
      expect(maxDiff(a.solution, c.solution)).toBeGreaterThan(1e-4);
      expect(maxDiff(a.std, c.std)).toBeGreaterThan(1e-4);
    }
  });

  it('without a seed, two solves draw different samples', () => {
    const a = read(dcem(f, options));
    const b = read(dcem(f, options));
    expect(maxDiff(a.solution, b.solution)).toBeGreaterThan(0);
  });
});

describe('tensor-valued options', () => {
  const batch = 2;
  const dim = 3;
  const numSamples = 20;

  it('initMean [batch, dim] and initStd [dim]: the first samples are μ₀ + σ₀ ⊙ ε per row', () => {
    const mu0 = [
      [1, 2, 3],
      [-1, -2, -3],
    ];
    const sigma0 = [0.5, 1, 2];
    const initMean = tf.tensor2d(mu0);
    const initStd = tf.tensor1d(sigma0);
    const eps = tf.randomNormal([batch, numSamples, dim], 0, 1, 'float32', 9);
    const epsValues = eps.arraySync() as number[][][];
    let first: number[][][] | undefined;
    const r = dcem(
      (x) => {
        if (first === undefined) first = x.arraySync() as number[][][];
        return tf.sum(tf.square(x), -1);
      },
      {
        dim,
        batchSize: batch,
        numSamples,
        numElites: 5,
        numIterations: 1,
        initMean,
        initStd,
        noise: () => eps,
      },
    );
    read(r);
    tf.dispose([initMean, initStd, eps]);
    expect(first).toBeDefined();
    const expected = epsValues.map((row, b) =>
      row.map((e) => e.map((v, d) => (mu0[b]?.[d] as number) + (sigma0[d] as number) * v)),
    );
    expect(maxDiff((first as number[][][]).flat(2), expected.flat(2))).toBeLessThan(1e-6);
  });

  /** The solve of the bound tests (their objective pulls the solution onto a face of the box). */
  const boxSolve = {
    dim,
    batchSize: batch,
    // 60 samples, 10 elites: enough that no seed collapses σ before the box face is reached.
    numSamples: 60,
    numElites: 10,
    numIterations: 25,
    initStd: 2,
  };

  it('per-dimension bound tensors [dim] clamp every sample and the solution', () => {
    const lo = [-1, 0, -2];
    const hi = [1, 0.25, 2];
    const lowerBound = tf.tensor1d(lo);
    const upperBound = tf.tensor1d(hi);
    // The unconstrained minimiser c lies outside the box in dims 0 and 1.
    const c = tf.tensor1d([3, -1, 0.5]);
    let outside = 0;
    let onBound = 0;
    const r = dcem(
      (x) => {
        const values = x.dataSync();
        for (let i = 0; i < values.length; i++) {
          const d = i % dim;
          const v = values[i] as number;
          if (v < (lo[d] as number) || v > (hi[d] as number)) outside++;
          if (v === lo[d] || v === hi[d]) onBound++;
        }
        return tf.sum(tf.square(tf.sub(x, c)), -1);
      },
      { ...boxSolve, lowerBound, upperBound, seed: 5 },
    );
    tf.dispose([lowerBound, upperBound, c]);
    const { solution } = read(r);
    expect(outside).toBe(0);
    expect(onBound).toBeGreaterThan(0);
    solution.forEach((v, i) => {
      const d = i % dim;
      expect(v).toBeGreaterThanOrEqual(lo[d] as number);
      expect(v).toBeLessThanOrEqual(hi[d] as number);
    });
    // The box-constrained minimiser is clamp(c) = [1, 0, 0.5].
    expect(maxDiff(solution, [1, 0, 0.5, 1, 0, 0.5])).toBeLessThan(0.05);
  });

  it('per-row bound tensors [batch, dim] clamp each row to its own box', () => {
    const lo = [
      [-1, 0, -2],
      [0.5, -3, 1],
    ];
    const hi = [
      [1, 0.25, 2],
      [2, -1, 1.5],
    ];
    const lowerBound = tf.tensor2d(lo);
    const upperBound = tf.tensor2d(hi);
    const c = tf.tensor1d([3, -1, 0.5]);
    const initMean = tf.tidy(() => tf.div(tf.add(lowerBound, upperBound), 2));
    let outside = 0;
    const r = dcem(
      (x) => {
        const values = x.arraySync() as number[][][];
        values.forEach((row, b) => {
          for (const sample of row) {
            sample.forEach((v, d) => {
              if (v < (lo[b]?.[d] as number) || v > (hi[b]?.[d] as number)) outside++;
            });
          }
        });
        return tf.sum(tf.square(tf.sub(x, c)), -1);
      },
      { ...boxSolve, lowerBound, upperBound, initMean, seed: 6 },
    );
    tf.dispose([lowerBound, upperBound, c, initMean]);
    const { solution } = read(r);
    expect(outside).toBe(0);
    // The rows' boxes are disjoint in dims 1 and 2: a bound applied to the wrong row would show.
    solution.forEach((v, i) => {
      const b = Math.floor(i / dim);
      expect(v).toBeGreaterThanOrEqual(lo[b]?.[i % dim] as number);
      expect(v).toBeLessThanOrEqual(hi[b]?.[i % dim] as number);
    });
    // Towards the row-wise clamp(c) = [1, 0, 0.5] and [2, −1, 1]. A mean of samples
    // clamped to a box approaches a face of the box only as σ shrinks: 0.2 after 25 iterations.
    expect(maxDiff(solution, [1, 0, 0.5, 2, -1, 1])).toBeLessThan(0.2);
  });

  it('wrong shapes throw a RangeError that names the option and both shapes', () => {
    const f = (x: tf.Tensor) => tf.sum(tf.square(x), -1);
    const base = { dim, batchSize: batch, numSamples, numElites: 5, numIterations: 2 };
    const tensors = {
      mean33: tf.zeros([3, 3]),
      bound4: tf.zeros([4]),
      bound22: tf.ones([2, 2]),
      std3d: tf.ones([1, 2, 3]),
      noise: tf.zeros([batch, numSamples, 2]),
    };
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { initMean: tensors.mean33 },
        /^initMean must have shape \[3\], \[1, 3\] or \[2, 3\], received \[3, 3\]$/,
      ],
      [
        { lowerBound: tensors.bound4 },
        /^lowerBound must have shape \[3\], \[1, 3\] or \[2, 3\], received \[4\]$/,
      ],
      [
        { upperBound: tensors.bound22 },
        /^upperBound must have shape \[3\], \[1, 3\] or \[2, 3\], received \[2, 2\]$/,
      ],
      [
        { initStd: tensors.std3d },
        /^initStd must have shape \[3\], \[1, 3\] or \[2, 3\], received \[1, 2, 3\]$/,
      ],
      [{ noise: () => tensors.noise }, /^noise\(0\) must have shape \[2, 20, 3\], received \[2, 20, 2\]$/],
    ];
    for (const [extra, message] of cases) {
      expect(() => dcem(f, { ...base, ...extra })).toThrow(RangeError);
      expect(() => dcem(f, { ...base, ...extra })).toThrow(message);
    }
    expect(() => dcem((x) => tf.sum(x, -1, true), base)).toThrow(RangeError);
    expect(() => dcem((x) => tf.sum(x, -1, true), base)).toThrow(
      /^objective\(samples\) must have shape \[2, 20\], received \[2, 20, 1\]$/,
    );
    tf.dispose(Object.values(tensors));
  });
});

describe('non-finite objective values', () => {
  const batch = 2;
  const dim = 2;
  const numSamples = 60; // with 30 samples and 5 elites, hard CEM collapses early for some seeds
  const numIterations = 15;
  const target = [0.5, -1, -0.25, 1.5];

  for (const temperature of [1, null]) {
    it(`samples 0, 1, 2 of every row give NaN, +∞, −∞: ${temperature === null ? 'cem' : 'dcem'} still converges and counts them`, () => {
      const c = tf.tensor2d(target, [batch, dim]);
      // Columns 0, 1, 2 of every row: NaN, +∞, −∞ (−∞ must not be taken as the best value).
      const column = tf.tensor2d([Array.from({ length: numSamples }, (_, i) => i)]);
      const f = (x: tf.Tensor) => {
        const v = tf.sum(tf.square(tf.sub(x, tf.reshape(c, [batch, 1, dim]))), -1);
        const withNaN = tf.where(tf.equal(column, 0), tf.fill([batch, numSamples], Number.NaN), v);
        const withInf = tf.where(tf.equal(column, 1), tf.fill([batch, numSamples], Infinity), withNaN);
        return tf.where(tf.equal(column, 2), tf.fill([batch, numSamples], -Infinity), withInf);
      };
      let weightOnNonFinite = 0;
      const r = (temperature === null ? cem : dcem)(f, {
        dim,
        batchSize: batch,
        numSamples,
        numElites: 10,
        numIterations,
        temperature,
        initStd: 2,
        tolerance: 0,
        seed: 11,
        onIteration: (info) => {
          const w = info.weights.arraySync() as number[][];
          for (const row of w) weightOnNonFinite = Math.max(weightOnNonFinite, ...row.slice(0, 3));
        },
      });
      const nonFinite = r.nonFiniteValues;
      const { solution, mean } = read(r);
      tf.dispose([c, column]);
      expect(nonFinite).toBe(3 * batch * numIterations);
      expect(mean.every(Number.isFinite)).toBe(true);
      expect(weightOnNonFinite).toBeLessThan(1e-20);
      expect(maxDiff(solution, target)).toBeLessThan(0.05);
    });
  }

  it('NaN outside a region (x₀ > 1): dcem converges to the minimiser inside and reports a positive count', () => {
    const c = tf.tensor1d([0.25, -0.5]);
    const f = (x: tf.Tensor) => {
      const v = tf.sum(tf.square(tf.sub(x, c)), -1);
      const [x0] = tf.unstack(x, -1) as [tf.Tensor];
      return tf.where(tf.greater(x0, 1), tf.fill(v.shape, Number.NaN), v);
    };
    const r = dcem(f, {
      dim,
      batchSize: batch,
      numSamples,
      numElites: 5,
      numIterations,
      initStd: 2,
      seed: 3,
    });
    const nonFinite = r.nonFiniteValues;
    const { solution } = read(r);
    c.dispose();
    expect(nonFinite).toBeGreaterThan(0);
    expect(nonFinite).toBeLessThan(batch * numSamples * numIterations);
    expect(maxDiff(solution, [0.25, -0.5, 0.25, -0.5])).toBeLessThan(0.05);
  });
});

describe('backend selection (tfjs-node and tfjs-node-gpu are not installed, wasm is)', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('selectBackend() falls back to wasm and says why the faster backends were skipped', async () => {
    try {
      const selection = await selectBackend();
      expect(selection.active).toBe('wasm');
      expect(tf.getBackend()).toBe('wasm');
      // webgpu is skipped: here there is no GPU, at most a software adapter
      // (llvmpipe), which the default order does not take (webgpu.webgpu.test.ts).
      expect(selection.attempts.map((a) => [a.name, a.ok])).toEqual([
        ['tensorflow-gpu', false],
        ['webgpu', false],
        ['tensorflow', false],
        ['wasm', true],
      ]);
      const [gpu, webgpu, node, wasm] = selection.attempts;
      expect(webgpu?.reason).toMatch(/no GPU here|software adapter|no WebGPU adapter|not installed/);
      expect(gpu?.reason).toContain('@tensorflow/tfjs-node-gpu');
      expect(gpu?.reason).toContain('not installed');
      expect(node?.reason).toContain('@tensorflow/tfjs-node');
      expect(node?.reason).toContain('not installed');
      expect(wasm?.reason).toBeUndefined();
      expect(selection.message).toContain('wasm');
      expect(selection.message).toContain('@tensorflow/tfjs-node-gpu');
      expect(selection.message).toContain('@tensorflow/tfjs-node ');
      // The selected backend computes.
      const y = tf.sum(tf.tensor1d([1, 2, 3]));
      expect(y.dataSync()[0]).toBe(6);
      y.dispose();
    } finally {
      await tf.setBackend('cpu');
    }
  });

  it("selectBackend({ prefer: ['cpu'] }) selects cpu", async () => {
    await tf.setBackend('wasm');
    const selection = await selectBackend({ prefer: ['cpu'] });
    expect(selection.active).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(selection.attempts).toEqual([{ name: 'cpu', ok: true }]);
    expect(selection.message).toBe('tfjs backend: cpu');
  });

  it('selectBackend rejects an unknown name in prefer with a RangeError', async () => {
    await expect(selectBackend({ prefer: ['cpu', 'gpu' as never] })).rejects.toThrow(RangeError);
    expect(BACKEND_ORDER).toEqual(['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu']);
  });

  it("useBackend('tensorflow') rejects, naming @tensorflow/tfjs-node; cpu stays active", async () => {
    await expect(useBackend('tensorflow')).rejects.toThrow(/@tensorflow\/tfjs-node is not installed/);
    await expect(useBackend('tensorflow-gpu')).rejects.toThrow(/@tensorflow\/tfjs-node-gpu is not installed/);
    expect(tf.getBackend()).toBe('cpu');
  });

  it("useBackend('bogus') rejects with a RangeError; useBackend('wasm') and ('cpu') work", async () => {
    await expect(useBackend('bogus' as never)).rejects.toThrow(RangeError);
    await expect(useBackend('bogus' as never)).rejects.toThrow(/"bogus"/);
    // Arguments swapped (the tfjs namespace first, a circular object): still the RangeError naming the argument.
    await expect(useBackend(tf as never, 'wasm' as never)).rejects.toThrow(
      /backend must be one of .*received an object/,
    );
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(selectBackend({ prefer: [circular as never] })).rejects.toThrow(
      /prefer must list .*received an object/,
    );
    await expect(useBackend('cpu', tf, { reads: circular as never })).rejects.toThrow(
      /reads must be .*received an object/,
    );
    await useBackend('wasm');
    expect(tf.getBackend()).toBe('wasm');
    await useBackend('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });
});
