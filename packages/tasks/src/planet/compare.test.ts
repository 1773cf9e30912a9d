// The planners' comparison at one checkpoint: the percentile bootstrap
// against hand-computed cases and its properties, then a tiny latent
// world-model run (and a PPO run from it) compared: every planner starts
// from the same states, no tensors leak, a resumed comparison equals an
// uninterrupted one, and bad input gives typed errors.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPlanetCheckpoint, type PlanetCheckpoint } from './checkpoint.js';
import {
  bootstrapInterval,
  median,
  PLANET_EVAL_EPISODE_JOB,
  type PlanetComparisonSettings,
  type PlanetEvalEpisodeParams,
  type PlanetEvalRecord,
  planetComparisonJobs,
  quantile,
  resolvePlanetComparison,
  runPlanetComparison,
} from './compare.js';
import { runPlanetPpo } from './ppo-planet.js';
import { runPlanet } from './run.js';
import type { PlanetSettings } from './settings.js';

const meanOf = (x: readonly number[]) => (idx: readonly number[]) =>
  idx.reduce((a, i) => a + (x[i] as number), 0) / idx.length;

describe('quantile, median', () => {
  it('interpolate between order statistics (type 7)', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0)).toBe(1);
    expect(quantile([1, 2, 3, 4], 1)).toBe(4);
    // h = 3 · 0.25 = 0.75: 10 + 0.75 · (20 − 10)
    expect(quantile([10, 20, 30, 40], 0.25)).toBe(17.5);
    expect(quantile([7], 0.3)).toBe(7);
    expect(median([3, 1, 2, 10])).toBe(2.5);
    expect(median([5, 1, 3])).toBe(3);
  });

  it('reject bad input', () => {
    expect(() => quantile([], 0.5)).toThrow(RangeError);
    expect(() => quantile([1], 1.5)).toThrow(RangeError);
    expect(() => quantile('ab' as never, 0.5)).toThrow(TypeError);
  });
});

describe('bootstrapInterval', () => {
  it('matches the exact resampling distribution of a two-point sample', () => {
    // Resampled means of {1, 2}: 1 w.p. 1/4, 1.5 w.p. 1/2, 2 w.p. 1/4. The 20 % and 80 %
    // quantiles are 1 and 2 (B = 4000: 0.25 is 7 standard errors from 0.2); 30 % and 70 % are 1.5.
    const x = [1, 2];
    const wide = bootstrapInterval(2, meanOf(x), { resamples: 4000, confidence: 0.6, seed: 3 });
    expect(wide).toEqual({ estimate: 1.5, low: 1, high: 2 });
    const narrow = bootstrapInterval(2, meanOf(x), { resamples: 4000, confidence: 0.4, seed: 3 });
    expect(narrow).toEqual({ estimate: 1.5, low: 1.5, high: 1.5 });
  });

  it('contains the statistic, is reproducible with its seed and differs with another', () => {
    const x = [3, 9, 4, 12, 6, 7, 1, 15, 8, 5];
    const a = bootstrapInterval(x.length, meanOf(x), { resamples: 500, seed: 7 });
    expect(a.estimate).toBeCloseTo(7, 12);
    expect(a.low).toBeLessThan(a.estimate);
    expect(a.high).toBeGreaterThan(a.estimate);
    expect(bootstrapInterval(x.length, meanOf(x), { resamples: 500, seed: 7 })).toEqual(a);
    expect(bootstrapInterval(x.length, meanOf(x), { resamples: 500, seed: 8 })).not.toEqual(a);
    const m = bootstrapInterval(x.length, (idx) => median(idx.map((i) => x[i] as number)), {
      resamples: 500,
    });
    expect(m.estimate).toBe(6.5);
    expect(m.low).toBeLessThanOrEqual(6.5);
    expect(m.high).toBeGreaterThanOrEqual(6.5);
    // A wider confidence never gives a narrower interval (same draws).
    const w = bootstrapInterval(x.length, meanOf(x), { resamples: 500, seed: 7, confidence: 0.99 });
    expect(w.low).toBeLessThanOrEqual(a.low);
    expect(w.high).toBeGreaterThanOrEqual(a.high);
  });

  it('gives a zero-width interval for a constant sample', () => {
    const x = [4.25, 4.25, 4.25, 4.25];
    expect(bootstrapInterval(4, meanOf(x), { resamples: 200 })).toEqual({
      estimate: 4.25,
      low: 4.25,
      high: 4.25,
    });
  });

  it('rejects bad arguments with typed errors', () => {
    expect(() => bootstrapInterval(0, meanOf([]))).toThrow(RangeError);
    expect(() => bootstrapInterval(2, 'mean' as never)).toThrow(TypeError);
    expect(() => bootstrapInterval(2, meanOf([1, 2]), { confidence: 1 })).toThrow(RangeError);
    expect(() => bootstrapInterval(2, meanOf([1, 2]), { resamples: 0 })).toThrow(RangeError);
    expect(() => bootstrapInterval(2, meanOf([1, 2]), { sample: 3 } as never)).toThrow(/sample/);
  });
});

