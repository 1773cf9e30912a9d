// Closed-loop swing-ups with the core planner's iCEM preset: one planner for
// the whole loop, warm-started, ONE batched planner call per step for every
// start state. Settings as a user would tune them (see docs/control.md).
import { presets } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { cartpoleReturnFused, createCartpole, sampleCartpoleStates } from './cartpole.js';
import { disposeMpcResult, runMpc } from './mpc.js';
import {
  createPendulum,
  PENDULUM_QUADRATIC_COST,
  pendulumSwingUpCostFused,
  samplePendulumStates,
} from './pendulum.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('closed-loop MPC with the icem preset', () => {
  it('swings up 12 of 12 pendulums (upright at the end: cos θ > 0.95)', () => {
    const pendulum = createPendulum();
    const x0 = samplePendulumStates(12, 0);
    const weights = {
      state: PENDULUM_QUADRATIC_COST.weights,
      control: PENDULUM_QUADRATIC_COST.controlPenalty,
    };
    let calls = 0;
    const r = runMpc({
      dynamics: pendulum,
      initialState: x0,
      steps: 100, // 5 s
      controlCost: (x) => {
        calls += 1;
        return (u) => pendulumSwingUpCostFused(pendulum, x, u, weights);
      },
      planCosts: false,
      // H = 20 (1 s), N = 100 (the preset's), σ₀ = the default (ub − lb)/4 = 1.
      planner: { horizon: 20, solver: presets.icem, seed: 0 },
    });
    expect(calls).toBe(100); // one batched planner call per step
    const finalCos = (r.states.arraySync() as number[][][]).map(
      (row) => (row.at(-1) as number[])[0] as number,
    );
    expect(finalCos.filter((c) => c > 0.95)).toHaveLength(12);
    disposeMpcResult(r);
    x0.dispose();
  }, 120_000); // ~12 s on tfjs's cpu backend (at a load of ~17 on 2 cores), the coloured-noise filter one Backend.matMul

  it('swings up the cart-pole from 10 start states and holds the pole up for the last 20 % (cos θ > 0.9)', () => {
    const cartpole = createCartpole();
    const x0 = sampleCartpoleStates(10, 0); // θ ~ U(−π, π)
    const steps = 100; // 5 s
    const r = runMpc({
      dynamics: cartpole,
      initialState: x0,
      steps,
      controlCost: (x) => (u) => tf.neg(cartpoleReturnFused(cartpole, x, u)),
      planCosts: false,
      // H = 20 (1 s), N = 100, σ₀ = 10 N (the default (ub − lb)/4 = 50 N is too jerky to hold the pole).
      planner: { horizon: 20, solver: presets.icem, initStd: 10, seed: 0 },
    });
    const states = r.states.arraySync() as number[][][];
    const start = Math.ceil(0.8 * steps);
    for (const row of states) {
      const tail = row.slice(start).map((x) => x[2] as number); // cos θ over the last 20 %
      expect(tail.length).toBe(steps + 1 - start);
      expect(Math.min(...tail)).toBeGreaterThan(0.9);
    }
    // They did have to swing up: most start well below the horizontal.
    expect(states.filter((row) => (row[0]?.[2] as number) < 0).length).toBeGreaterThan(3);
    disposeMpcResult(r);
    x0.dispose();
  }, 120_000); // ~9 s, as above
});
