/**
 * Behaviour tests of the receding-horizon planner on the float64 reference
 * backend: its ops are exact up to float64 rounding, so warm starts, bounds
 * and seeds are checked bit for bit; the gradients are checked in
 * `@dcem/tfjs` (the float64 backend has no autodiff).
 */
import { describe, expect, it } from 'vitest';
import type { IterationInfo } from './options.js';
import { createPlanner, disposePlanResult, type PlanResult, plan } from './planner.js';
import type { PlannerOptions } from './planner-options.js';
import { shiftControls } from './planner-shift.js';
import { presets } from './presets.js';
import { deriveSeed, SEED_STREAMS } from './seed.js';
import { createCem } from './solver.js';
import { createFloat64Backend, type Float64Tensor } from './testing/index.js';

const b = createFloat64Backend();
type T = Float64Tensor;
const read = (x: T): number[] => Array.from(b.readSync(x));

/** C(u) = Σ_t Σ_j (u_tj − target_tj)² per sample, target [H, m] (the same for every row). */
function trackingCost(target: number[][]): (u: T) => T {
  const H = target.length;
  const m = target[0]?.length ?? 0;
  const g = b.tensor(target.flat(), [1, 1, H, m]);
  return (u) => b.sum(b.sum(b.square(b.sub(u, g)), -1, false), -1, false);
}

/** Rows of a [B, N, D] tensor's first sample: [B][D]. */
function firstSamples(x: T): number[][] {
  const [B = 0, N = 0, D = 0] = x.shape;
  const v = read(x);
  return Array.from({ length: B }, (_, r) => v.slice(r * N * D, r * N * D + D));
}

describe('shiftControls', () => {
  const u = b.tensor([0, 10, 1, 11, 2, 12], [1, 3, 2]); // H = 3, m = 2: u_t = (t, 10 + t)

  it("'last' repeats the last step", () => {
    expect(read(shiftControls(b, u, 'last'))).toEqual([1, 11, 2, 12, 2, 12]);
  });

  it('a number or [m] fills the new last step', () => {
    expect(read(shiftControls(b, u, 0))).toEqual([1, 11, 2, 12, 0, 0]);
    expect(read(shiftControls(b, u, [-3, 7.5]))).toEqual([1, 11, 2, 12, -3, 7.5]);
  });

  it('shifts every leading row (kept elites [B, K, H, m]) and H = 1', () => {
    const e = b.tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2, 1]);
    expect(read(shiftControls(b, e, 'last'))).toEqual([2, 2, 4, 4, 6, 6, 8, 8]);
    expect(read(shiftControls(b, b.tensor([4, 5], [1, 1, 2]), 'last'))).toEqual([4, 5]);
    expect(read(shiftControls(b, b.tensor([4, 5], [1, 1, 2]), [0, 1]))).toEqual([0, 1]);
  });

  it('rejects bad input', () => {
    expect(() => shiftControls(b, b.tensor([1], [1]), 'last')).toThrow(RangeError);
    expect(() => shiftControls(b, u, [1])).toThrow(
      /fill must be 'last', a finite number or 2 finite numbers/,
    );
    expect(() => shiftControls(b, u, Number.NaN)).toThrow(TypeError);
    expect(() => shiftControls(b, null as unknown as T, 0)).toThrow(/controls must be a tensor/);
  });
});

