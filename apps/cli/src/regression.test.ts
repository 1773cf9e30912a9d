import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseModels } from './commands/regression.js';
import { type RegressionRunOptions, runRegression } from './regression.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function tiny(out: string, overrides: Partial<RegressionRunOptions> = {}): RegressionRunOptions {
  return {
    models: ['dcem', 'gd'],
    updates: 20,
    seed: 0,
    batchSize: 1,
    innerUpdates: 3,
    learningRate: 1e-3,
    evalEvery: 10,
    hiddenSize: 8,
    ablationMax: 3,
    ablationSeeds: 1,
    checkpointEvery: 15,
    resume: false,
    surfaceGrid: [10, 13],
    out,
    backend: 'cpu',
    log: () => {},
    interactive: false,
    command: 'dcem regression (test)',
    ...overrides,
  };
}

describe('dcem regression (in process)', () => {
  it('writes the curves, the ablation, the surfaces, checkpoints and a summary, and resumes', async () => {
    const out = mkdtempSync(join(tmpdir(), 'dcem-regression-'));
    const lines: string[] = [];
    const summary = await runRegression(tiny(out, { log: (l) => lines.push(l) }));
    for (const name of [
      'loss.csv',
      'loss.png',
      'loss.svg',
      'ablation.csv',
      'ablation.png',
      'surface.png',
      'surface.svg',
      'summary.json',
      'dcem.checkpoint.json',
      'gd.checkpoint.json',
    ]) {
      expect(existsSync(join(out, name)), name).toBe(true);
    }
    const loss = readFileSync(join(out, 'loss.csv'), 'utf8').trim().split('\n');
    expect(loss[0]).toBe('model,update,mse,learning_rate,train_seconds');
    expect(loss.filter((l) => l.startsWith('gd,')).map((l) => Number(l.split(',')[1]))).toEqual([0, 10, 20]);
    const ablation = readFileSync(join(out, 'ablation.csv'), 'utf8').trim().split('\n');
    expect(ablation).toHaveLength(1 + 2 * 3);
    const saved = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(saved).toEqual(JSON.parse(JSON.stringify(summary)));
    expect(summary.models.gd?.updates).toBe(20);
    expect(summary.models.dcem?.ablation).toMatchObject({ trained: 10, max: 3 });
    expect(typeof summary.models.gd?.goals.mseAtMost1e2).toBe('boolean');
    expect(lines.some((l) => l.startsWith('DCEM: final MSE'))).toBe(true);

    const resumed = await runRegression(tiny(out, { resume: true, updates: 10, models: ['gd'] }));
    expect(resumed.models.gd?.updates).toBe(30);
    const curve = readFileSync(join(out, 'loss.csv'), 'utf8').trim().split('\n');
    expect(curve.filter((l) => l.startsWith('gd,')).map((l) => Number(l.split(',')[1]))).toEqual([
      0, 10, 20, 30,
    ]);

    // --resume --updates 0: evaluate and plot the saved model only.
    const again = await runRegression(tiny(out, { resume: true, updates: 0, models: ['dcem'] }));
    expect(again.models.dcem?.updates).toBe(20);
    expect(again.models.dcem?.finalMse).toBe(summary.models.dcem?.finalMse);
  });

  it('parses --models and rejects unknown names', () => {
    expect(parseModels('gd')).toEqual(['gd']);
    expect(parseModels('gd, dcem,gd')).toEqual(['gd', 'dcem']);
    expect(() => parseModels('dcem,cem')).toThrow(
      '--models takes a comma-separated list of "dcem", "gd", received "cem"',
    );
  });
});

describe('dcem regression (command line)', () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [MAIN, 'regression', ...args], { encoding: 'utf8' });
  const expectOneLineError = (r: ReturnType<typeof run>, message: RegExp) => {
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('(run with --help')).length,
    ).toBe(1);
  };

  it('prints one line and exits 1 on bad options', () => {
    expectOneLineError(run('--updates', '0'), /--updates must be ≥ 1 \(0 only with --resume\), received 0/);
    expectOneLineError(run('--updates', '-5'), /--updates must be ≥ 0, received -5/);
    expectOneLineError(run('--batch-size', '-2'), /--batch-size must be ≥ 1, received -2/);
    expectOneLineError(
      run('--models', 'dcem,mlp'),
      /--models takes a comma-separated list of "dcem", "gd", received "mlp"/,
    );
    const file = join(mkdtempSync(join(tmpdir(), 'dcem-regression-')), 'not-a-folder');
    writeFileSync(file, '');
    expectOneLineError(
      run('--out', join(file, 'sub')),
      /cannot write to the output folder .*not-a-folder\/sub/,
    );
  });

  it('documents itself in --help', () => {
    const r = run('--help');
    expect(r.stdout).toMatch(/--updates <n>/);
    expect(r.stdout).toMatch(/--models <list>[\s\S]*?\(default:\s+dcem,gd\)/);
    expect(r.stdout).toMatch(/pnpm dcem regression/);
  });
});