const BASE: PlanetSettings = {
  env: 'cartpole-swingup',
  seed: 5,
  episodes: 2,
  seedEpisodes: 1,
  steps: 5,
  updatesPerEpisode: 1,
  batchSize: 2,
  sequenceLength: 4,
  horizon: 3,
  planner: 'latent',
  samples: 6,
  elites: 2,
  iterations: 2,
  model: { deterministic: 6, stochastic: 3, hidden: 6 },
  latent: { dim: 2, hiddenSizes: [8], batchSize: 2 },
};

const COMPARE: PlanetComparisonSettings = {
  episodes: 2,
  seed: 3,
  steps: 4,
  full: { samples: 12, elites: 3, iterations: 2 },
  latent: { samples: 6, elites: 2, iterations: 2 },
  resamples: 200,
};

const tmp = () => mkdtempSync(join(tmpdir(), 'dcem-planet-compare-'));
let checkpoint: string;
let ppo: string;
let cemRun: string;

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
  checkpoint = tmp();
  await runPlanet(BASE, {}, { out: checkpoint });
  ppo = tmp();
  await runPlanetPpo(
    { seed: 1, iterations: 1, episodesPerStep: 2, steps: 3, valueHidden: 8, ppo: { minibatchSize: 4 } },
    {},
    { start: loadPlanetCheckpoint(checkpoint) as PlanetCheckpoint, out: ppo },
  );
  cemRun = tmp();
  await runPlanet({ ...BASE, planner: 'cem', latent: undefined, episodes: 1 }, {}, { out: cemRun });
});

const timeless = (r: PlanetEvalRecord) => {
  const { environmentSeconds, planningSeconds, ...rest } = r;
  return rest;
};

