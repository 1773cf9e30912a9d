// The ownership bookkeeping of the jax-js backend.
//
// jax-js counts references: every function consumes its array arguments
// (one reference each) and `x.ref` adds one. `@dcem/core` calls a backend as
// if its values were persistent (it uses a tensor as often as it likes and
// releases it with `tidy` or `dispose`, as with tfjs). The backend bridges
// the two with one rule: **the backend holds exactly one reference to every
// array it returns**, recorded in the innermost open scope, and passes
// `x.ref` to jax-js, never `x` itself. So a caller's array outlives each
// operation, and releasing it is the scope's business:
//
// - `tidy(fn)` opens a scope; when `fn` returns, every array recorded in the
//   scope is released except those `fn` returns (they move to the enclosing
//   scope) and those it `keep`s; when `fn` throws, all of them are released;
// - `keep(x)` moves the backend's reference to x out of its scope: x lives
//   until `dispose(x)`;
// - `dispose(x)` releases the backend's reference (the kept one first, else
//   the one of the innermost scope that holds x); for an array the backend
//   does not hold (one made with jax-js directly, or one already released)
//   it does nothing: the caller's references are the caller's;
// - outside any `tidy`, arrays go to a root scope and live until `dispose`.
//
// Arrays the caller makes with jax-js and passes in stay the caller's: the
// backend only ever takes `.ref` of them.
import type { Array as JaxArray } from '@jax-js/jax';

/** A multiset of the arrays the backend holds one reference to each. */
type Scope = Map<JaxArray, number>;

function add(scope: Scope, x: JaxArray, count = 1): void {
  scope.set(x, (scope.get(x) ?? 0) + count);
}

/** Removes one entry of `x` from `scope`; false when it holds none. */
function take(scope: Scope, x: JaxArray): boolean {
  const count = scope.get(x);
  if (count === undefined) return false;
  if (count === 1) scope.delete(x);
  else scope.set(x, count - 1);
  return true;
}

/** The arrays of a `tidy` result: an array, a list or a record of arrays. */
function* arraysOf(result: unknown, isArray: (x: unknown) => x is JaxArray): Generator<JaxArray> {
  if (result === undefined || result === null) return;
  if (isArray(result)) {
    yield result;
  } else if (Array.isArray(result)) {
    for (const item of result) if (isArray(item)) yield item;
  } else if (typeof result === 'object') {
    for (const item of Object.values(result)) if (isArray(item)) yield item;
  }
}

/** The scopes of one backend: see the comment at the top of this file. */
export class Ownership {
  readonly #stack: Scope[] = [new Map()];
  readonly #kept: Scope = new Map();
  readonly #isArray: (x: unknown) => x is JaxArray;

  constructor(isArray: (x: unknown) => x is JaxArray) {
    this.#isArray = isArray;
  }

  /** Records the backend's reference to a new array `x` in the innermost scope; returns `x`. */
  own<A extends JaxArray>(x: A): A {
    add(this.#stack[this.#stack.length - 1] as Scope, x);
    return x;
  }

  /** Runs `fn` in a new scope (see the file comment). */
  tidy<R>(fn: () => R): R {
    const scope: Scope = new Map();
    this.#stack.push(scope);
    let result: R;
    try {
      result = fn();
    } catch (error) {
      this.#stack.pop();
      this.#release(scope);
      throw error;
    }
    this.#stack.pop();
    const parent = this.#stack[this.#stack.length - 1] as Scope;
    for (const x of arraysOf(result, this.#isArray)) if (take(scope, x)) add(parent, x);
    this.#release(scope);
    return result;
  }

  /**
   * `tidy` for an asynchronous `fn`: its scope stays open until the promise
   * settles, so arrays made after an `await` inside `fn` are recorded in it
   * too, provided nothing else opens scopes meanwhile (scopes nest; awaited
   * work of other callers would record into this one).
   */
  async tidyAsync<R>(fn: () => Promise<R>): Promise<R> {
    const scope: Scope = new Map();
    this.#stack.push(scope);
    const close = () => {
      const at = this.#stack.lastIndexOf(scope);
      if (at > 0) this.#stack.splice(at, 1);
    };
    let result: R;
    try {
      result = await fn();
    } catch (error) {
      close();
      this.#release(scope);
      throw error;
    }
    close();
    const parent = this.#stack[this.#stack.length - 1] as Scope;
    for (const x of arraysOf(result, this.#isArray)) if (take(scope, x)) add(parent, x);
    this.#release(scope);
    return result;
  }

  /** Moves one reference to `x` out of the innermost scope that holds it. */
  keep(x: JaxArray): JaxArray {
    for (let i = this.#stack.length - 1; i >= 0; i--) {
      if (take(this.#stack[i] as Scope, x)) {
        add(this.#kept, x);
        return x;
      }
    }
    return x;
  }

  /**
   * Releases the backend's reference to `x` (a kept one first, else the
   * innermost scope's). Does nothing when the backend holds none (an array
   * made with jax-js directly, or one already released: disposing twice is
   * harmless, as in tfjs).
   */
  dispose(x: JaxArray): void {
    let held = take(this.#kept, x);
    for (let i = this.#stack.length - 1; i >= 0 && !held; i--) held = take(this.#stack[i] as Scope, x);
    if (held) x.dispose();
  }

  /** How many references the backend holds (arrays in scopes and kept ones). */
  count(): number {
    let total = 0;
    for (const scope of [...this.#stack, this.#kept]) for (const n of scope.values()) total += n;
    return total;
  }

  #release(scope: Scope): void {
    for (const [x, count] of scope) for (let i = 0; i < count; i++) x.dispose();
    scope.clear();
  }
}
