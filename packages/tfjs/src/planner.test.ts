// The planner on TensorFlow.js: gradients through it (against central finite
// differences on a short pendulum plan), no tensor leaks over 100 steps or
// when a cost fails, and asynchronous costs.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PlannerAction, type PlannerOptions, type PlannerSolverOptions, presets } from './index.js';
import { createPlanner, disposePlanResult, plan } from './planner.js';

type Tensor = tf.Tensor;

beforeAll(async () => {
  expect(await tf.setBackend('cpu')).toBe(true);
});

const DT = 0.05;
const H = 5;

/**
 * The cost of pendulum plans from start states x0 [B, 2] = (θ, θ̇) (θ = 0 is
 * upright): θ̈ = (3g/2l) sin θ + 3u/(ml²), semi-implicit Euler with Δt = 0.05,
 * C(u) = Σ_t (1 − cos θ_{t+1}) + 0.1 θ̇²_{t+1} + 0.001 u_t². Every op is
 * smooth, so the plan is a smooth function of x0 for fixed noise.
 */
function pendulumCost(x0: Tensor): (u: Tensor) => Tensor {
  return (u) =>
    tf.tidy(() => {
      const [B, N] = u.shape as [number, number, number, number];
      let theta = tf.broadcastTo(tf.slice(x0, [0, 0], [-1, 1]), [B, N]);
      let omega = tf.broadcastTo(tf.slice(x0, [0, 1], [-1, 1]), [B, N]);
      let cost = tf.zeros([B, N]);
      for (const ut of tf.unstack(tf.reshape(u, [B, N, H]), 2)) {
        omega = tf.add(omega, tf.mul(DT, tf.add(tf.mul(15, tf.sin(theta)), tf.mul(3, ut))));
        theta = tf.add(theta, tf.mul(DT, omega));
        const stage = tf.addN([
          tf.sub(1, tf.cos(theta)),
          tf.mul(0.1, tf.square(omega)),
          tf.mul(0.001, tf.square(ut)),
        ]);
        cost = tf.add(cost, stage);
      }
      return cost;
    });
}

const X0 = [
  [0.6, -0.3],
  [-1.1, 0.5],
];

function options(solver: PlannerSolverOptions<Tensor>): PlannerOptions<Tensor> {
  return {
    horizon: H,
    actionDim: 1,
    lowerBound: -2,
    upperBound: 2,
    batchSize: 2,
    // The sparse selector and the hard choice of kept elites are piecewise smooth: the noise seed
    // must put no kink within h of X0. Seed 6 does for every case below under the planner's
    // deriveSeed streams (seed 5 puts one within 1e-3 of X0 for the one-step sparse case: tf.grad
    // is stable there while central differences at h = 3e-3 and 1e-3 both straddle it).
    seed: 6,
    solver: { numSamples: 40, numElites: 8, numIterations: 4, tolerance: 0, ...solver },
  };
}

/**
 * L(x0) = Σ w ⊙ û₂ where û₂ is the plan of the second step of a planner that
 * first planned from x0 (so the gradient also flows through the warm start),
 * or of a single step (`steps` = 1).
 */
function loss(solver: PlannerSolverOptions<Tensor>, steps: number): (x0: Tensor) => tf.Scalar {
  const w = tf.tensor3d([0.3, -1, 2, 0.5, 1.5, -0.7, 0.2, 1, -2, 0.4], [2, H, 1]);
  return (x0) => {
    const planner = createPlanner(options(solver));
    try {
      let out: tf.Scalar | undefined;
      for (let t = 0; t < steps; t++) {
        const r = planner.plan(pendulumCost(x0));
        if (t === steps - 1) out = tf.sum(tf.mul(w, r.controls));
        disposePlanResult(r);
      }
      return out as tf.Scalar;
    } finally {
      planner.dispose();
    }
  };
}

