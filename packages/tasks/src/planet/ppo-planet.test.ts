// Phase 3 on tiny sizes: PPO fine-tuning of the latent DCEM controller of a
// short world-model run on cartpole-swingup. It completes without leaking
// tensors, trains only the decoder, the reward module and the value head, the
// update re-plans each sample exactly as it acted, a resumed run equals an
// uninterrupted one bit for bit, and bad starts or settings give typed errors.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PlanetCheckpoint } from './checkpoint.js';
import {
  loadPlanetPpoCheckpoint,
  type PlanetPpoCheckpoint,
  type PlanetPpoRecord,
  type PlanetPpoSettings,
  runPlanetPpo,
} from './ppo-planet.js';
import { runPlanet } from './run.js';
import type { PlanetSettings } from './settings.js';
import { TINY_LATENT_RUN } from './tiny.test-utils.js';

const BASE: PlanetSettings = { ...TINY_LATENT_RUN, episodes: 2 };

const PPO: PlanetPpoSettings = {
  seed: 1,
  iterations: 2,
  episodesPerStep: 2,
  steps: 5,
  valueHidden: 8,
  ppo: { minibatchSize: 4, passes: 2, learningRate: 1e-2 },
};

let start: PlanetCheckpoint;

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
  start = (await runPlanet(BASE)).checkpoint;
});

const tmp = () => mkdtempSync(join(tmpdir(), 'dcem-planet-ppo-'));

function timeless(r: PlanetPpoRecord) {
  const { environmentSeconds, planningSeconds, updateSeconds, ...rest } = r;
  return rest;
}

function expectSameState(a: PlanetPpoCheckpoint, b: PlanetPpoCheckpoint) {
  expect(a.counters).toEqual(b.counters);
  expect(a.history.map(timeless)).toEqual(b.history.map(timeless));
  expect(a.model).toEqual(b.model);
  expect(a.decoder).toEqual(b.decoder);
  expect(a.ppo).toEqual(b.ppo);
}

describe('runPlanetPpo (phase 3)', () => {
  it('fine-tunes the decoder, the reward module and the value head on the true reward, and leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    const steps: number[] = [];
    const records: PlanetPpoRecord[] = [];
    const r = await runPlanetPpo(
      PPO,
      { onStep: (info) => steps.push(info.step), onIteration: (record) => records.push(record) },
      { start },
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(steps).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
    expect(records).toHaveLength(2);
    expect(r.counters).toEqual({ iterations: 2, episodes: 4, environmentSteps: 2 * 2 * 5 * 8 });
    for (const record of records) {
      expect(record.returns).toHaveLength(2);
      expect(record.samples).toBe(10);
      expect(record.update.steps).toBe(2 * 3); // 2 passes of ⌈10 / 4⌉ minibatches
      expect(Number.isFinite(record.update.loss)).toBe(true);
    }
    // The reward module and the decoder moved; every other weight of the model is the start's, bit for bit.
    const names = r.checkpoint.model.names;
    names.forEach((name, i) => {
      const now = r.checkpoint.model.values[i] as Float32Array;
      const was = start.weights.values[i] as Float32Array;
      if (name.startsWith('reward.') && name.endsWith('weight')) expect(now).not.toEqual(was);
      if (!name.startsWith('reward.')) expect(now).toEqual(was);
    });
    r.checkpoint.decoder.forEach((w, i) => {
      if (i % 2 === 0) expect(w).not.toEqual(start.decoder?.weights[i]);
    });
  });

  it('re-plans every sample in the update exactly as it acted (the ratio is 1 before the first step)', async () => {
    const r = await runPlanetPpo(
      { ...PPO, iterations: 1, ppo: { passes: 1, minibatchSize: 1000 } },
      {},
      { start },
    );
    const update = (r.history[0] as PlanetPpoRecord).update;
    expect(update.steps).toBe(1);
    expect(Math.abs(update.approxKl)).toBeLessThan(1e-6);
    expect(update.clipFraction).toBe(0);
  });

  it('resumes from its folder bit for bit', async () => {
    const whole = await runPlanetPpo(PPO, {}, { start });
    const out = tmp();
    await runPlanetPpo({ ...PPO, iterations: 1 }, {}, { start, out });
    const saved = loadPlanetPpoCheckpoint(out) as PlanetPpoCheckpoint;
    expect(saved.counters.iterations).toBe(1);
    const resumed = await runPlanetPpo(PPO, {}, { out });
    expect(resumed.history).toHaveLength(2);
    expectSameState(resumed.checkpoint, whole.checkpoint);
    expectSameState(loadPlanetPpoCheckpoint(out) as PlanetPpoCheckpoint, whole.checkpoint);
  });

  it('rejects a start without the latent planner, a missing start, unknown settings and changed settings', async () => {
    await expect(runPlanetPpo(PPO)).rejects.toThrow(/options.start must be a runPlanet checkpoint/);
    const cem = {
      ...start,
      settings: { ...start.settings, plan: { ...start.settings.plan, planner: 'cem' as const } },
    };
    await expect(runPlanetPpo(PPO, {}, { start: cem })).rejects.toThrow(RangeError);
    await expect(runPlanetPpo({ ...PPO, episodesPerStap: 3 } as never, {}, { start })).rejects.toThrow(
      /did you mean "episodesPerStep"/,
    );
    await expect(runPlanetPpo({ ...PPO, ppo: { pases: 1 } } as never, {}, { start })).rejects.toThrow(
      /did you mean "passes"/,
    );
    await expect(runPlanetPpo({ ...PPO, gamma: 2 }, {}, { start })).rejects.toThrow(RangeError);
    const out = tmp();
    await runPlanetPpo({ ...PPO, iterations: 1 }, {}, { start, out });
    await expect(runPlanetPpo({ ...PPO, gamma: 0.9 }, {}, { out })).rejects.toThrow(
      /other settings \(gamma\)/,
    );
  });
});
