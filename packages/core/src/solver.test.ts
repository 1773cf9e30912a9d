/**
 * The iCEM / MPPI / TD-MPC2 features of the solver on the float64 reference
 * backend: momentum, σ ceiling, population decay, kept elites, the mean in
 * the last iteration, per-row convergence, warm starts, `best` and
 * `elites`, seeds, and every bad input of the new options.
 */
import { describe, expect, it } from 'vitest';
import { cem, dcem } from './cem.js';
import { colouredNoise } from './coloured-noise.js';
import { recorder, type Snapshot } from './iteration-recorder.test-utils.js';
import type { CemOptions } from './options.js';
import { type CemPreset, PRESET_NAMES, presets } from './presets.js';
import { deriveSeed, SEED_STREAMS } from './seed.js';
import {
  type CemResult,
  type CemSolver,
  createCem,
  createDcem,
  disposeCemResult,
  meanChange,
} from './solver.js';
import { createFloat64Backend, type Float64Tensor } from './testing/index.js';

const b = createFloat64Backend();
type T = Float64Tensor;
const read = (x: T): number[] => Array.from(b.readSync(x));

/** f(x) = Σⱼ (xⱼ − cⱼ)² per row, with a per-row centre c [batch][dim]. */
function bowl(centre: number[][]): (x: T) => T {
  const batch = centre.length;
  const dim = centre[0]?.length ?? 0;
  const c = b.tensor(centre.flat(), [batch, 1, dim]);
  return (x) => b.sum(b.square(b.sub(x, c)), -1, false);
}
const f = bowl([
  [0.5, -1, 2],
  [-0.3, 0.8, 0.1],
]);

/** Drives a solver by hand and returns every (samples, values) pair plus the result. */
function drive(solver: CemSolver<T>, objective: (x: T) => T, start?: Parameters<CemSolver<T>['init']>[0]) {
  const asked: { samples: number[]; shape: readonly number[]; values: number[] }[] = [];
  let state = solver.init(start);
  while (!solver.done(state)) {
    const x = solver.ask(state);
    const v = objective(x);
    asked.push({ samples: read(x), shape: b.shape(x), values: read(v) });
    const next = solver.tell(state, x, v);
    solver.release(state);
    state = next;
  }
  return { asked, state, result: solver.result(state) };
}

/** Rows of a flattened [batch, n, dim] tensor for batch row `r`. */
function rowsOf(values: readonly number[], shape: readonly number[], r: number): number[][] {
  const [, n = 0, dim = 0] = shape;
  return Array.from({ length: n }, (_, i) => values.slice((r * n + i) * dim, (r * n + i + 1) * dim));
}

const base: CemOptions<T> = { dim: 3, batchSize: 2, numSamples: 30, numElites: 6, numIterations: 6, seed: 7 };

describe('momentum', () => {
  it('one iteration gives μ₁ = α μ₀ + (1 − α) μ_fit and σ₁ = α σ₀ + (1 − α) σ_fit exactly', () => {
    const alpha = 0.3;
    const opts: CemOptions<T> = {
      ...base,
      numIterations: 1,
      tolerance: 0,
      initMean: b.tensor([0.1, 0.2, 0.3, -0.1, -0.2, -0.3], [2, 3]),
      initStd: 0.7,
      temperature: 1,
    };
    const plain = dcem(b, f, opts);
    const mixed = dcem(b, f, { ...opts, momentum: alpha });
    const mu0 = [0.1, 0.2, 0.3, -0.1, -0.2, -0.3];
    const fitMu = read(plain.mean);
    const fitSigma = read(plain.std);
    read(mixed.mean).forEach((v, i) => {
      expect(v).toBeCloseTo(alpha * (mu0[i] as number) + (1 - alpha) * (fitMu[i] as number), 14);
    });
    read(mixed.std).forEach((v, i) => {
      expect(v).toBeCloseTo(alpha * 0.7 + (1 - alpha) * (fitSigma[i] as number), 14);
    });
    // Not vacuous: the fit moved the mean.
    expect(Math.max(...fitMu.map((v, i) => Math.abs(v - (mu0[i] as number))))).toBeGreaterThan(0.05);
  });

  it('maxStd caps σ after the momentum; minStd = maxStd fixes σ (the MPPI preset)', () => {
    const r = cem(b, f, { ...base, tolerance: 0, initStd: 3, maxStd: 0.4 });
    for (const s of read(r.std)) expect(s).toBeLessThanOrEqual(0.4);
    const fixed = cem(b, f, { ...base, tolerance: 0, initStd: 1, minStd: 1, maxStd: 1 });
    for (const s of read(fixed.std)) expect(s).toBe(1);
  });
});

