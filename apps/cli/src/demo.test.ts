import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runDemo } from './demo.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('the README demo', () => {
  it('finds the global minimum with CEM and DCEM and lowers the loss by learning θ', () => {
    const lines: string[] = [];
    const r = runDemo({ seed: 0, steps: 25, target: [0, 1.25], log: (l) => lines.push(l) });
    // The deepest bump of θ₀ sits near the origin with f ≈ −1.07.
    expect(r.cem.value).toBeLessThan(-1.05);
    expect(r.dcem.value).toBeLessThan(-1.05);
    expect(Math.hypot(...r.cem.solution)).toBeLessThan(0.3);
    expect(r.losses).toHaveLength(25);
    expect(r.losses.at(-1) as number).toBeLessThan((r.losses[0] as number) / 3);
    expect(lines.some((l) => l.includes('step'))).toBe(true);
  });

  it('leaves no tensors behind', () => {
    const before = tf.memory().numTensors;
    runDemo({ seed: 1, steps: 2, target: [0, 1.25], log: () => {} });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('the dcem command', () => {
  it('prints one readable line and exits 1 on a bad option', () => {
    const r = spawnSync(process.execPath, [MAIN, 'demo', '--steps', 'many'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--steps must be an integer, received "many"/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('documents the demo in --help', () => {
    const out = execFileSync(process.execPath, [MAIN, 'demo', '--help'], { encoding: 'utf8' });
    expect(out).toMatch(/--steps <n>/);
    expect(out).toMatch(/pnpm dcem demo/);
  });
});
