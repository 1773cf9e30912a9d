// The replay buffer: sequences never cross an episode's end, seeded sampling
// is reproducible and uniform over windows, and the plain-data state round-trips.
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { PlanetRandom } from './random.js';
import { ReplayBuffer, sequenceBatchTensors } from './replay.js';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

/** An episode whose every entry encodes (episode, row, slot), so a sampled row says where it came from. */
function tagged(e: number, rows: number, O: number, A: number) {
  const code = (row: number, slot: number) => e * 10_000 + row * 10 + slot;
  return {
    observations: Float32Array.from({ length: rows * O }, (_, i) => code(Math.floor(i / O), i % O)),
    actions: Float32Array.from({ length: rows * A }, (_, i) => -code(Math.floor(i / A), i % A)),
    rewards: Float32Array.from({ length: rows }, (_, row) => code(row, 9)),
  };
}

describe('ReplayBuffer', () => {
  it('sampled sequences are L consecutive rows of one episode, for random episode lengths (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        (lengths, L, B, seed) => {
          const O = 2;
          const A = 1;
          const replay = new ReplayBuffer(O, A);
          for (const [e, n] of lengths.entries()) replay.addEpisode(tagged(e, n, O, A));
          const windows = lengths.reduce((w, n) => w + Math.max(0, n - L + 1), 0);
          expect(replay.windows(L)).toBe(windows);
          if (windows === 0) {
            expect(() => replay.sample(B, L, seed)).toThrow(RangeError);
            return;
          }
          const batch = replay.sample(B, L, seed);
          for (let b = 0; b < B; b++) {
            const e = batch.episodes[b] as number;
            const start = batch.starts[b] as number;
            // Never crosses the episode's end, and short episodes are never drawn.
            expect(start + L).toBeLessThanOrEqual(lengths[e] as number);
            for (let t = 0; t < L; t++) {
              const row = start + t;
              const base = e * 10_000 + row * 10;
              expect(batch.rewards[b * L + t]).toBe(base + 9);
              expect(batch.observations[(b * L + t) * O]).toBe(base);
              expect(batch.observations[(b * L + t) * O + 1]).toBe(base + 1);
              expect(batch.actions[b * L + t]).toBe(-base);
            }
          }
        },
      ),
      { numRuns: 300, seed: 20 },
    );
  });

  it('the same seed gives the same batch, another seed another', () => {
    const replay = new ReplayBuffer(3, 2);
    for (let e = 0; e < 4; e++) replay.addEpisode(tagged(e, 20 + e, 3, 2));
    const a = replay.sample(16, 5, 123);
    const b = replay.sample(16, 5, 123);
    const c = replay.sample(16, 5, 124);
    expect(b.observations).toEqual(a.observations);
    expect(b.actions).toEqual(a.actions);
    expect(b.rewards).toEqual(a.rewards);
    expect(c.starts).not.toEqual(a.starts);
  });

  it('draws every window about equally often (χ² over 2 episodes of 6 and 4 rows, L = 3)', () => {
    const replay = new ReplayBuffer(1, 1);
    replay.addEpisode(tagged(0, 6, 1, 1));
    replay.addEpisode(tagged(1, 4, 1, 1));
    const n = 12_000;
    const batch = replay.sample(n, 3, 9);
    const counts = new Map<string, number>();
    for (let b = 0; b < n; b++) {
      const key = `${batch.episodes[b]}:${batch.starts[b]}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(['0:0', '0:1', '0:2', '0:3', '1:0', '1:1']);
    const expected = n / 6;
    const chi2 = [...counts.values()].reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(20.5); // χ²₅ at p = 0.001
  });

  it('keeps whole episodes and counts their rows and steps', () => {
    const replay = new ReplayBuffer(2, 1);
    replay.addEpisode(tagged(0, 5, 2, 1));
    replay.addEpisode(tagged(1, 3, 2, 1));
    expect(replay.episodes).toBe(2);
    expect(replay.rows).toBe(8);
    expect(replay.steps).toBe(6);
    expect(replay.episode(1).rewards).toEqual(tagged(1, 3, 2, 1).rewards);
  });

  it('round-trips through its plain-data state', () => {
    const replay = new ReplayBuffer(2, 3);
    replay.addEpisode(tagged(0, 7, 2, 3));
    replay.addEpisode(tagged(1, 2, 2, 3));
    const state = replay.getState();
    expect(state.rows).toEqual([7, 2]);
    const copy = ReplayBuffer.fromState(state);
    expect(copy.getState()).toEqual(state);
    expect(copy.sample(8, 2, 5)).toEqual(replay.sample(8, 2, 5));
  });

  it('rejects bad episodes, sizes and states with typed errors', () => {
    const replay = new ReplayBuffer(2, 1);
    expect(() => new ReplayBuffer(0, 1)).toThrow(RangeError);
    expect(() => new ReplayBuffer(2.5, 1)).toThrow(TypeError);
    expect(() => replay.addEpisode({ observations: [0, 0], actions: [0], rewards: [0, 1] })).toThrow(
      /episode.observations must have 4 entries, received 2/,
    );
    expect(() => replay.addEpisode({ observations: [0, Number.NaN], actions: [0], rewards: [0] })).toThrow(
      /episode.observations\[1\] must be finite/,
    );
    expect(() => replay.addEpisode({ observations: [], actions: [], rewards: [] })).toThrow(RangeError);
    expect(() =>
      replay.addEpisode({ observations: [0, 0], actions: [0], rewards: [0], extra: 1 } as never),
    ).toThrow(/unknown episode option "extra"/);
    expect(() => replay.sample(1, 1, 0)).toThrow(/length must be ≤ the rows of some stored episode/);
    replay.addEpisode({ observations: [0, 0], actions: [0], rewards: [0] });
    expect(() => replay.sample(0, 1, 0)).toThrow(RangeError);
    expect(() => replay.sample(1, 1, 0.5)).toThrow(TypeError);
    expect(() => ReplayBuffer.fromState({ ...replay.getState(), rows: [2] })).toThrow(
      /state.observations must have 4 entries/,
    );
  });

  it('sequenceBatchTensors gives [B, L, O], [B, L, A] and [B, L] tensors', () => {
    const replay = new ReplayBuffer(3, 2);
    replay.addEpisode(tagged(0, 6, 3, 2));
    const data = replay.sample(4, 5, 1);
    const t = sequenceBatchTensors(data);
    expect(t.observations.shape).toEqual([4, 5, 3]);
    expect(t.actions.shape).toEqual([4, 5, 2]);
    expect(t.rewards.shape).toEqual([4, 5]);
    expect(t.rewards.dataSync()).toEqual(data.rewards);
    tf.dispose([t.observations, t.actions, t.rewards]);
  });
});

describe('PlanetRandom', () => {
  it('is reproducible, uniform in [0, 1) and standard normal', () => {
    const a = new PlanetRandom(42);
    const b = new PlanetRandom(42);
    const xs = Array.from({ length: 20_000 }, () => a.next());
    expect(Array.from({ length: 20_000 }, () => b.next())).toEqual(xs);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(Math.abs(xs.reduce((s, x) => s + x, 0) / xs.length - 0.5)).toBeLessThan(0.01);
    const zs = new PlanetRandom(7).normals(20_000);
    const mean = zs.reduce((s, z) => s + z, 0) / zs.length;
    const variance = zs.reduce((s, z) => s + (z - mean) ** 2, 0) / zs.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.04);
    expect(new PlanetRandom(43).next()).not.toBe(new PlanetRandom(42).next());
  });
});
