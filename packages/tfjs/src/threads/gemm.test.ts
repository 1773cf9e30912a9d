// The threaded path of matMul and dense: the same numbers on any number of
// threads, tf.matMul's values and gradients to float32 rounding, no leaked
// tensors or workers, and a process that uses it still exits by itself.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fusedLayer,
  layerThreads,
  MATMUL_KERNELS,
  setThreadedMinMacs,
  threaded,
} from '../matmul/dense-kernels.js';
import { dense, matMul } from '../matmul/matmul.js';
import { distModule, runModuleScript } from './child-process.test-utils.js';
import { gemm, gemmTn } from './gemm.js';
import { closePool, poolThreads, poolWorkerCount, setPoolThreads, threadsAvailable } from './pool.js';

/** Largest |a − b| relative to the largest |b| (1 when b is all zeros). */
function relDiff(a: tf.Tensor | Float32Array, b: tf.Tensor | Float32Array): number {
  const ref = b instanceof tf.Tensor ? b.dataSync() : b;
  const got = a instanceof tf.Tensor ? a.dataSync() : a;
  expect(got.length).toBe(ref.length);
  let scale = 1;
  let diff = 0;
  for (let i = 0; i < ref.length; i++) {
    scale = Math.max(scale, Math.abs(ref[i] as number));
    diff = Math.max(diff, Math.abs((got[i] as number) - (ref[i] as number)));
  }
  return diff / scale;
}

/** Uniform numbers in [−1, 1) from a small linear congruential generator. */
function uniform(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** A·B (+ bias) in float64, A: [m, k], B: [k, n]. */
function reference(
  a: Float32Array,
  b: Float32Array,
  bias: Float32Array | undefined,
  m: number,
  n: number,
  k: number,
) {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (a[i * k + p] as number) * (b[p * n + j] as number);
      out[i * n + j] = s + (bias === undefined ? 0 : (bias[j] as number));
    }
  }
  return out;
}

/** The transpose of an [r, c] row-major matrix. */
function transposed(x: Float32Array, r: number, c: number): Float32Array {
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = x[i * c + j] as number;
  return out;
}

