// PlaNet runs as jobs: the `planet-run` kind checks its settings with typed
// errors, a job resumed from its state folder gives the same result as one
// that never stopped, and a study's grid gives stable, distinct ids.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createJobRegistry, jobId } from '../jobs/jobs.js';
import { PLANET_RUN_JOB, planetStudyJobs } from './job.js';
import { runPlanet } from './run.js';
import type { PlanetSettings } from './settings.js';
import { TINY_RUN } from './tiny.test-utils.js';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

const TINY: PlanetSettings = { ...TINY_RUN, seed: 4, episodes: 3, evaluateEvery: 1 };

const tmp = () => mkdtempSync(join(tmpdir(), 'dcem-planet-job-'));

describe('PLANET_RUN_JOB', () => {
  it('checks its settings like runPlanet: a typed error naming the setting, unknown names included', () => {
    expect(() => PLANET_RUN_JOB.check({ ...TINY, batchSize: 0 })).toThrow(RangeError);
    expect(() => PLANET_RUN_JOB.check({ ...TINY, batchSize: 0 })).toThrow(/batchSize/);
    expect(() => PLANET_RUN_JOB.check({ ...TINY, sampels: 3 })).toThrow(/sampels.*samples/);
    expect(() => PLANET_RUN_JOB.check('cartpole')).toThrow(TypeError);
    expect(PLANET_RUN_JOB.check(TINY)).toBe(TINY);
    expect(PLANET_RUN_JOB.describe(TINY)).toBe('cartpole-swingup cem seed 4');
    // Through a registry, as a worker parses a job: the malformed one is refused before it runs.
    const jobs = createJobRegistry([PLANET_RUN_JOB]);
    expect(() =>
      jobs.parse({ kind: 'planet-run', version: 1, backend: 'cpu', params: { ...TINY, env: 'hopper-hop' } }),
    ).toThrow(/env/);
  });

  it('resumes from its state folder: a job whose worker died after some episodes gives the result of one that never stopped', async () => {
    const progress: number[] = [];
    const whole = await PLANET_RUN_JOB.run(TINY, {
      stateDir: tmp(),
      onProgress: (f) => progress.push(f),
    });
    expect(progress).toEqual([1 / 3, 2 / 3, 1]);
    expect(whole.counters).toEqual({ episodes: 3, updates: 4, evaluations: 2, environmentSteps: 3 * 8 * 8 });
    expect(whole.episodes.map((e) => `${e.kind}${e.index}`)).toEqual([
      'seed0',
      'train1',
      'eval0',
      'train2',
      'eval1',
    ]);
    expect(whole.episodes[0]?.loss).toBeNull();
    for (const e of whole.episodes.slice(1)) {
      if (e.kind === 'train') expect(e.loss).toEqual(expect.any(Number));
    }
    // The dead worker: the same run's first two episodes, checkpointed in the job's folder.
    const state = tmp();
    await runPlanet({ ...TINY, episodes: 2 }, {}, { out: state });
    expect(readdirSync(state).length).toBeGreaterThan(0);
    const lines: string[] = [];
    const resumed = await PLANET_RUN_JOB.run(TINY, { stateDir: state, log: (l) => lines.push(l) });
    expect(lines[0]).toMatch(/^resuming after 2 episodes/);
    expect(JSON.stringify(resumed)).toBe(JSON.stringify(whole));
    // Without a state folder the job keeps nothing and still gives the same result.
    const before = tf.memory().numTensors;
    expect(JSON.stringify(await PLANET_RUN_JOB.run(TINY, {}))).toBe(JSON.stringify(whole));
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);
});

describe('planetStudyJobs', () => {
  it('makes one job per planner × seed, planners outermost, with stable distinct ids', () => {
    const specs = planetStudyJobs(TINY, { seeds: [0, 1], planners: ['cem', 'icem'] }, 'cpu');
    expect(specs.map((s) => PLANET_RUN_JOB.describe(s.params))).toEqual([
      'cartpole-swingup cem seed 0',
      'cartpole-swingup cem seed 1',
      'cartpole-swingup icem seed 0',
      'cartpole-swingup icem seed 1',
    ]);
    expect(specs[0]).toMatchObject({ kind: 'planet-run', version: 1, backend: 'cpu' });
    const ids = specs.map((s) => jobId(s));
    expect(new Set(ids).size).toBe(4);
    expect(
      planetStudyJobs(TINY, { seeds: [0, 1], planners: ['cem', 'icem'] }, 'cpu').map((s) => jobId(s)),
    ).toEqual(ids);
    expect(jobId(planetStudyJobs(TINY, { seeds: [0] }, 'wasm')[0] as never)).not.toBe(ids[0]);
    // The latent planner's settings go to its runs only (another planner refuses them).
    const mixed = planetStudyJobs({ ...TINY, latent: { dim: 3 } }, { planners: ['cem', 'latent'] }, 'cpu');
    expect(mixed.map((s) => s.params.latent)).toEqual([undefined, { dim: 3 }]);
    expect(() => PLANET_RUN_JOB.check({ ...TINY, latent: { dim: 3 } })).toThrow(/latent/);
    // Defaults: the settings' own seed and planner.
    expect(planetStudyJobs(TINY, {}, 'cpu').map((s) => [s.params.seed, s.params.planner])).toEqual([
      [4, 'cem'],
    ]);
  });

  it('refuses a bad grid with a typed error naming the entry', () => {
    expect(() => planetStudyJobs(TINY, { seeds: [] }, 'cpu')).toThrow(/grid\.seeds/);
    expect(() => planetStudyJobs(TINY, { seeds: [0, 1.5] }, 'cpu')).toThrow(/grid\.seeds\[1\]/);
    expect(() => planetStudyJobs(TINY, { planners: ['cem', 'sac' as never] }, 'cpu')).toThrow(
      /grid\.planners\[1\] must be one of/,
    );
    expect(() => planetStudyJobs(TINY, { seed: [1] } as never, 'cpu')).toThrow(/unknown grid option "seed"/);
    expect(() => planetStudyJobs({ ...TINY, horizon: 0 }, {}, 'cpu')).toThrow(/horizon/);
  });
});