describe('population decay', () => {
  it('draws Nᵢ = max(⌊N γ^(−i)⌋, minSamples) fresh samples at iteration i', () => {
    const rec = recorder(b);
    cem(b, f, {
      ...base,
      numSamples: 100,
      numElites: 10,
      numIterations: 10,
      tolerance: 0,
      populationDecay: 1.25,
      onIteration: rec.onIteration,
    });
    // 100 · 1.25^(−i) = 100, 80, 64, 51.2, 40.96, 32.77, 26.21, 20.97, 16.78, 13.42; floor 2k = 20.
    expect(rec.log.map((s) => s.shape[1])).toEqual([100, 80, 64, 51, 40, 32, 26, 20, 20, 20]);
  });

  it('honours an explicit minSamples and adds kept elites and the mean on top', () => {
    const solver = createCem(b, {
      ...base,
      numSamples: 40,
      numElites: 4,
      numIterations: 4,
      tolerance: 0,
      populationDecay: 2,
      minSamples: 7,
      keepElites: 0.5,
      addMeanToLast: true,
    });
    const { asked, result } = drive(solver, f);
    // Fresh 40, 20, 10, 7; + ⌊0.5·4⌋ = 2 kept from iteration 1 on; + the mean in the last.
    expect(asked.map((a) => a.shape[1])).toEqual([40, 22, 12, 10]);
    expect([0, 1, 2, 3].map((i) => solver.freshSamples(i))).toEqual([40, 20, 10, 7]);
    disposeCemResult(b, result);
    solver.dispose();
  });
});

