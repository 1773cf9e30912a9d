import { createPlanner, disposePlanResult, presets } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { rollout } from './dynamics.js';
import { maxAbsDiff } from './dynamics-f64.test-utils.js';
import { createPendulum, pendulumSwingUpCost, samplePendulumStates } from './pendulum.js';
import {
  type ControlCost,
  disposeTrajectoryPlan,
  PLANNER_NAMES,
  type PlannerName,
  plannerSolver,
  planTrajectory,
  rolloutCost,
} from './planner.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const pendulum = createPendulum();

describe('plannerSolver', () => {
  it('gives the core presets by name, and sparse as DCEM with the sparse top-k', () => {
    expect([...PLANNER_NAMES]).toEqual(['cem', 'icem', 'mppi', 'tdmpc2', 'dcem', 'sparse']);
    for (const name of ['cem', 'icem', 'mppi', 'tdmpc2', 'dcem'] as const) {
      expect(plannerSolver(name)).toEqual(presets[name]);
      expect(plannerSolver(name)).not.toBe(presets[name]); // a copy to spread and change
    }
    expect(plannerSolver('sparse')).toEqual({ ...presets.dcem, selector: 'sparse' });
  });

  it('rejects an unknown name with a TypeError that lists the names', () => {
    expect(() => plannerSolver('icme' as PlannerName)).toThrow(
      new TypeError(
        `planner must be one of 'cem', 'icem', 'mppi', 'tdmpc2', 'dcem', 'sparse', received "icme"`,
      ),
    );
  });
});

describe('planTrajectory', () => {
  it('is one step of the core planner on the rollout cost, plus the cost of the plan', () => {
    const x0 = samplePendulumStates(3, 1);
    const before = tf.memory().numTensors;
    const r = planTrajectory({
      dynamics: pendulum,
      initialState: x0,
      cost: pendulumSwingUpCost,
      planner: { horizon: 6, solver: { ...presets.icem, numSamples: 40 }, seed: 5 },
    });
    // The same through the core planner directly, with the system's sizes and bounds.
    const cost: ControlCost = rolloutCost(pendulum, x0, pendulumSwingUpCost);
    const core = createPlanner({
      horizon: 6,
      actionDim: 1,
      batchSize: 3,
      lowerBound: -2,
      upperBound: 2,
      solver: { ...presets.icem, numSamples: 40 },
      seed: 5,
    });
    const step = core.plan(cost);
    expect(r.controls.shape).toEqual([3, 6, 1]);
    expect(r.action.shape).toEqual([3, 1]);
    expect(r.cost.shape).toEqual([3]);
    expect(Array.from(r.controls.dataSync())).toEqual(Array.from(step.controls.dataSync()));
    expect(Array.from(r.action.dataSync())).toEqual(Array.from(step.action.dataSync()));
    const want = tf.tidy(() => cost(tf.expandDims(step.controls, 1)).dataSync());
    expect(Array.from(r.cost.dataSync())).toEqual(Array.from(want));
    disposePlanResult(step);
    core.dispose();
    disposeTrajectoryPlan(r);
    expect(tf.memory().numTensors).toBe(before);
    x0.dispose();
  });

  it('takes a planner name as solver, and a fused cost as controlCost', () => {
    const x0 = samplePendulumStates(2, 0);
    const options = { horizon: 5, seed: 2 } as const;
    const named = planTrajectory({
      dynamics: pendulum,
      initialState: x0,
      cost: pendulumSwingUpCost,
      planner: { ...options, solver: 'sparse' },
    });
    const spelled = planTrajectory({
      dynamics: pendulum,
      initialState: x0,
      controlCost: (x) => rolloutCost(pendulum, x, pendulumSwingUpCost),
      planner: { ...options, solver: { ...presets.dcem, selector: 'sparse' } },
    });
    expect(Array.from(named.controls.dataSync())).toEqual(Array.from(spelled.controls.dataSync()));
    expect(Array.from(named.cost.dataSync())).toEqual(Array.from(spelled.cost.dataSync()));
    disposeTrajectoryPlan(named);
    disposeTrajectoryPlan(spelled);
    x0.dispose();
  });

  it('is differentiable with DCEM: the plan cost has a finite, nonzero gradient in x₀', () => {
    const x0 = samplePendulumStates(2, 3);
    const g = tf.grad((x: tf.Tensor) => {
      const r = planTrajectory({
        dynamics: pendulum,
        initialState: x,
        cost: pendulumSwingUpCost,
        planner: {
          horizon: 4,
          solver: { ...presets.dcem, numSamples: 30, numIterations: 3, tolerance: 0 },
          seed: 0,
        },
      });
      const out = tf.sum(r.cost);
      disposeTrajectoryPlan(r);
      return out;
    })(x0);
    const values = Array.from(g.dataSync());
    expect(values.every(Number.isFinite)).toBe(true);
    expect(Math.max(...values.map(Math.abs))).toBeGreaterThan(0);
    tf.dispose([g, x0]);
  });

  it('rejects bad options with typed errors naming them, leaking nothing', () => {
    const x0 = samplePendulumStates(1, 0);
    const before = tf.memory().numTensors;
    const base = { dynamics: pendulum, initialState: x0, cost: pendulumSwingUpCost };
    const call = (o: object) => () =>
      planTrajectory({ ...base, ...o } as unknown as Parameters<typeof planTrajectory>[0]);
    expect(call({ planner: { horizon: 0 } })).toThrow(
      new RangeError('horizon must be an integer ≥ 1, received 0'),
    );
    expect(call({ planner: { horizon: 3, solver: 'nope' } })).toThrow(TypeError);
    expect(call({ planner: { horizon: 3, solver: 'nope' } })).toThrow(/planner must be one of 'cem'/);
    expect(call({ planner: { horizon: 3, actionDim: 1 } })).toThrow(
      /planner.actionDim is set from the system and the initial states \(1, pendulum\); remove it/,
    );
    expect(call({ planner: { horizon: 3, numSamples: 10 } })).toThrow(/numSamples/);
    expect(call({ planner: { horizon: 3, solver: { numElites: 30, numSamples: 20 } } })).toThrow(/numElites/);
    expect(call({ planner: { horizon: 3 }, controlCost: () => () => tf.zeros([1, 1]) })).toThrow(
      new TypeError(
        'give exactly one of cost (a trajectory cost) and controlCost (start states ↦ plan cost), received both',
      ),
    );
    expect(call({ planner: { horizon: 3 }, cost: undefined })).toThrow(/received neither/);
    expect(call({ planner: { horizon: 3 }, dynamics: {} })).toThrow(/dynamics must be a Dynamics/);
    expect(call({ planner: { horizon: 3 }, initialState: tf.zeros([1, 5]) })).toThrow(
      /initialState must have shape \[\*, 3\]/,
    );
    expect(
      call({ planner: { horizon: 3 }, cost: undefined, controlCost: () => () => tf.zeros([1, 3]) }),
    ).toThrow(/cost\(controls\) must return shape \[1, 20\]/);
    expect(tf.memory().numTensors).toBe(before + 1); // the zeros([1, 5]) built for the call
    x0.dispose();
  });
});

