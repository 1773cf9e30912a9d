import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createContext } from './context.js';
import { runDemo } from './demo.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');
const tmp = () => mkdtempSync(join(tmpdir(), 'dcem-cli-'));
const dcemCommand = (args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });

describe('the README demo', () => {
  it('finds the global minimum with CEM and DCEM, lowers the loss by learning θ and writes plots', async () => {
    const out = tmp();
    const ctx = await createContext({ backend: 'cpu', seed: 0, out, quiet: true, json: false });
    const r = await runDemo(ctx, { seed: 0, steps: 25, target: [0, 1.25], frameEvery: 12 });
    // The deepest bump of θ₀ sits near the origin with f ≈ −1.07.
    expect(r.cem.value).toBeLessThan(-1.05);
    expect(r.dcem.value).toBeLessThan(-1.05);
    expect(Math.hypot(...r.cem.solution)).toBeLessThan(0.3);
    expect(r.learn.losses).toHaveLength(25);
    expect(r.learn.losses.at(-1) as number).toBeLessThan((r.learn.losses[0] as number) / 3);
    for (const name of [
      'cem-iterates.png',
      'dcem-iterates.png',
      'learn-loss.png',
      'learn.gif',
      'learn-loss.csv',
    ]) {
      expect(existsSync(join(out, name)), name).toBe(true);
    }
    expect(readFileSync(join(out, 'learn.gif')).subarray(0, 6).toString()).toBe('GIF89a');
  });

  it('leaves no tensors behind', async () => {
    const ctx = await createContext({ backend: 'cpu', seed: 1, out: tmp(), quiet: true, json: false });
    const before = tf.memory().numTensors;
    await runDemo(ctx, { seed: 1, steps: 2, target: [0, 1.25], frameEvery: 0 });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('the dcem command', () => {
  it('optimize writes the iterates (CSV), the contour plot and result.json; --json prints only JSON', () => {
    const out = tmp();
    const r = dcemCommand([
      'optimize',
      '--objective',
      'himmelblau',
      '--method',
      'cem',
      '--iterations',
      '5',
      '--backend',
      'cpu',
      '--out',
      out,
      '--json',
    ]);
    expect(r.status).toBe(0);
    const printed = JSON.parse(r.stdout);
    expect(printed.method).toBe('cem');
    expect(printed.solution).toHaveLength(2);
    expect(printed.backend).toBe('cpu');
    const csv = readFileSync(join(out, 'himmelblau-cem-iterates.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('iteration,sample,x,y');
    expect(csv.length).toBeGreaterThan(100);
    expect(existsSync(join(out, 'himmelblau-cem-iterates.png'))).toBe(true);
  });

  it('prints one readable line and exits 1 on a bad option', () => {
    const r = dcemCommand(['demo', '--steps', 'many']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--steps must be an integer, received "many"/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('reports solver validation errors in one line (numElites ≥ numSamples)', () => {
    const r = dcemCommand([
      'optimize',
      '--samples',
      '10',
      '--elites',
      '10',
      '--backend',
      'cpu',
      '--out',
      tmp(),
      '--quiet',
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('dcem: numElites must be < numSamples (10), received 10');
  });

  it('says clearly when the requested backend is not installed', () => {
    const r = dcemCommand(['optimize', '--backend', 'tensorflow', '--out', tmp()]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot use the tensorflow backend: @tensorflow\/tfjs-node is not installed/);
  });

  it('rejects an unknown objective and a malformed target', () => {
    expect(dcemCommand(['optimize', '--objective', 'nope']).stderr).toMatch(
      /Allowed choices are bumps, himmelblau, rosenbrock, quadratic/,
    );
    expect(dcemCommand(['learn', '--target', '1']).stderr).toMatch(
      /--target must be two numbers "x,y", received "1"/,
    );
  });

  it('documents every subcommand in --help with examples', () => {
    for (const sub of ['demo', 'optimize', 'learn']) {
      const out = execFileSync(process.execPath, [MAIN, sub, '--help'], { encoding: 'utf8' });
      expect(out).toMatch(/--backend <name>/);
      expect(out).toMatch(/Examples:/);
      expect(out).toMatch(new RegExp(`pnpm dcem ${sub}`));
    }
  });
});