describe('kept elites and the mean in the last iteration', () => {
  it('the ⌊ξk⌋ best samples of iteration i are the last samples of iteration i + 1 (re-evaluated)', () => {
    const solver = createCem(b, { ...base, tolerance: 0, keepElites: 0.5 });
    const { asked } = drive(solver, f);
    const kept = 3;
    for (let i = 0; i + 1 < asked.length; i++) {
      const now = asked[i] as (typeof asked)[number];
      const next = asked[i + 1] as (typeof asked)[number];
      const n = now.shape[1] as number;
      for (let r = 0; r < 2; r++) {
        const values = now.values.slice(r * n, (r + 1) * n);
        const order = values.map((v, j) => [v, j] as const).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
        const samples = rowsOf(now.samples, now.shape, r);
        const nextRows = rowsOf(next.samples, next.shape, r);
        const m = next.shape[1] as number;
        for (let j = 0; j < kept; j++) {
          expect(nextRows[m - kept + j]).toEqual(samples[(order[j] as readonly [number, number])[1]]);
        }
      }
    }
    solver.dispose();
  });

  it('with reuseEliteValues, ask returns only fresh samples and tell evaluates the kept ones with their old values', () => {
    const rec = recorder(b);
    const solver = createCem(b, {
      ...base,
      tolerance: 0,
      keepElites: 0.5,
      reuseEliteValues: true,
      onIteration: rec.onIteration,
    });
    const { asked } = drive(solver, f);
    expect(asked.map((a) => a.shape[1])).toEqual([30, 30, 30, 30, 30, 30]);
    expect(rec.log.map((s) => s.shape[1])).toEqual([30, 33, 33, 33, 33, 33]);
    for (let i = 0; i + 1 < rec.log.length; i++) {
      const now = rec.log[i] as Snapshot;
      const next = rec.log[i + 1] as Snapshot;
      const n = now.shape[1] as number;
      for (let r = 0; r < 2; r++) {
        const values = now.values.slice(r * n, (r + 1) * n);
        const best = [...values].sort((x, y) => x - y).slice(0, 3);
        const m = next.shape[1] as number;
        expect(next.values.slice(r * m + m - 3, (r + 1) * m)).toEqual(best);
      }
    }
    solver.dispose();
  });

  it('addMeanToLast evaluates the clamped mean as the last sample of the last iteration', () => {
    const solver = createCem(b, { ...base, tolerance: 0, addMeanToLast: true, upperBound: 0.2 });
    let state = solver.init();
    let lastMean: number[] = [];
    let last: number[] = [];
    let shape: readonly number[] = [];
    while (!solver.done(state)) {
      lastMean = read(state.mean).map((v) => Math.min(v, 0.2));
      const x = solver.ask(state);
      last = read(x);
      shape = b.shape(x);
      const next = solver.tell(state, x, f(x));
      solver.release(state);
      state = next;
    }
    expect(shape[1]).toBe(31);
    expect(rowsOf(last, shape, 0)[30]).toEqual(lastMean.slice(0, 3));
    expect(rowsOf(last, shape, 1)[30]).toEqual(lastMean.slice(3, 6));
    disposeCemResult(b, solver.result(state));
    solver.dispose();
  });
});

describe('coloured noise', () => {
  // x ∈ ℝ^(H·m) laid out as [H = 16, m = 2]; μ₀ = 0, σ₀ = 1, so the first samples are ε itself.
  const shape = [16, 2];
  const opts: CemOptions<T> = {
    dim: 32,
    batchSize: 2,
    numSamples: 50,
    numElites: 5,
    numIterations: 1,
    seed: 5,
  };
  const firstSamples = (extra: Partial<CemOptions<T>>) => {
    const solver = createCem(b, { ...opts, ...extra });
    const state = solver.init();
    const x = read(solver.ask(state));
    solver.dispose();
    return x;
  };
  /** Mean lag-1 correlation along H of [batch·N, H, m] draws. */
  const lag1 = (x: readonly number[]) => {
    let num = 0;
    let den = 0;
    for (let s = 0; s < x.length / 32; s++) {
      for (let h = 0; h + 1 < 16; h++) {
        for (let j = 0; j < 2; j++) {
          const a = x[s * 32 + h * 2 + j] as number;
          const c = x[s * 32 + (h + 1) * 2 + j] as number;
          num += a * c;
          den += a * a;
        }
      }
    }
    return num / den;
  };

  it('draws colouredNoise along noiseAxis of noiseShape, seeded per iteration', () => {
    const x = firstSamples({ noiseExponent: 2, noiseShape: shape, noiseAxis: 0 });
    const expected = read(
      colouredNoise(b, [2, 50, 16, 2], 2, 2, deriveSeed(5, SEED_STREAMS.solverIteration, 0)),
    );
    expect(x).toEqual(expected);
    expect(lag1(x)).toBeGreaterThan(0.5);
    // β = 0 keeps today's white draws exactly.
    const white = firstSamples({ noiseExponent: 0, noiseShape: shape });
    expect(white).toEqual(read(b.randomNormal([2, 50, 32], deriveSeed(5, SEED_STREAMS.solverIteration, 0))));
    expect(Math.abs(lag1(white))).toBeLessThan(0.1);
  });

  it('colours the chosen axis only', () => {
    // Along m (axis 1 of [16, 2]) instead: consecutive steps are then independent.
    const x = firstSamples({ noiseExponent: 2, noiseShape: shape, noiseAxis: 1 });
    expect(Math.abs(lag1(x))).toBeLessThan(0.1);
  });
});

