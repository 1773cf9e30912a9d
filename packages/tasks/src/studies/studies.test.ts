import { presets } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { rollout } from '../control/dynamics.js';
import { disposeMpcResult, runMpc } from '../control/mpc.js';
import {
  createPendulum,
  PENDULUM_QUADRATIC_COST,
  pendulumSwingUpCostFused,
  samplePendulumStates,
} from '../control/pendulum.js';
import { disposeTrajectoryPlan, planTrajectory } from '../control/planner.js';
import { createJobRegistry } from '../jobs/jobs.js';
import {
  assembleCartpoleEmbedStudy,
  CARTPOLE_EMBED_RUN_JOB,
  type CartpoleEmbedRunResult,
  type CartpoleEmbedStudySettings,
  cartpoleEmbedBaseline,
  cartpoleEmbedJobs,
  cartpoleEmbedRuns,
  runCartpoleEmbedStudy,
} from './cartpole-embed-study.js';
import { type PendulumStudySettings, runPendulumStudy } from './pendulum-study.js';
import {
  type RegressionStudyModel,
  type RegressionStudySettings,
  runRegressionStudy,
} from './regression-study.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const pendulumSettings: PendulumStudySettings = {
  count: 3,
  horizon: 8,
  samples: 30,
  elites: 5,
  iterations: 4,
  initStd: 2,
  tolerance: 0,
  temperature: null,
  mode: 'open-loop',
  mpcSteps: 3,
  seed: 5,
};

describe('runPendulumStudy', () => {
  it('open loop: returns what planTrajectory and rollout give for the same settings, and leaks nothing', () => {
    const before = tf.memory().numTensors;
    const lines: string[] = [];
    const progress: [number, number][] = [];
    const r = runPendulumStudy(pendulumSettings, {
      log: (line) => lines.push(line),
      onProgress: (done, total) => progress.push([done, total]),
    });
    expect(tf.memory().numTensors).toBe(before);
    const pendulum = createPendulum();
    const x0 = samplePendulumStates(3, 5);
    const p = planTrajectory({
      dynamics: pendulum,
      initialState: x0,
      controlCost: (x) => (u) => pendulumSwingUpCostFused(pendulum, x, u),
      planner: {
        horizon: 8,
        initStd: 2,
        seed: 5,
        solver: { numSamples: 30, numElites: 5, numIterations: 4, tolerance: 0, temperature: null },
      },
    });
    expect(r.costs).toEqual(Array.from(p.cost.dataSync()));
    const states = tf.tidy(() => rollout(pendulum, x0, p.controls).arraySync() as number[][][]);
    expect(r.states).toEqual(states);
    disposeTrajectoryPlan(p);
    x0.dispose();
    expect(r.iterations).toEqual([4]);
    expect(r.loss).toHaveLength(4);
    expect(progress).toEqual([
      [1, 4],
      [2, 4],
      [3, 4],
      [4, 4],
    ]);
    expect(r.finalCos).toEqual(states.map((row) => (row.at(-1) as number[])[0]));
    expect(r.upright).toBe(r.finalCos.filter((c) => c > 0.95).length);
    expect(lines[0]).toMatch(/^Planning 3 pendulum swing-ups open loop: CEM/);
    expect(lines.some((l) => l.startsWith(`${r.upright}/3 swing-ups end upright`))).toBe(true);
  });

  it('mpc: returns the closed loop of runMpc with the named planner and the quadratic cost', () => {
    const before = tf.memory().numTensors;
    const { samples, elites, iterations, tolerance, temperature, ...rest } = pendulumSettings;
    const lines: string[] = [];
    const r = runPendulumStudy(
      { ...rest, mode: 'mpc', planner: 'icem', samples: 24 },
      { log: (line) => lines.push(line) },
    );
    expect(tf.memory().numTensors).toBe(before);
    const pendulum = createPendulum();
    const x0 = samplePendulumStates(3, 5);
    const weights = {
      state: PENDULUM_QUADRATIC_COST.weights,
      control: PENDULUM_QUADRATIC_COST.controlPenalty,
    };
    const m = runMpc({
      dynamics: pendulum,
      initialState: x0,
      steps: 3,
      controlCost: (x) => (u) => pendulumSwingUpCostFused(pendulum, x, u, weights),
      planner: { horizon: 8, initStd: 2, seed: 5, solver: { ...presets.icem, numSamples: 24 } },
    });
    expect(r.states).toEqual(m.states.arraySync());
    expect(r.iterations).toEqual(m.iterations);
    expect(r.loss).toHaveLength(3);
    expect(r.converged).toBeNull();
    expect(lines[0]).toMatch(/the icem planner re-plans every step .*24 samples.*quadratic cost/);
    disposeMpcResult(m);
    x0.dispose();
  });

  it('rejects bad settings with typed errors naming them', () => {
    expect(() => runPendulumStudy({ ...pendulumSettings, count: 0 })).toThrow(
      new RangeError('settings.count must be an integer ≥ 1, received 0'),
    );
    expect(() => runPendulumStudy({ ...pendulumSettings, mode: 'closed' as 'mpc' })).toThrow(TypeError);
    expect(() => runPendulumStudy({ ...pendulumSettings, planner: 'icme' as 'icem' })).toThrow(
      /planner must be one of 'cem', 'icem'/,
    );
    expect(() => runPendulumStudy({ ...pendulumSettings, cost: 'gym' as 'quadratic' })).toThrow(
      new TypeError(`settings.cost must be 'swing-up' or 'quadratic', received "gym"`),
    );
    expect(() => runPendulumStudy(pendulumSettings, { log: 'x' as never })).toThrow(
      new TypeError('callbacks.log must be a function, received "x"'),
    );
  });
});

