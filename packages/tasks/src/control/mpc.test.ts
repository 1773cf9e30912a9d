import { deriveSeed, SEED_STREAMS } from '@dcem/core';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Dynamics } from './dynamics.js';
import { maxAbsDiff } from './dynamics-f64.test-utils.js';
import { disposeMpcResult, type MpcOptions, runMpc } from './mpc.js';
import { createPendulum, pendulumSwingUpCost } from './pendulum.js';
import { disposePlanResult, plan, rolloutCost } from './planner.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const pendulum = createPendulum();

function base(x0: tf.Tensor): MpcOptions {
  return {
    dynamics: pendulum,
    initialState: x0,
    steps: 4,
    cost: pendulumSwingUpCost,
    planner: { horizon: 5, numSamples: 30, numElites: 5, numIterations: 3, initStd: 1, seed: 1 },
  };
}

describe('runMpc', () => {
  it('applies each plan’s first action to the system and records the closed loop', () => {
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
      },
    });
    expect(steps).toEqual([0, 1, 2, 3]);
    expect(r.states.shape).toEqual([2, 5, 3]);
    expect(r.actions.shape).toEqual([2, 4, 1]);
    expect(r.planCosts.shape).toEqual([2, 4]);
    expect(r.iterations).toHaveLength(4);
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

  it('warm-starts each plan from the previous one shifted by a step', () => {
    // Zero noise and one iteration: every plan is its initial mean, so the
    // applied actions reveal what each plan started from.
    const x0 = tf.tensor2d([[1, 0, 0]]);
    const initMean = tf.tensor2d([[0.1], [0.2], [0.3], [0.4], [0.5]]);
    const zeros = tf.zeros([1, 30, 5, 1]);
    const options = (warmStart: boolean): MpcOptions => ({
      ...base(x0),
      warmStart,
      planner: { horizon: 5, numSamples: 30, numElites: 5, numIterations: 1, initMean, noise: () => zeros },
    });
    const warm = runMpc(options(true));
    const cold = runMpc(options(false));
    expect(maxAbsDiff(warm.actions.dataSync(), [0.1, 0.2, 0.3, 0.4])).toBeLessThan(1e-7);
    expect(maxAbsDiff(cold.actions.dataSync(), [0.1, 0.1, 0.1, 0.1])).toBeLessThan(1e-7);
    tf.dispose([x0, initMean, zeros]);
    disposeMpcResult(warm);
    disposeMpcResult(cold);
  });

  it('is differentiable end to end with DCEM (τ set) and leaks nothing', () => {
    const x0 = tf.tensor2d([[0.8, 0.6, 0]]);
    const before = tf.memory().numTensors;
    const g = tf.tidy(() =>
      tf.grad((x: tf.Tensor) => {
        const r = runMpc({ ...base(x), steps: 2, planner: { ...base(x).planner, temperature: 1 } });
        return tf.sum(pendulumSwingUpCost(r.states, r.actions));
      })(x0),
    );
    const values = Array.from(g.dataSync());
    expect(values.every(Number.isFinite)).toBe(true);
    expect(Math.max(...values.map(Math.abs))).toBeGreaterThan(0);
    g.dispose();
    for (let i = 0; i < 3; i++) disposeMpcResult(runMpc(base(x0)));
    expect(tf.memory().numTensors).toBe(before);
    x0.dispose();
  });

  it('seeds step t with deriveSeed(seed, SEED_STREAMS.mpcStep, t), not seed + t', () => {
    const x0 = tf.tensor2d([[0.8, 0.6, 0.5]]);
    const { horizon, ...solver } = base(x0).planner;
    const mpc = runMpc({ ...base(x0), steps: 1, planner: { ...base(x0).planner, seed: 3 } });
    const first = (seed: number) => {
      const r = plan(rolloutCost(pendulum, x0, pendulumSwingUpCost), {
        ...solver,
        horizon,
        seed,
        controlDim: 1,
        lowerBound: -2,
        upperBound: 2,
      });
      const a = Array.from(r.firstAction.dataSync());
      disposePlanResult(r);
      return a;
    };
    const applied = Array.from(mpc.actions.dataSync());
    expect(applied).toEqual(first(deriveSeed(3, SEED_STREAMS.mpcStep, 0)));
    expect(applied).not.toEqual(first(3));
    disposeMpcResult(mpc);
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
    expect(tf.memory().numTensors).toBe(before + 1); // the zeros([1, 5]) built for the call
    x0.dispose();
  });
});