describe('warm start: init(start)', () => {
  it('takes μ₀, σ₀ and candidate elites, evaluated with the first fresh samples', () => {
    const solver = createCem(b, { ...base, tolerance: 0, numIterations: 1 });
    const mean = b.tensor([1, 1, 1, -1, -1, -1], [2, 3]);
    const std = b.tensor([0.1, 0.1, 0.1, 0.2, 0.2, 0.2], [2, 3]);
    const elites = b.tensor([0.5, -1, 2, 9, 9, 9, -0.3, 0.8, 0.1, 7, 7, 7], [2, 2, 3]);
    const state = solver.init({ mean, std, elites });
    expect(read(state.mean)).toEqual(read(mean));
    expect(read(state.std)).toEqual(read(std));
    const x = solver.ask(state);
    expect(b.shape(x)).toEqual([2, 32, 3]);
    expect(rowsOf(read(x), b.shape(x), 0).slice(30)).toEqual([
      [0.5, -1, 2],
      [9, 9, 9],
    ]);
    const next = solver.tell(state, x, f(x));
    // The warm-start candidates are the exact minimisers: they are the best samples.
    const r = solver.result(next);
    expect(read(r.best.value)).toEqual([0, 0]);
    expect(read(r.best.sample)).toEqual([0.5, -1, 2, -0.3, 0.8, 0.1]);
    solver.release(state);
    disposeCemResult(b, r);
    solver.dispose();
  });

  it('rejects a bad start', () => {
    const solver = createCem(b, base);
    expect(() => solver.init({ elites: b.fill([2, 3], 0) })).toThrow(RangeError);
    expect(() => solver.init({ elites: b.fill([2, 3], 0) })).toThrow(/start\.elites/);
    expect(() => createCem(b, { ...base, debug: true }).init({ std: b.fill([2, 3], 0) })).toThrow(
      /start\.std must be > 0/,
    );
    // Without debug σ₀ is not read: a zero σ₀ is the caller's to avoid.
    expect(() => solver.release(solver.init({ std: b.fill([2, 3], 0) }))).not.toThrow();
    expect(() => solver.init({ mean: b.fill([3, 3], 0) })).toThrow(/start\.mean/);
    expect(() => solver.init({ means: b.fill([2, 3], 0) } as never)).toThrow(TypeError);
    expect(() => solver.init({ means: b.fill([2, 3], 0) } as never)).toThrow(/"means".*"mean"/);
  });
});

