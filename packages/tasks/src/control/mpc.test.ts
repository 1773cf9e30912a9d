import { createPlanner, disposePlanResult, presets } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Dynamics } from './dynamics.js';
import { maxAbsDiff } from './dynamics-f64.test-utils.js';
import { disposeMpcResult, type MpcOptions, runMpc } from './mpc.js';
import { createPendulum, pendulumSwingUpCost, pendulumSwingUpCostFused } from './pendulum.js';
import { rolloutCost } from './planner.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const pendulum = createPendulum();
const SOLVER = { numSamples: 30, numElites: 5, numIterations: 3 };

function base(x0: tf.Tensor): MpcOptions {
  return {
    dynamics: pendulum,
    initialState: x0,
    steps: 4,
    cost: pendulumSwingUpCost,
    planner: { horizon: 5, solver: SOLVER, initStd: 1, seed: 1 },
  };
}

describe('runMpc', () => {
  it('applies each step’s action to the system and records the closed loop', () => {
    const x0 = tf.tensor2d([
      [1, 0, 0.5],
      [0, -1, 1],
    ]);
    const steps: number[] = [];
    const r = runMpc({
      ...base(x0),
      onStep: (info) => {
        steps.push(info.step);
        expect(info.plan.shape).toEqual([2, 5, 1]);
        expect(info.action.shape).toEqual([2, 1]);
        expect(info.planCost.shape).toEqual([2]);
      },
    });
    expect(steps).toEqual([0, 1, 2, 3]);
    expect(r.states.shape).toEqual([2, 5, 3]);
    expect(r.actions.shape).toEqual([2, 4, 1]);
    expect(r.planCosts.shape).toEqual([2, 4]);
    expect(r.iterations).toEqual([3, 3, 3, 3]);
    const states = r.states.arraySync() as number[][][];
    const actions = r.actions.arraySync() as number[][][];
    expect(
      maxAbsDiff(
        states.flatMap((row) => row[0] as number[]),
        x0.dataSync(),
      ),
    ).toBe(0);
    for (let t = 0; t < 4; t++) {
      const next = tf.tidy(() =>
        pendulum
          .step(
            tf.tensor2d(states.map((row) => row[t] as number[])),
            tf.tensor2d(actions.map((row) => row[t] as number[])),
          )
          .dataSync(),
      );
      expect(
        maxAbsDiff(
          next,
          states.flatMap((row) => row[t + 1] as number[]),
        ),
      ).toBe(0);
    }
    expect(Math.max(...actions.flat(2).map(Math.abs))).toBeLessThanOrEqual(2);
    disposeMpcResult(r);
    x0.dispose();
  });

  for (const warmStart of [true, false]) {
    it(`is one core planner kept across steps (warmStart ${warmStart}), one batched call per step`, () => {
      // The same closed loop written by hand with createPlanner: bit-for-bit equal actions.
      const x0 = tf.tensor2d([
        [0.8, 0.6, 0.5],
        [0, -1, 1],
        [-1, 0, 0],
      ]);
      const solver = { ...presets.icem, numSamples: 24 };
      const calls: number[][] = [];
      const r = runMpc({
        ...base(x0),
        warmStart,
        planner: { horizon: 5, solver, seed: 7 },
        controlCost: (x) => {
          const c = rolloutCost(pendulum, x, pendulumSwingUpCost);
          return (u) => {
            calls.push(u.shape);
            return c(u);
          };
        },
        cost: undefined,
        planCosts: false,
      });
      const planner = createPlanner({
        horizon: 5,
        actionDim: 1,
        batchSize: 3,
        lowerBound: -2,
        upperBound: 2,
        solver,
        seed: 7,
      });
      let x: tf.Tensor = tf.clone(x0);
      const want: number[] = [];
      for (let t = 0; t < 4; t++) {
        if (!warmStart) planner.reset();
        const step = planner.plan(rolloutCost(pendulum, x, pendulumSwingUpCost));
        want.push(...Array.from(step.action.dataSync()));
        const next = pendulum.step(x, step.action);
        x.dispose();
        x = next;
        disposePlanResult(step);
      }
      planner.dispose();
      x.dispose();
      const got = Array.from(tf.tidy(() => tf.transpose(r.actions, [1, 0, 2])).dataSync());
      expect(got).toEqual(want);
      // Every cost call sees all three rows: no per-row planner calls.
      expect(calls.length).toBeGreaterThan(0);
      expect(calls.every((shape) => shape[0] === 3)).toBe(true);
      disposeMpcResult(r);
      x0.dispose();
    });
  }

  it('warm-starts from the previous plan: with warmStart false the loop differs', () => {
    const x0 = tf.tensor2d([[0.8, 0.6, 0.5]]);
    const warm = runMpc({ ...base(x0), planner: { horizon: 5, solver: presets.icem, seed: 2 } });
    const cold = runMpc({
      ...base(x0),
      warmStart: false,
      planner: { horizon: 5, solver: presets.icem, seed: 2 },
    });
    const a = Array.from(warm.actions.dataSync());
    const b = Array.from(cold.actions.dataSync());
    expect(a[0]).toBe(b[0]); // the first step is cold in both
    expect(a.slice(1)).not.toEqual(b.slice(1));
    disposeMpcResult(warm);
    disposeMpcResult(cold);
    x0.dispose();
  });

  it('is differentiable end to end with DCEM', () => {
    const x0 = tf.tensor2d([[0.8, 0.6, 0]]);
    const before = tf.memory().numTensors;
    const g = tf.tidy(() =>
      tf.grad((x: tf.Tensor) => {
        const r = runMpc({
          ...base(x),
          steps: 2,
          planner: { horizon: 5, solver: { ...SOLVER, temperature: 1, tolerance: 0 }, seed: 1 },
        });
        return tf.sum(pendulumSwingUpCost(r.states, r.actions));
      })(x0),
    );
    const values = Array.from(g.dataSync());
    expect(values.every(Number.isFinite)).toBe(true);
    expect(Math.max(...values.map(Math.abs))).toBeGreaterThan(0);
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x0.dispose();
  });

  it('reproduces bit for bit with a seed, and draws independent noise per row', () => {
    const same: tf.Tensor = tf.tile(tf.tensor2d([[-1, 0, 0.3]]), [4, 1]); // four copies of one start state
    const run = () =>
      runMpc({
        ...base(same),
        steps: 6,
        controlCost: (x) => (u) => pendulumSwingUpCostFused(pendulum, x, u),
        cost: undefined,
        planner: { horizon: 8, solver: presets.icem, seed: 11 },
      });
    const a = run();
    const b = run();
    expect(Array.from(a.states.dataSync())).toEqual(Array.from(b.states.dataSync()));
    expect(Array.from(a.actions.dataSync())).toEqual(Array.from(b.actions.dataSync()));
    const rows = a.actions.arraySync() as number[][][];
    // Identical start states, different noise per row: the rows' actions differ.
    expect(new Set(rows.map((row) => JSON.stringify(row))).size).toBe(4);
    disposeMpcResult(a);
    disposeMpcResult(b);
    same.dispose();
  });

  it('leaks no tensor over 100 closed-loop steps', () => {
    const x0 = tf.tensor2d([
      [1, 0, 0],
      [0, 1, 1],
    ]);
    const before = tf.memory().numTensors;
    const r = runMpc({
      ...base(x0),
      steps: 100,
      controlCost: (x) => (u) => pendulumSwingUpCostFused(pendulum, x, u),
      cost: undefined,
      planner: { horizon: 6, solver: { ...presets.icem, numSamples: 20 }, seed: 0 },
    });
    expect(r.states.shape).toEqual([2, 101, 3]);
    disposeMpcResult(r);
    expect(tf.memory().numTensors).toBe(before);
    x0.dispose();
  });

  it('rejects bad options clearly, without leaking', () => {
    const x0 = tf.tensor2d([[1, 0, 0]]);
    const before = tf.memory().numTensors;
    expect(() => runMpc({ ...base(x0), steps: 0 })).toThrow(/steps must be an integer ≥ 1, received 0/);
    expect(() => runMpc({ ...base(x0), initialState: tf.zeros([1, 5]) })).toThrow(
      /initialState must have shape \[\*, 3\]/,
    );
    expect(() => runMpc({ ...base(x0), dynamics: {} as Dynamics })).toThrow(/dynamics must be a Dynamics/);
    expect(() => runMpc({ ...base(x0), planner: { horizon: 0 } })).toThrow(/horizon must be an integer ≥ 1/);
    expect(() => runMpc({ ...base(x0), planner: { horizon: 3, solver: 'icme' as 'icem' } })).toThrow(
      TypeError,
    );
    expect(() => runMpc({ ...base(x0), warmStart: 1 as unknown as boolean })).toThrow(
      /warmStart must be a boolean, received 1/,
    );
    expect(() =>
      runMpc({
        ...base(x0),
        planner: { horizon: 3, solver: SOLVER },
        controlCost: () => () => tf.zeros([1]),
      }),
    ).toThrow(/exactly one of cost/);
    expect(() =>
      runMpc({
        ...base(x0),
        cost: undefined,
        planner: { horizon: 3, solver: SOLVER },
        controlCost: () => () => tf.zeros([1]),
      }),
    ).toThrow(/cost\(controls\) must return shape \[1, 30\]/);
    expect(tf.memory().numTensors).toBe(before + 1); // the zeros([1, 5]) built for the call
    x0.dispose();
  });
});
