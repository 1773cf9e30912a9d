/**
 * Behaviour tests of the CEM/DCEM solver on the float64 reference backend:
 * every op is exact up to float64 rounding, so tolerances come from the
 * algorithm (sampling error, soft weights), not from the arithmetic.
 */
import { describe, expect, it } from 'vitest';
import { cem, dcem } from './cem.js';
import { recorder, type Snapshot } from './iteration-recorder.test-utils.js';
import type { CemOptions } from './options.js';
import { createCem, createDcem, disposeCemResult } from './solver.js';
import { createFloat64Backend, type Float64Tensor } from './testing/index.js';

const b = createFloat64Backend();
type T = Float64Tensor;
const read = (x: T): number[] => Array.from(b.readSync(x));
const maxAbsDiff = (a: readonly number[], c: readonly number[]): number =>
  Math.max(0, ...a.map((v, i) => Math.abs(v - (c[i] as number))));

/**
 * f_b(x) = ½ Σⱼ q[b][j] xⱼ² + Σⱼ p[b][j] xⱼ over samples [batch, N, dim]
 * (q > 0); its minimiser is x* = −p/q.
 */
function quadratic(q: number[][], p: number[][]): { f: (x: T) => T; xStar: number[] } {
  const batch = q.length;
  const dim = q[0]?.length ?? 0;
  const Q = b.tensor(q.flat(), [batch, 1, dim]);
  const P = b.tensor(p.flat(), [batch, 1, dim]);
  const f = (x: T) =>
    b.add(b.mul(b.scalar(0.5), b.sum(b.mul(Q, b.square(x)), -1, false)), b.sum(b.mul(P, x), -1, false));
  const xStar = p.flat().map((v, i) => -v / (q.flat()[i] as number));
  return { f, xStar };
}

// Batch 2, dim 2: x* = [[−0.5, 0.4], [0.15, −0.4]].
const quad = quadratic(
  [
    [2, 5],
    [4, 3],
  ],
  [
    [1, -2],
    [-0.6, 1.2],
  ],
);

const rowSums = (values: readonly number[], n: number): number[] =>
  Array.from({ length: values.length / n }, (_, r) =>
    values.slice(r * n, (r + 1) * n).reduce((a, c) => a + c, 0),
  );

describe('dcem and cem on a separable quadratic (the reference test)', () => {
  const options: CemOptions<T> = {
    dim: 2,
    batchSize: 2,
    numSamples: 100,
    numElites: 50,
    numIterations: 40,
    temperature: 1,
    tolerance: 0,
    seed: 1,
  };

  it('dcem (τ = 1) reaches x* = −p/q to 1e-4', () => {
    const r = dcem(b, quad.f, options);
    // Soft weights at τ = 1 shrink σ by ~0.8 per iteration, so after 40
    // iterations σ ≈ 2e-4 and the mean's sampling error is a fraction of it.
    // Over seeds 0–29 the error ranges 3e-5…3e-4 (its size depends on the
    // draws); with this fixed seed it is 6e-5. Arithmetic error is ~1e-15.
    expect(maxAbsDiff(read(r.solution), quad.xStar)).toBeLessThan(1e-4);
    expect(r.iterations).toBe(40);
    expect(r.converged).toBe(false);
    expect(r.nonFiniteValues).toBe(0);
    expect(b.shape(r.solution)).toEqual([2, 2]);
  });

  it('vanilla cem converges on it too', () => {
    const r = cem(b, quad.f, { ...options, temperature: null });
    // The hard top-50 shrinks σ by ~0.6 per iteration down to the minStd
    // floor (1e-6); the mean then sits within a fraction of σ of x*
    // (measured 5e-8…3e-7 over seeds 0–29).
    expect(maxAbsDiff(read(r.solution), quad.xStar)).toBeLessThan(1e-5);
    expect(Math.max(...read(r.std))).toBeLessThan(1e-4);
  });

  it('cem defaults to vanilla (temperature null) and dcem to τ = 1', () => {
    const { temperature: _, ...rest } = options;
    expect(read(cem(b, quad.f, rest).solution)).toEqual(
      read(cem(b, quad.f, { ...rest, temperature: null }).solution),
    );
    expect(read(dcem(b, quad.f, rest).solution)).toEqual(read(dcem(b, quad.f, options).solution));
    expect(read(dcem(b, quad.f, rest).solution)).not.toEqual(read(cem(b, quad.f, rest).solution));
  });
});

