/**
 * Option objects: JavaScript callers have no type checker, so a misspelt
 * option name must fail loudly instead of being ignored.
 *
 * @module
 */

import { assertObject } from './errors.js';

/** Levenshtein distance between two names, case-insensitive. */
function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) {
      const substitution = (previous[j - 1] as number) + (x[i - 1] === y[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution);
    }
    previous = current;
  }
  return previous[y.length] as number;
}

/**
 * The valid name nearest to `name`, or `undefined` when none is close
 * (an edit distance above max(2, ⌊|name|/3⌋)).
 */
export function nearestName(name: string, valid: readonly string[]): string | undefined {
  let nearest: string | undefined;
  let best = Number.POSITIVE_INFINITY;
  for (const candidate of valid) {
    const d = editDistance(name, candidate);
    if (d < best) {
      best = d;
      nearest = candidate;
    }
  }
  return best <= Math.max(2, Math.floor(name.length / 3)) ? nearest : undefined;
}

/**
 * Throws a `TypeError` for the first key of `options` that is not one of
 * `valid`, naming it, suggesting the nearest valid name when one is close,
 * and listing the valid names. The one unknown-option message of every dcem
 * package.
 *
 * @param what Whose options, for the message (for example `"CEM option"`).
 * @param options The options object.
 * @param valid The valid names.
 * @example
 * ```ts
 * assertKnownOptions('CEM option', { numElite: 5 }, ['numElites', 'numSamples']);
 * // TypeError: unknown CEM option "numElite"; did you mean "numElites"? (valid: numElites, numSamples)
 * ```
 */
export function assertKnownOptions(what: string, options: object, valid: readonly string[]): void {
  for (const name of Object.keys(options)) {
    if (valid.includes(name)) continue;
    const nearest = nearestName(name, valid);
    const hint = nearest === undefined ? '' : `; did you mean ${JSON.stringify(nearest)}?`;
    throw new TypeError(`unknown ${what} ${JSON.stringify(name)}${hint} (valid: ${valid.join(', ')})`);
  }
}

/**
 * Throws unless `options` is `undefined` or a plain object whose keys are all
 * in `valid` (the message of {@link assertKnownOptions}, with `what` as
 * `"<name> option"`).
 *
 * @param name The argument's name (for example `"makeEnv options"` → `unknown makeEnv option …`).
 * @param options The argument.
 * @param valid The valid names.
 */
export function assertOptions(name: string, options: unknown, valid: readonly string[]): void {
  if (options === undefined) return;
  assertObject(name, options);
  assertKnownOptions(`${name.replace(/ options$/, '')} option`, options, valid);
}