describe('createPlanner', () => {
  const H = 4;
  const m = 2;

  /**
   * A planner with initMean 0 and one solver iteration of 4 samples, and the
   * first sample (row 0) of its latest iteration.
   */
  const firstSamplePlanner = (seed: number) => {
    let sample: number[] = [];
    const planner = createPlanner(b, {
      horizon: H,
      actionDim: m,
      initMean: 0,
      solver: {
        numSamples: 4,
        numElites: 2,
        numIterations: 1,
        onIteration: (info: IterationInfo<T>) => {
          sample = firstSamples(info.samples)[0] ?? [];
        },
      },
      seed,
    });
    return { planner, sample: () => sample };
  };
  const target = [
    [0.5, -1],
    [1, -0.5],
    [1.5, 0],
    [2.5, 0.5],
  ];

  it('plans control sequences [batch, H, m] for every start state and returns shapes as documented', () => {
    const result = plan(b, trackingCost(target), {
      horizon: H,
      actionDim: m,
      lowerBound: -2,
      upperBound: 2,
      batchSize: 3,
      solver: { numSamples: 200, numElites: 20, numIterations: 20, tolerance: 0 },
      seed: 1,
    });
    expect(result.controls.shape).toEqual([3, H, m]);
    expect(result.action.shape).toEqual([3, m]);
    expect(result.mean.shape).toEqual([3, H, m]);
    expect(result.std.shape).toEqual([3, H, m]);
    expect(result.best.controls.shape).toEqual([3, H, m]);
    expect(result.best.cost.shape).toEqual([3]);
    expect(result.iterations).toBe(20);
    expect(result.step).toBe(0);
    // The optimum is the target clamped to [−2, 2]: 2.5 → 2.
    const clampedTarget = target.flat().map((v) => Math.min(2, v));
    const c = read(result.controls);
    for (let r = 0; r < 3; r++) {
      c.slice(r * H * m, (r + 1) * H * m).forEach((v, i) => {
        expect(Math.abs(v - (clampedTarget[i] as number))).toBeLessThan(0.05);
      });
    }
    // 'mean' (the default) applies the first step of the clamped mean.
    expect(read(result.action)).toEqual([0, 1, 2].flatMap((r) => c.slice(r * H * m, r * H * m + m)));
    disposePlanResult(b, result);
  });

  it("'best' returns the best evaluated sample, its exact cost, and its first step as the action", () => {
    const cost = trackingCost(target);
    let lowest = [Infinity, Infinity];
    const recording = (u: T) => {
      const v = cost(u);
      const [B = 0, N = 0] = v.shape;
      const values = read(v);
      lowest = lowest.map((x, r) => Math.min(x, ...values.slice(r * N, (r + 1) * N)));
      expect(B).toBe(2);
      return v;
    };
    const result = plan(b, recording, {
      horizon: H,
      actionDim: m,
      lowerBound: -2,
      upperBound: 2,
      batchSize: 2,
      action: 'best',
      solver: { numSamples: 30, numElites: 5, numIterations: 4 },
      seed: 3,
    });
    expect(read(result.best.cost)).toEqual(lowest);
    // The stored best sample reproduces its cost exactly.
    const again = read(cost(b.reshape(result.best.controls, [2, 1, H, m])));
    expect(again).toEqual(lowest);
    const best = read(result.best.controls);
    expect(read(result.action)).toEqual([...best.slice(0, m), ...best.slice(H * m, H * m + m)]);
  });

  it('warm-starts each step from the previous mean shifted one step, with σ reset to σ₀', () => {
    for (const shiftFill of ['last', 'middle', 'zero'] as const) {
      const starts: number[][][] = [];
      const B = 2;
      const N = 6;
      // ε = 1 for the first iteration: its first sample is μ₀ + σ₀, read through onIteration.
      const ones = b.fill([B, N, H * m], 1);
      const options: PlannerOptions<T> = {
        horizon: H,
        actionDim: m,
        lowerBound: [
          [-9, -8],
          [-9, -8],
          [-9, -8],
          [-6, -4],
        ],
        upperBound: [
          [9, 8],
          [9, 8],
          [9, 8],
          [8, 2],
        ],
        batchSize: B,
        initStd: 0.25,
        shiftFill,
        solver: {
          numSamples: N,
          numElites: 2,
          numIterations: 2,
          noise: () => ones,
          onIteration: (info: IterationInfo<T>) => {
            if (info.iteration === 0) starts.push(firstSamples(info.samples));
          },
        },
      };
      const planner = createPlanner(b, options);
      const r0 = planner.plan(trackingCost(target));
      const r1 = planner.plan(trackingCost(target));
      expect(r1.step).toBe(1);
      // Step 0 starts cold at the middle of the per-step bounds.
      const middle = [0, 0, 0, 0, 0, 0, 1, -1];
      for (const row of starts[0] ?? []) expect(row).toEqual(middle.map((v) => v + 0.25));
      // Step 1 starts at the shifted mean of step 0.
      const mean = read(r0.mean);
      const tail = (rowMean: number[]) =>
        shiftFill === 'last' ? rowMean.slice(-m) : shiftFill === 'zero' ? [0, 0] : [1, -1];
      for (let r = 0; r < B; r++) {
        const rowMean = mean.slice(r * H * m, (r + 1) * H * m);
        const shifted = [...rowMean.slice(m), ...tail(rowMean)];
        expect(starts[1]?.[r]).toEqual(shifted.map((v) => v + 0.25));
      }
      disposePlanResult(b, r0);
      disposePlanResult(b, r1);
      planner.dispose();
    }
  });

  it('carries the ⌊ξk⌋ best elites of the last iteration into the next step, shifted with the mean (iCEM)', () => {
    for (const shiftFill of ['last', 'middle', 'zero'] as const) {
      const B = 2;
      const N = 10;
      const D = H * m;
      const iterations: { samples: number[]; values: number[]; n: number }[][] = [[], []];
      let stepIndex = 0;
      const planner = createPlanner(b, {
        horizon: H,
        actionDim: m,
        lowerBound: -3,
        upperBound: [3, 2],
        batchSize: B,
        shiftFill,
        solver: {
          numSamples: N,
          numElites: 4,
          numIterations: 2,
          tolerance: 0,
          keepElites: 0.5, // ⌊0.5 · 4⌋ = 2 carried
          onIteration: (info: IterationInfo<T>) => {
            iterations[stepIndex]?.push({
              samples: read(info.samples),
              values: read(info.values),
              n: info.samples.shape[1] as number,
            });
          },
        },
        seed: 4,
      });
      planner.plan(trackingCost(target));
      stepIndex = 1;
      planner.plan(trackingCost(target));
      const last = iterations[0]?.[1];
      const first = iterations[1]?.[0];
      if (last === undefined || first === undefined) throw new Error('no iterations recorded');
      // Fresh samples first, then the two carried ones.
      expect(first.n).toBe(N + 2);
      const middle = [0, -0.5];
      for (let r = 0; r < B; r++) {
        const values = last.values.slice(r * last.n, (r + 1) * last.n);
        const order = values.map((v, i) => [v, i] as const).sort((x, y) => x[0] - y[0]);
        for (let j = 0; j < 2; j++) {
          const i = order[j]?.[1] as number;
          const elite = last.samples.slice((r * last.n + i) * D, (r * last.n + i + 1) * D);
          const fill = shiftFill === 'last' ? elite.slice(-m) : shiftFill === 'zero' ? [0, 0] : middle;
          const carried = first.samples.slice((r * first.n + N + j) * D, (r * first.n + N + j + 1) * D);
          expect(carried).toEqual([...elite.slice(m), ...fill]);
        }
      }
      planner.dispose();
    }
  });

  it("'elite' draws an elite of the last iteration with probability equal to its weight, seeded", () => {
    // A selector that gives the three best samples the weights 3·(0.6, 0.3, 0.1) (rows sum to k = 3).
    const selector = (scores: T, k: number) => {
      const [B = 0, N = 0] = scores.shape;
      const s = read(scores);
      const w = new Float64Array(B * N);
      for (let r = 0; r < B; r++) {
        const order = Array.from({ length: N }, (_, i) => i).sort(
          (x, y) => (s[r * N + y] as number) - (s[r * N + x] as number),
        );
        [0.6, 0.3, 0.1].forEach((p, j) => {
          w[r * N + (order[j] as number)] = k * p;
        });
      }
      return b.tensor(w, [B, N]);
    };
    const B = 3000;
    const N = 6;
    let last: { samples: number[]; values: number[] } | undefined;
    const options: PlannerOptions<T> = {
      horizon: 2,
      actionDim: 1,
      batchSize: B,
      action: 'elite',
      solver: {
        numSamples: N,
        numElites: 3,
        numIterations: 1,
        selector,
        onIteration: (info: IterationInfo<T>) => {
          last = { samples: read(info.samples), values: read(info.values) };
        },
      },
      seed: 9,
    };
    const cost = (u: T) => b.sum(b.sum(b.square(u), -1, false), -1, false);
    const result = plan(b, cost, options);
    const action = read(result.action);
    const counts = [0, 0, 0];
    for (let r = 0; r < B; r++) {
      const values = last?.values.slice(r * N, (r + 1) * N) ?? [];
      const order = values.map((v, i) => [v, i] as const).sort((x, y) => x[0] - y[0]);
      const rank = [0, 1, 2].find(
        (j) => last?.samples[(r * N + (order[j]?.[1] as number)) * 2] === action[r],
      );
      expect(rank).toBeDefined();
      counts[rank as number] = (counts[rank as number] as number) + 1;
    }
    // Binomial standard deviations are at most √(0.25/3000) ≈ 0.009: 0.035 is about 4σ.
    [0.6, 0.3, 0.1].forEach((p, j) => {
      expect(Math.abs((counts[j] as number) / B - p)).toBeLessThan(0.035);
    });
    // The draw is seeded: the same options give the same actions.
    expect(read(plan(b, cost, options).action)).toEqual(action);
  });

  it('reset(rows) replaces the carried elites of the reset rows by draws from N(μ₀, σ₀²)', () => {
    const N = 8;
    const D = H * m;
    /** The carried candidates [row][2·D] of the third step's first iteration, with or without a reset of row 1. */
    const carried = (reset: boolean) => {
      const firsts: { samples: number[]; n: number }[] = [];
      const planner = createPlanner(b, {
        horizon: H,
        actionDim: m,
        batchSize: 2,
        initMean: 100,
        initStd: 0.01,
        solver: {
          numSamples: N,
          numElites: 4,
          numIterations: 1,
          keepElites: 0.5,
          onIteration: (info: IterationInfo<T>) => {
            firsts.push({ samples: read(info.samples), n: info.samples.shape[1] as number });
          },
        },
        seed: 0,
      });
      const cost = trackingCost(target);
      planner.plan(cost);
      planner.plan(cost);
      if (reset) planner.reset([1]);
      planner.plan(cost);
      planner.dispose();
      const f = firsts[2] as { samples: number[]; n: number };
      return [0, 1].map((row) => f.samples.slice((row * f.n + N) * D, (row * f.n + N + 2) * D));
    };
    const [kept, fresh] = carried(true);
    const [twinKept, twinShifted] = carried(false);
    expect(kept).toEqual(twinKept);
    expect(fresh).not.toEqual(twinShifted);
    // Draws from N(100, 0.01²): within 6σ.
    for (const v of fresh ?? []) expect(Math.abs(v - 100)).toBeLessThan(0.06);
  });

  for (const name of Object.keys(presets) as (keyof typeof presets)[]) {
    it(`runs the ${name} preset in closed loop: warm-started steps improve on the cold start`, () => {
      const cost = trackingCost(target);
      const planner = createPlanner(b, {
        horizon: H,
        actionDim: m,
        lowerBound: -3,
        upperBound: 3,
        batchSize: 2,
        action: name === 'tdmpc2' ? 'elite' : 'mean',
        solver: presets[name],
        seed: 12,
      });
      const start = read(cost(b.fill([2, 1, H, m], 0)));
      const costs: number[][] = [];
      for (let t = 0; t < 3; t++) {
        const r = planner.plan(cost);
        costs.push(read(cost(b.reshape(r.controls, [2, 1, H, m]))));
        expect(read(r.best.cost).every((v, i) => v <= (start[i] as number))).toBe(true);
      }
      // The target is the same at every step, so the shifted plan is a good start; each plan beats μ₀ = 0.
      for (const c of costs) {
        c.forEach((v, i) => {
          expect(v).toBeLessThan(start[i] as number);
        });
      }
      planner.dispose();
    });
  }

  it('coloured noise runs along the time axis of the plan: the solver gets noiseShape [H, m]', () => {
    // β = 2 (red noise): consecutive steps of a sample are strongly correlated, its dimensions are not.
    let samples: number[] = [];
    let n = 0;
    plan(b, trackingCost(target), {
      horizon: H,
      actionDim: m,
      batchSize: 1,
      initStd: 1,
      initMean: 0,
      solver: {
        numSamples: 4000,
        numElites: 10,
        numIterations: 1,
        noiseExponent: 2,
        onIteration: (info: IterationInfo<T>) => {
          samples = read(info.samples);
          n = info.samples.shape[1] as number;
        },
      },
      seed: 3,
    });
    const corr = (i: number, j: number) => {
      let sij = 0;
      let sii = 0;
      let sjj = 0;
      for (let s = 0; s < n; s++) {
        const a = samples[s * H * m + i] as number;
        const c = samples[s * H * m + j] as number;
        sij += a * c;
        sii += a * a;
        sjj += c * c;
      }
      return sij / Math.sqrt(sii * sjj);
    };
    // Steps 0 and 1 of dimension 0 (entries 0 and m) against dimensions 0 and 1 of step 0 (entries 0 and 1).
    // White noise would give 0 ± 1/√4000 ≈ 0.016 for both; red noise over H = 4 steps gives ≈ 0.23.
    expect(corr(0, m)).toBeGreaterThan(0.15);
    expect(Math.abs(corr(0, 1))).toBeLessThan(0.065);
    expect(() => createPlanner(b, { horizon: H, actionDim: m, solver: { noiseShape: [m, H] } })).toThrow(
      /solver.noiseShape is set by the planner to \[4, 2\] \(horizon, actionDim\); leave it out, received \[2, 4\]/,
    );
    expect(() => createPlanner(b, { horizon: H, actionDim: m, solver: { noiseAxis: 1 } })).toThrow(
      /solver.noiseAxis is set by the planner to 0/,
    );
    createPlanner(b, { horizon: H, actionDim: m, solver: { noiseShape: [H, m], noiseAxis: 0 } }).dispose();
  });

  it('clamps every sample and the plan to per-step bounds', () => {
    const lower = [
      [-1, 0],
      [-0.5, 0.2],
      [0, 0.4],
      [0.5, 0.6],
    ];
    const upper = [
      [0, 0.1],
      [0.5, 0.3],
      [1, 0.5],
      [1.5, 0.7],
    ];
    let checked = 0;
    const inside = (x: T) => {
      const v = read(x);
      const D = H * m;
      v.forEach((value, i) => {
        const j = i % D;
        const t = Math.floor(j / m);
        expect(value).toBeGreaterThanOrEqual(lower[t]?.[j % m] as number);
        expect(value).toBeLessThanOrEqual(upper[t]?.[j % m] as number);
        checked += 1;
      });
    };
    const result = plan(b, trackingCost(target), {
      horizon: H,
      actionDim: m,
      lowerBound: lower,
      upperBound: upper,
      initStd: 3,
      solver: {
        numSamples: 20,
        numElites: 4,
        numIterations: 3,
        onIteration: (info: IterationInfo<T>) => inside(info.samples),
      },
      seed: 0,
    });
    inside(result.controls);
    inside(result.best.controls);
    expect(checked).toBeGreaterThan(3 * 20 * H * m);
    // σ₀ = 3 pushes many samples outside: the clamped plan touches the bounds of step 3 (target 2.5 > 1.5).
    expect(read(result.controls)[6]).toBeGreaterThan(1.45);
  });

  it('reset() starts every row, or the given rows, cold again', () => {
    const starts: number[][][] = [];
    const B = 3;
    const ones = b.fill([B, 6, H * m], 1);
    const planner = createPlanner(b, {
      horizon: H,
      actionDim: m,
      batchSize: B,
      initMean: 0.5,
      initStd: 1,
      solver: {
        numSamples: 6,
        numElites: 2,
        numIterations: 1,
        noise: () => ones,
        onIteration: (info: IterationInfo<T>) => starts.push(firstSamples(info.samples)),
      },
    });
    const cost = trackingCost(target);
    const r0 = planner.plan(cost);
    planner.reset([2, 0]);
    planner.plan(cost);
    planner.reset();
    planner.plan(cost);
    const cold = new Array(H * m).fill(1.5);
    const mean = read(r0.mean);
    const warmRow1 = [...mean.slice(H * m + m, 2 * H * m), 0.5, 0.5].map((v) => v + 1);
    expect(starts[1]).toEqual([cold, warmRow1, cold]);
    expect(starts[2]).toEqual([cold, cold, cold]);
    expect(() => planner.reset([3])).toThrow(
      /rows\[0\] must be an integer in \[0, 2\] \(batchSize 3\), received 3/,
    );
    expect(() => planner.reset([0.5])).toThrow(RangeError);
    expect(() => planner.reset(2 as unknown as number[])).toThrow(TypeError);
    planner.dispose();
    expect(() => planner.plan(cost)).toThrow(/disposed/);
  });

  it('seeds reproduce bit for bit, and each step and seed draws its own noise', () => {
    const run = (seed: number) => {
      const planner = createPlanner(b, {
        horizon: H,
        actionDim: m,
        lowerBound: -2,
        upperBound: 2,
        batchSize: 2,
        action: 'best',
        solver: { numSamples: 16, numElites: 4, numIterations: 3, temperature: 0.5 },
        seed,
      });
      const out: number[][] = [];
      for (let t = 0; t < 3; t++) {
        const r = planner.plan(trackingCost(target));
        out.push([...read(r.controls), ...read(r.best.controls), ...read(r.std), ...read(r.action)]);
      }
      planner.dispose();
      return out;
    };
    const a = run(7);
    expect(run(7)).toEqual(a);
    const other = run(8);
    expect(other[0]).not.toEqual(a[0]);
    // Step 1 of seed 7 does not replay step 0 of seed 8 (no additive offsets).
    const firstSample = (seed: number, steps: number) => {
      const { planner, sample } = firstSamplePlanner(seed);
      const zero = () => b.fill([1, 4], 0);
      for (let t = 0; t < steps; t++) planner.plan(zero);
      planner.dispose();
      return sample();
    };
    expect(firstSample(7, 2)).not.toEqual(firstSample(8, 1));
    expect(firstSample(7, 2)).not.toEqual(firstSample(7, 1));
  });

  it('seeds step t with deriveSeed(seed, SEED_STREAMS.mpcStep, t)', () => {
    // With initMean 0 and no warm start (reset), step t's first samples are the solver's draws
    // from the seed of step t: those of createCem with that seed.
    const draws = (seed: number, steps: number) => {
      const { planner, sample } = firstSamplePlanner(seed);
      for (let t = 0; t < steps; t++) {
        planner.reset();
        planner.plan(() => b.fill([1, 4], 0));
      }
      planner.dispose();
      return sample();
    };
    const solverDraw = (seed: number) => {
      const solver = createCem(b, {
        dim: H * m,
        numSamples: 4,
        numElites: 2,
        numIterations: 1,
        initMean: 0,
        noiseShape: [H, m],
        noiseAxis: 0,
        seed,
      });
      const state = solver.init();
      const samples = solver.ask(state);
      const out = firstSamples(samples)[0] ?? [];
      solver.release(state);
      solver.dispose();
      return out;
    };
    for (const t of [0, 1, 2]) {
      expect(draws(5, t + 1)).toEqual(solverDraw(deriveSeed(5, SEED_STREAMS.mpcStep, t)));
    }
  });

  it('planAsync gives the same plan as plan for a cost that resolves', async () => {
    const options: PlannerOptions<T> = {
      horizon: H,
      actionDim: m,
      lowerBound: -2,
      upperBound: 2,
      batchSize: 2,
      solver: { numSamples: 12, numElites: 3, numIterations: 3 },
      seed: 11,
    };
    const cost = trackingCost(target);
    const sync = createPlanner(b, options);
    const async = createPlanner(b, options);
    for (let t = 0; t < 2; t++) {
      const s = sync.plan(cost);
      const a = await async.planAsync(
        (u) => new Promise<T>((resolve) => setTimeout(() => resolve(cost(u)), 1)),
      );
      expect(read(a.controls)).toEqual(read(s.controls));
      expect(read(a.best.cost)).toEqual(read(s.best.cost));
      expect(a.step).toBe(t);
    }
  });

  it('a rejected cost rejects planAsync with its error and keeps the previous warm start', async () => {
    const options: PlannerOptions<T> = {
      horizon: H,
      actionDim: m,
      solver: { numSamples: 12, numElites: 3, numIterations: 3 },
      seed: 2,
    };
    const cost = trackingCost(target);
    const reference = createPlanner(b, options);
    reference.plan(cost);
    const expected = read(reference.plan(cost).controls);

    const planner = createPlanner(b, options);
    await planner.planAsync(cost);
    let calls = 0;
    const failing = async (u: T) => {
      calls += 1;
      if (calls === 2) throw new Error('simulator crashed');
      return cost(u);
    };
    await expect(planner.planAsync(failing)).rejects.toThrow('simulator crashed');
    expect(planner.step).toBe(1);
    // The failed step consumed nothing: the next step is step 1 from the same warm start.
    expect(read((await planner.planAsync(cost)).controls)).toEqual(expected);
  });

  it('refuses a second step while an asynchronous one is in flight, and a Promise in plan()', async () => {
    const planner = createPlanner(b, { horizon: 2, actionDim: 1, solver: { numSamples: 4, numElites: 2 } });
    const zero = () => b.fill([1, 4], 0);
    const pending = planner.planAsync(async () => zero());
    expect(() => planner.plan(zero)).toThrow(/already being planned/);
    await pending;
    expect(() => planner.plan((async () => zero()) as never)).toThrow(
      /cost returned a Promise: use planner.planAsync/,
    );
    // The planner is usable after the refusal.
    expect(planner.plan(zero).step).toBe(1);
  });

  it('rejects bad options, names them, and suggests the nearest valid name', () => {
    const base = { horizon: 3, actionDim: 1 };
    const make = (o: Record<string, unknown>) => () =>
      createPlanner(b, { ...base, ...o } as unknown as PlannerOptions<T>);
    expect(make({ horizon: 0 })).toThrow(/horizon must be an integer ≥ 1, received 0/);
    expect(make({ actionDim: 1.5 })).toThrow(/actionDim must be an integer, received 1.5/);
    expect(make({ batchSize: -1 })).toThrow(RangeError);
    expect(make({ horizn: 3 })).toThrow(/unknown planner option "horizn"; did you mean "horizon"\?/);
    expect(make({ actionDim: 2, lowerBound: [0] })).toThrow(
      /lowerBound must have 2 entries \(actionDim\), received 1/,
    );
    expect(make({ lowerBound: [[0], [0]] })).toThrow(
      /lowerBound must be a number, an array \[1\] or an array of arrays \[3\]\[1\]/,
    );
    expect(make({ lowerBound: 1, upperBound: 1 })).toThrow(
      /lowerBound must be < upperBound at every step and dimension, received 1 and 1 at step 0, dimension 0/,
    );
    expect(make({ lowerBound: [[0], [0], [Number.NaN]] })).toThrow(
      /lowerBound\[2\]\[0\] must be a finite number/,
    );
    expect(make({ initStd: 0 })).toThrow(/initStd must be > 0 everywhere, received 0/);
    expect(make({ shiftFill: 'first' })).toThrow(
      /shiftFill must be 'last', 'middle' or 'zero', received "first"/,
    );
    expect(make({ action: 'mode' })).toThrow(/action must be 'mean', 'best' or 'elite', received "mode"/);
    expect(make({ seed: 0.5 })).toThrow(/seed must be an integer/);
    expect(make({ solver: 3 })).toThrow(/solver must be an object/);
    expect(make({ solver: { seed: 1 } })).toThrow(
      /solver.seed is set by the planner; give seed to the planner/,
    );
    expect(make({ solver: { dim: 3 } })).toThrow(
      /solver.dim is set by the planner; give horizon and actionDim/,
    );
    expect(make({ solver: { lowerBound: 0 } })).toThrow(/solver.lowerBound is set by the planner/);
    expect(make({ solver: { initStd: 1 } })).toThrow(/solver.initStd is set by the planner/);
    // The solver validates its own options when the planner is created.
    expect(make({ solver: { numElites: 30 } })).toThrow(/numElites must be < numSamples/);
    const planner = createPlanner(b, base);
    expect(() => planner.plan(3 as never)).toThrow(/cost must be a function, received 3/);
    expect(() => planner.plan(() => b.fill([1, 5], 0))).toThrow(
      /cost\(controls\) must return shape \[1, 20\] for controls \[1, 20, 3, 1\], received \[1, 5\]/,
    );
    expect(() => planner.plan(() => 0 as never)).toThrow(
      /cost\(controls\) must return a tensor of shape \[1, 20\]/,
    );
  });

  it('disposePlanResult frees every tensor of a result', () => {
    const disposed: unknown[] = [];
    const tracking = { ...b, dispose: (x: T) => disposed.push(x) };
    const r: PlanResult<T> = plan(b, trackingCost(target), { horizon: H, actionDim: m, seed: 0 });
    disposePlanResult(tracking, r);
    expect(new Set(disposed)).toEqual(
      new Set([r.action, r.controls, r.best.controls, r.best.cost, r.mean, r.std, r.status]),
    );
  });
});
