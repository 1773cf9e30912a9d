// `dcem planet` at tiny sizes: the files it promises, resuming from its
// output folder with the same command, and clear errors for bad flags.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createContext } from './context.js';
import { runPlanetCli } from './planet.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');
const tmp = () => mkdtempSync(join(tmpdir(), 'dcem-cli-planet-'));

const TINY = {
  env: 'cartpole-swingup' as const,
  seed: 0,
  episodes: 3,
  seedEpisodes: 1,
  steps: 6,
  updatesPerEpisode: 2,
  batchSize: 2,
  sequenceLength: 4,
  horizon: 3,
  samples: 10,
  elites: 2,
  iterations: 2,
  model: { deterministic: 8, stochastic: 3, hidden: 8 },
  evaluateEvery: 1,
};

describe('dcem planet', () => {
  it('writes the episodes (CSV, JSON), the learning curve, a GIF and a checkpoint, and resumes', async () => {
    const out = tmp();
    const ctx = await createContext({ backend: 'cpu', seed: 0, out, quiet: true, json: false });
    const before = tf.memory().numTensors;
    const first = await runPlanetCli(ctx, { ...TINY, episodes: 2 }, { maxFrames: 4 });
    expect(tf.memory().numTensors).toBe(before);
    expect(first.history.map((r) => r.kind)).toEqual(['seed', 'train', 'eval']);
    for (const name of [
      'planet-episodes.csv',
      'planet-episodes.json',
      'planet-learning-curve.png',
      'planet-learning-curve.svg',
      'planet-eval.gif',
      'latest-checkpoint.json',
    ]) {
      expect(existsSync(join(out, name)), name).toBe(true);
    }
    expect(readFileSync(join(out, 'planet-eval.gif')).subarray(0, 6).toString()).toBe('GIF89a');
    expect(readFileSync(join(out, 'planet-learning-curve.png')).subarray(1, 4).toString()).toBe('PNG');
    // The same call with more episodes continues from the checkpoint.
    const second = await runPlanetCli(ctx, TINY, { maxFrames: 4 });
    expect(second.history.slice(0, 3)).toEqual(first.history);
    expect(second.history.map((r) => `${r.kind}${r.index}`)).toEqual([
      'seed0',
      'train1',
      'eval0',
      'train2',
      'eval1',
    ]);
    const csv = readFileSync(join(out, 'planet-episodes.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(6);
    expect(csv[0]).toMatch(/^kind,index,return,steps,environment_steps,/);
    expect(Number(csv[4]?.split(',')[2])).toBe(second.history[3]?.return);
    const json = JSON.parse(readFileSync(join(out, 'planet-episodes.json'), 'utf8'));
    expect(json.episodes).toHaveLength(5);
    expect(json.counters.environmentSteps).toBe(3 * 6 * 8);
    expect(Object.keys(json.time)).toEqual(['environment', 'planning', 'updates']);
  });

  it('plans with the latent planner and trains its decoder online; the CSV has its planned cost', async () => {
    const out = tmp();
    const ctx = await createContext({ backend: 'cpu', seed: 0, out, quiet: true, json: false });
    const r = await runPlanetCli(
      ctx,
      { ...TINY, episodes: 2, planner: 'latent', latent: { dim: 2, hiddenSizes: [8], batchSize: 2 } },
      { maxFrames: 2 },
    );
    expect(r.history.map((e) => e.kind)).toEqual(['seed', 'train', 'eval']);
    const csv = readFileSync(join(out, 'planet-episodes.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toMatch(/,decoder_cost$/);
    expect(Number.isFinite(Number(csv[2]?.split(',').at(-1)))).toBe(true);
    expect(csv[1]?.split(',').at(-1)).toBe('');
  });

  it('rejects an unknown task or planner with a message naming the flag', () => {
    const env = spawnSync('node', [MAIN, 'planet', '--env', 'cheetah-walk'], { encoding: 'utf8' });
    expect(env.status).toBe(1);
    expect(env.stderr).toMatch(/--env.*cheetah-walk.*cartpole-swingup/s);
    const planner = spawnSync('node', [MAIN, 'planet', '--env', 'cheetah-run', '--planner', 'pets'], {
      encoding: 'utf8',
    });
    expect(planner.status).toBe(1);
    expect(planner.stderr).toMatch(/--planner.*pets.*dcem/s);
    const size = spawnSync('node', [MAIN, 'planet', '--env', 'cheetah-run', '--batch-size', '0'], {
      encoding: 'utf8',
    });
    expect(size.status).toBe(1);
    expect(size.stderr).toMatch(/--batch-size must be ≥ 1/);
    const latent = spawnSync('node', [MAIN, 'planet', '--env', 'cheetah-run', '--latent-dim', '3'], {
      encoding: 'utf8',
    });
    expect(latent.status).toBe(1);
    expect(latent.stderr).toMatch(/taken only with --planner latent/);
    const widths = spawnSync(
      'node',
      [MAIN, 'planet', '--env', 'cheetah-run', '--planner', 'latent', '--decoder-hidden', '64,0'],
      { encoding: 'utf8' },
    );
    expect(widths.status).toBe(1);
    expect(widths.stderr).toMatch(/--decoder-hidden takes comma-separated integers ≥ 1, received "64,0"/);
  });
});