describe('temperature → 0', () => {
  it('gives the iterates of vanilla CEM with the same draws', () => {
    const N = 30;
    const k = 6;
    const tau = 1e-4;
    const base: CemOptions<T> = {
      dim: 2,
      batchSize: 2,
      numSamples: N,
      numElites: k,
      numIterations: 8,
      normalize: true,
      tolerance: 0,
      // A seed whose draws keep every k-th/(k+1)-th gap ≥ 40τ (checked below;
      // 32 since the iteration seeds come from deriveSeed, 10 before).
      seed: 32,
    };
    const hard = recorder(b);
    cem(b, quad.f, { ...base, temperature: null, onIteration: hard.onIteration });
    const soft = recorder(b);
    dcem(b, quad.f, { ...base, temperature: tau, onIteration: soft.onIteration });
    expect(soft.log).toHaveLength(8);
    // Precondition: the gap between the k-th and (k+1)-th standardised value
    // is ≥ 40τ in every row and iteration. The LML weights are then within
    // σ(−40) ≈ 4e-18 of the hard 0/1 indicator, below float64 resolution,
    // so the means can differ only by rounding (≪ 1e-12).
    let minGap = Number.POSITIVE_INFINITY;
    for (const step of hard.log) {
      for (let r = 0; r < 2; r++) {
        const row = step.values.slice(r * N, (r + 1) * N);
        const mean = row.reduce((a, c) => a + c, 0) / N;
        const sd = Math.sqrt(row.reduce((a, c) => a + (c - mean) ** 2, 0) / (N - 1));
        const sorted = [...row].sort((a, c) => a - c);
        minGap = Math.min(minGap, ((sorted[k] as number) - (sorted[k - 1] as number)) / (sd + 1e-6));
      }
    }
    expect(minGap).toBeGreaterThan(40 * tau);
    for (let t = 0; t < 8; t++) {
      const h = hard.log[t] as Snapshot;
      const s = soft.log[t] as Snapshot;
      expect(maxAbsDiff(s.weights, h.weights)).toBeLessThan(1e-15);
      expect(maxAbsDiff(s.mean, h.mean)).toBeLessThan(1e-12);
      expect(maxAbsDiff(s.std, h.std)).toBeLessThan(1e-12);
    }
  });
});

describe('determinism and the state machine', () => {
  const options: CemOptions<T> = { dim: 2, batchSize: 2, numSamples: 40, numElites: 8, numIterations: 12 };

  it('gives identical results for the same seed and different ones for different seeds', () => {
    const a = dcem(b, quad.f, { ...options, seed: 7 });
    const c = dcem(b, quad.f, { ...options, seed: 7 });
    const d = dcem(b, quad.f, { ...options, seed: 8 });
    expect(read(a.solution)).toEqual(read(c.solution));
    expect(read(a.std)).toEqual(read(c.std));
    expect(a.iterations).toBe(c.iterations);
    expect(read(a.solution)).not.toEqual(read(d.solution));
  });

  it('createCem driven by hand gives exactly what dcem gives', () => {
    const opts = { ...options, seed: 3, tolerance: 1e-3 };
    const expected = dcem(b, quad.f, opts);
    const solver = createDcem(b, opts);
    let state = solver.init();
    let steps = 0;
    while (!solver.done(state)) {
      const x = solver.ask(state);
      const next = solver.tell(state, x, quad.f(x));
      solver.release(state);
      state = next;
      steps++;
    }
    const got = solver.result(state);
    solver.dispose();
    expect(steps).toBe(expected.iterations);
    expect(got.iterations).toBe(expected.iterations);
    expect(got.converged).toBe(expected.converged);
    expect(read(got.solution)).toEqual(read(expected.solution));
    expect(read(got.mean)).toEqual(read(expected.mean));
    expect(read(got.std)).toEqual(read(expected.std));
    expect(got.nonFiniteValues).toBe(expected.nonFiniteValues);
  });

  it('uses the noise callback instead of the seed', () => {
    const noise = (t: number) => b.randomNormal([2, 40, 2], 100 + t);
    const a = dcem(b, quad.f, { ...options, noise, seed: 1 });
    const c = dcem(b, quad.f, { ...options, noise, seed: 2 });
    expect(read(a.solution)).toEqual(read(c.solution));
    // Iteration 0 evaluates μ₀ + σ₀ε = ε exactly (μ₀ = 0, σ₀ = 1).
    const log = recorder(b);
    dcem(b, quad.f, { ...options, noise, numIterations: 1, onIteration: log.onIteration });
    expect(log.log[0]?.samples).toEqual(read(noise(0)));
  });
});

