import { describe, expect, it } from 'vitest';
import {
  assertFiniteNumber,
  assertInteger,
  assertNonNegative,
  assertPositive,
  describeValue,
  formatShape,
} from './errors.js';

describe('describeValue', () => {
  it('renders every kind of value for a message', () => {
    expect(describeValue(Number.NaN)).toBe('NaN');
    expect(describeValue(-0)).toBe('-0');
    expect(describeValue(2.5)).toBe('2.5');
    expect(describeValue(Number.POSITIVE_INFINITY)).toBe('Infinity');
    expect(describeValue('ten')).toBe('"ten"');
    expect(describeValue(null)).toBe('null');
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue([1, 2, 3])).toBe('array of length 3');
    expect(describeValue(() => 1)).toBe('a function');
    expect(describeValue({ a: 1 })).toBe('an object');
    expect(describeValue(true)).toBe('true');
  });
});

describe('assertions', () => {
  it('assertFiniteNumber: TypeError for non-numbers, RangeError for NaN and ±∞', () => {
    expect(() => assertFiniteNumber('x', '1')).toThrow(new TypeError('x must be a number, received "1"'));
    expect(() => assertFiniteNumber('x', Number.NaN)).toThrow(
      new RangeError('x must be a finite number, received NaN'),
    );
    expect(() => assertFiniteNumber('x', Number.NEGATIVE_INFINITY)).toThrow(RangeError);
    expect(() => assertFiniteNumber('x', 0)).not.toThrow();
  });

  it('assertInteger: TypeError for fractions, RangeError below the minimum', () => {
    expect(() => assertInteger('k', 2.5, 1)).toThrow(new TypeError('k must be an integer, received 2.5'));
    expect(() => assertInteger('k', 0, 1)).toThrow(new RangeError('k must be an integer ≥ 1, received 0'));
    expect(() => assertInteger('k', -3, 1)).toThrow(/received -3/);
    expect(() => assertInteger('k', 1, 1)).not.toThrow();
  });

  it('assertPositive rejects 0, negatives and NaN', () => {
    expect(() => assertPositive('temperature', 0)).toThrow(
      new RangeError('temperature must be > 0, received 0'),
    );
    expect(() => assertPositive('temperature', -1)).toThrow(/received -1/);
    expect(() => assertPositive('temperature', Number.NaN)).toThrow(RangeError);
    expect(() => assertPositive('temperature', 1e-30)).not.toThrow();
  });

  it('assertNonNegative accepts 0 and rejects negatives', () => {
    expect(() => assertNonNegative('tolerance', 0)).not.toThrow();
    expect(() => assertNonNegative('tolerance', -1e-9)).toThrow(
      new RangeError('tolerance must be ≥ 0, received -1e-9'),
    );
  });

  it('formatShape', () => {
    expect(formatShape([2, 20, 1])).toBe('[2, 20, 1]');
    expect(formatShape([])).toBe('[]');
  });
});