describe('runPlanetComparison', () => {
  it('runs every planner from the same initial states, leaks no tensors, and resumes to the same result', async () => {
    const before = tf.memory().numTensors;
    const steps: string[] = [];
    const whole = await runPlanetComparison(
      COMPARE,
      { checkpoint, ppo },
      { onStep: (info) => steps.push(`${info.planner}#${info.episode}:${info.step}/${info.steps}`) },
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(whole.rows.map((r) => r.planner)).toEqual(['full-cem', 'latent', 'latent-ppo', 'icem']);
    expect(whole.records).toHaveLength(8);
    expect(steps).toHaveLength(8 * 4);
    expect(steps[0]).toBe('full-cem#0:1/4');
    for (const episode of [0, 1]) {
      const seeds = whole.records.filter((r) => r.episode === episode).map((r) => r.envSeed);
      expect(seeds).toHaveLength(4);
      expect(new Set(seeds).size).toBe(1);
    }
    expect(whole.records[0]?.envSeed).not.toBe(whole.records[1]?.envSeed);
    for (const r of whole.records) {
      expect(r.steps).toBe(4);
      expect(Number.isFinite(r.return)).toBe(true);
    }
    const fullMean = whole.rows[0]?.mean.estimate as number;
    for (const row of whole.rows) {
      expect(row.episodes).toBe(2);
      const [r0, r1] = row.returns as [number, number];
      expect(row.mean.estimate).toBeCloseTo((r0 + r1) / 2, 12);
      expect(row.median.estimate).toBeCloseTo(row.mean.estimate, 12);
      expect(row.mean.low).toBeLessThanOrEqual(row.mean.estimate);
      expect(row.mean.high).toBeGreaterThanOrEqual(row.mean.estimate);
      expect(row.ratioMean?.estimate).toBeCloseTo(row.mean.estimate / fullMean, 12);
    }
    expect(whole.rows[0]?.ratioMean?.estimate).toBeCloseTo(1, 12);
    // PPO's paired gain over latent DCEM, on the latent-ppo row only.
    const byName = new Map(whole.rows.map((r) => [r.planner, r]));
    const lat = byName.get('latent')?.returns as number[];
    const tuned = byName.get('latent-ppo')?.returns as number[];
    const gain = byName.get('latent-ppo')?.ppoGain;
    expect(gain?.estimate).toBeCloseTo(
      ((tuned[0] as number) - (lat[0] as number) + (tuned[1] as number) - (lat[1] as number)) / 2,
      12,
    );
    expect(gain?.low).toBeLessThanOrEqual(gain?.estimate as number);
    expect(gain?.high).toBeGreaterThanOrEqual(gain?.estimate as number);
    for (const r of whole.rows) if (r.planner !== 'latent-ppo') expect(r.ppoGain).toBeUndefined();
    expect(whole.rows[0]?.budget).toEqual({ samples: 12, elites: 3, iterations: 2 });
    expect(whole.rows[3]?.budget).toEqual({ samples: 6, elites: 2, iterations: 2 });

    // Interrupted after three episodes, then resumed from their records.
    const firstThree: PlanetEvalRecord[] = [];
    await expect(
      runPlanetComparison(
        COMPARE,
        { checkpoint, ppo },
        {
          onEpisode: (r) => {
            firstThree.push(r);
            if (firstThree.length === 3) throw new Error('interrupted');
          },
        },
      ),
    ).rejects.toThrow('interrupted');
    expect(tf.memory().numTensors).toBe(before);
    const ran: PlanetEvalRecord[] = [];
    const resumed = await runPlanetComparison(
      COMPARE,
      { checkpoint, ppo },
      { onEpisode: (r) => void ran.push(r) },
      { completed: firstThree },
    );
    expect(ran).toHaveLength(5);
    expect(resumed.records.map(timeless)).toEqual(whole.records.map(timeless));
    const statistics = (rows: typeof whole.rows) => rows.map(({ seconds, ...rest }) => rest);
    expect(statistics(resumed.rows)).toEqual(statistics(whole.rows));
  });

  it('makes one job per (planner, episode), and the job kind reruns an episode alike', async () => {
    const specs = planetComparisonJobs({ ...COMPARE, planners: ['latent', 'icem'] }, { checkpoint }, 'cpu');
    expect(specs.map((s) => PLANET_EVAL_EPISODE_JOB.describe(s.params))).toEqual([
      'latent #0',
      'latent #1',
      'icem #0',
      'icem #1',
    ]);
    expect(specs[0]?.params).toEqual({
      checkpoint,
      checkpointEpisodes: 2,
      planner: 'latent',
      episode: 0,
      seed: 3,
      steps: 4,
      samples: 6,
      elites: 2,
      iterations: 2,
    });
    const a = await PLANET_EVAL_EPISODE_JOB.run(PLANET_EVAL_EPISODE_JOB.check(specs[1]?.params), {});
    const b = await PLANET_EVAL_EPISODE_JOB.run(PLANET_EVAL_EPISODE_JOB.check(specs[1]?.params), {});
    expect(timeless(a)).toEqual(timeless(b));
    expect(() => PLANET_EVAL_EPISODE_JOB.check({ ...specs[0]?.params, planner: 'pets' })).toThrow(RangeError);
    expect(() => PLANET_EVAL_EPISODE_JOB.check({ ...specs[0]?.params, ppo: ppo })).toThrow(/latent-ppo/);
    expect(() => PLANET_EVAL_EPISODE_JOB.check({ ...specs[0]?.params, samples: 1.5 })).toThrow(TypeError);
    await expect(
      PLANET_EVAL_EPISODE_JOB.run(
        { ...(specs[0]?.params as PlanetEvalEpisodeParams), checkpointEpisodes: 9 },
        {},
      ),
    ).rejects.toThrow(/after 2 episodes, not 9/);
  });

  it('gives typed errors for bad input', () => {
    expect(() =>
      resolvePlanetComparison({ ...COMPARE, planners: ['full-cem', 'mppi' as never] }, { checkpoint }),
    ).toThrow(/settings\.planners\[1\] must be one of full-cem, latent, latent-ppo, icem/);
    expect(() => resolvePlanetComparison({ ...COMPARE, episodes: 0 }, { checkpoint })).toThrow(RangeError);
    expect(() => resolvePlanetComparison({ ...COMPARE, episode: 2 } as never, { checkpoint })).toThrow(
      /episode/,
    );
    expect(() =>
      resolvePlanetComparison({ ...COMPARE, full: { samples: 4, elites: 4 } }, { checkpoint }),
    ).toThrow(/settings\.full\.elites must be < settings\.full\.samples = 4/);
    expect(() => resolvePlanetComparison(COMPARE, { checkpoint: tmp() })).toThrow(
      /holds no world-model checkpoint/,
    );
    expect(() => resolvePlanetComparison({ ...COMPARE, planners: ['latent-ppo'] }, { checkpoint })).toThrow(
      /needs a PPO checkpoint/,
    );
    expect(() =>
      resolvePlanetComparison({ ...COMPARE, planners: ['latent'] }, { checkpoint: cemRun }),
    ).toThrow(/needs a latent action decoder/);
    // Without a decoder or a PPO run, the default planners are those that can run.
    expect(resolvePlanetComparison(COMPARE, { checkpoint: cemRun }).planners).toEqual(['full-cem', 'icem']);
    expect(resolvePlanetComparison(COMPARE, { checkpoint }).planners).toEqual(['full-cem', 'latent', 'icem']);
    expect(() => resolvePlanetComparison(COMPARE, { checkpoint: cemRun, ppo })).toThrow(
      /another world model/,
    );
  });
});