describe('tensor ownership (a backend that records keep and dispose)', () => {
  function tracking() {
    const kept: T[] = [];
    const disposed = new Set<T>();
    const backend = {
      ...b,
      keep: (x: T) => {
        kept.push(x);
        return x;
      },
      dispose: (x: T) => {
        disposed.add(x);
      },
    };
    return { backend, kept, disposed };
  }

  it('result() releases the running count and hands mean and std to the caller', () => {
    const t = tracking();
    const solver = createDcem(t.backend, {
      dim: 2,
      batchSize: 2,
      numSamples: 20,
      numElites: 5,
      numIterations: 3,
      seed: 1,
    });
    let state = solver.init();
    while (!solver.done(state)) {
      const x = solver.ask(state);
      const next = solver.tell(state, x, quad.f(x));
      solver.release(state);
      state = next;
    }
    const r = solver.result(state);
    expect(t.disposed.has(state.nonFinite)).toBe(true);
    expect(r.mean).toBe(state.mean);
    expect(t.disposed.has(r.mean)).toBe(false);
    expect(t.disposed.has(r.std)).toBe(false);
    expect(t.disposed.has(r.solution)).toBe(false);
  });

  it('a bad upperBound after a valid lowerBound tensor releases the kept lowerBound', () => {
    const t = tracking();
    const run = () =>
      dcem(t.backend, quad.f, {
        dim: 2,
        batchSize: 2,
        lowerBound: b.tensor([0, 0], [2]),
        upperBound: b.fill([3], 1),
      });
    expect(run).toThrow(/upperBound must have shape \[2\], \[1, 2\] or \[2, 2\], received \[3\]/);
    expect(t.kept).toHaveLength(1);
    expect(t.disposed.has(t.kept[0] as T)).toBe(true);
  });
});

describe('early exit', () => {
  it('stops when the mean moves less than the tolerance, keeping the new mean and σ', () => {
    const log = recorder(b);
    const r = dcem(b, quad.f, {
      dim: 2,
      batchSize: 2,
      numSamples: 50,
      numElites: 10,
      numIterations: 100,
      tolerance: 1e-3,
      seed: 5,
      onIteration: log.onIteration,
    });
    expect(r.converged).toBe(true);
    expect(r.iterations).toBeLessThan(100);
    // onIteration is not called on the exit iteration.
    expect(log.log).toHaveLength(r.iterations - 1);
    expect(log.log.at(-1)?.iteration).toBe(r.iterations - 2);
    const last = log.log.at(-1) as Snapshot;
    // σ is left as it was; the new mean is kept and moved by < tolerance.
    expect(read(r.std)).toEqual(last.std);
    const moved = Math.hypot(...read(r.mean).map((v, i) => v - (last.mean[i] as number)));
    expect(moved).toBeLessThan(1e-3);
    expect(moved).toBeGreaterThan(0);
  });

  it('never stops early with tolerance 0', () => {
    const r = dcem(b, quad.f, { dim: 2, batchSize: 2, numSamples: 50, numElites: 10, tolerance: 0, seed: 5 });
    expect(r.converged).toBe(false);
    expect(r.iterations).toBe(10);
  });
});

