import { describe, expect, it } from 'vitest';
import { regressionData, regressionTarget } from './regression-data.js';

describe('regressionData', () => {
  it('is x = linspace(0, 2π, 100), y = x sin x, in float32', () => {
    const { x, y } = regressionData();
    expect(x).toHaveLength(100);
    expect(x[0]).toBe(0);
    expect(x[99]).toBe(Math.fround(2 * Math.PI));
    expect(x[50]).toBe(Math.fround((2 * Math.PI * 50) / 99));
    x.forEach((xi, i) => {
      expect(y[i]).toBe(Math.fround(xi * Math.sin(xi)));
    });
    expect(regressionTarget(Math.PI / 2)).toBeCloseTo(Math.PI / 2, 12);
    expect(regressionData(2).x).toEqual([0, Math.fround(2 * Math.PI)]);
  });

  it('rejects bad sizes with typed errors', () => {
    expect(() => regressionData(1)).toThrow(RangeError);
    expect(() => regressionData(0)).toThrow(/numPoints must be an integer ≥ 2, received 0/);
    expect(() => regressionData(2.5)).toThrow(TypeError);
  });
});
