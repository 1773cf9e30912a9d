import {
  assertFiniteNumber,
  assertInteger,
  assertNonNegative,
  describeValue,
  formatShape,
} from '@dcem/errors';
import type { Backend } from './backend.js';

/** Above this length a line is filtered with a zero-padded radix-2 FFT instead of directly. */
/** The largest product [rows, n, n, inner] the device filter makes at once (2²² entries). */
const CHUNK_ENTRIES = 2 ** 22;

/**
 * The real, even circulant kernel c of the filter for length n and exponent
 * β: c_t = (1/n) Σ_f s_f cos(2π f t / n), where the gain of frequency bin f
 * is s_f ∝ max(min(f, n − f)/n, 1/n)^(−β/2) (the zero-frequency bin gets the
 * gain of the lowest non-zero one), scaled so that (1/n) Σ_f s_f² = 1, i.e.
 * Σ_t c_t² = 1 (Parseval): white unit-variance noise filtered by c has unit
 * variance. Computed with a plain DFT in float64.
 */
function circulantKernel(n: number, exponent: number): Float64Array {
  const gains = new Float64Array(n);
  let power = 0;
  for (let f = 0; f < n; f++) {
    const freq = Math.max(Math.min(f, n - f), 1) / n;
    const s = freq ** (-exponent / 2);
    gains[f] = s;
    power += s * s;
  }
  const norm = 1 / Math.sqrt(power / n);
  const kernel = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    let acc = 0;
    for (let f = 0; f < n; f++) {
      // (f·t) mod n keeps the angle small and exact.
      acc += (gains[f] as number) * Math.cos((2 * Math.PI * ((f * t) % n)) / n);
    }
    kernel[t] = (acc * norm) / n;
  }
  return kernel;
}

/** In-place iterative radix-2 complex FFT of length re.length (a power of 2); `inverse` without the 1/N. */
function fft(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const size = re.length;
  for (let i = 1, j = 0; i < size; i++) {
    let bit = size >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      const tr = re[i] as number;
      re[i] = re[j] as number;
      re[j] = tr;
      const ti = im[i] as number;
      im[i] = im[j] as number;
      im[j] = ti;
    }
  }
  for (let len = 2; len <= size; len <<= 1) {
    const angle = ((inverse ? 2 : -2) * Math.PI) / len;
    const half = len >> 1;
    for (let k = 0; k < half; k++) {
      const wr = Math.cos(angle * k);
      const wi = Math.sin(angle * k);
      for (let start = 0; start < size; start += len) {
        const a = start + k;
        const b = a + half;
        const br = re[b] as number;
        const bi = im[b] as number;
        const xr = br * wr - bi * wi;
        const xi = br * wi + bi * wr;
        const ar = re[a] as number;
        const ai = im[a] as number;
        re[a] = ar + xr;
        im[a] = ai + xi;
        re[b] = ar - xr;
        im[b] = ai - xi;
      }
    }
  }
}

/** Applies y = c ⊛ x (circular, length n) to one line: directly, or through a padded FFT. */
interface LineFilter {
  apply(input: Float64Array, output: Float64Array): void;
}

function directFilter(kernel: Float64Array): LineFilter {
  const n = kernel.length;
  // wrapped[d + n] = c_(d mod n) for d ∈ [−n, n): no modulo in the inner loop.
  const wrapped = new Float64Array(2 * n);
  wrapped.set(kernel, 0);
  wrapped.set(kernel, n);
  return {
    apply(x, y) {
      for (let t = 0; t < n; t++) {
        let acc = 0;
        const offset = t + n;
        for (let j = 0; j < n; j++) acc += (wrapped[offset - j] as number) * (x[j] as number);
        y[t] = acc;
      }
    },
  };
}

/**
 * Circular convolution through a linear one: y_t = Σ_j e_{t−j} x_j with
 * e_d = c_{d mod n} for d ∈ [−(n − 1), n − 1], i.e. the linear convolution
 * of x (n) and e (2n − 1) read at t + n − 1, computed with a radix-2 FFT of
 * size ≥ 3n − 2 (zero padding).
 */
function fftFilter(kernel: Float64Array): LineFilter {
  const n = kernel.length;
  let size = 1;
  while (size < 3 * n - 2) size <<= 1;
  const kRe = new Float64Array(size);
  const kIm = new Float64Array(size);
  for (let d = -(n - 1); d <= n - 1; d++) kRe[d + n - 1] = kernel[((d % n) + n) % n] as number;
  fft(kRe, kIm, false);
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  return {
    apply(x, y) {
      re.fill(0);
      im.fill(0);
      re.set(x);
      fft(re, im, false);
      for (let i = 0; i < size; i++) {
        const ar = re[i] as number;
        const ai = im[i] as number;
        const br = kRe[i] as number;
        const bi = kIm[i] as number;
        re[i] = ar * br - ai * bi;
        im[i] = ar * bi + ai * br;
      }
      fft(re, im, true);
      for (let t = 0; t < n; t++) y[t] = (re[t + n - 1] as number) / size;
    },
  };
}