describe('bounds and project', () => {
  const base: CemOptions<T> = {
    dim: 2,
    batchSize: 2,
    numSamples: 60,
    numElites: 10,
    numIterations: 25,
    seed: 9,
  };

  /** Wraps f to record the extreme sample coordinates it sees, per dimension. */
  function watched(dim: number) {
    const lo = new Array<number>(dim).fill(Number.POSITIVE_INFINITY);
    const hi = new Array<number>(dim).fill(Number.NEGATIVE_INFINITY);
    const f = (x: T) => {
      read(x).forEach((v, i) => {
        const j = i % dim;
        lo[j] = Math.min(lo[j] as number, v);
        hi[j] = Math.max(hi[j] as number, v);
      });
      return quad.f(x);
    };
    return { f, lo, hi };
  }

  it('keeps samples and solution inside scalar bounds', () => {
    const w = watched(2);
    const r = dcem(b, w.f, { ...base, lowerBound: 0, upperBound: 0.3 });
    for (const v of [...w.lo, ...w.hi]) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(0.3);
    }
    // The samples did reach both bounds (the box binds).
    expect(Math.min(...w.lo)).toBe(0);
    expect(Math.max(...w.hi)).toBe(0.3);
    const sol = read(r.solution);
    for (const v of sol) expect(v >= 0 && v <= 0.3).toBe(true);
    // Separable: the box minimiser is x* clamped, [0, 0.3, 0.15, 0].
    expect(maxAbsDiff(sol, [0, 0.3, 0.15, 0])).toBeLessThan(1e-2);
  });

  it('keeps samples and solution inside per-dimension tensor bounds ([dim] and [batch, dim])', () => {
    const lower = [-0.2, 0.5];
    const upper = [0.1, 0.9];
    const w = watched(2);
    const r = dcem(b, w.f, { ...base, lowerBound: b.tensor(lower, [2]), upperBound: b.tensor(upper, [2]) });
    for (let j = 0; j < 2; j++) {
      expect(w.lo[j]).toBeGreaterThanOrEqual(lower[j] as number);
      expect(w.hi[j]).toBeLessThanOrEqual(upper[j] as number);
    }
    const sol = read(r.solution);
    sol.forEach((v, i) => {
      expect(v).toBeGreaterThanOrEqual(lower[i % 2] as number);
      expect(v).toBeLessThanOrEqual(upper[i % 2] as number);
    });
    // x* clamped per dimension: [−0.2, 0.5] and [0.1, 0.5].
    expect(maxAbsDiff(sol, [-0.2, 0.5, 0.1, 0.5])).toBeLessThan(1e-2);

    const perRow = dcem(b, quad.f, {
      ...base,
      lowerBound: b.tensor([-1, -1, 0.2, -1], [2, 2]),
      upperBound: b.tensor([1, 1, 1, 1], [2, 2]),
    });
    const s2 = read(perRow.solution);
    expect(s2[2]).toBeGreaterThanOrEqual(0.2);
    expect(maxAbsDiff(s2, [-0.5, 0.4, 0.2, -0.4])).toBeLessThan(1e-2);
  });

  it('accepts a lower bound alone', () => {
    const w = watched(2);
    const r = dcem(b, w.f, { ...base, lowerBound: 0.2 });
    expect(Math.min(...w.lo)).toBe(0.2);
    for (const v of read(r.solution)) expect(v).toBeGreaterThanOrEqual(0.2);
    // x* with every coordinate raised to 0.2: [0.2, 0.4, 0.2, 0.2].
    expect(maxAbsDiff(read(r.solution), [0.2, 0.4, 0.2, 0.2])).toBeLessThan(1e-2);
  });

  it('applies project to the samples before the objective sees them', () => {
    // Projection onto the line x₀ = x₁: the mean is a weighted mean of
    // projected samples, so it stays exactly on the line.
    const pick = b.tensor([1, 0], [1, 1, 2]);
    const ones = b.fill([1, 1, 2], 1);
    const project = (x: T) => b.mul(b.sum(b.mul(x, pick), -1, true), ones);
    let seen = 0;
    const f = (x: T) => {
      const v = read(x);
      for (let i = 0; i < v.length; i += 2) expect(v[i]).toBe(v[i + 1]);
      seen++;
      return quad.f(x);
    };
    // Early stopping on: the loop stops where the solve converges, so f ran r.iterations times.
    const r = dcem(b, f, { ...base, project, earlyStopping: true });
    expect(seen).toBe(r.iterations);
    const sol = read(r.solution);
    expect(sol[0]).toBe(sol[1]);
    expect(sol[2]).toBe(sol[3]);
    // On the line: argmin_t ½(q₀ + q₁)t² + (p₀ + p₁)t = −(p₀ + p₁)/(q₀ + q₁).
    expect(maxAbsDiff(sol, [1 / 7, 1 / 7, -0.6 / 7, -0.6 / 7])).toBeLessThan(1e-2);
  });
});

