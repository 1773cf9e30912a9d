// PlanetSettings: PlaNet's defaults, per-task action repeats, the planner
// presets, and typed errors for bad settings.
import { PRESET_NAMES } from '@dcem/core';
import { describe, expect, it } from 'vitest';
import { PLANET_ACTION_REPEAT } from '../mujoco/episodes.js';
import { PLANET_DEFAULTS, planetPlannerConfig, resolvePlanetSettings } from './settings.js';

describe('resolvePlanetSettings', () => {
  it("fills in PlaNet's defaults", () => {
    const s = resolvePlanetSettings({ env: 'cheetah-run' });
    expect(s).toMatchObject({
      seed: 0,
      episodes: 100,
      seedEpisodes: 5,
      updatesPerEpisode: 100,
      batchSize: 50,
      sequenceLength: 50,
      freeNats: 3,
      learningRate: 1e-3,
      adamEpsilon: 1e-4,
      clipNorm: 1000,
      explorationNoise: 0.3,
      actionRepeat: 4,
      steps: 250,
      model: { deterministic: 200, stochastic: 30, hidden: 200, minStd: 0.1 },
      imagination: 'sample',
      filter: 'sample',
      evaluateEvery: 0,
    });
    expect(s.plan).toMatchObject({
      planner: 'cem',
      horizon: 12,
      iterations: 10,
      samples: 1000,
      elites: 100,
      initStd: 1,
      warmStart: false,
      rolloutsPerStep: 10_000,
    });
    expect(Object.isFrozen(PLANET_DEFAULTS)).toBe(true);
    for (const [task, repeat] of Object.entries(PLANET_ACTION_REPEAT)) {
      const r = resolvePlanetSettings({ env: task as never });
      expect(r.actionRepeat).toBe(repeat);
      expect(r.steps).toBe(1000 / repeat);
    }
  });

  it('takes overrides for a tiny run, and survives JSON (checkpoints)', () => {
    const s = resolvePlanetSettings({
      env: 'cartpole-swingup',
      steps: 10,
      sequenceLength: 11,
      batchSize: 2,
      horizon: 3,
      samples: 16,
      elites: 4,
      iterations: 2,
      model: { deterministic: 8, hidden: 6 },
    });
    expect(s.model).toEqual({ deterministic: 8, stochastic: 30, hidden: 6, minStd: 0.1 });
    expect(s.plan).toMatchObject({ horizon: 3, samples: 16, elites: 4, iterations: 2, rolloutsPerStep: 32 });
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  it('plans with any preset of @dcem/core', () => {
    for (const planner of PRESET_NAMES) {
      const c = planetPlannerConfig(planner);
      expect(c.planner).toBe(planner);
      expect(c.samples).toBeGreaterThan(c.elites);
    }
    expect(planetPlannerConfig('dcem')).toMatchObject({
      samples: 1000,
      elites: 100,
      iterations: 10,
      warmStart: false,
    });
    expect(planetPlannerConfig('dcem').solver).toMatchObject({ selector: 'lml', temperature: 1 });
    expect(planetPlannerConfig('icem', { samples: 100 })).toMatchObject({
      samples: 100,
      initStd: 0.5,
      warmStart: true,
    });
  });

  it('gives typed errors naming the setting', () => {
    const bad = (settings: object) => () =>
      resolvePlanetSettings({ env: 'cartpole-swingup', ...settings } as never);
    expect(bad({ batchsize: 3 })).toThrow(TypeError);
    expect(bad({ batchsize: 3 })).toThrow(/unknown settings option "batchsize"; did you mean "batchSize"\?/);
    expect(bad({ model: { hiden: 3 } })).toThrow(
      /unknown settings.model option "hiden"; did you mean "hidden"\?/,
    );
    expect(() => resolvePlanetSettings({ env: 'cartpole-run' as never })).toThrow(RangeError);
    expect(() => resolvePlanetSettings({ env: 'cartpole-run' as never })).toThrow(
      /settings.env must be one of/,
    );
    expect(() => resolvePlanetSettings(null as never)).toThrow(TypeError);
    expect(bad({ batchSize: 0 })).toThrow(RangeError);
    expect(bad({ batchSize: 2.5 })).toThrow(/settings.batchSize must be an integer, received 2.5/);
    expect(bad({ seedEpisodes: 0 })).toThrow(RangeError);
    expect(bad({ learningRate: 0 })).toThrow(/settings.learningRate must be > 0/);
    expect(bad({ explorationNoise: '0.3' })).toThrow(TypeError);
    expect(bad({ freeNats: -1 })).toThrow(RangeError);
    expect(bad({ planner: 'pets' })).toThrow(/settings.planner must be one of cem, icem, mppi, tdmpc2, dcem/);
    expect(bad({ imagination: 'prior' })).toThrow(/settings.imagination must be one of sample, mean/);
    expect(bad({ actionRepeat: 3 })).toThrow(/settings.actionRepeat must divide 1000/);
    expect(bad({ steps: 126 })).toThrow(/settings.steps must be ≤ 125/);
    expect(bad({ steps: 10, sequenceLength: 12 })).toThrow(
      /settings.sequenceLength must be ≤ steps \+ 1 = 11/,
    );
    expect(bad({ elites: 1000 })).toThrow(RangeError);
    expect(bad({ model: { minStd: -0.1 } })).toThrow(RangeError);
    expect(bad({ model: { deterministic: 0 } })).toThrow(/settings.model.deterministic/);
    expect(bad({ evaluateEvery: -1 })).toThrow(RangeError);
  });
});
