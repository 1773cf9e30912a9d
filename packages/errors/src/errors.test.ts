import { describe, expect, it } from 'vitest';
import {
  assertBoolean,
  assertFiniteNumber,
  assertFunction,
  assertInteger,
  assertNonNegative,
  assertObject,
  assertOpenInterval,
  assertOptionalFunctions,
  assertPositive,
  describeValue,
  formatShape,
  perDimension,
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
    expect(describeValue(new Float64Array(3))).toBe('Float64Array of length 3');
    class FakeTensor {
      constructor(readonly shape: number[]) {}
    }
    expect(describeValue(new FakeTensor([2, 3]))).toBe('a tensor of shape [2, 3]');
    expect(describeValue({ shape: [2, 3], values: [] })).toBe('an object'); // a serialised record
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

  it('NaN and ±∞ give a RangeError from every numeric check (one rule everywhere)', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(() => assertFiniteNumber('x', bad)).toThrow(RangeError);
      expect(() => assertInteger('x', bad, 0)).toThrow(RangeError);
      expect(() => assertPositive('x', bad)).toThrow(RangeError);
      expect(() => assertNonNegative('x', bad)).toThrow(RangeError);
      expect(() => assertOpenInterval('x', bad, 0, 1)).toThrow(RangeError);
      expect(() => perDimension('x', bad, 2)).toThrow(RangeError);
    }
    expect(() => assertInteger('x', Number.NaN, 0)).toThrow(
      new RangeError('x must be a finite number, received NaN'),
    );
  });

  it('assertOpenInterval excludes both ends', () => {
    expect(() => assertOpenInterval('p', 0, 0, 1)).toThrow(new RangeError('p must be in (0, 1), received 0'));
    expect(() => assertOpenInterval('p', 1, 0, 1)).toThrow(RangeError);
    expect(() => assertOpenInterval('p', 0.5, 0, 1)).not.toThrow();
    expect(() => assertOpenInterval('p', '0.5', 0, 1)).toThrow(TypeError);
  });

  it('assertBoolean, assertFunction and assertObject take only their kind', () => {
    expect(() => assertBoolean('flag', 1)).toThrow(new TypeError('flag must be a boolean, received 1'));
    expect(() => assertBoolean('flag', false)).not.toThrow();
    expect(() => assertFunction('cost', {})).toThrow(
      new TypeError('cost must be a function, received an object'),
    );
    expect(() => assertFunction('cost', () => 0)).not.toThrow();
    for (const bad of [null, [], 3, 'a']) {
      expect(() => assertObject('settings', bad)).toThrow(TypeError);
    }
    expect(() => assertObject('settings', null)).toThrow(
      new TypeError('settings must be an object, received null'),
    );
    expect(() => assertObject('settings', {})).not.toThrow();
  });

  it('perDimension spreads a number, copies an array and names a bad entry', () => {
    expect(perDimension('scale', 2, 3)).toEqual([2, 2, 2]);
    const given = [1, 2];
    const out = perDimension('scale', given, 2);
    expect(out).toEqual([1, 2]);
    expect(out).not.toBe(given);
    expect(() => perDimension('scale', [1, 2, 3], 2)).toThrow(
      new RangeError('scale must be a number or an array of 2 numbers, received array of length 3'),
    );
    expect(() => perDimension('scale', 'x', 2)).toThrow(TypeError);
    expect(() => perDimension('scale', [1, Number.NaN], 2)).toThrow(
      new RangeError('scale[1] must be a finite number, received NaN'),
    );
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

describe('assertOptionalFunctions', () => {
  it('passes functions and absent entries, and names a present non-function', () => {
    const callbacks: { log?: unknown; onStep?: unknown } = { log: () => {} };
    expect(() => assertOptionalFunctions(callbacks, ['log', 'onStep'], 'callbacks.')).not.toThrow();
    expect(() =>
      assertOptionalFunctions({ ...callbacks, onStep: 3 }, ['log', 'onStep'], 'callbacks.'),
    ).toThrow(new TypeError('callbacks.onStep must be a function, received 3'));
    expect(() => assertOptionalFunctions({ onStep: null }, ['onStep'])).toThrow(/^onStep must be a function/);
  });
});
