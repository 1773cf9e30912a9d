// `dcem planet-ppo` at tiny sizes: from a latent world-model run's folder it
// writes the files it promises, resumes from its own folder, and says what is
// missing when --from holds no checkpoint.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createContext } from './context.js';
import { runPlanetCli } from './planet.js';
import { tinyLatentPlanet } from './planet.test-utils.js';
import { runPlanetPpoCli } from './planet-ppo.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'dcem-cli-planet-ppo-'));

describe('dcem planet-ppo', () => {
  it('fine-tunes a latent world-model run, writes its files and resumes', async () => {
    const base = tmp();
    const baseCtx = await createContext({ backend: 'cpu', seed: 0, out: base, quiet: true, json: false });
    await runPlanetCli(baseCtx, tinyLatentPlanet(5));
    const out = tmp();
    const ctx = await createContext({ backend: 'cpu', seed: 0, out, quiet: true, json: false });
    const settings = {
      iterations: 1,
      episodesPerStep: 2,
      steps: 4,
      valueHidden: 8,
      ppo: { minibatchSize: 4 },
    };
    const before = tf.memory().numTensors;
    const first = await runPlanetPpoCli(ctx, settings, { from: base });
    expect(tf.memory().numTensors).toBe(before);
    expect(first.counters).toEqual({ iterations: 1, episodes: 2, environmentSteps: 2 * 4 * 8 });
    for (const name of [
      'planet-ppo-steps.csv',
      'planet-ppo.json',
      'planet-ppo-curve.png',
      'planet-ppo-curve.svg',
      'latest-ppo-checkpoint.json',
    ]) {
      expect(existsSync(join(out, name)), name).toBe(true);
    }
    expect(readFileSync(join(out, 'planet-ppo-steps.csv'), 'utf8').trim().split('\n')).toHaveLength(2);
    const second = await runPlanetPpoCli(ctx, { ...settings, iterations: 2 });
    expect(second.history.slice(0, 1)).toEqual(first.history);
    expect(second.counters.iterations).toBe(2);
    await expect(runPlanetPpoCli(ctx, settings, { from: tmp() })).rejects.toThrow(
      /holds no world-model checkpoint/,
    );
  });
});