/** tf.grad of L at X0 and its central differences with step h. */
function gradientAndDifferences(f: (x0: Tensor) => tf.Scalar, h: number): { g: number[]; fd: number[] } {
  const x0 = tf.tensor2d(X0);
  const g = tf.tidy(() => Array.from(tf.grad(f)(x0).dataSync()));
  const fd = X0.flat().map((_, i) =>
    tf.tidy(() => {
      const e = tf.reshape(tf.oneHot(i, 4), [2, 2]).mul(h);
      const plus = f(tf.add(x0, e)).dataSync()[0] as number;
      const minus = f(tf.sub(x0, e)).dataSync()[0] as number;
      return (plus - minus) / (2 * h);
    }),
  );
  x0.dispose();
  return { g, fd };
}

describe('gradients through the planner', () => {
  // Central differences in float32. Their error is the truncation O(h²) (≈ 1e-4 relative at
  // h = 1e-2) plus the rounding ε₃₂·|L|/h (|L| ≈ 5: ≈ 3e-5 at h = 1e-2, 1e-4 at h = 3e-3).
  // LML weights are smooth in the costs: h = 1e-2. sparseTopK is piecewise linear: where a sample
  // enters or leaves its support the derivative jumps, and here such a kink lies within 1e-2 of X0
  // (the h = 1e-2 difference is then 4 % off while h = 3e-3 agrees to 3e-4), so its cases use
  // h = 3e-3, which stays on one piece. 3 % of the largest partial derivative covers these errors
  // with margin and still fails on a wrong or missing path (that changes a partial by O(1) of itself).
  const cases: [string, PlannerSolverOptions<Tensor>, number][] = [
    ['LML (DCEM, τ = 1)', { temperature: 1 }, 1e-2],
    ['LML with τ = 0.5', { temperature: 0.5 }, 1e-2],
    ['sparse top-k (τ = 1)', { selector: 'sparse', temperature: 1 }, 3e-3],
    ['LML, momentum 0.3 and kept elites (ξ = 0.5)', { temperature: 1, momentum: 0.3, keepElites: 0.5 }, 1e-2],
    [
      'sparse top-k, momentum 0.3 and kept elites (ξ = 0.5)',
      { selector: 'sparse', temperature: 1, momentum: 0.3, keepElites: 0.5 },
      3e-3,
    ],
  ];
  for (const [name, solver, h] of cases) {
    for (const steps of [1, 2]) {
      const what = steps === 1 ? 'one step' : 'through the warm start of a second step';
      it(`${name}, ${what}: tf.grad matches central differences`, () => {
        const { g, fd } = gradientAndDifferences(loss(solver, steps), h);
        const scale = Math.max(...fd.map(Math.abs));
        expect(scale).toBeGreaterThan(0.05);
        g.forEach((v, i) => {
          expect(Math.abs(v - (fd[i] as number))).toBeLessThan(0.03 * scale);
        });
      });
    }
  }

  it('vanilla CEM (hard top-k) passes no gradient to the start states', () => {
    const { g } = gradientAndDifferences(loss({ temperature: null }, 1), 1e-2);
    expect(g.map(Math.abs)).toEqual([0, 0, 0, 0]);
  });
});

describe('memory', () => {
  const live = () => tf.memory().numTensors;

  it('no tensor leaks over 100 planner steps (warm starts with kept elites, every action, resets)', () => {
    const x0 = tf.tensor2d(X0);
    const configs: [PlannerAction, PlannerSolverOptions<Tensor>][] = [
      ['mean', { temperature: 1 }],
      ['best', { ...presets.icem, numSamples: 40 }],
      ['elite', { ...presets.tdmpc2, numSamples: 40, numElites: 8 }],
    ];
    for (const [action, solver] of configs) {
      const planner = createPlanner({ ...options(solver), action });
      const cost = pendulumCost(x0);
      disposePlanResult(planner.plan(cost));
      const before = live();
      for (let t = 0; t < 100; t++) {
        disposePlanResult(planner.plan(cost));
        if (t % 10 === 0) planner.reset([1]);
        if (t % 33 === 5) planner.reset(); // never at the last step: the warm start stays held
      }
      expect(live()).toBe(before);
      planner.dispose();
    }
    const before = live();
    disposePlanResult(plan(pendulumCost(x0), options({})));
    expect(live()).toBe(before);
    x0.dispose();
  });

  it('creating and disposing planners, and rejected options, leak nothing', () => {
    const before = live();
    createPlanner(options({})).dispose();
    expect(() => createPlanner({ ...options({}), solver: { numElites: 100 } })).toThrow(RangeError);
    expect(() => createPlanner({ ...options({}), initStd: -1 })).toThrow(RangeError);
    expect(live()).toBe(before);
  });

  it('a cost that throws or returns a wrong shape leaks nothing and leaves the planner usable', () => {
    const x0 = tf.tensor2d(X0);
    const planner = createPlanner(options({ temperature: 1 }));
    disposePlanResult(planner.plan(pendulumCost(x0)));
    const before = live();
    let calls = 0;
    const failing = (u: Tensor) => {
      calls += 1;
      if (calls === 3) throw new Error('model diverged');
      return pendulumCost(x0)(u);
    };
    expect(() => planner.plan(failing)).toThrow('model diverged');
    expect(() => planner.plan((u) => tf.sum(u, 3))).toThrow(/cost\(controls\) must return shape \[2, 40\]/);
    expect(live()).toBe(before);
    disposePlanResult(planner.plan(pendulumCost(x0)));
    expect(live()).toBe(before);
    planner.dispose();
    x0.dispose();
  });
});

