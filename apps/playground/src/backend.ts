import { dcemAsync, disposeCemResult, useBackend } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
// Registers tfjs's WebGPU backend when the browser has navigator.gpu.
import '@tensorflow/tfjs-backend-webgpu';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

/** How long one small DCEM solve took on a backend (ms), or why it could not run. */
export interface Measurement {
  name: string;
  ms?: number;
  error?: string;
}

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
});

/**
 * One small DCEM solve through the async API (awaited reads only, which
 * WebGPU in a browser needs), its solution read back.
 */
async function probe(): Promise<void> {
  const r = await dcemAsync((x) => tf.sum(tf.square(x), -1), {
    dim: 2,
    numSamples: 100,
    numElites: 10,
    seed: 1,
  });
  await r.solution.data();
  disposeCemResult(r);
}

/** The backends the page measures, in this order. */
export const CANDIDATES = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;

/**
 * Activates one backend: webgpu through @dcem/tfjs's useBackend, which says
 * why it cannot run. The page reads results only asynchronously (the async
 * API and `data()`), so WebGPU is checked with an asynchronous read back:
 * headless Chromium's SwiftShader adapter, whose synchronous reads answer
 * zeros, passes it.
 */
export async function activate(name: string): Promise<void> {
  if (name === 'webgpu') {
    await useBackend('webgpu', tf, { reads: 'async' });
  } else if (!(await tf.setBackend(name))) {
    throw new Error('could not initialise');
  }
  await tf.ready();
}

/**
 * Times a small DCEM solve on webgpu (when the browser has WebGPU), webgl,
 * wasm and cpu and activates the fastest that works (webgl or webgpu in a
 * headless browser runs in software and is often the slowest). `only`
 * (the page's `?backend=` parameter) measures and activates that one alone.
 */
export async function pickFastestBackend(
  only?: string,
): Promise<{ active: string; measurements: Measurement[] }> {
  const measurements: Measurement[] = [];
  const names: readonly string[] = only === undefined ? CANDIDATES : [only];
  for (const name of names) {
    try {
      await activate(name);
      await probe(); // warm-up: compiles shaders / kernels
      const t0 = performance.now();
      for (let i = 0; i < 3; i++) await probe();
      measurements.push({ name, ms: (performance.now() - t0) / 3 });
    } catch (error) {
      measurements.push({ name, error: error instanceof Error ? error.message : String(error) });
    }
  }
  const ok = measurements.filter((m) => m.ms !== undefined).sort((a, b) => (a.ms ?? 0) - (b.ms ?? 0));
  const best = ok[0]?.name ?? 'cpu';
  await activate(best);
  return { active: best, measurements };
}
