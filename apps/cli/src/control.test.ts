// The pendulum and cart-pole-embedding commands at toy sizes: they run end to
// end, report what they should and write every file they promise.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { runCartpoleEmbed } from './cartpole-embed.js';
import { numberListFlag, temperatureListFlag } from './commands/cartpole-embed.js';
import { createContext, temperatureFlag } from './context.js';
import { runPendulum } from './pendulum.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');
const tmp = () => mkdtempSync(join(tmpdir(), 'dcem-cli-control-'));

describe('dcem pendulum', () => {
  it('plans swing-ups, counts the upright ones and writes plots, CSV, JSON and animations', async () => {
    const out = tmp();
    const ctx = await createContext({ backend: 'cpu', seed: 0, out, quiet: true, json: false });
    const before = tf.memory().numTensors;
    const r = await runPendulum(ctx, {
      count: 3,
      horizon: 10,
      samples: 30,
      elites: 5,
      iterations: 4,
      initStd: 3,
      tolerance: 1e-6,
      temperature: null,
      mode: 'open-loop',
      mpcSteps: 5,
      seed: 0,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.loss).toHaveLength(4);
    expect(r.finalCos).toHaveLength(3);
    expect(r.upright).toBe(r.finalCos.filter((c) => c > 0.95).length);
    for (const name of [
      'pendulum.png',
      'pendulum.svg',
      'pendulum.gif',
      'pendulum-animation.svg',
      'pendulum.json',
    ]) {
      expect(existsSync(join(out, name)), name).toBe(true);
    }
    expect(readFileSync(join(out, 'pendulum.gif')).subarray(0, 6).toString()).toBe('GIF89a');
    const csv = readFileSync(join(out, 'pendulum-trajectories.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(1 + 3 * 11);
  });

  it('runs closed loop with --mode mpc', async () => {
    const ctx = await createContext({ backend: 'cpu', seed: 1, out: tmp(), quiet: true, json: false });
    const r = await runPendulum(ctx, {
      count: 2,
      horizon: 6,
      samples: 20,
      elites: 4,
      iterations: 2,
      initStd: 1,
      tolerance: 1e-6,
      temperature: 1,
      mode: 'mpc',
      mpcSteps: 3,
      seed: 1,
    });
    expect(r.iterations).toHaveLength(3);
    expect(r.loss).toHaveLength(3);
  });

  it('parses its flags with errors that name them', () => {
    expect(temperatureFlag('--temperature')('none')).toBeNull();
    expect(temperatureFlag('--temperature')('0.5')).toBe(0.5);
    expect(() => temperatureFlag('--temperature')('0')).toThrow(
      new InvalidArgumentError(
        '--temperature 0 is not a temperature: write --temperature none for vanilla CEM (no temperature), or a number > 0 for DCEM',
      ),
    );
    expect(() => temperatureFlag('--temperature')('-1')).toThrow(
      /--temperature must be a number > 0 or "none" \(vanilla CEM\), received "-1"/,
    );
    const r = spawnSync(process.execPath, [MAIN, 'pendulum', '--samples', '10', '--elites', '10'], {
      encoding: 'utf8',
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('--elites must be < --samples (10), received 10');
  });
});

describe('dcem cartpole-embed', () => {
  it('trains, compares with full-space CEM, builds the table and writes every figure', async () => {
    const out = tmp();
    // wasm, as the command picks it by default: the 256-wide decoder is ~10× slower on the cpu backend.
    const ctx = await createContext({ backend: 'wasm', seed: 0, out, quiet: true, json: false });
    const r = await runCartpoleEmbed(ctx, {
      latent: 2,
      temperature: 1,
      seeds: 1,
      iterations: 3,
      table: true,
      tableLatents: [2, 3],
      tableTemperatures: [1, null],
      tableSeeds: 1,
      tableIterations: 2,
      validateEvery: 2,
      batch: 1,
      learningRate: 5e-4,
      validationCount: 4,
      seed: 0,
    });
    // One main run plus (2, no τ), (3, τ=1), (3, no τ).
    expect(r.runs.map((run) => [run.latent, run.temperature, run.group])).toEqual([
      [2, 1, 'main'],
      [2, null, 'table'],
      [3, 1, 'table'],
      [3, null, 'table'],
    ]);
    expect(r.table).toHaveLength(4);
    for (const run of r.runs) {
      expect(run.improvementFactor).toBeCloseTo(run.bestValidationCost / r.fullCem.validationCost, 12);
    }
    expect(r.mainFactor).toBe(r.runs[0]?.improvementFactor);
    for (const name of [
      'cartpole-embed-convergence.png',
      'cartpole-embed-improvement.png',
      'cartpole-embed-latent-surface.png',
      'cartpole-embed-iterates.png',
      'cartpole-embed.gif',
      'cartpole-embed-animation.svg',
      'cartpole-embed-curves.csv',
      'cartpole-embed-table.csv',
      'cartpole-embed.json',
      'cartpole-embed-d2-tau1-seed0.weights.bin',
      'cartpole-embed-d2-taunone-seed0.weights.bin',
    ]) {
      expect(existsSync(join(out, name)), name).toBe(true);
    }
    const manifest = JSON.parse(readFileSync(join(out, 'cartpole-embed-d2-tau1-seed0.weights.json'), 'utf8'));
    const floats = readFileSync(join(out, 'cartpole-embed-d2-tau1-seed0.weights.bin')).length / 4;
    expect(floats).toBe(
      (manifest.shapes as number[][]).reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0),
    );
  });

  it('parses lists of numbers', () => {
    const latents = numberListFlag('--table-latents', (n) => Number.isInteger(n) && n >= 1, 'integers ≥ 1');
    expect(latents('2, 8,2')).toEqual([2, 8]);
    expect(() => latents('1,0')).toThrow(
      /--table-latents takes a comma-separated list of integers ≥ 1, received "1,0"/,
    );
    expect(() => latents('1,,2')).toThrow(InvalidArgumentError);
  });

  it('spells "no temperature" none in --temperature and --table-temperatures; 0 is an error that says so', () => {
    const taus = temperatureListFlag('--table-temperatures');
    expect(taus('1, 0.1,none,1')).toEqual([1, 0.1, null]);
    expect(() => taus('1,0')).toThrow(
      new InvalidArgumentError(
        '--table-temperatures 0 is not a temperature: write --table-temperatures none for vanilla CEM (no temperature), or a number > 0 for DCEM',
      ),
    );
    expect(() => taus('1,-1')).toThrow(
      /--table-temperatures takes a comma-separated list of numbers > 0 or "none" \(vanilla CEM\), received "1,-1"/,
    );
    expect(() => taus('1,,2')).toThrow(InvalidArgumentError);
    const r = spawnSync(process.execPath, [MAIN, 'cartpole-embed', '--temperature', '0'], {
      encoding: 'utf8',
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(
      '--temperature 0 is not a temperature: write --temperature none for vanilla CEM',
    );
    const help = spawnSync(process.execPath, [MAIN, 'cartpole-embed', '--help'], { encoding: 'utf8' });
    expect(help.stdout).toMatch(
      /--temperature <τ>\s+DCEM temperature of the main study, or "none" for\s+vanilla CEM/,
    );
    expect(help.stdout).toMatch(/\(default: 1,0\.1,none\)/);
  });
});