describe('rolloutCost', () => {
  it('evaluates a trajectory cost over the rollout of every sampled plan from its row’s start state', () => {
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

/** Every tensor reachable from `value` through plain objects and arrays. */
function tensorsIn(value: unknown, found = new Set<tf.Tensor>()): Set<tf.Tensor> {
  if (value instanceof tf.Tensor) {
    found.add(value);
  } else if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) tensorsIn(child, found);
  }
  return found;
}

describe('disposeTrajectoryPlan', () => {
  it('frees every tensor a plan holds, whatever its fields: repeated plans leak nothing', () => {
    const x0 = samplePendulumStates(2, 4);
    const plan = (seed: number) =>
      planTrajectory({
        dynamics: pendulum,
        initialState: x0,
        cost: pendulumSwingUpCost,
        planner: { horizon: 4, seed, solver: { numSamples: 16, numElites: 4, numIterations: 2 } },
      });
    disposeTrajectoryPlan(plan(0)); // warm up tfjs's caches
    const before = tf.memory().numTensors;
    for (let i = 1; i <= 3; i++) {
      const r = plan(i);
      // Found by walking the result, not from a list of its fields: a field the
      // core's PlanResult gains is counted here, and must be freed below.
      const held = [...tensorsIn(r)];
      expect(held.length).toBeGreaterThanOrEqual(7);
      expect(tf.memory().numTensors).toBe(before + held.length);
      disposeTrajectoryPlan(r);
      expect(held.filter((t) => !t.isDisposed)).toEqual([]);
      disposeTrajectoryPlan(r); // twice is harmless
      expect(tf.memory().numTensors).toBe(before);
    }
    x0.dispose();
  });
});