describe('one elite', () => {
  it('dcem with numElites = 1 uses softmax(−v̂/τ): weights sum to 1 per row', () => {
    const N = 25;
    const tau = 0.5;
    const log = recorder(b);
    dcem(b, quad.f, {
      dim: 2,
      batchSize: 2,
      numSamples: N,
      numElites: 1,
      numIterations: 4,
      temperature: tau,
      seed: 2,
      onIteration: log.onIteration,
    });
    expect(log.log).toHaveLength(4);
    for (const step of log.log) {
      for (const s of rowSums(step.weights, N)) expect(Math.abs(s - 1)).toBeLessThan(1e-14);
      // Recompute softmax(−v̂/τ) on the host: the same map, not LML with k = 1
      // (which also sums to 1 but is σ(x + ν), a different function).
      for (let r = 0; r < 2; r++) {
        const v = step.values.slice(r * N, (r + 1) * N);
        const m = v.reduce((a, c) => a + c, 0) / N;
        const sd = Math.sqrt(v.reduce((a, c) => a + (c - m) ** 2, 0) / (N - 1));
        const z = v.map((x) => -(x - m) / (sd + 1e-6) / tau);
        const top = Math.max(...z);
        const e = z.map((x) => Math.exp(x - top));
        const total = e.reduce((a, c) => a + c, 0);
        expect(
          maxAbsDiff(
            step.weights.slice(r * N, (r + 1) * N),
            e.map((x) => x / total),
          ),
        ).toBeLessThan(1e-13);
      }
    }
  });

  it('vanilla cem with numElites = 1 floors the collapsed σ at minStd instead of producing NaN', () => {
    const log = recorder(b);
    const r = cem(b, quad.f, {
      dim: 2,
      batchSize: 2,
      numSamples: 20,
      numElites: 1,
      numIterations: 6,
      tolerance: 0,
      seed: 4,
      onIteration: log.onIteration,
    });
    // One elite: Σ Iᵢ(Xᵢ − μ')² = 0 exactly, so σ' = √(minStd²) = 1e-6.
    for (const step of log.log) {
      for (const s of step.std) expect(s).toBeCloseTo(1e-6, 18);
    }
    expect([...read(r.solution), ...read(r.std), ...read(r.mean)].every(Number.isFinite)).toBe(true);
    const r2 = cem(b, quad.f, {
      dim: 2,
      batchSize: 2,
      numSamples: 20,
      numElites: 1,
      numIterations: 3,
      minStd: 1e-3,
      seed: 4,
      tolerance: 0,
    });
    expect(read(r2.std)).toEqual([1e-3, 1e-3, 1e-3, 1e-3]);
  });
});

describe('non-finite objective values', () => {
  it('gives NaN / ±∞ samples ~0 weight, still converges and counts them exactly', () => {
    let count = 0;
    const f = (x: T) => {
      const xs = read(x);
      const v = read(quad.f(x)).map((value, i) => {
        const x0 = xs[2 * i] as number;
        const x1 = xs[2 * i + 1] as number;
        if (x0 > 0.8) return Number.NaN;
        if (x1 < -1) return Number.POSITIVE_INFINITY;
        if (x0 < -1.2) return Number.NEGATIVE_INFINITY;
        return value;
      });
      count += v.filter((value) => !Number.isFinite(value)).length;
      return b.tensor(v, [2, 60]);
    };
    const log = recorder(b);
    const r = dcem(b, f, {
      dim: 2,
      batchSize: 2,
      numSamples: 60,
      numElites: 10,
      numIterations: 30,
      initStd: 1.5,
      seed: 11,
      onIteration: log.onIteration,
    });
    expect(count).toBeGreaterThan(10);
    expect(r.nonFiniteValues).toBe(count);
    // Their score is 100τ below the worst finite one: weight ≲ e^−100 ≈ 4e-44.
    let checked = 0;
    for (const step of log.log) {
      step.values.forEach((v, i) => {
        if (!Number.isFinite(v)) {
          expect(step.weights[i]).toBeLessThan(1e-30);
          checked++;
        }
      });
      expect(step.mean.every(Number.isFinite)).toBe(true);
    }
    expect(checked).toBeGreaterThan(0);
    expect(maxAbsDiff(read(r.solution), quad.xStar)).toBeLessThan(1e-2);
  });

  it('does not throw or hang on an objective that is NaN everywhere, and counts every value', () => {
    const nan = (x: T) => b.fill((b.shape(x) as number[]).slice(0, 2), Number.NaN);
    for (const temperature of [1, null]) {
      const r = dcem(b, nan, {
        dim: 3,
        batchSize: 2,
        numSamples: 15,
        numElites: 5,
        numIterations: 7,
        temperature,
        seed: 1,
      });
      expect(r.nonFiniteValues).toBe(2 * 15 * r.iterations);
      expect(r.iterations).toBeGreaterThan(0);
      expect(r.iterations).toBeLessThanOrEqual(7);
      expect([...read(r.solution), ...read(r.std)].every(Number.isFinite)).toBe(true);
    }
  });
});

