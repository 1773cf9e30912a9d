// The concrete value behind a jax-js tracer, where there is one.
//
// Under `grad`, `vjp` and `jvp` jax-js runs a function on tracers whose
// primal values are already computed (as JAX does outside `jit`): a
// `JVPTracer` carries its `primal`, a known `PartialEvalTracer` its
// `pval.val`. jax-js has no public accessor for them (JAX has none either,
// but converts such tracers to concrete values on request), so this reads
// those two fields, which are plain public properties of the classes in
// @jax-js/jax 0.1.25. Under `jit` or `vmap` there is no concrete value and
// the result is `undefined`.
import { Array as JaxArray } from '@jax-js/jax';

interface MaybeTracer {
  primal?: unknown;
  pval?: { isKnown?: boolean; val?: unknown };
}

/** The concrete array behind `x` (x itself when it is one), or `undefined`. */
export function concreteOf(x: JaxArray): JaxArray | undefined {
  let current: unknown = x;
  for (let depth = 0; depth < 64; depth++) {
    if (current instanceof JaxArray) return current;
    if (typeof current !== 'object' || current === null) return undefined;
    const tracer = current as MaybeTracer;
    if (tracer.primal !== undefined) current = tracer.primal;
    else if (tracer.pval?.isKnown === true) current = tracer.pval.val;
    else return undefined;
  }
  return undefined;
}

/** Is `x` a concrete jax-js array (not a tracer of `grad`, `jit`, `vmap`…)? */
export function isConcrete(x: unknown): x is JaxArray {
  return x instanceof JaxArray;
}
