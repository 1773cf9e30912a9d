// The online loop on tiny sizes: it completes, leaks no tensors, checkpoints
// round-trip through a folder, a resumed run equals an uninterrupted one bit
// for bit, and bad settings or mismatched checkpoints give clear errors.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  loadPlanetCheckpoint,
  PLANET_LATEST_FILE,
  type PlanetCheckpoint,
  type PlanetEpisodeRecord,
  savePlanetCheckpoint,
} from './checkpoint.js';
import { createPlanetAgent } from './plan-in-model.js';
import { createRssm } from './rssm.js';
import { runPlanet } from './run.js';
import { planetPlannerConfig } from './settings.js';
import { TINY_RUN, timeless } from './tiny.test-utils.js';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

const TINY = TINY_RUN;

const tmp = () => mkdtempSync(join(tmpdir(), 'dcem-planet-'));

function expectSameState(a: PlanetCheckpoint, b: PlanetCheckpoint) {
  expect(a.counters).toEqual(b.counters);
  expect(a.history.map(timeless)).toEqual(b.history.map(timeless));
  expect(a.weights.names).toEqual(b.weights.names);
  for (const [i, w] of a.weights.values.entries()) expect(w).toEqual(b.weights.values[i]);
  expect(a.adam.step).toBe(b.adam.step);
  for (const [i, m] of a.adam.m.entries()) expect(m).toEqual(b.adam.m[i]);
  for (const [i, v] of a.adam.v.entries()) expect(v).toEqual(b.adam.v[i]);
  expect(a.replay).toEqual(b.replay);
}