describe('best and elites in the result', () => {
  it('best is the lowest value ever evaluated per row, with its sample', () => {
    const rec = recorder(b);
    const r = dcem(b, f, {
      ...base,
      tolerance: 0,
      keepElites: 0.3,
      momentum: 0.2,
      onIteration: rec.onIteration,
    });
    for (let row = 0; row < 2; row++) {
      let bestValue = Number.POSITIVE_INFINITY;
      let bestSample: number[] = [];
      for (const s of rec.log) {
        const n = s.shape[1] as number;
        const samples = rowsOf(s.samples, s.shape, row);
        s.values.slice(row * n, (row + 1) * n).forEach((v, j) => {
          if (v < bestValue) {
            bestValue = v;
            bestSample = samples[j] as number[];
          }
        });
      }
      expect(read(r.best.value)[row]).toBe(bestValue);
      expect(read(r.best.sample).slice(row * 3, row * 3 + 3)).toEqual(bestSample);
    }
  });

  it('elites are the k best of the last iteration, best first, with renormalised weights', () => {
    const rec = recorder(b);
    const r = dcem(b, f, { ...base, tolerance: 0, onIteration: rec.onIteration });
    const last = rec.log[rec.log.length - 1] as Snapshot;
    const n = last.shape[1] as number;
    const values = read(r.elites.values);
    const weights = read(r.elites.weights);
    expect(b.shape(r.elites.samples)).toEqual([2, 6, 3]);
    for (let row = 0; row < 2; row++) {
      const v = last.values.slice(row * n, (row + 1) * n);
      const order = v.map((x, j) => [x, j] as const).sort((x, y) => x[0] - y[0]);
      const top = order.slice(0, 6).map((o) => o[1]);
      expect(values.slice(row * 6, row * 6 + 6)).toEqual(top.map((j) => v[j]));
      const w = top.map((j) => last.weights[row * n + j] as number);
      const total = w.reduce((a, c) => a + c, 0);
      weights.slice(row * 6, row * 6 + 6).forEach((x, j) => {
        expect(x).toBeCloseTo((w[j] as number) / total, 14);
      });
      const samples = rowsOf(last.samples, last.shape, row);
      expect(rowsOf(read(r.elites.samples), [2, 6, 3], row)).toEqual(top.map((j) => samples[j]));
    }
  });

  it('an interrupted solve keeps best, and reports the fallback elites (they are gathered when the solve ends)', () => {
    const solver = createCem(b, { ...base, tolerance: 0 });
    let state = solver.init();
    for (let t = 0; t < 2; t++) {
      const x = solver.ask(state);
      const next = solver.tell(state, x, f(x));
      solver.release(state);
      state = next;
    }
    expect(state.elites).toBeUndefined();
    const r = solver.result(state);
    expect(read(r.best.value).every(Number.isFinite)).toBe(true);
    expect(read(r.elites.values)).toEqual(new Array(12).fill(Infinity));
    solver.dispose();
  });

  it('before any iteration the result reports the solution, value +∞ and uniform elites', () => {
    const solver = createCem(b, base);
    const r = solver.result(solver.init());
    expect(read(r.best.value)).toEqual([Infinity, Infinity]);
    expect(read(r.best.sample)).toEqual(read(r.solution));
    expect(read(r.elites.weights)).toEqual(new Array(12).fill(1 / 6));
    solver.dispose();
  });
});

describe("convergence: 'row'", () => {
  // Row 0 starts with a tiny σ, so its mean moves by < tolerance at once; row 1 keeps going.
  const opts: CemOptions<T> = {
    ...base,
    numIterations: 8,
    tolerance: 1e-3,
    initStd: b.tensor([1e-6, 1e-6, 1e-6, 1, 1, 1], [2, 3]),
    convergence: 'row',
  };

  it('freezes a converged row while another keeps running, and matches the row solved alone', () => {
    const rec = recorder(b);
    const r = cem(b, f, { ...opts, onIteration: rec.onIteration });
    expect(r.iterations).toBe(8);
    expect(r.converged).toBe(false);
    // Row 0 froze after its first iteration: every later mean and σ of row 0 is the same.
    const means0 = rec.log.map((s) => s.mean.slice(0, 3));
    const stds0 = rec.log.map((s) => s.std.slice(0, 3));
    for (const m of means0) expect(m).toEqual(means0[0]);
    for (const s of stds0) expect(s).toEqual([1e-6, 1e-6, 1e-6]);
    // Row 1 kept moving.
    const means1 = rec.log.map((s) => s.mean.slice(3, 6));
    expect(means1[7]).not.toEqual(means1[1]);
    // Row 0 of the batch equals row 0 solved alone (whole-batch convergence of one row).
    const alone = cem(b, bowl([[0.5, -1, 2]]), {
      ...opts,
      batchSize: 1,
      initStd: 1e-6,
      convergence: 'batch',
    });
    expect(alone.iterations).toBe(1);
    expect(alone.converged).toBe(true);
    expect(read(r.mean).slice(0, 3)).toEqual(read(alone.mean));
    expect(read(r.std).slice(0, 3)).toEqual(read(alone.std));
    expect(read(r.best.sample).slice(0, 3)).toEqual(read(alone.best.sample));
    expect(read(r.elites.samples).slice(0, 18)).toEqual(read(alone.elites.samples));
  });

  it('the solve ends once every row has converged', () => {
    const r = cem(b, f, { ...opts, initStd: 1e-6, numIterations: 5 });
    expect(r.converged).toBe(true);
    expect(r.iterations).toBe(1);
  });

  it("'batch' (the default) keeps today's whole-batch rule", () => {
    const r = cem(b, f, { ...opts, convergence: 'batch' });
    expect(r.converged).toBe(false);
    expect(r.iterations).toBe(8);
  });
});

