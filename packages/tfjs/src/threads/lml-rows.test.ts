// The threaded LML (assembly/lml-simd.ts on the matrix products' thread pool)
// against its JavaScript twin (lmlForward of kernels/math.ts): the same
// numbers to float32 rounding (the runtimes' exp and log may differ in the
// last bit of a float64), the same on any number of threads, NaN rows, the
// gradient bit for bit, and the fused kernels taking every thread only for
// large inputs, with no leaks.
import { lml } from '@dcem/core';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { createTfjsBackend } from '../backend.js';
import { lmlBackward, lmlForward } from '../kernels/math.js';
import { LML_THREADED_MIN_ENTRIES } from '../kernels/registry.js';
import { lmlGradRowsThreaded, lmlRowsThreaded } from './lml-rows.js';
import { closePool, poolWorkerCount, setPoolThreads, threadsAvailable } from './pool.js';

/** Standard-normal-ish float32 numbers from a small generator, every `wide`-th scaled by 40. */
function scores(count: number, seed: number, wide = 7): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  for (let i = 0; i < count; i++) {
    const v = Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
    out[i] = i % wide === 0 ? 40 * v : v;
  }
  return out;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) !== Number.isNaN(y)) return Number.POSITIVE_INFINITY;
    } else d = Math.max(d, Math.abs(x - y));
  }
  return d;
}

/** Whether two arrays hold the same bits (a quick test for large arrays). */
function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

/** One float32 ulp at 1 (the outputs lie in [0, 1]). */
const ULP_AT_ONE = 2 ** -23;

describe.runIf(threadsAvailable())('threaded LML (Node worker threads)', () => {
  afterAll(async () => {
    await setPoolThreads(undefined);
    await closePool();
  });

  const cases: Array<[number, number, number, number]> = [
    [256, 1000, 100, 1],
    [256, 1000, 100, 0.3],
    [37, 1000, 1, 1],
    [5, 7000, 6999, 2],
    [300, 130, 64, 1],
  ];
  for (const [rows, n, k, tau] of cases) {
    it(`gives the JavaScript twin's LML to float32 rounding, the same on 1, 2 and 3 threads: [${rows}, ${n}], k = ${k}, τ = ${tau}`, () => {
      const x = scores(rows * n, rows + n + k);
      const twin = new Float32Array(rows * n);
      lmlForward({ x, rows, n, k, temperature: tau, maxIterations: 100, y: twin });
      const outs = [1, 2, 3].map((threads) => {
        const y = new Float32Array(rows * n);
        expect(lmlRowsThreaded({ x, rows, n, k, temperature: tau, maxIterations: 100, y }, threads)).toBe(
          true,
        );
        return y;
      });
      expect(sameBits(outs[1] as Float32Array, outs[0] as Float32Array)).toBe(true);
      expect(sameBits(outs[2] as Float32Array, outs[0] as Float32Array)).toBe(true);
      expect(maxDiff(outs[0] as Float32Array, twin)).toBeLessThanOrEqual(ULP_AT_ONE);
      // Rows sum to k.
      for (let r = 0; r < rows; r++) {
        let sum = 0;
        for (let i = 0; i < n; i++) sum += (outs[0] as Float32Array)[r * n + i] as number;
        expect(Math.abs(sum - k)).toBeLessThan(1e-4 * Math.max(1, k));
      }
    });
  }

  for (const [rows, n, tau] of [
    [256, 1000, 1],
    [37, 130, 0.3],
    [3, 5000, 2],
  ] as const) {
    it(`gives the JavaScript twin's gradient bit for bit, on 1, 2 and 3 threads: [${rows}, ${n}], τ = ${tau}`, () => {
      const y = new Float32Array(rows * n);
      lmlForward({
        x: scores(rows * n, rows + n),
        rows,
        n,
        k: Math.floor(n / 10),
        temperature: tau,
        maxIterations: 100,
        y,
      });
      const dy = scores(rows * n, 99);
      const twin = new Float32Array(rows * n);
      lmlBackward({ y, dy, rows, n, temperature: tau, dx: twin });
      for (const threads of [1, 2, 3]) {
        const dx = new Float32Array(rows * n);
        expect(lmlGradRowsThreaded({ y, dy, rows, n, temperature: tau, dx }, threads)).toBe(true);
        expect(sameBits(dx, twin)).toBe(true);
      }
    });
  }

  it('turns a row holding NaN or ±∞ into NaN, as the twin does, and leaves the other rows alone', () => {
    const rows = 6;
    const n = 50;
    const x = scores(rows * n, 3);
    x[0 * n] = Number.NaN;
    x[2 * n + 49] = Number.POSITIVE_INFINITY;
    x[4 * n + 10] = Number.NEGATIVE_INFINITY;
    const twin = new Float32Array(rows * n);
    lmlForward({ x, rows, n, k: 5, temperature: 1, maxIterations: 100, y: twin });
    const y = new Float32Array(rows * n);
    expect(lmlRowsThreaded({ x, rows, n, k: 5, temperature: 1, maxIterations: 100, y }, 2)).toBe(true);
    for (const r of [0, 2, 4]) expect(y.subarray(r * n, (r + 1) * n).every(Number.isNaN)).toBe(true);
    for (const r of [1, 3, 5]) expect(y.subarray(r * n, (r + 1) * n).some(Number.isNaN)).toBe(false);
    expect(maxDiff(y, twin)).toBeLessThanOrEqual(ULP_AT_ONE);
  });

  for (const backendName of ['cpu', 'wasm'] as const) {
    it(`runs the fused kernel on the pool only from ${LML_THREADED_MIN_ENTRIES} entries (${backendName}), with the same values and gradient, leaking nothing`, async () => {
      expect(await tf.setBackend(backendName)).toBe(true);
      const backend = createTfjsBackend(tf);
      const run = async (rows: number, n: number) => {
        await closePool();
        const x = tf.tensor2d(scores(rows * n, 11), [rows, n]);
        const w = tf.tensor2d(scores(rows * n, 12), [rows, n]);
        const before = tf.memory().numTensors;
        const { value, grads } = tf.valueAndGrads((xx: tf.Tensor) => tf.sum(tf.mul(lml(backend, xx, 10), w)))(
          [x],
        );
        const y = tf.tidy(() => lml(backend, x, 10));
        const twin = new Float32Array(rows * n);
        lmlForward({ x: x.dataSync(), rows, n, k: 10, temperature: 1, maxIterations: 100, y: twin });
        expect(maxDiff(y.dataSync() as Float32Array, twin)).toBeLessThanOrEqual(ULP_AT_ONE);
        // The gradient of Σ w ⊙ y is the twin's VJP at y for w.
        const dx = new Float32Array(rows * n);
        lmlBackward({ y: y.dataSync(), dy: w.dataSync(), rows, n, temperature: 1, dx });
        expect(sameBits((grads[0] as tf.Tensor).dataSync() as Float32Array, dx)).toBe(true);
        const workers = poolWorkerCount();
        tf.dispose([value, ...grads, y]);
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose([x, w]);
        return workers;
      };
      await setPoolThreads(2);
      expect(await run(64, 100)).toBe(0); // 6 400 entries: the calling thread alone
      expect(await run(64, 1000)).toBe(1); // 64 000 entries: the pool's worker helped
      await setPoolThreads(1);
      expect(await run(64, 1000)).toBe(0);
      await setPoolThreads(undefined);
    });
  }
});
