/**
 * Seed streams: independent integer seeds derived from one user seed.
 *
 * Adding offsets to a seed (`seed + t`) makes neighbouring runs share their
 * random numbers: run s at step t + 1 draws what run s + 1 draws at step t.
 * {@link deriveSeed} hashes (seed, stream, index) instead, so every
 * (run, purpose, step) gets its own seed.
 *
 * @module
 */

import { assertFiniteNumber, assertInteger, describeValue } from '@dcem/errors';

/**
 * Named stream ids of {@link deriveSeed} for the purposes of `@dcem/core`
 * itself: one per purpose a random number serves, so that two purposes
 * never share a seed. The values are fixed (changing one changes every
 * result that uses it). Other packages own their streams (`@dcem/tasks` has
 * `TASK_SEED_STREAMS`) and pick values that none of these use.
 *
 * | name | what it seeds |
 * |---|---|
 * | `mpcStep` | a planner's solver noise at its step `index` (`createPlanner`) |
 * | `plannerElite` | a planner's draw of the elite to apply (`action: 'elite'`) at step `index` |
 * | `plannerReset` | a planner's fresh candidates for reset rows at step `index` |
 * | `solverIteration` | a seeded solve's standard-normal draws of iteration `index` (`createCem`, `cem`, `dcem`) |
 *
 * @example
 * ```ts
 * const seed = deriveSeed(0, SEED_STREAMS.mpcStep, 3); // the noise seed of MPC step 3 of run 0
 * ```
 */
export const SEED_STREAMS = Object.freeze({
  mpcStep: 7,
  plannerElite: 14,
  plannerReset: 15,
  solverIteration: 18,
} as const);

/** A name of {@link SEED_STREAMS}. */
export type SeedStream = keyof typeof SEED_STREAMS;

/**
 * A seed for one purpose of one run: a nonzero 31-bit integer hashed from
 * (seed, stream, index). Two distinct inputs give the same seed only by a
 * hash collision (probability about 2⁻³¹), and neighbouring inputs give
 * unrelated seeds: (s, t + 1) and (s + 1, t) do not coincide as they do
 * with `seed + t`.
 *
 * The hash is a multiply-xorshift mix of the low 32 bits of `seed` (and its
 * high bits when it does not fit in 32), then of `stream + 1`, then of
 * `index + 1`, finished with MurmurHash3-style xorshift-multiply rounds.
 * The result is never 0, because TensorFlow.js's random ops treat a seed of
 * 0 as "no seed".
 *
 * @param seed The user's seed, a safe integer (negative allowed).
 * @param stream The purpose: a value of {@link SEED_STREAMS} (or another integer ≥ 0 for a stream of your own, one that no `SEED_STREAMS` value uses).
 * @param index The step, iteration or item within the stream, an integer ≥ 0, default 0.
 * @returns An integer in [1, 2³¹ − 1].
 * @example
 * ```ts
 * import { deriveSeed, SEED_STREAMS } from '@dcem/core';
 * for (let t = 0; t < steps; t++) {
 *   const stepSeed = deriveSeed(seed, SEED_STREAMS.mpcStep, t);
 *   // plan(…, { seed: stepSeed })
 * }
 * ```
 */
export function deriveSeed(seed: number, stream: number, index = 0): number {
  assertInteger('seed', seed, Number.MIN_SAFE_INTEGER);
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(`seed must be a safe integer, received ${describeValue(seed)}`);
  }
  assertInteger('stream', stream, 0);
  assertInteger('index', index, 0);
  let h = Math.imul((seed | 0) ^ 0x2545f491, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca6b);
  // Seeds outside the 32-bit range also mix their high word (never 0 here for
  // a safe integer), so they do not alias the 32-bit seed of the same low word.
  if ((seed | 0) !== seed) h ^= Math.imul((Math.floor(seed / 2 ** 32) | 0) ^ 0x5bd1e995, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) ^ Math.imul(index + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h & 0x7fffffff || 1;
}

/**
 * Checks a `seed` option: a finite number (else the `assertFiniteNumber`
 * error), an integer (else a TypeError) and a safe integer (else a
 * RangeError), since the draws are seeded with {@link deriveSeed}.
 * Internal: shared by the CEM and planner option checks.
 *
 * @param seed The value of the option.
 */
export function assertSeedOption(seed: unknown): asserts seed is number {
  assertFiniteNumber('seed', seed);
  if (!Number.isInteger(seed)) {
    throw new TypeError(`seed must be an integer, received ${describeValue(seed)}`);
  }
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(`seed must be a safe integer, received ${describeValue(seed)}`);
  }
}
