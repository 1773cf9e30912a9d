import { describe, expect, it } from 'vitest';
import { assertTemperature } from './checks.js';

describe('assertTemperature', () => {
  it('takes τ > 0 and null (vanilla CEM)', () => {
    for (const t of [1, 0.1, 1e-9, null]) expect(() => assertTemperature('temperature', t)).not.toThrow();
  });

  it('rejects 0 saying to write null, and anything else that is not τ > 0', () => {
    expect(() => assertTemperature('settings.temperature', 0)).toThrow(
      new RangeError(
        'settings.temperature must be > 0 or null, received 0; for vanilla CEM (no temperature) write null',
      ),
    );
    expect(() => assertTemperature('temperature', -0)).toThrow(/write null/);
    expect(() => assertTemperature('temperature', -1)).toThrow(
      new RangeError('temperature must be > 0 or null (vanilla CEM), received -1'),
    );
    expect(() => assertTemperature('temperature', Number.NaN)).toThrow(RangeError);
    expect(() => assertTemperature('temperature', Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => assertTemperature('temperature', '1')).toThrow(TypeError);
    expect(() => assertTemperature('temperature', undefined)).toThrow(TypeError);
  });
});
