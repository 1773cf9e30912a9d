// The WebAssembly kernels against their JavaScript twins (bit for bit), the
// normal generator's distribution, and the generated binary's freshness.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterEach, describe, expect, it } from 'vitest';
import { createTfjsBackend } from '../backend.js';
import { KERNELS_WASM_BASE64 } from '../wasm/fused-simd.generated.js';
import { FUSED_KERNELS } from './registry.js';
import {
  fillNormals,
  fitBackward,
  fitForward,
  sampleBackwardParams,
  sampleForward,
  useWasmKernels,
} from './simd.js';
import { normalsJs, seedStates, ZIGGURAT_R, zigguratTables } from './ziggurat.js';

afterEach(() => {
  useWasmKernels(true);
});

/** Reproducible uniform numbers in [lo, hi) (a linear congruential stream). */
function uniform(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + (hi - lo) * (s / 2 ** 32);
  }
  return out;
}

function draws(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  fillNormals(out, seedStates(seed));
  return out;
}

/** Standard normal CDF (erfc by Numerical Recipes' Chebyshev fit, |error| < 1.2e-7). */
function phi(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -z * z -
    1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t *
                      (0.27886807 +
                        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const erfc = t * Math.exp(poly);
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}

describe('the WebAssembly kernels', () => {
  it('load in Node (WebAssembly with SIMD)', () => {
    expect(useWasmKernels()).toBe(true);
  });

  it('draw the same normals as the JavaScript twin, bit for bit', () => {
    for (const [n, seed] of [
      [1, 0],
      [7, 1],
      [204800, 2],
      [100003, -3.25],
      [64, 4294967295],
    ] as const) {
      const wasm = draws(n, seed);
      const js = new Float32Array(n);
      normalsJs(js, seedStates(seed));
      expect(wasm).toEqual(js);
    }
  });

  it('refit μ, σ and their gradients as the JavaScript twins, bit for bit', () => {
    for (const [batch, count, dim, minStd] of [
      [64, 100, 32, 0],
      [3, 17, 5, 1e-3],
      [2, 9, 1, 1.2], // one column: only the scalar tail; σ floored on some entries
      [100, 100, 1, 0],
    ] as const) {
      const samples = uniform(batch * count * dim, 1 + dim, -3, 3);
      const weights = uniform(batch * count, 2 + dim, 0, 1);
      const run = () => {
        const mean = new Float32Array(batch * dim);
        const std = new Float32Array(batch * dim);
        fitForward({ samples, weights, batch, count, dim, k: 10, minStd, mean, std });
        const dMean = uniform(batch * dim, 3);
        const dStd = uniform(batch * dim, 4);
        const dSamples = new Float32Array(samples.length);
        const dWeights = new Float32Array(weights.length);
        fitBackward({
          samples,
          weights,
          mean,
          std,
          dMean,
          dStd,
          batch,
          count,
          dim,
          k: 10,
          minStd,
          dSamples,
          dWeights,
        });
        return { mean, std, dSamples, dWeights };
      };
      const wasm = run();
      useWasmKernels(false);
      const js = run();
      useWasmKernels(true);
      expect(wasm).toEqual(js);
      expect(wasm.std.some((s) => s > minStd)).toBe(true);
      if (minStd === 1.2) expect(wasm.std.some((s) => s === Math.fround(1.2))).toBe(true);
    }
  });

  it('sample X = μ + σ ⊙ ε and its gradient as the JavaScript twins, bit for bit', () => {
    for (const [batch, samples, dim] of [
      [64, 100, 32],
      [3, 7, 5],
      [2, 4, 1],
    ] as const) {
      const mean = uniform(batch * dim, 21, -2, 2);
      const std = uniform(batch * dim, 22, 0, 3);
      const noise = uniform(batch * samples * dim, 23, -4, 4);
      const dx = uniform(batch * samples * dim, 24);
      const shape = { batch, samples, dim, lowerRows: 0, upperRows: 0 };
      const none = new Float32Array(1);
      const run = () => {
        const x = new Float32Array(noise.length);
        sampleForward({ mean, std, noise, lower: none, upper: none, shape }, x);
        const dMean = new Float32Array(mean.length);
        const dStd = new Float32Array(std.length);
        const dLower = new Float32Array(1).fill(7);
        const dUpper = new Float32Array(1).fill(7);
        sampleBackwardParams(
          dx,
          { mean, std, noise, lower: none, upper: none, shape },
          { dMean, dStd, dLower, dUpper },
        );
        return { x, dMean, dStd, dLower, dUpper };
      };
      const wasm = run();
      useWasmKernels(false);
      const js = run();
      useWasmKernels(true);
      expect(wasm).toEqual(js);
      expect(wasm.dLower[0]).toBe(0);
      // Entry 5: row b = ⌊5 / (N·D)⌋, column j = 5 mod D.
      const r = Math.floor(5 / (samples * dim)) * dim + (5 % dim);
      expect(wasm.x[5]).toBe(
        Math.fround((mean[r] as number) + Math.fround((std[r] as number) * (noise[5] as number))),
      );
    }
  });

  it('propagate NaN and infinities as the twins do', () => {
    const samples = uniform(2 * 4 * 3, 9);
    samples[5] = Number.NaN;
    samples[14] = Number.POSITIVE_INFINITY;
    const weights = uniform(8, 10, 0, 1);
    const out = () => {
      const mean = new Float32Array(6);
      const std = new Float32Array(6);
      fitForward({ samples, weights, batch: 2, count: 4, dim: 3, k: 2, minStd: 0, mean, std });
      return [...mean, ...std];
    };
    const wasm = out();
    useWasmKernels(false);
    expect(wasm).toEqual(out());
    expect(wasm.some(Number.isNaN)).toBe(true);
  });
});

describe('the normal generator', () => {
  it('has consistent ziggurat tables (the top layer closes at the mode)', () => {
    const { width, edge, accept } = zigguratTables();
    const x = Array.from(width, (w) => w * 2 ** 23);
    expect(x[1]).toBe(ZIGGURAT_R);
    // Every layer has the same area v: x_i·(f(x_{i+1}) − f(x_i)) for i ≥ 1, and the
    // base layer R·f(R) plus the tail equals x_0·f(R).
    const area = (x[1] as number) * ((edge[2] as number) - (edge[1] as number));
    for (let i = 1; i < 256; i++) {
      expect(
        Math.abs((x[i] as number) * ((edge[i + 1] as number) - (edge[i] as number)) - area),
      ).toBeLessThan(1e-10);
    }
    const tail = Math.sqrt(Math.PI / 2) * 2 * (1 - phi(ZIGGURAT_R)); // ∫_R^∞ e^{−t²/2} dt
    expect(
      Math.abs(ZIGGURAT_R * (edge[1] as number) + tail - (x[0] as number) * (edge[1] as number)),
    ).toBeLessThan(1e-6);
    expect(edge[256]).toBe(1);
    for (let i = 0; i < 255; i++) expect(accept[i]).toBeLessThan(2 ** 23);
  });

  it('is standard normal: Kolmogorov–Smirnov, moments and tail mass on 10⁶ draws', () => {
    const n = 1_000_000;
    const v = draws(n, 7);
    const sorted = Float64Array.from(v).sort();
    let d = 0;
    for (let i = 0; i < n; i++) {
      const f = phi(sorted[i] as number);
      d = Math.max(d, Math.abs(f - i / n), Math.abs(f - (i + 1) / n));
    }
    // P(√n·D > 1.95) ≈ 0.001 for a true normal sample.
    expect(d * Math.sqrt(n)).toBeLessThan(1.95);
    let mean = 0;
    for (const x of v) mean += x;
    mean /= n;
    let m2 = 0;
    let m4 = 0;
    let beyond = 0;
    for (const x of v) {
      m2 += (x - mean) ** 2;
      m4 += (x - mean) ** 4;
      if (Math.abs(x) > ZIGGURAT_R) beyond++;
    }
    m2 /= n;
    m4 /= n;
    expect(Math.abs(mean)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(m2 - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
    expect(Math.abs(m4 / (m2 * m2) - 3)).toBeLessThan(4 * Math.sqrt(24 / n));
    // The tail path: P(|X| > R) = 2(1 − Φ(R)) ≈ 2.6e-4.
    const p = 2 * (1 - phi(ZIGGURAT_R));
    expect(Math.abs(beyond - n * p)).toBeLessThan(4 * Math.sqrt(n * p));
    expect(beyond).toBeGreaterThan(0);
  });

  it('is seeded: same seed same draws, other seeds other draws, −0 is 0', () => {
    expect(draws(100, 5)).toEqual(draws(100, 5));
    expect(draws(100, 0)).toEqual(draws(100, -0));
    const seeds = [0, 1, 2, -1, 0.5, 1e300, 2 ** 32, 2 ** 32 + 1];
    const firsts = seeds.map((s) => draws(4, s).join(','));
    expect(new Set(firsts).size).toBe(seeds.length);
    // A prefix of a longer draw is the shorter draw.
    expect(draws(1000, 3).subarray(0, 10)).toEqual(draws(10, 3));
  });

  for (const [name, fused] of [
    ['cpu', true],
    ['wasm', true],
    ['wasm', false],
  ] as const) {
    it(`backs the tfjs backend (${name}, fused ${fused}): seeded draws repeat, unseeded ones do not`, async () => {
      expect(await tf.setBackend(name)).toBe(true);
      const backend = createTfjsBackend(tf, { fused });
      const before = tf.memory().numTensors;
      const profile = await tf.profile(() => {
        const a = backend.randomNormal([3, 5], 11);
        const b = backend.randomNormal([3, 5], 11);
        const c = backend.randomNormal([3, 5]);
        const d = backend.randomNormal([3, 5]);
        expect(a.shape).toEqual([3, 5]);
        expect(Array.from(a.dataSync())).toEqual(Array.from(draws(15, 11)));
        expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
        expect(Array.from(c.dataSync())).not.toEqual(Array.from(d.dataSync()));
        tf.dispose([a, b, c, d]);
      });
      expect(tf.memory().numTensors).toBe(before);
      // Fused: drawn straight into the tensor's memory by one kernel.
      expect(profile.kernels.some((k) => k.name === FUSED_KERNELS.normal)).toBe(fused);
    });
  }
});

describe('the generated WebAssembly binary', () => {
  it('stays below 4 KB, the most browsers compile synchronously on the main thread', () => {
    expect(atob(KERNELS_WASM_BASE64).length).toBeLessThan(4096);
  });

  it('is what assembly/fused-simd.ts compiles to (run `pnpm --filter @dcem/tfjs build:wasm` after editing it)', () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
    const out = execFileSync(process.execPath, [join(root, 'scripts', 'build-wasm.mjs'), '--check'], {
      encoding: 'utf8',
    });
    expect(out).toMatch(/is up to date/);
  }, 60_000);
});
