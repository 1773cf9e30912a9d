// Normal draws made ahead on a worker thread: exactly the draws made in
// place, only for the seed and length asked for, the same DCEM solves with
// and without them, no leaks, and a process that used them exits by itself.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { dcem, disposeCemResult } from '../api.js';
import { fillNormals } from '../kernels/simd.js';
import { seedStates } from '../kernels/ziggurat.js';
import { distModule, runModuleScript } from './child-process.test-utils.js';
import { closeThreads, setThreads } from './controls.js';
import { aheadServedCount, aheadWorkerCount, closeAhead, drawAhead, takeAhead } from './normals-ahead.js';
import { threadsAvailable } from './pool.js';

function inPlace(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  fillNormals(out, seedStates(seed));
  return out;
}

/** Starts the worker (requests are refused until it is up) and waits until it serves. */
async function whenReady(): Promise<void> {
  const started = Date.now();
  while (!drawAhead(1, 0)) {
    if (Date.now() - started > 20_000) throw new Error('the worker did not start');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  expect(takeAhead(new Float32Array(1), 0)).toBe(true);
}

describe.runIf(threadsAvailable())('normal draws made ahead (Node worker thread)', () => {
  afterAll(async () => {
    await setThreads(undefined);
    await closeThreads();
  });

  it('are refused until the worker is up, then bit for bit the draws made in place, for every length', async () => {
    await closeAhead();
    expect(drawAhead(10, 1)).toBe(false); // starts the worker, which is not up yet
    await whenReady();
    for (const [count, seed] of [
      [1, 0],
      [5, -0],
      [4099, 7],
      [204800, 12345.5],
      [3, 2 ** 40],
    ] as const) {
      expect(drawAhead(count, seed)).toBe(true);
      const out = new Float32Array(count);
      expect(takeAhead(out, seed)).toBe(true);
      expect(out).toEqual(inPlace(count, seed));
    }
    expect(aheadWorkerCount()).toBe(1);
  });

  it('serve only the seed and length asked for, and only once', () => {
    expect(drawAhead(100, 1)).toBe(true);
    const other = new Float32Array(100).fill(7);
    expect(takeAhead(other, 2)).toBe(false); // another seed
    expect(takeAhead(new Float32Array(99), 1)).toBe(false); // another length
    expect(other.every((v) => v === 7)).toBe(true);
    const out = new Float32Array(100);
    expect(takeAhead(out, 1)).toBe(true); // the request still stands
    expect(out).toEqual(inPlace(100, 1));
    expect(takeAhead(out, 1)).toBe(false); // taken already
    // A new request replaces one that nobody took.
    expect(drawAhead(100, 3)).toBe(true);
    expect(drawAhead(100, 4)).toBe(true);
    expect(takeAhead(out, 3)).toBe(false);
    expect(takeAhead(out, 4)).toBe(true);
    expect(out).toEqual(inPlace(100, 4));
  });

  it('end with closeAhead, and start again on the next request', async () => {
    expect(drawAhead(10, 1)).toBe(true);
    await closeAhead();
    expect(aheadWorkerCount()).toBe(0);
    expect(takeAhead(new Float32Array(10), 1)).toBe(false);
    await whenReady();
    expect(drawAhead(10, 1)).toBe(true);
    const out = new Float32Array(10);
    expect(takeAhead(out, 1)).toBe(true);
    expect(out).toEqual(inPlace(10, 1));
    await closeAhead();
  });

  for (const backendName of ['cpu', 'wasm'] as const) {
    it(`leave a seeded DCEM solve unchanged (${backendName}): the same solution on one thread and on two, no tensors leaked`, async () => {
      expect(await tf.setBackend(backendName)).toBe(true);
      const q = tf.tidy(() => tf.add(tf.abs(tf.randomNormal([64, 1, 32], 0, 1, 'float32', 1)), 0.5));
      const f = (x: tf.Tensor) => tf.sum(tf.mul(q, tf.square(tf.sub(x, 1))), -1);
      const solve = () => {
        const before = tf.memory().numTensors;
        const r = dcem(f, {
          dim: 32,
          batchSize: 64,
          numSamples: 100,
          numElites: 10,
          numIterations: 6,
          seed: 3,
        });
        const out = {
          solution: Array.from(r.solution.dataSync()),
          best: Array.from(r.best.value.dataSync()),
        };
        disposeCemResult(r);
        expect(tf.memory().numTensors).toBe(before);
        return out;
      };
      await setThreads(1);
      const alone = solve();
      expect(aheadWorkerCount()).toBe(0);
      await setThreads(2);
      await whenReady();
      const servedBefore = aheadServedCount();
      const ahead = solve();
      expect(aheadWorkerCount()).toBe(1);
      expect(aheadServedCount() - servedBefore).toBe(5); // iterations 1 to 5
      expect(ahead).toEqual(alone);
      await setThreads(1); // one thread: the worker ends
      expect(aheadWorkerCount()).toBe(0);
      q.dispose();
    });
  }

  it('let a process that drew ahead (an ES module: --input-type=module) exit by itself', () => {
    const script = `
      import * as tf from '@tensorflow/tfjs';
      import '@tensorflow/tfjs-backend-wasm';
      import { dcem, disposeCemResult, setThreads } from '${distModule('index.js')}';
      import { aheadServedCount } from '${distModule('threads', 'normals-ahead.js')}';
      await tf.setBackend('wasm');
      await setThreads(2);
      // The worker starts while the first solves run: solve until it served
      // a draw (the parent runs with --input-type=module, which workers inherit).
      const started = Date.now();
      while (aheadServedCount() === 0) {
        if (Date.now() - started > 20000) throw new Error('no draws were made ahead');
        const r = dcem((x) => tf.sum(tf.square(x), -1), { dim: 32, batchSize: 64, numSamples: 100, numIterations: 10, seed: 1 });
        r.solution.dataSync();
        disposeCemResult(r);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      console.log('ok');
    `;
    const out = runModuleScript(script);
    expect(out.trim()).toBe('ok');
  });
});
