import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Sigmoid, tolerance } from './tolerance.js';

const ALL: Sigmoid[] = [
  'gaussian',
  'hyperbolic',
  'long_tail',
  'reciprocal',
  'cosine',
  'linear',
  'quadratic',
  'tanh_squared',
];

describe('tolerance (the suite’s rewards.tolerance)', () => {
  it('is 1 inside the bounds and valueAtMargin at distance margin, for every sigmoid', () => {
    for (const sigmoid of ALL) {
      const options = { bounds: [1, 2] as [number, number], margin: 0.5, sigmoid, valueAtMargin: 0.3 };
      expect(tolerance(1, options)).toBe(1);
      expect(tolerance(1.7, options)).toBe(1);
      expect(tolerance(2.5, options)).toBeCloseTo(0.3, 12);
      expect(tolerance(0.5, options)).toBeCloseTo(0.3, 12);
    }
  });

  it('matches the closed forms at a point inside the margin', () => {
    // d = 0.5, v = 0.3: each shape's formula, evaluated by hand.
    const d = 0.5;
    const v = 0.3;
    const expected: Record<Sigmoid, number> = {
      gaussian: Math.exp(-0.5 * (d * Math.sqrt(-2 * Math.log(v))) ** 2),
      hyperbolic: 1 / Math.cosh(d * Math.acosh(1 / v)),
      long_tail: 1 / ((d * Math.sqrt(1 / v - 1)) ** 2 + 1),
      reciprocal: 1 / (d * (1 / v - 1) + 1),
      cosine: (1 + Math.cos(Math.PI * d * (Math.acos(2 * v - 1) / Math.PI))) / 2,
      linear: 1 - d * (1 - v),
      quadratic: 1 - (d * Math.sqrt(1 - v)) ** 2,
      tanh_squared: 1 - Math.tanh(d * Math.atanh(Math.sqrt(1 - v))) ** 2,
    };
    for (const sigmoid of ALL) {
      expect(tolerance(-d, { margin: 1, sigmoid, valueAtMargin: v })).toBeCloseTo(expected[sigmoid], 14);
    }
  });

  it('gives cheetah-run’s 0.5 at 5 m/s and 0 at rest, 1 from 10 m/s', () => {
    const run = {
      bounds: [10, Number.POSITIVE_INFINITY] as [number, number],
      margin: 10,
      valueAtMargin: 0,
      sigmoid: 'linear' as const,
    };
    expect(tolerance(5, run)).toBe(0.5);
    expect(tolerance(0, run)).toBe(0);
    expect(tolerance(10, run)).toBe(1);
    expect(tolerance(1e6, run)).toBe(1);
  });

  it('is a hard indicator with margin 0 and never increases away from the bounds', () => {
    expect(tolerance(0.1, { bounds: [0, 0.06] })).toBe(0);
    expect(tolerance(0.06, { bounds: [0, 0.06] })).toBe(1);
    fc.assert(
      fc.property(
        fc.constantFrom(...ALL),
        fc.double({ min: 0, max: 5, noNaN: true }),
        fc.double({ min: 0, max: 5, noNaN: true }),
        (sigmoid, a, b) => {
          const [near, far] = a < b ? [a, b] : [b, a];
          const o = { margin: 1, sigmoid, valueAtMargin: 0.2 };
          const y = tolerance(far, o);
          return y <= tolerance(near, o) + 1e-15 && y >= 0 && y <= 1;
        },
      ),
    );
  });

  it('rejects bad arguments with RangeErrors', () => {
    expect(() => tolerance(0, { bounds: [1, 0] })).toThrow(RangeError);
    expect(() => tolerance(0, { margin: -1 })).toThrow(/margin must be ≥ 0/);
    expect(() => tolerance(0, { margin: 1, valueAtMargin: 0 })).toThrow(/valueAtMargin must be in \(0, 1\)/);
    expect(() => tolerance(0, { margin: 1, sigmoid: 'bogus' as Sigmoid })).toThrow(/unknown sigmoid "bogus"/);
    expect(tolerance(Number.NaN, { margin: 1 })).toBeNaN();
  });
});
