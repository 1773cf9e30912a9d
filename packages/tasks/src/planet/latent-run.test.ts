// The online loop with the latent planner and the decoder trained after
// each model update (phase 2): it completes without leaking tensors, a
// resumed run equals an uninterrupted one bit for bit (decoder and its Adam
// included), a phase switch (cem, then latent) resumes, and bad latent
// settings give typed errors.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPlanetCheckpoint, type PlanetCheckpoint } from './checkpoint.js';
import { runPlanet } from './run.js';
import { resolvePlanetSettings } from './settings.js';
import { TINY_LATENT_RUN, timeless } from './tiny.test-utils.js';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

const LATENT = TINY_LATENT_RUN;

const tmp = () => mkdtempSync(join(tmpdir(), 'dcem-planet-latent-'));

function expectSameState(a: PlanetCheckpoint, b: PlanetCheckpoint) {
  expect(a.counters).toEqual(b.counters);
  expect(a.history.map(timeless)).toEqual(b.history.map(timeless));
  for (const [i, w] of a.weights.values.entries()) expect(w).toEqual(b.weights.values[i]);
  expect(a.adam).toEqual(b.adam);
  expect(a.replay).toEqual(b.replay);
  expect(a.decoder).toBeDefined();
  expect(a.decoder).toEqual(b.decoder);
}

describe('runPlanet with the latent planner (phase 2)', () => {
  it('trains the decoder after every model update, plans with it, and leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    const decoderCosts: number[] = [];
    const r = await runPlanet(LATENT, {
      onUpdate: (info) => decoderCosts.push(info.decoderCost as number),
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(decoderCosts).toHaveLength(4);
    expect(decoderCosts.every(Number.isFinite)).toBe(true);
    const train = r.history.filter((e) => e.kind === 'train');
    expect(train).toHaveLength(2);
    expect(train.every((e) => Number.isFinite(e.decoderCost))).toBe(true);
    const decoder = r.checkpoint.decoder as NonNullable<PlanetCheckpoint['decoder']>;
    // d → 8 → H·A = 3: two layers, their Adam took one step per model update.
    expect(decoder.weights.map((w) => w.length)).toEqual([16, 8, 24, 3]);
    expect(decoder.adam.step).toBe(4);
    // Without training, the decoder keeps its initial weights and Adam takes no step.
    const fixed = await runPlanet({ ...LATENT, episodes: 2, latent: { ...LATENT.latent, train: false } });
    expect(fixed.checkpoint.decoder?.adam.step).toBe(0);
    expect(fixed.history[1]?.decoderCost).toBeUndefined();
  });

  it('resumed from its folder, continues bit for bit (decoder weights and Adam state included)', async () => {
    const whole = await runPlanet(LATENT);
    const dir = tmp();
    await runPlanet({ ...LATENT, episodes: 2 }, {}, { out: dir });
    const loaded = loadPlanetCheckpoint(dir) as PlanetCheckpoint;
    expect(loaded.decoder?.adam.step).toBe(2);
    const resumed = await runPlanet(LATENT, {}, { out: dir });
    expectSameState(resumed.checkpoint, whole.checkpoint);
  });

  it('switches phase on resume: a cem checkpoint continues with a fresh latent decoder', async () => {
    const { latent, planner, samples, elites, ...rest } = LATENT;
    const phase1 = await runPlanet({ ...rest, episodes: 2, samples: 8, elites: 2 });
    expect(phase1.checkpoint.decoder).toBeUndefined();
    const phase2 = await runPlanet(LATENT, {}, { resume: phase1.checkpoint });
    expect(phase2.counters.episodes).toBe(3);
    expect(phase2.checkpoint.decoder?.adam.step).toBe(2);
    expect(phase2.checkpoint.settings.plan.planner).toBe('latent');
    // Back to cem: the decoder is carried along unchanged.
    const phase3 = await runPlanet(
      { ...rest, episodes: 4, samples: 8, elites: 2 },
      {},
      { resume: phase2.checkpoint },
    );
    expect(phase3.checkpoint.decoder).toEqual(phase2.checkpoint.decoder);
    // A decoder of other sizes is refused.
    await expect(
      runPlanet(
        { ...LATENT, episodes: 4, latent: { ...LATENT.latent, dim: 3 } },
        {},
        { resume: phase2.checkpoint },
      ),
    ).rejects.toThrow(/decoder of other sizes/);
  });

  it('rejects bad latent settings with typed errors', () => {
    const bad = (latent: unknown) => () => resolvePlanetSettings({ ...LATENT, latent } as never);
    expect(bad({ dimension: 2 })).toThrow(TypeError);
    expect(bad({ dimension: 2 })).toThrow(/dim/);
    expect(bad({ dim: 0 })).toThrow(RangeError);
    expect(bad({ dim: 1.5 })).toThrow(/settings\.latent\.dim/);
    expect(bad({ hiddenSizes: 8 })).toThrow(TypeError);
    expect(bad({ hiddenSizes: [8, 0] })).toThrow(/hiddenSizes\[1\]/);
    expect(bad({ learningRate: -1 })).toThrow(RangeError);
    expect(bad({ learningRate: '1e-4' })).toThrow(TypeError);
    expect(bad({ clipNorm: 0 })).toThrow(RangeError);
    expect(bad({ batchSize: 0 })).toThrow(/settings\.latent\.batchSize/);
    expect(bad({ train: 'yes' })).toThrow(TypeError);
    expect(bad({ adamEpsilon: 0 })).toThrow(RangeError);
    expect(bad(3)).toThrow(TypeError);
    expect(() => resolvePlanetSettings({ ...LATENT, planner: 'cem' })).toThrow(
      /settings\.latent is taken only/,
    );
    expect(() => resolvePlanetSettings({ ...LATENT, elites: 8 })).toThrow(RangeError);
    const s = resolvePlanetSettings({ env: 'cheetah-run', planner: 'latent' });
    expect(s.plan).toMatchObject({ samples: 100, elites: 10, iterations: 10, horizon: 12 });
    expect(s.plan.solver).toMatchObject({ temperature: 1 });
    expect(s.latent).toEqual({
      dim: 2,
      hiddenSizes: [256, 256, 256],
      train: true,
      learningRate: 1e-4,
      adamEpsilon: 1e-8,
      clipNorm: 1,
      batchSize: 8,
    });
    expect(resolvePlanetSettings({ env: 'cheetah-run' }).latent).toBeUndefined();
  });
});
