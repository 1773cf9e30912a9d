// The planner budget study command at toy sizes, and `dcem pendulum --planner`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { integerListFlag, nameListFlag } from './commands/planners.js';
import { createContext } from './context.js';
import { runPendulum } from './pendulum.js';
import { plannersTable, runPlanners } from './planners.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');
const tmp = () => mkdtempSync(join(tmpdir(), 'dcem-cli-planners-'));

describe('dcem planners', () => {
  it('runs the study and writes CSV, JSON, the Markdown table and the plot', async () => {
    const out = tmp();
    const ctx = await createContext({ backend: 'cpu', seed: 0, out, quiet: true, json: false });
    const before = tf.memory().numTensors;
    const r = await runPlanners(ctx, {
      planners: ['cem', 'icem'],
      budgets: [30, 60],
      tasks: ['pendulum', 'cartpole'],
      seeds: 2,
      starts: 1,
      steps: 4,
      horizon: 5,
      seed: 0,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.cells).toHaveLength(8);
    for (const name of ['planners.csv', 'planners.json', 'planners.md', 'planners.svg', 'planners.png']) {
      expect(existsSync(join(out, name)), name).toBe(true);
    }
    const csv = readFileSync(join(out, 'planners.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(1 + 8);
    expect(csv[0]).toMatch(/^task,planner,budget,num_samples/);
    const md = readFileSync(join(out, 'planners.md'), 'utf8');
    expect(md).toBe(`${plannersTable(r)}\n`);
    expect(md).toContain('| planner | 30 | 60 |');
    expect(md).toMatch(/\| icem \| -?\d+\.\d ± \d+\.\d \| -?\d+\.\d ± \d+\.\d \|/);
    expect(r.verdicts.map((v) => v.task)).toEqual(['pendulum', 'cartpole']);
  }, 120_000);

  it('parses its list flags with errors that name them', () => {
    expect(nameListFlag('--planners', ['cem', 'icem'])('icem, cem,icem')).toEqual(['icem', 'cem']);
    expect(() => nameListFlag('--planners', ['cem', 'icem'])('cem,icme')).toThrow(
      new InvalidArgumentError('--planners takes a comma-separated list of cem, icem; "icme" is not one'),
    );
    expect(integerListFlag('--budgets', 4)('100,25,100')).toEqual([25, 100]);
    expect(() => integerListFlag('--budgets', 4)('25,2')).toThrow(
      /--budgets takes a comma-separated list of integers ≥ 4, received "25,2"/,
    );
    const r = spawnSync(process.execPath, [MAIN, 'planners', '--planners', 'cem,nope'], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('"nope" is not one');
  });
});

describe('dcem pendulum --planner', () => {
  it('plans closed loop with a preset, the explicit flags overriding it', async () => {
    const ctx = await createContext({ backend: 'cpu', seed: 0, out: tmp(), quiet: true, json: false });
    const r = await runPendulum(ctx, {
      count: 2,
      horizon: 6,
      samples: 20,
      mode: 'mpc',
      mpcSteps: 3,
      seed: 0,
      planner: 'icem',
    });
    expect(r.iterations).toEqual([3, 3, 3]); // the icem preset's 3 iterations
    expect(r.loss).toHaveLength(3);
  });

  it('rejects an unknown planner name', () => {
    const r = spawnSync(process.execPath, [MAIN, 'pendulum', '--mode', 'mpc', '--planner', 'icme'], {
      encoding: 'utf8',
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/option '--planner <name>' argument 'icme' is invalid/);
  });
});
