import { deriveSeed, presets } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { disposeMpcResult, runMpc } from '../control/mpc.js';
import {
  createPendulum,
  PENDULUM_QUADRATIC_COST,
  pendulumSwingUpCostFused,
  samplePendulumStates,
} from '../control/pendulum.js';
import { createJobRegistry, jobId } from '../jobs/jobs.js';
import { TASK_SEED_STREAMS } from '../seed-streams.js';
import {
  assemblePlannerStudy,
  budgetSizes,
  PLANNER_CELL_JOB,
  type PlannerCellParams,
  type PlannerStudyCell,
  type PlannerStudySettings,
  plannerStudyJobs,
  runPlannerStudy,
} from './planner-study.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const tiny: PlannerStudySettings = {
  planners: ['cem', 'icem'],
  budgets: [30, 80],
  tasks: ['pendulum'],
  seeds: 2,
  starts: 2,
  steps: 5,
  horizon: 6,
  seed: 1,
};

describe('budgetSizes', () => {
  it('scales a preset to a budget of rollouts per step', () => {
    // cem: 10 iterations of N, k = N/10.
    expect(budgetSizes(presets.cem, 1000)).toEqual({ numSamples: 100, numElites: 10, total: 1000 });
    // icem: N + ⌊N/1.25⌋ + ⌊N/1.5625⌋ + 1 (the mean) ≤ budget, floor 2k.
    const icem = budgetSizes(presets.icem, 250);
    expect(icem).not.toBeNull();
    const {
      numSamples: n,
      numElites: k,
      total,
    } = icem as { numSamples: number; numElites: number; total: number };
    const schedule = (x: number) => x + Math.floor(x / 1.25) + Math.floor(x / 1.5625) + 1;
    expect(total).toBe(schedule(n));
    expect(total).toBeLessThanOrEqual(250);
    expect(schedule(n + 1)).toBeGreaterThan(250);
    expect(k).toBe(Math.round(n / 10));
    expect(budgetSizes(presets.cem, 4)).toBeNull(); // 10 iterations of at least 2 samples do not fit
  });
});

