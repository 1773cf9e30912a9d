import { dcem, disposeCemResult } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
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

function probe(): void {
  const r = dcem((x) => tf.sum(tf.square(x), -1), { dim: 2, numSamples: 100, numElites: 10, seed: 1 });
  r.solution.dataSync();
  disposeCemResult(r);
}

/**
 * Times a small DCEM solve on webgl, wasm and cpu and activates the fastest
 * that works (webgl in a headless browser runs in software and is often the
 * slowest).
 */
export async function pickFastestBackend(): Promise<{ active: string; measurements: Measurement[] }> {
  const measurements: Measurement[] = [];
  for (const name of ['webgl', 'wasm', 'cpu']) {
    try {
      if (!(await tf.setBackend(name))) throw new Error('could not initialise');
      await tf.ready();
      probe(); // warm-up: compiles shaders / kernels
      const t0 = performance.now();
      for (let i = 0; i < 3; i++) probe();
      measurements.push({ name, ms: (performance.now() - t0) / 3 });
    } catch (error) {
      measurements.push({ name, error: error instanceof Error ? error.message : String(error) });
    }
  }
  const ok = measurements.filter((m) => m.ms !== undefined).sort((a, b) => (a.ms ?? 0) - (b.ms ?? 0));
  const best = ok[0]?.name ?? 'cpu';
  await tf.setBackend(best);
  await tf.ready();
  return { active: best, measurements };
}
