// The tfjs WebGPU backend through selectBackend/useBackend: selection rules,
// the generic path (no fused kernels), the solver's host reads, memory, and
// agreement with the cpu backend. Runs in the `webgpu` vitest project; in CI
// the adapter is Mesa's llvmpipe through Dawn's OpenGL ES backend.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dcem, disposeCemResult, lml, tfjsBackend } from '../api.js';
import { maxDiff } from '../golden.test-utils.js';
import { selectBackend, useBackend } from './select-backend.js';
import { findWebGpuAdapter, linuxWithoutGpu, WebGpuError } from './webgpu.js';

const importPackage = (pkg: string) => import(pkg);

let software = true;
let description = '';
let noGpuDevice = false;

beforeAll(async () => {
  const found = await findWebGpuAdapter(importPackage);
  if (!found.ok) throw new Error(`no WebGPU adapter for the webgpu tests: ${found.reason}`);
  software = found.software;
  description = found.description;
  noGpuDevice = (await linuxWithoutGpu(importPackage)) === true;
  // No GPU device node means the adapter found is a software one.
  if (noGpuDevice) expect(software).toBe(true);
  await useBackend('webgpu');
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

/** The quadratic used below: f(x) = Σ_d (x_d − c_d)², per sample. */
const target = [0.5, -0.25, 1];
const objective = (x: tf.Tensor) => tf.sum(tf.square(tf.sub(x, tf.tensor1d(target))), -1);
const solveOptions = { dim: 3, batchSize: 2, numSamples: 64, numElites: 8, numIterations: 6, seed: 7 };

describe('selecting webgpu', () => {
  it("useBackend('webgpu') activates tfjs's webgpu backend on the adapter found", async () => {
    await useBackend('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect(tfjsBackend.name).toBe('tfjs-webgpu');
    expect(description.length).toBeGreaterThan(0);
  });

  it('the default order takes webgpu only on a GPU adapter, saying why it skipped a software one', async () => {
    const selection = await selectBackend();
    const attempt = selection.attempts.find((a) => a.name === 'webgpu');
    expect(attempt).toBeDefined();
    if (noGpuDevice) {
      // Linux without GPU device nodes (CI): Dawn is not even loaded.
      expect(attempt?.ok).toBe(false);
      expect(attempt?.reason).toBe(
        'no GPU here (no /dev/dri/renderD* or /dev/nvidia*); ask for webgpu by name to use a software adapter',
      );
      expect(selection.active).toBe('wasm');
    } else if (software) {
      expect(attempt?.ok).toBe(false);
      expect(attempt?.reason).toContain('only a software adapter');
      expect(attempt?.reason).toContain('ask for webgpu by name');
      expect(selection.message).toContain('webgpu: only a software adapter');
      expect(selection.active).toBe('wasm');
    } else {
      expect(attempt?.ok).toBe(true);
      expect(selection.active).toBe('webgpu');
    }
    await useBackend('webgpu');
  });

  it('naming webgpu in prefer takes any adapter', async () => {
    await tf.setBackend('cpu');
    const selection = await selectBackend({ prefer: ['webgpu', 'cpu'] });
    expect(selection.active).toBe('webgpu');
    expect(selection.attempts).toEqual([{ name: 'webgpu', ok: true, adapter: description }]);
    expect(selection.message).toBe(`tfjs backend: webgpu on ${description}`);
    expect(tf.getBackend()).toBe('webgpu');
  });
});

describe('dcem on webgpu', () => {
  it('runs the generic ops: the fused cpu/wasm kernels are not used', () => {
    const x = tf.tensor2d([[0.1, 0.9, 0.4]]);
    expect(tfjsBackend.fused?.lml?.(x, 1, 1, 30)).toBeUndefined();
    x.dispose();
  });

  it('reads from the GPU only where documented: nothing inside a solve without early stopping, one flag per iteration with it, one status read', () => {
    const backend = tf.backend() as unknown as {
      readSync: (dataId: object) => unknown;
      tensorMap: { get(dataId: object): { values: unknown } };
    };
    const original = backend.readSync;
    let reads = 0;
    backend.readSync = (dataId: object) => {
      // Kernels also call readSync on tensors whose values are already on the
      // host (tfjs runs small ops on the CPU): only reads from the GPU count.
      if (backend.tensorMap.get(dataId).values == null) reads += 1;
      return original(dataId);
    };
    try {
      const run = (options: { tolerance: number; earlyStopping?: boolean }) => {
        reads = 0;
        const r = dcem(objective, { ...solveOptions, ...options });
        const solve = reads;
        const iterations = r.iterations; // the status tensor, read once
        const converged = r.converged; // the same read, kept
        const total = reads;
        disposeCemResult(r);
        return { solve, total, iterations, converged };
      };
      // Early stopping off (the default): the solve reads nothing, at any tolerance.
      expect(run({ tolerance: 0 })).toEqual({ solve: 0, total: 1, iterations: 6, converged: false });
      expect(run({ tolerance: 1e-12 })).toEqual({ solve: 0, total: 1, iterations: 6, converged: false });
      // Early stopping on, with a tolerance that never stops the solve: one flag after each
      // iteration but the last (after the last there is nothing left to stop).
      expect(run({ tolerance: 1e-12, earlyStopping: true })).toEqual({
        solve: 5,
        total: 6,
        iterations: 6,
        converged: false,
      });
    } finally {
      backend.readSync = original;
    }
  });

  it('gives the cpu backend’s iterates to float32 accuracy (same seed, same draws)', async () => {
    const runOn = async (name: string) => {
      await tf.setBackend(name);
      const means: number[][] = [];
      const r = dcem(objective, {
        ...solveOptions,
        tolerance: 0,
        onIteration: (info) => means.push(Array.from(info.mean.dataSync())),
      });
      const out = { solution: Array.from(r.solution.dataSync()), std: Array.from(r.std.dataSync()), means };
      disposeCemResult(r);
      return out;
    };
    const gpu = await runOn('webgpu');
    const cpu = await runOn('cpu');
    await tf.setBackend('webgpu');
    expect(gpu.means.length).toBe(6);
    // Iterates are O(1); each is a weighted sum over 64 samples after a few
    // float32 ops whose order (and exp/log) differ between the backends, so
    // the two differ by tens of ε₃₂ (measured: 2.3e-6). 1e-5 ≈ 80 ε₃₂, far
    // below a semantic difference (≥ 1e-2).
    gpu.means.forEach((m, t) => {
      expect(maxDiff(m, cpu.means[t] as number[])).toBeLessThanOrEqual(1e-5);
    });
    expect(maxDiff(gpu.solution, cpu.solution)).toBeLessThanOrEqual(1e-5);
    expect(maxDiff(gpu.std, cpu.std)).toBeLessThanOrEqual(1e-5);
    // Not vacuous: the solve moved towards the target.
    expect(maxDiff(gpu.solution, [...target, ...target])).toBeLessThan(0.2);
  });

  it('differentiates through dcem like the cpu backend does', async () => {
    const gradOn = async (name: string) => {
      await tf.setBackend(name);
      const c = tf.tensor2d([target, [-0.5, 0.25, 0]]);
      const w = tf.tensor2d([
        [1, -2, 0.5],
        [0.3, 1, -1],
      ]);
      const g = tf.grad((cc: tf.Tensor) => {
        const r = dcem((x) => tf.sum(tf.square(tf.sub(x, tf.expandDims(cc, 1))), -1), {
          ...solveOptions,
          tolerance: 0,
          temperature: 0.5,
        });
        return tf.sum(tf.mul(w, r.solution));
      })(c);
      const values = Array.from(g.dataSync());
      tf.dispose([c, w, g]);
      return values;
    };
    const gpu = await gradOn('webgpu');
    const cpu = await gradOn('cpu');
    await tf.setBackend('webgpu');
    const scale = Math.max(1, ...cpu.map(Math.abs));
    expect(maxDiff(gpu, cpu) / scale).toBeLessThanOrEqual(1e-5);
    expect(Math.max(...cpu.map(Math.abs))).toBeGreaterThan(0.05);
  });

  it('leaks no tensors or GPU buffers over repeated solves (tf.memory())', () => {
    const solve = () => {
      const r = dcem(objective, { ...solveOptions, tolerance: 1e-6 });
      r.solution.dataSync();
      disposeCemResult(r);
      const x = tf.tensor2d([[0.3, -1, 2, 0.5]]);
      const y = lml(x, 2);
      y.dataSync();
      tf.dispose([x, y]);
    };
    solve(); // warm-up: compiles the shaders, fills tfjs's buffer pool
    const before = tf.memory();
    for (let i = 0; i < 3; i++) solve();
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    expect(after.numBytes).toBe(before.numBytes);
    // Bytes of GPU buffers held by live tensors (tfjs-backend-webgpu's count;
    // released buffers go back to its pool, which may grow).
    const inGpu = (m: tf.MemoryInfo) => (m as tf.MemoryInfo & { numBytesInGPU?: number }).numBytesInGPU;
    expect(inGpu(before)).toBeTypeOf('number');
    expect(inGpu(after)).toBe(inGpu(before));
  });
});

describe('faults on webgpu', () => {
  it('a device error makes the next read throw a WebGpuError instead of returning stale numbers', () => {
    const device = (tf.backend() as unknown as { device: { createBuffer(d: object): unknown } }).device;
    // usage 0 is invalid: the device reports an uncaptured validation error.
    device.createBuffer({ size: 4, usage: 0 });
    const y = tf.square(tf.tensor1d([1, 2, 3]));
    expect(() => y.dataSync()).toThrow(WebGpuError);
    // Reported once: the next read works.
    const z = tf.square(tf.tensor1d([1, 2, 3]));
    expect(Array.from(z.dataSync())).toEqual([1, 4, 9]);
    tf.dispose([y, z]);
  });
});