describe('runPlannerStudy', () => {
  it('runs one batched closed loop per cell: each cell is runMpc over seeds × start states', () => {
    const before = tf.memory().numTensors;
    const cells: string[] = [];
    const r = runPlannerStudy(tiny, { onCellEnd: (_, c) => cells.push(`${c.planner}/${c.budget}`) });
    expect(tf.memory().numTensors).toBe(before);
    expect(cells).toEqual(['cem/30', 'cem/80', 'icem/30', 'icem/80']);
    expect(r.cells).toHaveLength(4);
    // Re-run the icem/80 cell (index 3) by hand.
    const cell = r.cells[3];
    const sizes = budgetSizes(presets.icem, 80);
    expect(cell?.numSamples).toBe(sizes?.numSamples);
    const pendulum = createPendulum();
    const x0 = tf.concat(
      [0, 1].map((k) => samplePendulumStates(2, deriveSeed(1, TASK_SEED_STREAMS.studyStates, k))),
    );
    const weights = {
      state: PENDULUM_QUADRATIC_COST.weights,
      control: PENDULUM_QUADRATIC_COST.controlPenalty,
    };
    const { total: _t, ...size } = sizes as { total: number; numSamples: number; numElites: number };
    const m = runMpc({
      dynamics: pendulum,
      initialState: x0,
      steps: 5,
      controlCost: (x) => (u) => pendulumSwingUpCostFused(pendulum, x, u, weights),
      planner: {
        horizon: 6,
        solver: { ...presets.icem, ...size },
        seed: deriveSeed(1, TASK_SEED_STREAMS.studyPlan, 3),
      },
    });
    const states = m.states.arraySync() as number[][][];
    const returns = states.map((row) => row.slice(0, 5).reduce((a, x) => a + (x[0] as number), 0));
    const [r0 = 0, r1 = 0, r2 = 0, r3 = 0] = returns;
    const perSeed = [(r0 + r1) / 2, (r2 + r3) / 2];
    expect(cell?.returns).toEqual(perSeed);
    expect(cell?.mean).toBeCloseTo(((r0 + r1) / 2 + (r2 + r3) / 2) / 2, 12);
    expect(cell?.samplesPerStep).toBeLessThanOrEqual(80 + 1);
    disposeMpcResult(m);
    x0.dispose();
  });

  it('reproduces bit for bit with its seed', () => {
    const a = runPlannerStudy({ ...tiny, planners: ['icem'], budgets: [30] });
    const b = runPlannerStudy({ ...tiny, planners: ['icem'], budgets: [30] });
    expect(b.cells.map((c) => c.returns)).toEqual(a.cells.map((c) => c.returns));
    const c = runPlannerStudy({ ...tiny, planners: ['icem'], budgets: [30], seed: 2 });
    expect(c.cells[0]?.returns).not.toEqual(a.cells[0]?.returns);
  });

  it('states whether icem reaches 95 % of cem’s best with ≤ ¼ of its budget', () => {
    const r = runPlannerStudy({ ...tiny, budgets: [30, 120] });
    const v = r.verdicts[0];
    const cem = r.cells.filter((c) => c.planner === 'cem');
    const best = cem.reduce((a, c) => (c.mean > a.mean ? c : a));
    expect(v?.cemBest).toEqual({ mean: best.mean, budget: best.budget });
    const reach = r.cells.find((c) => c.planner === 'icem' && c.mean >= 0.95 * best.mean);
    expect(v?.icemBudget).toBe(reach?.budget ?? null);
    expect(v?.holds).toBe(reach !== undefined && reach.budget / best.budget <= 0.25);
  });

  it('rejects bad settings with typed errors naming them', () => {
    expect(() => runPlannerStudy({ ...tiny, planners: ['icme' as 'icem'] })).toThrow(
      new TypeError(
        'settings.planners[0] must be one of cem, icem, mppi, tdmpc2, dcem, sparse, received "icme"',
      ),
    );
    expect(() => runPlannerStudy({ ...tiny, tasks: ['acrobot' as 'pendulum'] })).toThrow(
      /settings.tasks\[0\] must be one of pendulum, cartpole, received "acrobot"/,
    );
    expect(() => runPlannerStudy({ ...tiny, budgets: [2] })).toThrow(
      new RangeError('settings.budgets[0] must be an integer ≥ 4, received 2'),
    );
    expect(() => runPlannerStudy({ ...tiny, budgets: [] })).toThrow(
      /settings.budgets must be a non-empty array/,
    );
    expect(() => runPlannerStudy({ ...tiny, seeds: 0 })).toThrow(RangeError);
    expect(() => runPlannerStudy(tiny, { onStep: 3 as never })).toThrow(
      /callbacks.onStep must be a function/,
    );
  });
});

describe('the planner study as jobs', () => {
  it('its cells, run one by one as jobs through JSON, assemble to what runPlannerStudy returns', async () => {
    const specs = plannerStudyJobs(tiny, 'cpu');
    expect(specs).toHaveLength(4);
    expect(new Set(specs.map((s) => jobId(s))).size).toBe(4);
    expect(plannerStudyJobs(tiny, 'cpu').map((s) => jobId(s))).toEqual(specs.map((s) => jobId(s))); // stable
    const jobs = createJobRegistry([PLANNER_CELL_JOB]);
    const cells = [];
    for (const spec of specs) cells.push((await jobs.run(spec)) as PlannerStudyCell | null);
    const whole = runPlannerStudy(tiny);
    const strip = (c: readonly PlannerStudyCell[]) => c.map(({ seconds, ...rest }) => rest);
    const assembled = assemblePlannerStudy(tiny, cells, 0);
    expect(strip(assembled.cells)).toEqual(strip(whole.cells));
    expect(assembled.verdicts).toEqual(whole.verdicts);
  });

  it('rejects a malformed cell with a typed error naming the parameter', () => {
    const [spec] = plannerStudyJobs(tiny);
    const p = spec?.params as PlannerCellParams;
    expect(() => PLANNER_CELL_JOB.check({ ...p, budget: 2 })).toThrow(RangeError);
    expect(() => PLANNER_CELL_JOB.check({ ...p, task: 'hopper' })).toThrow(
      /params\.task must be one of pendulum, cartpole/,
    );
    expect(() => PLANNER_CELL_JOB.check({ ...p, budgett: 3 })).toThrow(/budgett/);
  });
});
