// `dcem mujoco` and `dcem mujoco-study` at toy sizes: the files they promise,
// resuming from the output folder, and clear errors for bad flags.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createContext } from './context.js';
import { readStudyCheckpoint, runMujoco, runMujocoStudyCli, STUDY_CHECKPOINT } from './mujoco.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');
const tmp = () => mkdtempSync(join(tmpdir(), 'dcem-cli-mujoco-'));

describe('dcem mujoco', () => {
  it('runs episodes and writes returns (CSV, JSON), the return curve and a GIF', async () => {
    const out = tmp();
    const ctx = await createContext({ backend: 'cpu', seed: 0, out, quiet: true, json: false });
    const before = tf.memory().numTensors;
    const r = await runMujoco(ctx, {
      env: 'cheetah-run',
      planner: 'tdmpc2',
      episodes: 2,
      seed: 0,
      steps: 3,
      samples: 16,
      elites: 4,
      iterations: 2,
      horizon: 3,
      workers: 1,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.returns).toHaveLength(2);
    for (const name of [
      'mujoco-cheetah-run-tdmpc2-returns.csv',
      'mujoco-cheetah-run-tdmpc2-returns.png',
      'mujoco-cheetah-run-tdmpc2-returns.svg',
      'mujoco-cheetah-run-tdmpc2.gif',
      'mujoco-cheetah-run-tdmpc2.json',
    ]) {
      expect(existsSync(join(out, name)), name).toBe(true);
    }
    expect(readFileSync(join(out, 'mujoco-cheetah-run-tdmpc2.gif')).subarray(0, 6).toString()).toBe('GIF89a');
    const csv = readFileSync(join(out, 'mujoco-cheetah-run-tdmpc2-returns.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(3);
    expect(Number(csv[1]?.split(',')[1])).toBe(r.returns[0]);
    const json = JSON.parse(readFileSync(join(out, 'mujoco-cheetah-run-tdmpc2.json'), 'utf8'));
    expect(json.episodes).toHaveLength(2);
    expect(json.meanReturn).toBe(r.meanReturn);
  });

  it('rejects an unknown task or planner with a message naming the flag', () => {
    const env = spawnSync('node', [MAIN, 'mujoco', '--env', 'cheetah-walk'], { encoding: 'utf8' });
    expect(env.status).toBe(1);
    expect(env.stderr).toMatch(/--env.*cheetah-walk.*cartpole-swingup/s);
    const planner = spawnSync('node', [MAIN, 'mujoco', '--env', 'cheetah-run', '--planner', 'pets'], {
      encoding: 'utf8',
    });
    expect(planner.status).toBe(1);
    expect(planner.stderr).toMatch(/--planner.*pets.*icem/s);
    const tasks = spawnSync('node', [MAIN, 'mujoco-study', '--tasks', 'cartpole-swingup,hopper-hop'], {
      encoding: 'utf8',
    });
    expect(tasks.status).toBe(1);
    expect(tasks.stderr).toMatch(/--tasks: "hopper-hop" is not one of/);
  });
});

describe('dcem mujoco-study', () => {
  it('writes the table and resumes from the checkpoint in its output folder', async () => {
    const out = tmp();
    const ctx = await createContext({ backend: 'cpu', seed: 0, out, quiet: true, json: false });
    const settings = {
      tasks: ['cartpole-swingup' as const],
      planners: ['icem' as const],
      episodes: 1,
      seed: 0,
      controlSteps: 16,
      budget: 0.01,
      workers: 1,
    };
    const first = await runMujocoStudyCli(ctx, settings);
    const checkpoint = join(out, STUDY_CHECKPOINT);
    expect(readStudyCheckpoint(checkpoint)).toHaveLength(1);
    for (const name of ['mujoco-study.md', 'mujoco-study.csv', 'mujoco-study.json']) {
      expect(existsSync(join(out, name)), name).toBe(true);
    }
    expect(readFileSync(join(out, 'mujoco-study.md'), 'utf8')).toMatch(
      /\| cartpole-swingup \| icem \(reduced\) \|.*\| 850 \|/,
    );
    expect(readFileSync(join(out, 'mujoco-study.md'), 'utf8')).toMatch(/Wall time of this run: \d+ s/);
    // A second run with one more episode runs only the new one.
    const second = await runMujocoStudyCli(ctx, { ...settings, episodes: 2 });
    const records = readStudyCheckpoint(checkpoint);
    expect(records.map((r) => r.episode)).toEqual([0, 1]);
    expect(second.episodes[0]?.return).toBe(first.episodes[0]?.return);
    expect(second.rows[0]?.episodes).toBe(2);
  });
});
