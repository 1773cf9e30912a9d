// A known linear system for the learning test: o' = A o + B a, reward
// r = c · o' (received with o'), observations of size 2, actions of size 1.
import * as tf from '@tensorflow/tfjs';
import type { SequenceBatch } from './elbo.js';

export const SYSTEM_A = [
  [0.95, 0.2],
  [-0.2, 0.95],
];
export const SYSTEM_B = [0, 1];
export const SYSTEM_C = [1, -0.5];

/** A tiny deterministic generator (mulberry32) for the data, so that it is exact and seeded. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One step of the system. */
export function systemStep(o: readonly number[], a: number): number[] {
  return SYSTEM_A.map(
    (row, i) =>
      (row[0] as number) * (o[0] as number) +
      (row[1] as number) * (o[1] as number) +
      (SYSTEM_B[i] as number) * a,
  );
}

/**
 * B windows of L rows from the middle of episodes: o₋₁ ~ N(0, I) (not
 * shown), aₜ ~ U(−1, 1), oₜ = A oₜ₋₁ + B aₜ, rₜ = c · oₜ.
 */
export function linearSequences(
  b: number,
  l: number,
  seed: number,
): { o: number[][][]; a: number[][][]; r: number[][] } {
  const random = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const o: number[][][] = [];
  const a: number[][][] = [];
  const r: number[][] = [];
  for (let i = 0; i < b; i++) {
    let state = [normal(), normal()];
    const os: number[][] = [];
    const as: number[][] = [];
    const rs: number[] = [];
    for (let t = 0; t < l; t++) {
      const u = 2 * random() - 1;
      state = systemStep(state, u);
      os.push(state);
      as.push([u]);
      rs.push(
        (SYSTEM_C[0] as number) * (state[0] as number) + (SYSTEM_C[1] as number) * (state[1] as number),
      );
    }
    o.push(os);
    a.push(as);
    r.push(rs);
  }
  return { o, a, r };
}

/** {@link linearSequences} as a tensor batch (the caller disposes it). */
export function linearBatch(b: number, l: number, seed: number): SequenceBatch {
  const { o, a, r } = linearSequences(b, l, seed);
  return { observations: tf.tensor3d(o), actions: tf.tensor3d(a), rewards: tf.tensor2d(r) };
}