describe('seeds', () => {
  it('every option on: the same seed reproduces the solve bit for bit, another seed does not', () => {
    const opts: CemOptions<T> = {
      ...base,
      selector: 'sparse',
      momentum: 0.1,
      maxStd: 2,
      populationDecay: 1.25,
      keepElites: 0.3,
      reuseEliteValues: true,
      addMeanToLast: true,
      convergence: 'row',
    };
    const flat = (r: CemResult<T>) => [
      ...read(r.mean),
      ...read(r.std),
      ...read(r.best.sample),
      ...read(r.elites.samples),
      ...read(r.elites.weights),
    ];
    const one = flat(cem(b, f, opts));
    expect(flat(cem(b, f, opts))).toEqual(one);
    expect(flat(cem(b, f, { ...opts, seed: 8 }))).not.toEqual(one);
  });
});

describe('the convergence test and the draws made ahead', () => {
  it('measures the change of the mean per row or over the batch, from float32 differences', () => {
    const next = [3, 4, 0, 1, 1, 1];
    const previous = [0, 0, 0, 1, 1, 2];
    expect(meanChange(next, previous, 2, 3, true)).toEqual([5, 1]);
    expect(meanChange(next, previous, 2, 3, false)).toEqual([Math.sqrt(26)]);
    // The difference is rounded to float32 first, as a float32 tensor subtraction would.
    expect(meanChange([1 + 2 ** -30], [0], 1, 1, false)).toEqual([1]);
    expect(meanChange([Number.NaN, 0], [0, 0], 2, 1, true)).toEqual([Number.NaN, 0]);
  });

  it('tells the backend the next draws of a seeded solve, and draws exactly those', () => {
    const hints: Array<{ shape: readonly number[]; seed: number }> = [];
    const draws: Array<{ shape: readonly number[]; seed: number | undefined }> = [];
    const spy = {
      ...b,
      prefetchNormal: (shape: readonly number[], seed: number) => {
        hints.push({ shape: [...shape], seed });
      },
      randomNormal: (shape: readonly number[], seed?: number) => {
        draws.push({ shape: [...shape], seed });
        return b.randomNormal(shape, seed);
      },
    };
    const plain = cem(b, f, { ...base, populationDecay: 1.5, tolerance: 0 });
    const hinted = cem(spy, f, { ...base, populationDecay: 1.5, tolerance: 0 });
    expect(read(hinted.mean)).toEqual(read(plain.mean));
    // One hint per iteration but the last, each naming the next draw.
    expect(hints.length).toBe((base.numIterations as number) - 1);
    hints.forEach((hint, t) => {
      expect(hint).toEqual(draws[t + 1]);
    });
    // Unseeded solves and given noise give no hints.
    hints.length = 0;
    cem(spy, f, { ...base, seed: undefined });
    cem(spy, f, { ...base, noise: () => b.randomNormal([2, 30, 3], 1) });
    expect(hints).toEqual([]);
  });
});