describe.runIf(threadsAvailable())('threaded products (Node worker threads)', () => {
  afterAll(async () => {
    setThreadedMinMacs(undefined);
    await setPoolThreads(undefined);
    await closePool();
  });

  // m, n, k with edges of every kind: below one register block, odd, one
  // row, fewer than 4 output columns (dot products, with k mod 4 left over).
  const shapes: Array<[number, number, number]> = [
    [1, 1, 1],
    [257, 3, 130],
    [64, 2, 7],
    [3, 5, 7],
    [37, 19, 13],
    [129, 8, 130],
    [523, 33, 9],
    [700, 40, 64],
  ];

  for (const [m, n, k] of shapes) {
    it(`A·B (+ bias) and Aᵀ·B are the same on 1, 2 and 3 threads and equal float64 to rounding, [${m}, ${k}]·[${k}, ${n}]`, async () => {
      const a = uniform(m * k, 1);
      const b = uniform(k * n, 2);
      const bias = uniform(n, 3);
      const ref = reference(a, b, bias, m, n, k);
      const outs: Float32Array[] = [];
      const tnOuts: Float32Array[] = [];
      const bt = uniform(m * n, 4);
      const refTn = reference(transposed(a, m, k), bt, undefined, k, n, m);
      for (const threads of [1, 2, 3]) {
        const out = new Float32Array(m * n);
        expect(gemm({ a, b, bias, m, n, k, out, threads })).toBe(true);
        outs.push(out);
        const tn = new Float32Array(k * n);
        expect(gemmTn({ a, b: bt, m, n, k, out: tn, threads })).toBe(true);
        tnOuts.push(tn);
      }
      // Bit for bit, whatever the number of threads.
      expect(outs[1]).toEqual(outs[0]);
      expect(outs[2]).toEqual(outs[0]);
      expect(tnOuts[1]).toEqual(tnOuts[0]);
      expect(tnOuts[2]).toEqual(tnOuts[0]);
      // float32 sums of k (or m) products: a few ulps of the sum of |terms| at most.
      const tol = (terms: number) => 2 * terms * 2 ** -24;
      const out = outs[0] as Float32Array;
      for (let i = 0; i < m * n; i++)
        expect(Math.abs((out[i] as number) - (ref[i] as number))).toBeLessThan(tol(k + 1));
      const tn = tnOuts[0] as Float32Array;
      for (let i = 0; i < k * n; i++)
        expect(Math.abs((tn[i] as number) - (refTn[i] as number))).toBeLessThan(tol(m));
      await closePool();
    });
  }

  it('applies softplus and ReLU, and writes their slopes, to float32 accuracy over the whole range (NaN and ±∞ too)', () => {
    // z as an [m, 1] matrix times a row of ones: every output row is act(z),
    // through the register blocks (n = 8) and through the dot products (n = 3).
    const specials = [
      Number.NaN,
      Infinity,
      -Infinity,
      0,
      -0,
      1e-30,
      -1e-30,
      88.7,
      -87,
      -87.9,
      -88.5,
      -103,
      1e30,
      -1e30,
    ];
    const grid = Array.from({ length: 4001 }, (_, i) => -100 + i * 0.05);
    const z = Float32Array.from([...specials, ...grid]);
    const m = z.length;
    const softplus64 = (v: number) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
    const sigmoid64 = (v: number) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));
    // Below 2⁻¹²⁶ a result may be 0 (documented); above, a few float32 ulps.
    const close = (got: number, want: number) =>
      Number.isNaN(want)
        ? Number.isNaN(got)
        : got === want || Math.abs(got - want) <= Math.max(4e-7 * Math.abs(want), 2 ** -126);
    for (const n of [8, 3]) {
      const ones = new Float32Array(n).fill(1);
      for (const activation of ['softplus', 'relu'] as const) {
        const out = new Float32Array(m * n);
        const slope = new Float32Array(m * n);
        expect(gemm({ a: z, b: ones, m, n, k: 1, out, threads: 1, activation, slope })).toBe(true);
        const plain = new Float32Array(m * n);
        expect(gemm({ a: z, b: ones, m, n, k: 1, out: plain, threads: 1, activation })).toBe(true);
        expect(plain).toEqual(out);
        for (let i = 0; i < m; i++) {
          const v = z[i] as number;
          const want = activation === 'softplus' ? softplus64(v) : Number.isNaN(v) ? v : Math.max(v, 0);
          const wantSlope = activation === 'softplus' ? sigmoid64(v) : v > 0 ? 1 : 0;
          for (let j = 0; j < n; j++) {
            const got = out[i * n + j] as number;
            const gotSlope = slope[i * n + j] as number;
            if (!close(got, want)) throw new Error(`${activation}(${v}) = ${got}, want ${want} (n = ${n})`);
            if (!close(gotSlope, wantSlope))
              throw new Error(`${activation}′(${v}) = ${gotSlope}, want ${wantSlope} (n = ${n})`);
          }
        }
      }
    }
  });

  it('gives Aᵀ·B the same partial sums on any thread count past many partials (m = 40 000)', () => {
    const [m, n, k] = [40000, 8, 8];
    const a = uniform(m * k, 5);
    const b = uniform(m * n, 6);
    const one = new Float32Array(k * n);
    const two = new Float32Array(k * n);
    gemmTn({ a, b, m, n, k, out: one, threads: 1 });
    gemmTn({ a, b, m, n, k, out: two, threads: 2 });
    expect(two).toEqual(one);
    const ref = reference(transposed(a, m, k), b, undefined, k, n, m);
    expect(relDiff(one, Float32Array.from(ref))).toBeLessThan(1e-5);
  });

  for (const backendName of ['cpu', 'wasm'] as const) {
    describe(`matMul and dense on ${backendName}`, () => {
      beforeAll(async () => {
        expect(await tf.setBackend(backendName)).toBe(true);
        await setPoolThreads(2);
      });

      // The regression benchmark's layer width on wasm (fewer rows, for the suite's time); smaller on cpu, whose tf.matMul is slow.
      const [rows, width] = backendName === 'wasm' ? [4000, 128] : [2000, 64];
      it(`run [${rows}, ${width}]·[${width}, ${width}] on the threads, with tf.matMul’s values and gradients to float32 rounding`, () => {
        expect(threaded(rows, width, width)).toBe(true);
        tf.tidy(() => {
          const x = tf.randomNormal([rows, width], 0, 1, 'float32', 1);
          const w = tf.randomNormal([width, width], 0, 0.1, 'float32', 2);
          const b = tf.randomNormal([width], 0, 1, 'float32', 3);
          const g = tf.randomNormal([rows, width], 0, 1, 'float32', 4);
          expect(relDiff(matMul(x, w), tf.matMul(x, w))).toBeLessThan(1e-6);
          expect(relDiff(dense(x, w, b), tf.add(tf.matMul(x, w), b))).toBeLessThan(1e-6);
          const loss =
            (layer: (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor) =>
            (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
              tf.sum(tf.mul(tf.softplus(layer(xx, ww, bb)), g));
          const ours = tf.grads(loss((xx, ww, bb) => dense(xx, ww, bb)))([x, w, b]);
          const theirs = tf.grads(loss((xx, ww, bb) => tf.add(tf.matMul(xx, ww), bb)))([x, w, b]);
          for (let i = 0; i < 3; i++)
            expect(relDiff(ours[i] as tf.Tensor, theirs[i] as tf.Tensor)).toBeLessThan(1e-5);
          const [dx, dw] = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.mul(matMul(xx, ww), g)))([
            x,
            w,
          ]);
          expect(relDiff(dx as tf.Tensor, tf.matMul(g, w, false, true))).toBeLessThan(1e-5);
          expect(relDiff(dw as tf.Tensor, tf.matMul(x, g, true, false))).toBeLessThan(1e-5);
        });
      });

      for (const activation of ['relu', 'softplus'] as const) {
        it(`dense with ${activation}: one kernel each way, tf's composition to float32 rounding`, () => {
          const before = tf.memory().numTensors;
          tf.tidy(() => {
            // Pre-activations spread over about [−30, 30]; the zero rows of x hit relu's kink without a bias.
            const x = tf.concat([
              tf.randomNormal([rows - 8, width], 0, 1, 'float32', 11),
              tf.zeros([8, width]),
            ]);
            const w = tf.randomNormal([width, width], 0, 30 / Math.sqrt(width), 'float32', 12);
            const b = tf.randomNormal([width], 0, 1, 'float32', 13);
            const g = tf.randomNormal([rows, width], 0, 1, 'float32', 14);
            const act = activation === 'relu' ? tf.relu : tf.softplus;
            const ref = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => act(tf.add(tf.matMul(xx, ww), bb));
            const ours = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => dense(xx, ww, bb, { activation });
            expect(relDiff(ours(x, w, b), ref(x, w, b))).toBeLessThan(1e-5);
            const loss = (f: typeof ref) => (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
              tf.sum(tf.mul(f(xx, ww, bb), g));
            const got = tf.grads(loss(ours))([x, w, b]);
            const want = tf.grads(loss(ref))([x, w, b]);
            for (let i = 0; i < 3; i++)
              expect(relDiff(got[i] as tf.Tensor, want[i] as tf.Tensor)).toBeLessThan(1e-5);
            // Without a bias too.
            const noBias = tf.grads((xx: tf.Tensor, ww: tf.Tensor) =>
              tf.sum(tf.mul(dense(xx, ww, undefined, { activation }), g)),
            )([x, w]);
            const noBiasRef = tf.grads((xx: tf.Tensor, ww: tf.Tensor) =>
              tf.sum(tf.mul(act(tf.matMul(xx, ww)), g)),
            )([x, w]);
            for (let i = 0; i < 2; i++)
              expect(relDiff(noBias[i] as tf.Tensor, noBiasRef[i] as tf.Tensor)).toBeLessThan(1e-5);
          });
          expect(tf.memory().numTensors).toBe(before);
        });
      }

      it('run a first layer (2 inputs) with softplus on the threads too, with its gradients', () => {
        const n1 = Math.max(rows, 4000);
        expect(threaded(n1, width, 2)).toBe(false);
        expect(fusedLayer(n1, width, 2)).toBe(true);
        expect(layerThreads(n1, width, 2)).toBe(2);
        tf.tidy(() => {
          const x = tf.randomNormal([n1, 2], 0, 3, 'float32', 15);
          const w = tf.randomNormal([2, width], 0, 1, 'float32', 16);
          const b = tf.randomNormal([width], 0, 1, 'float32', 17);
          const g = tf.randomNormal([n1, width], 0, 1, 'float32', 18);
          const loss =
            (f: (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => tf.Tensor) =>
            (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
              tf.sum(tf.mul(f(xx, ww, bb), g));
          const got = tf.grads(loss((xx, ww, bb) => dense(xx, ww, bb, { activation: 'softplus' })))([
            x,
            w,
            b,
          ]);
          const want = tf.grads(loss((xx, ww, bb) => tf.softplus(tf.add(tf.matMul(xx, ww), bb))))([x, w, b]);
          for (let i = 0; i < 3; i++)
            expect(relDiff(got[i] as tf.Tensor, want[i] as tf.Tensor)).toBeLessThan(1e-5);
        });
      });

      it('give the same numbers on 2 threads as on 3', async () => {
        const x = tf.randomNormal([1001, 64], 0, 1, 'float32', 5);
        const w = tf.randomNormal([64, 72], 0, 1, 'float32', 6);
        const b = tf.randomNormal([72], 0, 1, 'float32', 7);
        const run = () =>
          tf.tidy(() => {
            const { value, grads } = tf.valueAndGrads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
              tf.sum(tf.square(dense(xx, ww, bb))),
            )([x, w, b]);
            return [value, ...grads].map((t) => Array.from(t.dataSync()));
          });
        await setPoolThreads(2);
        expect(poolThreads()).toBe(2);
        const two = run();
        await setPoolThreads(3);
        const three = run();
        expect(poolWorkerCount()).toBe(2);
        expect(three).toEqual(two);
        await setPoolThreads(2);
        tf.dispose([x, w, b]);
      });

      it('leak no tensors over repeated forward and backward calls', () => {
        const x = tf.randomNormal([1000, 64], 0, 1, 'float32', 8);
        const w = tf.randomNormal([64, 64], 0, 1, 'float32', 9);
        const b = tf.zeros([64]);
        const run = () => {
          tf.dispose([dense(x, w, b), matMul(x, w)]);
          const { value, grads } = tf.valueAndGrads((ww: tf.Tensor, bb: tf.Tensor) =>
            tf.sum(dense(x, ww, bb)),
          )([w, b]);
          tf.dispose([value, ...grads]);
        };
        run();
        expect(tf.getKernel(MATMUL_KERNELS.bias, backendName)).toBeDefined();
        const before = tf.memory().numTensors;
        for (let i = 0; i < 5; i++) run();
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose([x, w, b]);
      });
    });
  }

  it('keeps small or narrow products on tf.matMul', async () => {
    await tf.setBackend('wasm');
    await setPoolThreads(2);
    expect(threaded(10000, 1, 128)).toBe(false);
    expect(threaded(10000, 128, 2)).toBe(false);
    expect(threaded(64, 64, 64)).toBe(false);
    await setPoolThreads(1);
    expect(threaded(10000, 128, 128)).toBe(false);
    expect(poolWorkerCount()).toBe(0);
    await setPoolThreads(undefined);
  });

  it('closes its workers (the next product starts new ones)', async () => {
    await setPoolThreads(3);
    const out = new Float32Array(64);
    gemm({ a: uniform(64, 1), b: uniform(64, 2), m: 8, n: 8, k: 8, out, threads: 3 });
    expect(poolWorkerCount()).toBe(2);
    await closePool();
    expect(poolWorkerCount()).toBe(0);
    const again = new Float32Array(64);
    gemm({ a: uniform(64, 1), b: uniform(64, 2), m: 8, n: 8, k: 8, out: again, threads: 3 });
    expect(again).toEqual(out);
    await closePool();
    await setPoolThreads(undefined);
  });

  it('takes its default thread count from DCEM_THREADS, and rejects a bad one by name', async () => {
    const saved = { now: process.env.DCEM_THREADS, old: process.env.DCEM_MATMUL_THREADS };
    try {
      await setPoolThreads(undefined);
      delete process.env.DCEM_MATMUL_THREADS;
      process.env.DCEM_THREADS = '3';
      expect(poolThreads()).toBe(3);
      process.env.DCEM_THREADS = '1';
      expect(poolThreads()).toBe(1);
      await setPoolThreads(2);
      expect(poolThreads()).toBe(2);
      await setPoolThreads(undefined);
      for (const bad of ['0', 'two', '1.5', '-2']) {
        process.env.DCEM_THREADS = bad;
        expect(() => poolThreads()).toThrow(
          new RangeError(`DCEM_THREADS must be an integer ≥ 1, received ${JSON.stringify(bad)}`),
        );
      }
      // The former name is read (deprecated) only while DCEM_THREADS is unset.
      process.env.DCEM_THREADS = '2';
      process.env.DCEM_MATMUL_THREADS = '3';
      expect(poolThreads()).toBe(2);
      delete process.env.DCEM_THREADS;
      expect(poolThreads()).toBe(3);
      process.env.DCEM_MATMUL_THREADS = 'two';
      expect(() => poolThreads()).toThrow(
        new RangeError('DCEM_MATMUL_THREADS must be an integer ≥ 1, received "two"'),
      );
    } finally {
      for (const [name, value] of [
        ['DCEM_THREADS', saved.now],
        ['DCEM_MATMUL_THREADS', saved.old],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('rejects a thread count that is not an integer ≥ 1', async () => {
    await expect(setPoolThreads(0)).rejects.toThrow(/threads must be an integer ≥ 1, received 0/);
    await expect(setPoolThreads(1.5)).rejects.toThrow(TypeError);
  });

  it('lets a process that used the threads exit by itself', () => {
    // The built package (tests run after the build): a process that runs a
    // threaded product and never closes the pool must still end, promptly.
    const script = `
      import * as tf from '@tensorflow/tfjs';
      import '@tensorflow/tfjs-backend-wasm';
      import { dense, setThreads } from '${distModule('index.js')}';
      import { poolWorkerChunks } from '${distModule('threads', 'pool.js')}';
      await tf.setBackend('wasm');
      // Two threads whatever DCEM_THREADS says (the child inherits it).
      await setThreads(2);
      // Products until a worker (started by the first) has run a chunk: the
      // parent runs with --input-type=module, which the workers inherit.
      const started = Date.now();
      while (poolWorkerChunks() === 0) {
        if (Date.now() - started > 20000) throw new Error('no worker ran a chunk');
        const y = dense(tf.ones([2000, 128]), tf.ones([128, 128]), tf.zeros([128]));
        const v = y.dataSync();
        if (v[0] !== 128 || v[v.length - 1] !== 128) throw new Error('wrong product ' + v[0]);
        y.dispose();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      console.log('ok');
    `;
    const started = Date.now();
    const out = runModuleScript(script);
    expect(out.trim()).toBe('ok');
    expect(Date.now() - started).toBeLessThan(60_000);
  });
});
