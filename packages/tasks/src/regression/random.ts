/**
 * Counter-based random numbers of the regression task (internal): every draw
 * is a pure function of (seed, counters), so a run resumed from a checkpoint
 * draws exactly what the uninterrupted run would have drawn.
 *
 * @module
 */

/** A 32-bit mix of a seed and up to three counters (murmur3-style finaliser). */
export function hash32(seed: number, a = 0, b = 0, c = 0): number {
  let h = Math.imul((seed | 0) ^ 0x3c6ef372, 0x9e3779b1);
  for (const v of [a, b, c]) {
    h ^= Math.imul((v | 0) + 0x7f4a7c15, 0x85ebca6b);
    h = Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform integer in [0, n) from (seed, counters), n ≤ 2²⁰ (bias below 2⁻¹²). */
export function randomIndex(n: number, seed: number, a = 0, b = 0, c = 0): number {
  return Math.floor((hash32(seed, a, b, c) / 2 ** 32) * n);
}

/** Streams of the training run, the first counter of {@link hash32}. */
export const STREAM = Object.freeze({ init: 1, point: 2, dcem: 3, evaluation: 4, ablation: 5 });