describe('createCem and createDcem', () => {
  it('createCem defaults to vanilla CEM and createDcem to LML with τ = 1', () => {
    expect(createCem(b, base).options.selector).toBe('hard');
    expect(createCem(b, base).options.temperature).toBeNull();
    expect(createDcem(b, base).options.selector).toBe('lml');
    expect(createDcem(b, base).options.temperature).toBe(1);
    expect(createDcem(b, { ...base, numElites: 1 }).options.selector).toBe('softmax');
    expect(createCem(b, { ...base, selector: 'elite-softmax' }).options.temperature).toBe(1);
  });

  it('disposeCemResult releases all nine tensors', () => {
    const disposed: T[] = [];
    const recording = { ...b, dispose: (x: T) => void disposed.push(x) };
    const r = cem(recording, f, base);
    disposed.length = 0;
    disposeCemResult(recording, r);
    expect(new Set(disposed)).toEqual(
      new Set([
        r.solution,
        r.status,
        r.mean,
        r.std,
        r.best.sample,
        r.best.value,
        r.elites.samples,
        r.elites.values,
        r.elites.weights,
      ]),
    );
  });
});

describe('presets', () => {
  for (const [name, preset] of Object.entries(presets)) {
    it(`${name}: frozen, spreads into options and solves a bowl`, () => {
      expect(Object.isFrozen(preset)).toBe(true);
      const r = cem(b, f, { ...preset, dim: 3, batchSize: 2, seed: 3, initStd: 2 });
      const err = read(r.best.value);
      for (const e of err) expect(e).toBeLessThan(0.5);
      expect(r.iterations).toBeGreaterThan(0);
    });
  }
  it('is frozen itself, and PRESET_NAMES lists its names once, frozen', () => {
    expect(Object.isFrozen(presets)).toBe(true);
    expect([...PRESET_NAMES]).toEqual(['cem', 'icem', 'mppi', 'tdmpc2', 'dcem']);
    expect([...PRESET_NAMES]).toEqual(Object.keys(presets));
    expect(Object.isFrozen(PRESET_NAMES)).toBe(true);
  });
  it('CemPreset is the CemOptions fields a preset sets (checked by the compiler)', () => {
    const preset: CemPreset = presets.icem;
    const options: CemOptions<T> = { ...preset, dim: 2 };
    // @ts-expect-error a preset never sets dim
    const withDim: CemPreset = { ...presets.cem, dim: 2 };
    // @ts-expect-error a preset's selector is a name, not a function
    const withFunction: CemPreset = { ...presets.cem, selector: (s: T) => s };
    expect(options.momentum).toBe(0.1);
    expect(withDim.numSamples).toBe(100);
    expect(typeof withFunction.selector).toBe('function');
  });
});

