import { describe, expect, it } from 'vitest';
import { deriveSeed, SEED_STREAMS } from './seed.js';
import { createFloat64Backend } from './testing/float64-backend.js';

describe('deriveSeed', () => {
  it('gives distinct seeds for every (seed, stream, step) near each other', () => {
    const seen = new Map<number, string>();
    // Core's streams and those other packages use (@dcem/tasks: 0–17 and 100, 101).
    const streams = [
      ...new Set([...Object.values(SEED_STREAMS), ...Array.from({ length: 20 }, (_, i) => i), 100, 101]),
    ];
    for (const stream of streams) {
      for (let s = 0; s <= 50; s++) {
        for (let t = 0; t <= 50; t++) {
          const d = deriveSeed(s, stream, t);
          expect(Number.isInteger(d) && d >= 1 && d < 2 ** 31, `${d}`).toBe(true);
          const key = `(${s}, ${stream}, ${t})`;
          expect(seen.get(d), `${key} collides`).toBeUndefined();
          seen.set(d, key);
        }
      }
    }
    expect(seen.size).toBe(51 * 51 * streams.length);
  });

  it('draws different noise at (s, t + 1) and (s + 1, t), unlike seed + t', () => {
    const b = createFloat64Backend();
    const draw = (seed: number) => Array.from(b.readSync(b.randomNormal([8], seed)));
    for (let s = 0; s < 50; s++) {
      for (let t = 0; t < 50; t++) {
        const a = draw(deriveSeed(s, SEED_STREAMS.mpcStep, t + 1));
        const c = draw(deriveSeed(s + 1, SEED_STREAMS.mpcStep, t));
        expect(a.some((v, i) => v !== c[i])).toBe(true);
      }
    }
    // The offset scheme it replaces does share them: the test above can fail.
    expect(draw(3 + 1)).toEqual(draw(4 + 0));
  });

  it('is a fixed function of its inputs (results stay reproducible across versions)', () => {
    // 32-bit seeds hash exactly as the tasks' private deriveSeed did before it moved here.
    expect(deriveSeed(0, 5)).toBe(deriveSeed(0, 5, 0)); // index defaults to 0
    expect(deriveSeed(0, 0, 0)).toBe(legacy(0, 0, 0));
    expect(deriveSeed(12345, 6, 77)).toBe(legacy(12345, 6, 77));
    expect(deriveSeed(-9, 3, 2)).toBe(legacy(-9, 3, 2));
  });

  it('keeps seeds beyond 32 bits apart from their low word', () => {
    expect(deriveSeed(2 ** 32, 0, 0)).not.toBe(deriveSeed(0, 0, 0));
    expect(deriveSeed(2 ** 31, 0, 0)).not.toBe(deriveSeed(-(2 ** 31), 0, 0));
    expect(deriveSeed(-1 - 2 ** 32, 0, 0)).not.toBe(deriveSeed(-1, 0, 0));
    expect(deriveSeed(Number.MAX_SAFE_INTEGER, 1, 1)).toBeGreaterThan(0);
  });

  it('rejects bad arguments with typed errors naming them', () => {
    expect(() => deriveSeed(1.5, 0)).toThrow(new TypeError('seed must be an integer, received 1.5'));
    expect(() => deriveSeed(2 ** 60, 0)).toThrow(RangeError);
    expect(() => deriveSeed(Number.NaN, 0)).toThrow(
      new RangeError('seed must be a finite number, received NaN'),
    );
    expect(() => deriveSeed(0, -1)).toThrow(new RangeError('stream must be an integer ≥ 0, received -1'));
    expect(() => deriveSeed(0, 0, 0.5)).toThrow(new TypeError('index must be an integer, received 0.5'));
    expect(() => deriveSeed(0, '1' as unknown as number)).toThrow(
      new TypeError('stream must be a number, received "1"'),
    );
    expect(Object.isFrozen(SEED_STREAMS)).toBe(true);
  });
});

/** The hash as it stood in @dcem/tasks before the move (32-bit seeds). */
function legacy(seed: number, stream: number, index: number): number {
  let h = Math.imul((seed | 0) ^ 0x2545f491, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) ^ Math.imul(index + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h & 0x7fffffff || 1;
}
