import { describe, expect, it } from 'vitest';
import { assertKnownOptions, assertOptions, nearestName } from './options.js';

const VALID = ['numSamples', 'numElites', 'temperature'] as const;

describe('assertKnownOptions', () => {
  it('accepts known names and an empty object', () => {
    expect(() => assertKnownOptions('CEM option', { numSamples: 3 }, VALID)).not.toThrow();
    expect(() => assertKnownOptions('CEM option', {}, VALID)).not.toThrow();
  });

  it('names the unknown option, suggests the nearest and lists the valid ones', () => {
    expect(() => assertKnownOptions('CEM option', { numElite: 5 }, VALID)).toThrow(
      new TypeError(
        'unknown CEM option "numElite"; did you mean "numElites"? (valid: numSamples, numElites, temperature)',
      ),
    );
  });

  it('suggests nothing when no name is close', () => {
    expect(() => assertKnownOptions('CEM option', { colour: 'red' }, VALID)).toThrow(
      new TypeError('unknown CEM option "colour" (valid: numSamples, numElites, temperature)'),
    );
  });

  it('is case-insensitive in its suggestion', () => {
    expect(nearestName('TEMPERATURE', VALID)).toBe('temperature');
    expect(nearestName('zzz', VALID)).toBeUndefined();
  });
});

describe('assertOptions', () => {
  it('takes undefined or a plain object of known names', () => {
    expect(() => assertOptions('makeEnv options', undefined, VALID)).not.toThrow();
    expect(() => assertOptions('makeEnv options', { temperature: 1 }, VALID)).not.toThrow();
  });

  it('rejects a non-object with a TypeError naming the argument', () => {
    expect(() => assertOptions('makeEnv options', 3, VALID)).toThrow(
      new TypeError('makeEnv options must be an object, received 3'),
    );
    expect(() => assertOptions('makeEnv options', [], VALID)).toThrow(TypeError);
  });

  it('uses the one unknown-option message', () => {
    expect(() => assertOptions('makeEnv options', { temprature: 1 }, VALID)).toThrow(
      /^unknown makeEnv option "temprature"; did you mean "temperature"\?/,
    );
  });
});