describe('runPlanet', () => {
  it('completes a short online run (a seed episode and a planner episode of cartpole-swingup) without leaking tensors', async () => {
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    const updates: string[] = [];
    const episodes: PlanetEpisodeRecord[] = [];
    const r = await runPlanet(TINY, {
      onStep: (info) => {
        if (info.kind === 'train') counts.push(tf.memory().numTensors);
      },
      onUpdate: (info) => updates.push(`${info.episode}:${info.update} ${info.done}/${info.of}`),
      onEpisode: (record) => episodes.push(record),
    });
    expect(tf.memory().numTensors).toBe(before);
    // Over the planner episode the live tensors stay the same from the first decision on (the model,
    // Adam, the filtered state and the planner's warm start, which the first decision creates).
    expect(counts).toHaveLength(9);
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect((counts[1] as number) - (counts[0] as number)).toBeLessThanOrEqual(1);
    expect(updates).toEqual(['1:0 1/2', '1:1 2/2']);
    expect(r.history.map((e) => e.kind)).toEqual(['seed', 'train']);
    expect(episodes).toEqual(r.history);
    expect(r.counters).toEqual({ episodes: 2, updates: 2, evaluations: 0, environmentSteps: 2 * 8 * 8 });
    for (const e of r.history) {
      expect(e.steps).toBe(8);
      expect(Number.isFinite(e.return)).toBe(true);
      expect(e.return).toBeGreaterThanOrEqual(0);
      expect(e.return).toBeLessThanOrEqual(8 * 8);
    }
    expect(r.history[1]?.updates).toBe(2);
    expect(Number.isFinite(r.history[1]?.loss)).toBe(true);
    expect(r.history[1]?.planningSeconds).toBeGreaterThan(0);
    expect(r.checkpoint.replay.rows).toEqual([9, 9]);
    // Row 0 of each episode: zero action, reward 0.
    expect(Array.from(r.checkpoint.replay.actions.subarray(0, 1))).toEqual([0]);
    expect(r.checkpoint.replay.rewards[9]).toBe(0);
  });

  it('waits for a Promise returned by onCheckpoint (a timer, which synchronous work would starve) before going on', async () => {
    const events: string[] = [];
    await runPlanet(TINY, {
      onEpisode: (record) => events.push(`episode ${record.index}`),
      onCheckpoint: async (checkpoint) => {
        events.push(`checkpoint ${checkpoint.counters.episodes}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
        events.push(`written ${checkpoint.counters.episodes}`);
      },
    });
    expect(events).toEqual([
      'episode 0',
      'checkpoint 1',
      'written 1',
      'episode 1',
      'checkpoint 2',
      'written 2',
    ]);
    await expect(
      runPlanet(TINY, {
        onCheckpoint: async () => {
          throw new Error('disk full');
        },
      }),
    ).rejects.toThrow('disk full');
  });

  it('resumed from its folder after an interruption, continues bit for bit; checkpoints round-trip', async () => {
    const settings = { ...TINY, episodes: 4, evaluateEvery: 2 };
    const whole = await runPlanet(settings);
    const dir = tmp();
    const saved: PlanetCheckpoint[] = [];
    const first = await runPlanet(
      { ...settings, episodes: 2 },
      {
        onCheckpoint: (c) => {
          saved.push(c);
        },
      },
      { out: dir },
    );
    expect(saved).toHaveLength(2);
    // The folder holds the latest checkpoint only, and it loads back equal to what was handed over.
    expect(readdirSync(dir).filter((f) => f.startsWith('checkpoint-'))).toEqual(['checkpoint-000002-000001']);
    expect(JSON.parse(readFileSync(join(dir, PLANET_LATEST_FILE), 'utf8'))).toEqual({
      folder: 'checkpoint-000002-000001',
    });
    const loaded = loadPlanetCheckpoint(dir) as PlanetCheckpoint;
    expect(loaded).toEqual(first.checkpoint);
    expect(loaded).toEqual(saved[1]);
    const resumed = await runPlanet(settings, {}, { out: dir });
    expect(resumed.history.map((e) => `${e.kind}${e.index}`)).toEqual([
      'seed0',
      'train1',
      'eval0',
      'train2',
      'train3',
      'eval1',
    ]);
    expectSameState(resumed.checkpoint, whole.checkpoint);
    // From a checkpoint object as well.
    const again = await runPlanet(settings, {}, { resume: saved[1] });
    expectSameState(again.checkpoint, whole.checkpoint);
    // A finished run resumed with the same settings does nothing more.
    const done = await runPlanet(settings, {}, { out: dir });
    expect(done.counters).toEqual(whole.counters);
  });

  it('keeps a NaN loss through a checkpoint, and the evaluation episode replays from its record', () => {
    const dir = tmp();
    const record: PlanetEpisodeRecord = {
      kind: 'seed',
      index: 0,
      return: 1.5,
      steps: 1,
      environmentSteps: 8,
      updates: 0,
      envSeed: 9,
      environmentSeconds: 0,
      planningSeconds: 0,
      updateSeconds: 0,
      loss: Number.NaN,
    };
    const checkpoint: PlanetCheckpoint = {
      version: 1,
      settings: {} as never,
      counters: { episodes: 1, updates: 0, evaluations: 0, environmentSteps: 8 },
      history: [record],
      weights: { names: ['a', 'b'], values: [new Float32Array([1, 2]), new Float32Array([3])] },
      adam: {
        step: 0,
        m: [new Float32Array(2), new Float32Array(1)],
        v: [new Float32Array(2), new Float32Array(1)],
      },
      replay: {
        observationSize: 1,
        actionSize: 1,
        rows: [2],
        observations: new Float32Array([0.5, 0.25]),
        actions: new Float32Array([0, 1]),
        rewards: new Float32Array([0, 1.5]),
      },
    };
    savePlanetCheckpoint(dir, checkpoint);
    expect(loadPlanetCheckpoint(dir)).toEqual(checkpoint);
    expect(loadPlanetCheckpoint(tmp())).toBeUndefined();
    expect(existsSync(join(dir, 'checkpoint-000001-000000', 'weights.bin'))).toBe(true);
  });

  it('rejects bad settings with typed errors before any work, and a checkpoint of other settings', async () => {
    await expect(runPlanet({ ...TINY, batchsize: 2 } as never)).rejects.toThrow(TypeError);
    await expect(runPlanet({ ...TINY, sequenceLength: 10 })).rejects.toThrow(RangeError);
    await expect(runPlanet(TINY, { onStep: 1 } as never)).rejects.toThrow(
      /callbacks.onStep must be a function/,
    );
    await expect(runPlanet(TINY, {}, { folder: 'x' } as never)).rejects.toThrow(
      /unknown runPlanet option "folder"/,
    );
    const dir = tmp();
    await runPlanet({ ...TINY, episodes: 1 }, {}, { out: dir });
    await expect(runPlanet({ ...TINY, batchSize: 2 }, {}, { out: dir })).rejects.toThrow(
      /made with other settings \(batchSize\)/,
    );
  });
});

describe('createPlanetAgent', () => {
  it('filters and plans in the model: seeded, actions in [−1, 1], no tensor left after dispose', () => {
    const before = tf.memory().numTensors;
    const model = createRssm(
      { observationSize: 5, actionSize: 1, deterministic: 6, stochastic: 3, hidden: 6 },
      1,
    );
    const act = (imagination: 'sample' | 'mean', plannerSeed: number) => {
      const agent = createPlanetAgent(model, {
        plan: planetPlannerConfig('cem', { horizon: 4, samples: 20, elites: 4, iterations: 2 }),
        plannerSeed,
        filterSeed: 5,
        imagination,
      });
      try {
        agent.observe([0], [0.1, 0.2, 0.3, 0.4, 0.5]);
        const a = agent.act();
        agent.observe(a, [0.2, 0.2, 0.3, 0.1, 0.5]);
        const b = agent.act();
        expect(agent.decisions).toBe(2);
        expect(agent.state.h.shape).toEqual([1, 6]);
        return [...a, ...b];
      } finally {
        agent.dispose();
      }
    };
    const x = act('sample', 7);
    expect(act('sample', 7)).toEqual(x);
    expect(act('sample', 8)).not.toEqual(x);
    expect(act('mean', 7)).toHaveLength(2);
    for (const v of x) expect(Math.abs(v)).toBeLessThanOrEqual(1);
    const agent = createPlanetAgent(model, {
      plan: planetPlannerConfig('icem', { samples: 20 }),
      plannerSeed: 1,
      filterSeed: 1,
    });
    expect(() => agent.observe([0, 0], [0, 0, 0, 0, 0])).toThrow(/action must have 1 entries/);
    agent.dispose();
    expect(() => agent.act()).toThrow(/disposed/);
    expect(() =>
      createPlanetAgent(model, {
        plan: planetPlannerConfig('cem'),
        plannerSeed: 1,
        filterSeed: 1,
        imagination: 'prior' as never,
      }),
    ).toThrow(RangeError);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