describe('bad input', () => {
  const bad = (extra: Record<string, unknown>) => () => createCem(b, { ...base, ...extra } as CemOptions<T>);
  it.each([
    ['momentum', 1, RangeError, /momentum must be in \[0, 1\), received 1/],
    ['momentum', -0.1, RangeError, /momentum must be ≥ 0, received -0\.1/],
    ['momentum', 'big', TypeError, /momentum must be a number/],
    ['populationDecay', 0.9, RangeError, /populationDecay must be ≥ 1, received 0\.9/],
    ['keepElites', 1, RangeError, /keepElites must be a fraction in \[0, 1\), received 1/],
    ['keepElites', -0.2, RangeError, /keepElites must be ≥ 0, received -0\.2/],
    ['noiseExponent', -1, RangeError, /noiseExponent must be ≥ 0, received -1/],
    ['maxStd', 1e-7, RangeError, /maxStd must be ≥ minStd \(0\.000001\), received 1e-7/],
    ['maxStd', 0, RangeError, /maxStd must be > 0, received 0/],
    ['minSamples', 6, RangeError, /minSamples must be > numElites \(6\).*received 6/],
    ['minSamples', 31, RangeError, /minSamples must be .*≤ numSamples \(30\), received 31/],
    [
      'selector',
      'nope',
      TypeError,
      /selector must be one of "hard", "lml", "sparse", "softmax", "elite-softmax" or a function, received "nope"/,
    ],
    ['convergence', 'rows', TypeError, /convergence must be 'batch' or 'row', received "rows"/],
    ['reuseEliteValues', 1, TypeError, /reuseEliteValues must be a boolean, received 1/],
    [
      'noiseShape',
      [2, 2],
      RangeError,
      /noiseShape must have a product equal to dim \(3\), received \[2, 2\]/,
    ],
    ['noiseAxis', 1, RangeError, /noiseAxis must be < the rank of noiseShape \(1\), received 1/],
    ['temperature', 0, RangeError, /write `temperature: null` \(or `selector: 'hard'`\)/],
    ['seed', 2 ** 60, RangeError, /seed must be a safe integer, received 1152921504606847000/],
  ] as const)('%s = %o → %o', (name, value, type, message) => {
    expect(bad({ [name]: value })).toThrow(type);
    expect(bad({ [name]: value })).toThrow(message);
  });

  it('unknown option names are TypeErrors that name the option and the nearest valid one', () => {
    expect(bad({ numElite: 5 })).toThrow(TypeError);
    expect(bad({ numElite: 5 })).toThrow(/unknown CEM option "numElite"; did you mean "numElites"\?/);
    expect(bad({ selectr: 'hard' })).toThrow(/unknown CEM option "selectr"; did you mean "selector"\?/);
    expect(bad({ zzzzzzzzzzzz: 1 })).toThrow(/unknown CEM option "zzzzzzzzzzzz" \(valid: dim,/);
  });

  it('temperature and selector must agree', () => {
    expect(bad({ selector: 'hard', temperature: 1 })).toThrow(TypeError);
    expect(bad({ selector: 'hard', temperature: 1 })).toThrow(/selector 'hard' takes no temperature/);
    expect(bad({ selector: 'lml', temperature: null })).toThrow(/selector "lml" needs a temperature > 0/);
  });

  it('a selector function returning the wrong shape or non-finite weights is a RangeError naming it', () => {
    const run = (selector: (s: T, k: number) => T) => () => cem(b, f, { ...base, selector, debug: true });
    const wrongShape = (s: T) => b.sliceColumns(s, 0, 5);
    expect(run(wrongShape)).toThrow(RangeError);
    expect(run(wrongShape)).toThrow(
      /selector function "wrongShape" must return weights of shape \[2, 30\], received \[2, 5\]/,
    );
    const nanWeights = (s: T) => b.mul(s, b.scalar(Number.NaN));
    expect(run(nanWeights)).toThrow(
      /selector function "nanWeights" returned a non-finite weight \(NaN\) in row 0/,
    );
    const sumsToOne = (s: T) => b.div(b.fill(b.shape(s), 1), b.scalar(30));
    expect(run(sumsToOne)).toThrow(/must return rows that sum to k = 6, row 0 sums to (1|0\.9999)/);
    const notTensor = () => 3 as unknown as T;
    expect(run(notTensor)).toThrow(TypeError);
    // Without debug only the shape is checked (no read).
    expect(() => cem(b, f, { ...base, selector: wrongShape })).toThrow(/must return weights of shape/);
    expect(() => disposeCemResult(b, cem(b, f, { ...base, selector: sumsToOne }))).not.toThrow();
  });

  it('a selector function gets (scores, k, τ) and its weights drive the refit', () => {
    const seen: [readonly number[], number, number | null][] = [];
    const hard = (s: T, k: number, tau: number | null) => {
      seen.push([b.shape(s), k, tau]);
      return b.topkMask(s, k);
    };
    const mine = cem(b, f, { ...base, selector: hard, tolerance: 0 });
    const builtIn = cem(b, f, { ...base, selector: 'hard', tolerance: 0 });
    expect(read(mine.mean)).toEqual(read(builtIn.mean));
    expect(seen[0]).toEqual([[2, 30], 6, null]);
  });
});
