// The public thread controls and their deprecated former names.
import { afterAll, describe, expect, it } from 'vitest';
import {
  closeMatMulThreads,
  closeThreads,
  matMulThreads,
  setMatMulThreads,
  setThreads,
  threads,
} from './controls.js';
import { gemm } from './gemm.js';
import { aheadWorkerCount } from './normals-ahead.js';
import { poolWorkerCount, threadsAvailable } from './pool.js';

describe.skipIf(!threadsAvailable())('thread controls', () => {
  afterAll(async () => {
    await setThreads(undefined);
    await closeThreads();
  });

  it('set and report the number of threads', async () => {
    await setThreads(3);
    expect(threads()).toBe(3);
    await setThreads(1);
    expect(threads()).toBe(1);
  });

  it('keep the former names working as aliases of the new ones (deprecated)', async () => {
    await setMatMulThreads(2);
    expect(threads()).toBe(2);
    expect(matMulThreads()).toBe(2);
    await setThreads(3);
    expect(matMulThreads()).toBe(3);
    // Start the pool's workers, then close them by the former name.
    const out = new Float32Array(64);
    gemm({
      a: new Float32Array(64).fill(1),
      b: new Float32Array(64).fill(2),
      m: 8,
      n: 8,
      k: 8,
      out,
      threads: 3,
    });
    expect(out[0]).toBe(16);
    expect(poolWorkerCount()).toBe(2);
    await closeMatMulThreads();
    expect(poolWorkerCount()).toBe(0);
    expect(aheadWorkerCount()).toBe(0);
  });

  it('reject a thread count that is not an integer ≥ 1, under either name', async () => {
    await expect(setThreads(0)).rejects.toThrow(RangeError);
    await expect(setThreads(1.5)).rejects.toThrow(TypeError);
    await expect(setMatMulThreads(0)).rejects.toThrow(RangeError);
  });
});