function checkArguments(shape: unknown, axis: unknown, exponent: unknown, seed: unknown): number {
  if (!Array.isArray(shape)) {
    throw new TypeError(`shape must be an array of integers, received ${describeValue(shape)}`);
  }
  shape.forEach((d, i) => {
    assertInteger(`shape[${i}]`, d, 0);
  });
  const rank = shape.length;
  if (rank === 0) throw new RangeError('shape must have at least one dimension, received []');
  assertInteger('axis', axis, -rank);
  if (axis >= rank) {
    throw new RangeError(
      `axis must be an integer in [${-rank}, ${rank - 1}] for shape ${formatShape(shape)}, received ${axis}`,
    );
  }
  assertNonNegative('exponent', exponent);
  if (seed !== undefined) assertFiniteNumber('seed', seed);
  return axis < 0 ? axis + rank : axis;
}

/**
 * Coloured Gaussian noise: standard-normal entries whose power spectrum
 * along `axis` falls as 1/f^β (β = `exponent`; 0 is white noise, 1 pink,
 * 2 brown), independent along the other axes. iCEM (Pinneri et al.,
 * "Sample-efficient Cross-Entropy Method for Real-time Planning", CoRL 2020)
 * samples action sequences this way, with the time steps along `axis`.
 *
 * Construction: white noise ε = `backend.randomNormal(shape, seed)` is
 * filtered along `axis` (length n) by the real circulant filter whose gain at
 * frequency f = m/n (m = 1 … ⌊n/2⌋, mirrored above) is ∝ f^(−β/2), the
 * zero-frequency bin taking the gain of f = 1/n. The gains are scaled so
 * that (1/n) Σ gain² = 1, which makes every entry exactly N(0, 1) (a linear
 * combination of independent standard normals with unit squared norm), and
 * the expected periodogram along `axis` is ∝ f^(−β). The kernel is
 * computed on the host in float64 (a plain DFT; it depends on n and β only)
 * and the filter runs on the device, as one `backend.matMul` with the
 * circulant matrix [n, n] (n² multiply-adds per line; in chunks of at most
 * 2²² products, for backends whose `matMul` is the derived, broadcasting
 * one), so nothing is read back to the host. For β = 0 the white
 * draws are returned unchanged. The noise is random, so it has no gradient.
 *
 * Deterministic: the same `seed` (and backend) gives the same values;
 * without a seed the backend picks one.
 *
 * @param backend The tensor backend.
 * @param shape The full shape of the result, e.g. [batch, numSamples, horizon, actionDim].
 * @param axis The coloured axis of `shape` (negative counts from the end), e.g. the time axis.
 * @param exponent β ≥ 0, the exponent of the power spectrum 1/f^β.
 * @param seed Seeds `backend.randomNormal`.
 * @returns A tensor of shape `shape`, entries N(0, 1), coloured along `axis`.
 *
 * @example
 * ```ts
 * import { colouredNoise } from '@dcem/core';
 * // 8 batches × 100 samples of action sequences [horizon 30, 2 actions], pink along time:
 * const eps = colouredNoise(backend, [8, 100, 30, 2], 2, 1, 42);
 * ```
 */
export function colouredNoise<T>(
  backend: Backend<T>,
  shape: readonly number[],
  axis: number,
  exponent: number,
  seed?: number,
): T {
  const ax = checkArguments(shape, axis, exponent, seed);
  const n = shape[ax] as number;
  if (exponent === 0 || n <= 1 || shape.includes(0)) return backend.randomNormal(shape, seed);
  return backend.tidy(() => {
    const white = backend.randomNormal(shape, seed);
    const kernel = circulantKernel(n, exponent);
    let inner = 1;
    for (let d = ax + 1; d < shape.length; d++) inner *= shape[d] as number;
    let outer = 1;
    for (let d = 0; d < ax; d++) outer *= shape[d] as number;
    // The circulant matrix C[t, j] = c_((t − j) mod n), [n, n], times the
    // noise as [outer, n, inner]: y = Σ_j C[t, j] x[j] along the axis, one
    // matrix product with C shared by the batch.
    const circulant = new Float64Array(n * n);
    for (let t = 0; t < n; t++) {
      for (let j = 0; j < n; j++) circulant[t * n + j] = kernel[(t - j + n) % n] as number;
    }
    const c = backend.tensor(circulant, [n, n]);
    const filter = (x: T, rows: number) => backend.matMul(c, backend.reshape(x, [rows, n, inner]));
    // Chunks of the outer axis keep each product under CHUNK_ENTRIES entries
    // where matMul is `completeBackend`'s derivation (n² · inner per row).
    const rowsPerChunk = Math.max(1, Math.floor(CHUNK_ENTRIES / (n * n * inner)));
    let out: T;
    if (rowsPerChunk >= outer) {
      out = filter(white, outer);
    } else {
      const flat = backend.reshape(white, [1, outer, n * inner]);
      const parts: T[] = [];
      for (let begin = 0; begin < outer; begin += rowsPerChunk) {
        const rows = Math.min(rowsPerChunk, outer - begin);
        const picks = backend.tensor(
          Array.from({ length: rows }, (_, i) => begin + i),
          [1, rows],
        );
        parts.push(filter(backend.batchGather(flat, picks), rows));
      }
      out = parts.length === 1 ? (parts[0] as T) : backend.concat(parts, 0);
    }
    return backend.reshape(out, shape);
  });
}

/** @internal The kernel and filters, for the tests. */
export const colouredNoiseInternals = { circulantKernel, directFilter, fftFilter };