const embedSettings: CartpoleEmbedStudySettings = {
  latent: 2,
  temperature: 1,
  seeds: 1,
  iterations: 1,
  table: true,
  tableLatents: [2],
  tableTemperatures: [1, null],
  tableSeeds: 1,
  tableIterations: 1,
  validateEvery: 1,
  batch: 1,
  learningRate: 5e-4,
  validationCount: 2,
  seed: 3,
  figures: false,
};

describe('runCartpoleEmbedStudy', () => {
  it('trains the main and table runs, reports factors against full-space CEM and leaks nothing', () => {
    const before = tf.memory().numTensors;
    const events: string[] = [];
    const r = runCartpoleEmbedStudy(embedSettings, {
      onRunStart: ({ index, count }) => events.push(`start ${index}/${count}`),
      onStep: (index, step) => events.push(`step ${index}:${step.iteration}`),
      onRunEnd: (index) => events.push(`end ${index}`),
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(events).toEqual(['start 0/2', 'step 0:1', 'end 0', 'start 1/2', 'step 1:1', 'end 1']);
    expect(r.runs.map((run) => [run.latent, run.temperature, run.seed, run.group])).toEqual([
      [2, 1, 3, 'main'],
      [2, null, 3, 'table'],
    ]);
    for (const run of r.runs) {
      expect(run.improvementFactor).toBe(run.bestValidationCost / r.fullCem.validationCost);
      expect(run.testFactor).toBe(run.testCost / r.fullCem.testCost);
      expect(run.weights.map((w) => w.length)).toEqual(
        run.weightShapes.map((s) => s.reduce((a, b) => a * b)),
      );
    }
    // Validation and test states come from different streams, so the baseline differs on them.
    expect(r.fullCem.validationCost).not.toBe(r.fullCem.testCost);
    expect(r.table.map((c) => [c.latent, c.temperature, c.seeds])).toEqual([
      [2, 1, 1],
      [2, null, 1],
    ]);
    expect(r.mainFactor).toBe(r.runs[0]?.improvementFactor);
    expect(r.figures).toBeUndefined();
  });

  it('rejects τ = 0 saying to write null, and the old name tau', () => {
    expect(() => runCartpoleEmbedStudy({ ...embedSettings, tableTemperatures: [1, 0] })).toThrow(
      new RangeError(
        'settings.tableTemperatures[1] must be > 0 or null, received 0; for vanilla CEM (no temperature) write null',
      ),
    );
    expect(() => runCartpoleEmbedStudy({ ...embedSettings, temperature: 0 })).toThrow(
      /settings.temperature must be > 0 or null/,
    );
    expect(() => runCartpoleEmbedStudy({ ...embedSettings, temperature: -1 })).toThrow(
      new RangeError('settings.temperature must be > 0 or null (vanilla CEM), received -1'),
    );
    const { temperature, ...rest } = embedSettings;
    expect(() => runCartpoleEmbedStudy({ ...rest, tau: temperature } as never)).toThrow(
      /unknown settings option "tau"/,
    );
  });
});

describe('the cart-pole embedding study as jobs', () => {
  it('its runs, as jobs through JSON, assemble to what runCartpoleEmbedStudy returns', async () => {
    const jobs = cartpoleEmbedJobs(embedSettings, 'cpu');
    expect(jobs.map((j) => j.group)).toEqual(['main', 'table']);
    const registry = createJobRegistry([CARTPOLE_EMBED_RUN_JOB]);
    const results: CartpoleEmbedRunResult[] = [];
    for (const job of jobs) results.push((await registry.run(job.spec)) as CartpoleEmbedRunResult);
    const baseline = cartpoleEmbedBaseline(embedSettings);
    const r = assembleCartpoleEmbedStudy(embedSettings, baseline, cartpoleEmbedRuns(jobs, results, baseline));
    const whole = runCartpoleEmbedStudy(embedSettings);
    const strip = (runs: typeof r.runs) => runs.map(({ seconds, msPerUpdate, ...rest }) => rest);
    expect(strip(r.runs)).toEqual(strip(whole.runs)); // weights included, bit for bit
    expect(r.table).toEqual(whole.table);
    expect(r.fullCem).toEqual(whole.fullCem);
    expect(() => CARTPOLE_EMBED_RUN_JOB.check({ ...jobs[0]?.spec.params, temperature: 0 })).toThrow(
      RangeError,
    );
  });
});

describe('runRegressionStudy', () => {
  it('trains, hands out checkpoints, ablates and returns values without leaking', async () => {
    const before = tf.memory().numTensors;
    const checkpoints: [string, number][] = [];
    const ablation: number[] = [];
    const r = await runRegressionStudy(
      {
        models: ['gd'],
        updates: 5,
        seed: 2,
        batchSize: 1,
        innerUpdates: 1,
        learningRate: 1e-3,
        evalEvery: 2,
        hiddenSize: 8,
        ablationMax: 2,
        ablationSeeds: 1,
        checkpointEvery: 2,
        surfaceGrid: [3, 4],
      },
      {
        onCheckpoint: (model, trainer) => {
          checkpoints.push([model, trainer.updates]);
        },
        onAblation: (_model, done) => ablation.push(done),
      },
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(checkpoints).toEqual([
      ['gd', 2],
      ['gd', 4],
      ['gd', 5],
    ]);
    expect(ablation).toEqual([0, 1, 2]);
    const m = r.models[0] as RegressionStudyModel;
    expect(m.updates).toBe(5);
    expect(m.history.map((h) => h.update)).toEqual([0, 2, 4]); // evaluations every evalEvery updates
    expect(m.finalMse).toBe(m.history.at(-1)?.mse);
    expect(m.ablation.points.map((p) => p.iterations)).toEqual([1, 2]);
    expect(m.ablation.ratio).toBe(m.ablation.mseMax / m.ablation.mseTrained);
    expect(m.surface.energy).toHaveLength(3);
    expect(m.predictions).toHaveLength(r.data.x.length);
    await expect(runRegressionStudy({ ...({} as RegressionStudySettings), models: [] })).rejects.toThrow(
      TypeError,
    );
  });
});
