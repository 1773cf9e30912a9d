// `dcem planet-compare` at tiny sizes: from a latent world-model run's folder
// it writes the files it promises (box plot, table, CSV, JSON), a second call
// resumes from the recorded episodes (running none) with the same table, and
// bad input gives clear errors.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createContext } from './context.js';
import { JOBS } from './jobs/registry.js';
import { runPlanetCli } from './planet.js';
import { tinyLatentPlanet } from './planet.test-utils.js';
import { PLANET_COMPARE_JOBS_FILE, runPlanetCompareCli } from './planet-compare.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'dcem-cli-planet-compare-'));

describe('dcem planet-compare', () => {
  it('compares the planners at a checkpoint, writes its files and resumes', async () => {
    const base = tmp();
    const baseCtx = await createContext({ backend: 'cpu', seed: 0, out: base, quiet: true, json: false });
    await runPlanetCli(baseCtx, tinyLatentPlanet(4));
    const out = tmp();
    const ctx = await createContext({ backend: 'cpu', seed: 2, out, quiet: true, json: false });
    const settings = {
      episodes: 2,
      seed: 2,
      steps: 3,
      full: { samples: 10, elites: 3, iterations: 2 },
      latent: { samples: 6, elites: 2, iterations: 2 },
      resamples: 100,
    };
    const before = tf.memory().numTensors;
    const first = await runPlanetCompareCli(ctx, settings, { checkpoint: base });
    expect(tf.memory().numTensors).toBe(before);
    expect(first.ran).toBe(6);
    expect(first.comparison.rows.map((r) => r.planner)).toEqual(['full-cem', 'latent', 'icem']);
    for (const name of [
      PLANET_COMPARE_JOBS_FILE,
      'planet-compare.md',
      'planet-compare.csv',
      'planet-compare-episodes.csv',
      'planet-compare-box.png',
      'planet-compare-box.svg',
      'planet-compare.json',
    ]) {
      expect(existsSync(join(out, name)), name).toBe(true);
    }
    const md = readFileSync(join(out, 'planet-compare.md'), 'utf8');
    expect(md).toContain('| latent DCEM | 6 / 2 / 2 | 2 |');
    expect(md).toContain('95 % CI');
    expect(readFileSync(join(out, 'planet-compare.csv'), 'utf8').trim().split('\n')).toHaveLength(4);
    expect(readFileSync(join(out, 'planet-compare-episodes.csv'), 'utf8').trim().split('\n')).toHaveLength(7);
    const second = await runPlanetCompareCli(ctx, settings, { checkpoint: base });
    expect(second.ran).toBe(0);
    expect(second.comparison.rows).toEqual(first.comparison.rows);
    // The job kind is registered for `dcem worker`s.
    expect(JOBS.get('planet-eval-episode')).toBeDefined();
    await expect(
      runPlanetCompareCli(
        ctx,
        { ...settings, planners: ['full-cem', 'pets' as never] },
        { checkpoint: base },
      ),
    ).rejects.toThrow(/settings\.planners\[1\] must be one of/);
    await expect(runPlanetCompareCli(ctx, settings, { checkpoint: tmp() })).rejects.toThrow(
      /holds no world-model checkpoint/,
    );
  });
});
