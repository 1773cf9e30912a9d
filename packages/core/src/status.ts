import type { Backend } from './backend.js';

/** The numbers a solve's `status` tensor [3] holds. */
export interface StatusNumbers {
  iterations: number;
  converged: boolean;
  nonFiniteValues: number;
}

/**
 * Gives `out` the fields `iterations`, `converged` and `nonFiniteValues`
 * from `status` ([iterations, converged as 1 or 0, non-finite count]).
 * With `values` (read already, asynchronously) they are plain enumerable
 * values. Without, they are non-enumerable getters that read `status`
 * synchronously on the first access of any of them (one read, cached), so
 * that walking the object (`tf.dispose(result)`, a tidy returning it) reads
 * nothing. Internal.
 */
export function attachStatus<T, R extends object>(
  backend: Backend<T>,
  out: R,
  status: T,
  values?: ArrayLike<number>,
): R & StatusNumbers {
  const numbers = (v: ArrayLike<number>): StatusNumbers => ({
    iterations: v[0] ?? 0,
    converged: (v[1] ?? 0) > 0.5,
    nonFiniteValues: v[2] ?? 0,
  });
  if (values !== undefined) return Object.assign(out, numbers(values));
  let cached: StatusNumbers | undefined;
  const read = () => {
    cached ??= numbers(backend.readSync(status));
    return cached;
  };
  return Object.defineProperties(out, {
    iterations: { get: () => read().iterations, enumerable: false, configurable: true },
    converged: { get: () => read().converged, enumerable: false, configurable: true },
    nonFiniteValues: { get: () => read().nonFiniteValues, enumerable: false, configurable: true },
  }) as R & StatusNumbers;
}