describe('argument validation', () => {
  const f = quad.f;
  const ok: CemOptions<T> = { dim: 2, batchSize: 2, numSamples: 20, numElites: 5, numIterations: 2, seed: 0 };

  it('rejects numElites ≥ numSamples', () => {
    expect(() => dcem(b, f, { ...ok, numElites: 20 })).toThrow(RangeError);
    expect(() => dcem(b, f, { ...ok, numElites: 20 })).toThrow(/numElites.*numSamples \(20\).*received 20/);
    expect(() => cem(b, f, { ...ok, numElites: 25 })).toThrow(/numElites.*received 25/);
  });

  it('rejects numElites ≤ 0', () => {
    expect(() => dcem(b, f, { ...ok, numElites: 0 })).toThrow(RangeError);
    expect(() => dcem(b, f, { ...ok, numElites: -3 })).toThrow(
      /numElites must be an integer ≥ 1, received -3/,
    );
  });

  it('rejects a non-integer numSamples', () => {
    expect(() => dcem(b, f, { ...ok, numSamples: 20.5 })).toThrow(TypeError);
    expect(() => dcem(b, f, { ...ok, numSamples: 20.5 })).toThrow(
      /numSamples must be an integer, received 20\.5/,
    );
  });

  it('rejects a non-integer numElites', () => {
    expect(() => dcem(b, f, { ...ok, numElites: 2.5 })).toThrow(TypeError);
    expect(() => dcem(b, f, { ...ok, numElites: 2.5 })).toThrow(
      /numElites must be an integer, received 2\.5/,
    );
  });

  it('rejects a non-integer numIterations', () => {
    expect(() => dcem(b, f, { ...ok, numIterations: 1.5 })).toThrow(TypeError);
    expect(() => dcem(b, f, { ...ok, numIterations: 1.5 })).toThrow(
      /numIterations must be an integer, received 1\.5/,
    );
  });

  it('rejects a non-integer dim', () => {
    expect(() => dcem(b, f, { ...ok, dim: 2.2 })).toThrow(TypeError);
    expect(() => dcem(b, f, { ...ok, dim: 2.2 })).toThrow(/dim must be an integer, received 2\.2/);
  });

  it('rejects a non-integer batchSize', () => {
    expect(() => dcem(b, f, { ...ok, batchSize: 1.5 })).toThrow(TypeError);
    expect(() => dcem(b, f, { ...ok, batchSize: 1.5 })).toThrow(
      /batchSize must be an integer, received 1\.5/,
    );
  });

  it('rejects temperature ≤ 0', () => {
    expect(() => dcem(b, f, { ...ok, temperature: 0 })).toThrow(RangeError);
    expect(() => dcem(b, f, { ...ok, temperature: 0 })).toThrow(/temperature must be > 0, received 0/);
    expect(() => cem(b, f, { ...ok, temperature: -2 })).toThrow(/temperature must be > 0, received -2/);
  });

  it('rejects lowerBound ≥ upperBound given as scalars', () => {
    expect(() => dcem(b, f, { ...ok, lowerBound: 1, upperBound: 1 })).toThrow(RangeError);
    expect(() => dcem(b, f, { ...ok, lowerBound: 2, upperBound: 1 })).toThrow(
      /lowerBound must be < upperBound.*received lowerBound 2 and upperBound 1/,
    );
  });

  it('rejects lowerBound ≥ upperBound in one dimension of tensor bounds (debug mode: a read)', () => {
    const lowerBound = b.tensor([0, 1], [2]);
    const upperBound = b.tensor([1, 1], [2]);
    const debug = true;
    expect(() => dcem(b, f, { ...ok, lowerBound, upperBound, debug })).toThrow(RangeError);
    expect(() => dcem(b, f, { ...ok, lowerBound, upperBound, debug })).toThrow(
      /lowerBound must be < upperBound/,
    );
    // Without debug the tensors are not read, so the check cannot run.
    expect(() => disposeCemResult(b, dcem(b, f, { ...ok, lowerBound, upperBound }))).not.toThrow();
  });

  it('rejects initStd ≤ 0 given as a number', () => {
    expect(() => dcem(b, f, { ...ok, initStd: 0 })).toThrow(RangeError);
    expect(() => dcem(b, f, { ...ok, initStd: -1 })).toThrow(/initStd must be > 0.*received -1/);
  });

  it('rejects initStd ≤ 0 in one entry of a tensor (debug mode: a read)', () => {
    const initStd = b.tensor([1, 1, 0, 1], [2, 2]);
    expect(() => dcem(b, f, { ...ok, initStd, debug: true })).toThrow(RangeError);
    expect(() => dcem(b, f, { ...ok, initStd, debug: true })).toThrow(/initStd must be > 0.*received 0/);
    expect(() => dcem(b, f, { ...ok, initStd, debug: 1 as never })).toThrow(/debug must be a boolean/);
  });

  it('rejects an initMean tensor of the wrong shape, naming both shapes', () => {
    const initMean = b.fill([3], 0);
    expect(() => dcem(b, f, { ...ok, initMean })).toThrow(RangeError);
    expect(() => dcem(b, f, { ...ok, initMean })).toThrow(
      /initMean must have shape \[2\], \[1, 2\] or \[2, 2\], received \[3\]/,
    );
  });

  it('rejects a lowerBound tensor of the wrong shape, naming both shapes', () => {
    const lowerBound = b.fill([2, 3], 0);
    expect(() => dcem(b, f, { ...ok, lowerBound })).toThrow(RangeError);
    expect(() => dcem(b, f, { ...ok, lowerBound })).toThrow(
      /lowerBound must have shape .*\[2, 2\], received \[2, 3\]/,
    );
  });

  it('rejects an initStd tensor of the wrong shape, naming both shapes', () => {
    const initStd = b.fill([3, 2], 1);
    expect(() => dcem(b, f, { ...ok, initStd })).toThrow(RangeError);
    expect(() => dcem(b, f, { ...ok, initStd })).toThrow(
      /initStd must have shape .*\[2, 2\], received \[3, 2\]/,
    );
  });

  it('rejects an objective returning the wrong shape, naming both shapes', () => {
    const bad = (x: T) => b.reshape(f(x), [2, 20, 1]);
    expect(() => dcem(b, bad, ok)).toThrow(RangeError);
    expect(() => dcem(b, bad, ok)).toThrow(
      /objective\(samples\) must have shape \[2, 20\], received \[2, 20, 1\]/,
    );
  });

  it('rejects an objective that is not a function', () => {
    const notAFunction = 42 as unknown as (x: T) => T;
    expect(() => dcem(b, notAFunction, ok)).toThrow(TypeError);
    expect(() => dcem(b, notAFunction, ok)).toThrow(/objective must be a function, received number/);
  });

  it('rejects noise of the wrong shape, naming both shapes', () => {
    const noise = () => b.fill([2, 20], 0);
    expect(() => dcem(b, f, { ...ok, noise })).toThrow(RangeError);
    expect(() => dcem(b, f, { ...ok, noise })).toThrow(
      /noise\(0\) must have shape \[2, 20, 2\], received \[2, 20\]/,
    );
  });

  it('rejects project returning the wrong shape, naming both shapes', () => {
    const project = (x: T) => b.reshape(x, [2, 40]);
    expect(() => dcem(b, f, { ...ok, project })).toThrow(RangeError);
    expect(() => dcem(b, f, { ...ok, project })).toThrow(
      /project\(samples\) must have shape \[2, 20, 2\], received \[2, 40\]/,
    );
  });

  it('rejects a non-integer seed', () => {
    expect(() => dcem(b, f, { ...ok, seed: 1.5 })).toThrow(TypeError);
    expect(() => dcem(b, f, { ...ok, seed: 1.5 })).toThrow(/seed must be an integer, received 1\.5/);
  });

  it('rejects options that are not an object', () => {
    const nothing = null as unknown as CemOptions<T>;
    expect(() => dcem(b, f, nothing)).toThrow(TypeError);
    expect(() => dcem(b, f, nothing)).toThrow(/options must be an object, received null/);
    expect(() => createCem(b, 3 as unknown as CemOptions<T>)).toThrow(
      /options must be an object, received 3/,
    );
  });
});
