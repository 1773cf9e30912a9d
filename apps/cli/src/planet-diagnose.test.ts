// `dcem planet-diagnose` at tiny sizes: on a world-model run's folder it
// measures the checkpoint's model (not a fresh one) on the last collected
// episodes, marks the last as never trained on, writes its files, and
// refuses bad input by name.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRssm, loadPlanetCheckpoint, planetModelError, ReplayBuffer } from '@dcem/tasks/planet';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createContext } from './context.js';
import { runPlanetCli } from './planet.js';
import { tinyLatentPlanet } from './planet.test-utils.js';
import { runPlanetDiagnoseCli } from './planet-diagnose.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'dcem-cli-planet-diagnose-'));

describe('dcem planet-diagnose', () => {
  it('measures the checkpoint’s model on its last episodes and writes its files', async () => {
    const base = tmp();
    const baseCtx = await createContext({ backend: 'cpu', seed: 0, out: base, quiet: true, json: false });
    await runPlanetCli(baseCtx, tinyLatentPlanet(6));
    const out = tmp();
    const ctx = await createContext({ backend: 'cpu', seed: 0, out, quiet: true, json: false });
    const before = tf.memory().numTensors;
    const result = await runPlanetDiagnoseCli(ctx, { checkpoint: base, last: 2 });
    expect(tf.memory().numTensors).toBe(before);
    expect(result.horizon).toBe(3); // the run's planning horizon
    expect(result.results.map((e) => [e.episode, e.kind, e.trainedOn])).toEqual([
      [0, 'seed', true],
      [1, 'train', false],
    ]);
    // The numbers are planetModelError's with the checkpoint's weights.
    const c = loadPlanetCheckpoint(base);
    if (c === undefined) throw new Error('no checkpoint');
    const model = createRssm({ observationSize: 5, actionSize: 1, ...c.settings.model }, c.settings.seed);
    model.setWeights(c.weights.values);
    const direct = planetModelError(model, ReplayBuffer.fromState(c.replay).episode(1), { horizon: 3 });
    model.dispose();
    const {
      episode: _e,
      kind: _k,
      return: ret,
      trainedOn: _t,
      ...measured
    } = result.results[1] as NonNullable<(typeof result.results)[1]>;
    expect(measured).toEqual(direct);
    expect(ret).toBe(c.history.find((h) => h.kind === 'train')?.return);
    for (const name of [
      'planet-diagnose.md',
      'planet-diagnose.json',
      'planet-diagnose-reward-error.png',
      'planet-diagnose-reward-error.svg',
    ]) {
      expect(existsSync(join(out, name)), name).toBe(true);
    }
    const md = readFileSync(join(out, 'planet-diagnose.md'), 'utf8');
    expect(md).toContain('| 1 (train) | no |');
    expect(md.match(/^\| 3 \| /gm)).toHaveLength(2); // depth 3 in each episode's table
    await expect(runPlanetDiagnoseCli(ctx, { checkpoint: base, last: 3 })).rejects.toThrow(
      /--last must be ≤ 2 \(the episodes in the checkpoint\), received 3/,
    );
    await expect(runPlanetDiagnoseCli(ctx, { checkpoint: base, horizon: 7 })).rejects.toThrow(
      /--horizon must be < 7 \(the rows of episode 1\), received 7/,
    );
    await expect(runPlanetDiagnoseCli(ctx, { checkpoint: out })).rejects.toThrow(
      /holds no world-model checkpoint/,
    );
  }, 60_000);
});