describe('seeds', () => {
  it('reproduce bit for bit (iCEM preset: coloured noise, decay, kept elites), and differ between seeds', () => {
    const x0 = tf.tensor2d(X0);
    const run = (seed: number) => {
      const planner = createPlanner({ ...options({ ...presets.icem, numSamples: 30 }), seed });
      const out: number[] = [];
      for (let t = 0; t < 5; t++) {
        const r = planner.plan(pendulumCost(x0));
        out.push(...r.controls.dataSync(), ...r.best.controls.dataSync(), ...r.std.dataSync());
        disposePlanResult(r);
      }
      planner.dispose();
      return out;
    };
    const a = run(21);
    expect(run(21)).toEqual(a);
    expect(run(22)).not.toEqual(a);
    x0.dispose();
  });
});

describe('asynchronous costs', () => {
  const live = () => tf.memory().numTensors;

  it('a cost returning a Promise plans as the synchronous cost does, bit for bit', async () => {
    const x0 = tf.tensor2d(X0);
    const sync = createPlanner(options({ temperature: 1 }));
    const asyncPlanner = createPlanner(options({ temperature: 1 }));
    const cost = pendulumCost(x0);
    for (let t = 0; t < 3; t++) {
      const s = sync.plan(cost);
      const a = await asyncPlanner.planAsync(
        (u) => new Promise<Tensor>((resolve) => setTimeout(() => resolve(cost(u)), 0)),
      );
      expect(Array.from(a.controls.dataSync())).toEqual(Array.from(s.controls.dataSync()));
      expect(Array.from(a.action.dataSync())).toEqual(Array.from(s.action.dataSync()));
      disposePlanResult(s);
      disposePlanResult(a);
    }
    sync.dispose();
    asyncPlanner.dispose();
    x0.dispose();
  });

  it('a rejected Promise reaches the caller and leaks no tensor', async () => {
    const x0 = tf.tensor2d(X0);
    const planner = createPlanner(options({ temperature: 1 }));
    const cost = pendulumCost(x0);
    disposePlanResult(await planner.planAsync(async (u) => cost(u)));
    const before = live();
    for (const failAt of [1, 2, 4]) {
      let calls = 0;
      const simulator = (u: Tensor) =>
        new Promise<Tensor>((resolve, reject) => {
          calls += 1;
          const values = cost(u);
          setTimeout(() => {
            if (calls === failAt) {
              values.dispose();
              reject(new RangeError(`simulator failed at call ${failAt}`));
            } else resolve(values);
          }, 0);
        });
      await expect(planner.planAsync(simulator)).rejects.toThrow(`simulator failed at call ${failAt}`);
      expect(live()).toBe(before);
    }
    disposePlanResult(await planner.planAsync(async (u) => cost(u)));
    expect(live()).toBe(before);
    planner.dispose();
    x0.dispose();
  });
});

afterAll(() => {
  tf.disposeVariables();
});
