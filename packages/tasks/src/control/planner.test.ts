import { deriveSeed } from '@dcem/core';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { rollout } from './dynamics.js';
import { maxAbsDiff } from './dynamics-f64.test-utils.js';
import { createPendulum, pendulumSwingUpCost } from './pendulum.js';
import {
  type ControlCost,
  disposePlanResult,
  type PlannerOptions,
  plan,
  rolloutCost,
  shiftControls,
} from './planner.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** C(u) = Σ_{t,j} (u_tj − target_j)², controls [B, N, H, m] → [B, N]. */
function quadratic(target: tf.Tensor): ControlCost {
  return (u) => tf.tidy(() => tf.sum(tf.square(tf.sub(u, target)), [2, 3]));
}

/** A seed stream of this test's own (not one of SEED_STREAMS). */
const TEST_STREAM = 100;

/** Standard normals [B, N, H, m] per iteration, fixed up front. */
function fixedNoise(iterations: number, shape: [number, number, number, number], seed: number): tf.Tensor[] {
  return Array.from({ length: iterations }, (_, t) =>
    tf.randomNormal(shape, 0, 1, 'float32', deriveSeed(seed, TEST_STREAM, t)),
  );
}

describe('plan', () => {
  it('returns plans, first actions and costs of the right shapes, inside per-dimension bounds', () => {
    const target = tf.tensor1d([3, -1]); // the first dimension's optimum lies above its bound 2
    const seen: number[] = [];
    const r = plan(quadratic(target), {
      horizon: 4,
      controlDim: 2,
      lowerBound: [-1, -3],
      upperBound: [2, 0.5],
      batchSize: 3,
      numSamples: 100,
      numElites: 10,
      numIterations: 30,
      seed: 3,
      onIteration: (info) => {
        expect(info.samples.shape).toEqual([3, 100, 4, 2]);
        expect(info.mean.shape).toEqual([3, 4, 2]);
        expect(info.values.shape).toEqual([3, 100]);
        const [lo, hi] = tf.tidy(() => {
          const d = tf.unstack(info.samples, 3) as [tf.Tensor, tf.Tensor];
          return [
            [tf.min(d[0]).dataSync()[0], tf.min(d[1]).dataSync()[0]],
            [tf.max(d[0]).dataSync()[0], tf.max(d[1]).dataSync()[0]],
          ];
        }) as unknown as [number[], number[]];
        expect(lo[0]).toBeGreaterThanOrEqual(-1);
        expect(lo[1]).toBeGreaterThanOrEqual(-3);
        expect(hi[0]).toBeLessThanOrEqual(2);
        expect(hi[1]).toBeLessThanOrEqual(0.5);
        seen.push(info.iteration);
      },
    });
    expect(r.controls.shape).toEqual([3, 4, 2]);
    expect(r.firstAction.shape).toEqual([3, 2]);
    expect(r.cost.shape).toEqual([3]);
    expect(r.mean.shape).toEqual([3, 4, 2]);
    expect(seen.length).toBeGreaterThan(3);
    const u = r.controls.arraySync() as number[][][];
    for (const row of u) {
      for (const [a, b] of row as [number, number][]) {
        expect(a).toBeGreaterThan(1.85); // pressed against the bound 2
        expect(a).toBeLessThanOrEqual(2);
        expect(Math.abs(b + 1)).toBeLessThan(0.25);
      }
    }
    expect(Array.from(r.firstAction.dataSync())).toEqual(u.flatMap((row) => row[0] as number[]));
    const again = tf.tidy(() => Array.from(quadratic(target)(tf.expandDims(r.controls, 1)).dataSync()));
    expect(maxAbsDiff(r.cost.dataSync(), again)).toBe(0);
    disposePlanResult(r);
    target.dispose();
  });

  it('shifts a warm start by one step and fills the last step with the middle of the bounds', () => {
    const previous = tf.tensor3d([
      [
        [1, 10],
        [2, 20],
        [3, 30],
      ],
    ]);
    const shifted = shiftControls(previous, [0.5, -1]);
    expect(shifted.arraySync()).toEqual([
      [
        [2, 20],
        [3, 30],
        [0.5, -1],
      ],
    ]);
    // With zero noise every sample is μ₀, so one iteration returns μ₀ itself:
    // the shifted previous plan, clamped to the bounds.
    const zeros = tf.zeros([1, 8, 3, 2]);
    const r = plan(quadratic(tf.tensor1d([0, 0])), {
      horizon: 3,
      controlDim: 2,
      lowerBound: [-4, -40],
      upperBound: [5, 25],
      numSamples: 8,
      numElites: 2,
      numIterations: 1,
      warmStart: previous,
      noise: () => zeros,
    });
    expect(r.controls.arraySync()).toEqual([
      [
        [2, 20],
        [3, 25],
        [0.5, -7.5],
      ],
    ]);
    disposePlanResult(r);
    tf.dispose([previous, shifted, zeros]);
  });

  for (const temperature of [null, 0.5]) {
    it(`solves a batch exactly as it solves each row alone, given the same noise (τ = ${temperature})`, () => {
      const pendulum = createPendulum();
      const x0 = tf.tensor2d([
        [1, 0, 0.5],
        [0, 1, -1],
        [-1, 0, 2],
      ]);
      const iterations = 5;
      const noise = fixedNoise(iterations, [3, 40, 6, 1], 11);
      const options: PlannerOptions = {
        horizon: 6,
        controlDim: 1,
        lowerBound: -2,
        upperBound: 2,
        numSamples: 40,
        numElites: 5,
        numIterations: iterations,
        tolerance: 0,
        initStd: 1.5,
        temperature,
      };
      const batched = plan(rolloutCost(pendulum, x0, pendulumSwingUpCost), {
        ...options,
        batchSize: 3,
        noise: (t) => noise[t] as tf.Tensor,
      });
      for (let b = 0; b < 3; b++) {
        const row = tf.slice(x0, [b, 0], [1, 3]);
        const rowNoise = noise.map((e) => tf.slice(e, [b, 0, 0, 0], [1, -1, -1, -1]));
        const single = plan(rolloutCost(pendulum, row, pendulumSwingUpCost), {
          ...options,
          noise: (t) => rowNoise[t] as tf.Tensor,
        });
        const mine = tf.tidy(() => tf.slice(batched.controls, [b, 0, 0], [1, -1, -1]).dataSync());
        expect(maxAbsDiff(single.controls.dataSync(), mine)).toBeLessThan(1e-6);
        expect(
          Math.abs((single.cost.dataSync()[0] as number) - (batched.cost.dataSync()[b] as number)),
        ).toBeLessThan(1e-6);
        disposePlanResult(single);
        tf.dispose([row, ...rowNoise]);
      }
      disposePlanResult(batched);
      tf.dispose([x0, ...noise]);
    });
  }

  it('is differentiable when τ is set: the gradient through the plan matches finite differences', () => {
    // C(u) = Σ (u − a)² with the target a ∈ ℝ² a parameter: û(a) ≈ a, smooth in a for fixed noise.
    const noise = fixedNoise(8, [1, 50, 3, 2], 5);
    const weights = tf.tensor3d([
      [
        [1, -2],
        [0.5, 1],
        [3, 0.2],
      ],
    ]);
    const options = (temperature: number | null): PlannerOptions => ({
      horizon: 3,
      controlDim: 2,
      lowerBound: -5,
      upperBound: 5,
      numSamples: 50,
      numElites: 5,
      numIterations: 8,
      initStd: 1,
      tolerance: 0,
      temperature,
      noise: (t) => noise[t] as tf.Tensor,
    });
    const loss = (a: tf.Tensor, temperature: number | null) => {
      const r = plan(quadratic(a), options(temperature));
      const out = tf.sum(tf.mul(weights, r.controls));
      tf.dispose([r.firstAction, r.cost, r.mean, r.std]);
      return out as tf.Scalar;
    };
    const a = tf.tensor1d([0.7, -0.4]);
    const g = tf.tidy(() =>
      Array.from(
        tf
          .grad((x: tf.Tensor) => loss(x, 1))(a)
          .dataSync(),
      ),
    );
    const h = 1e-2;
    const fd = [0, 1].map((i) =>
      tf.tidy(() => {
        const e = tf.oneHot([i], 2).reshape([2]).mul(h);
        const plus = loss(tf.add(a, e), 1).dataSync()[0] as number;
        const minus = loss(tf.sub(a, e), 1).dataSync()[0] as number;
        return (plus - minus) / (2 * h);
      }),
    );
    expect(Math.abs(g[0] as number)).toBeGreaterThan(1);
    // FD in float32 with h = 1e-2: rounding ~1e-6/h and truncation O(h²) — a few 1e-3 at most.
    expect(maxAbsDiff(g, fd)).toBeLessThan(2e-2 * Math.max(...fd.map(Math.abs)));
    // Vanilla CEM's hard elite choice is piecewise constant: no gradient reaches a.
    const g0 = tf.tidy(() =>
      Array.from(
        tf
          .grad((x: tf.Tensor) => loss(x, null))(a)
          .dataSync(),
      ),
    );
    expect(g0.map(Math.abs)).toEqual([0, 0]);
    tf.dispose([a, weights, ...noise]);
  });

  it('rejects bad options with messages that name the option and the value', () => {
    const cost = quadratic(tf.tensor1d([0]));
    const base = { horizon: 3, controlDim: 1, lowerBound: -1, upperBound: 1 };
    expect(() => plan(cost, { ...base, horizon: 0 })).toThrow(/horizon must be an integer ≥ 1, received 0/);
    expect(() => plan(cost, { ...base, controlDim: 1.5 })).toThrow(
      /controlDim must be an integer, received 1.5/,
    );
    expect(() => plan(cost, { ...base, lowerBound: [-1, -1] })).toThrow(
      /lowerBound must be a number or an array of 1 numbers/,
    );
    expect(() => plan(cost, { ...base, lowerBound: 1 })).toThrow(
      /lowerBound must be < upperBound .* received 1 and 1/,
    );
    expect(() => plan(cost, { ...base, upperBound: Number.NaN })).toThrow(
      /upperBound must be a finite number/,
    );
    expect(() => plan(cost, { ...base, numSamples: 10, numElites: 10 })).toThrow(
      /numElites must be < numSamples/,
    );
    expect(() => plan(cost, { ...base, warmStart: tf.zeros([1, 2, 1]) })).toThrow(
      /warmStart must have shape \[1, 3, 1\], received \[1, 2, 1\]/,
    );
    expect(() => plan(cost, { ...base, warmStart: tf.zeros([1, 3, 1]), initMean: 0 })).toThrow(
      /either warmStart or initMean/,
    );
    expect(() => plan(cost, { ...base, initStd: tf.ones([4, 1]) })).toThrow(
      /initStd must have shape \[3, 1\] or \[1, 3, 1\], received \[4, 1\]/,
    );
    expect(() => plan(cost, { ...base, initStd: 0 })).toThrow(/initStd must be > 0/);
    expect(() => plan((u) => tf.sum(u, [2, 3, 1]), base)).toThrow(
      /cost\(controls\) must have shape \[1, 100\], received \[1\]/,
    );
    expect(() => plan(cost, { ...base, noise: () => tf.zeros([1, 100, 3]) })).toThrow(
      /noise\(0\) must have shape \[1, 100, 3, 1\]/,
    );
    expect(() => plan('cost' as unknown as ControlCost, base)).toThrow(
      /cost must be a function, received "cost"/,
    );
  });

  it('leaves no tensors behind, also when it throws', () => {
    const pendulum = createPendulum();
    const x0 = tf.tensor2d([
      [1, 0, 0],
      [0, 1, 1],
    ]);
    const cost = rolloutCost(pendulum, x0, pendulumSwingUpCost);
    const options: PlannerOptions = {
      horizon: 5,
      controlDim: 1,
      lowerBound: -2,
      upperBound: 2,
      batchSize: 2,
      numSamples: 20,
      numElites: 4,
      numIterations: 3,
      seed: 1,
      onIteration: () => {},
    };
    const warm = plan(cost, options);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      disposePlanResult(plan(cost, { ...options, warmStart: warm.controls, temperature: 1 }));
      disposePlanResult(
        plan(cost, { ...options, initMean: tf.tidy(() => tf.zeros([5, 1])), initStd: [0.5] }),
      );
    }
    // initMean tensors above are the caller's: 3 of them remain.
    expect(tf.memory().numTensors).toBe(before + 3);
    const mid = tf.memory().numTensors;
    expect(() => plan(() => tf.zeros([2, 3]), options)).toThrow(/cost\(controls\)/);
    expect(() => plan(cost, { ...options, warmStart: tf.ones([2, 5, 1]), initMean: 0 })).toThrow(/either/);
    expect(tf.memory().numTensors).toBe(mid + 1); // the ones([2, 5, 1]) made for the call
    disposePlanResult(warm);
    x0.dispose();
  });
});

describe('rolloutCost', () => {
  it('evaluates a trajectory cost over the rollout of every sampled plan from its row’s start state', () => {
    const pendulum = createPendulum();
    const x0 = tf.tensor2d([
      [1, 0, 0],
      [0, -1, 2],
    ]);
    const u = tf.randomUniform([2, 3, 4, 1], -3, 3, 'float32', 9);
    const cost = rolloutCost(pendulum, x0, pendulumSwingUpCost);
    const got = cost(u);
    expect(got.shape).toEqual([2, 3]);
    const want = tf.tidy(() => pendulumSwingUpCost(rollout(pendulum, tf.expandDims(x0, 1), u), u));
    expect(maxAbsDiff(got.dataSync(), want.dataSync())).toBe(0);
    expect(() => cost(tf.zeros([3, 3, 4, 1]))).toThrow(/controls must have shape \[2, \*, \*, 1\]/);
    expect(() => rolloutCost(pendulum, tf.zeros([2, 5]), pendulumSwingUpCost)).toThrow(
      /initialState must have shape \[\*, 3\]/,
    );
    tf.dispose([x0, u, got, want]);
  });
});
