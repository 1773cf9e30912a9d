// Argument checks that only the tasks need (the generic ones are in @dcem/errors).
import { assertFiniteNumber, describeValue } from '@dcem/errors';

/**
 * Throws unless `value` is a DCEM temperature: a finite number τ > 0, or
 * `null` for vanilla CEM (no temperature). τ = 0 is a `RangeError` that says
 * to write `null`; a non-number is a `TypeError` (internal; the one τ check
 * of the tasks).
 *
 * @param name The argument, for the message (for example `settings.temperature`).
 * @param value The value to check.
 */
export function assertTemperature(name: string, value: unknown): asserts value is number | null {
  if (value === null) return;
  if (value === 0) {
    throw new RangeError(
      `${name} must be > 0 or null, received 0; for vanilla CEM (no temperature) write null`,
    );
  }
  assertFiniteNumber(name, value);
  if (!(value > 0)) {
    throw new RangeError(`${name} must be > 0 or null (vanilla CEM), received ${describeValue(value)}`);
  }
}
