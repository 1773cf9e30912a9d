// Seeds for tfjs's random ops (internal).

/**
 * A nonzero 31-bit seed derived from (seed, stream, index) by integer
 * hashing. tfjs treats a seed of 0 as "no seed" (`seed ? seed : Math.random()`),
 * so every seed handed to `tf.random*` must be nonzero.
 */
export function deriveSeed(seed: number, stream: number, index = 0): number {
  let h = Math.imul((seed | 0) ^ 0x2545f491, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) ^ Math.imul(index + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h & 0x7fffffff || 1;
}
