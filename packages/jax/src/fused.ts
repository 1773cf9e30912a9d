// The fast paths of the jax-js backend (`backend.fused`): the generic
// compositions of @dcem/core and @dcem/lml, unchanged, compiled with
// jax-js's `jit` (which fuses their element-wise chains into a few kernels
// and records the graph once per shape), plus LML's implicit gradient as a
// linear map. Nothing here re-derives an algorithm: each entry calls the
// library function it replaces on the backend without its fast paths.
import {
  type Backend,
  type BackendFusedOps,
  fitDiagonalGaussian,
  sampleDiagonalGaussian,
  valuesToScores,
} from '@dcem/core';
import { type LmlOps, lml } from '@dcem/lml';
import { type Array as JaxArray, jit } from '@jax-js/jax';
import { concreteOf, isConcrete } from './concrete.js';
import type { Ownership } from './ownership.js';

type Tensor = JaxArray;

/** `valuesToScores`'s normalisation constant and non-finite margin per unit temperature (`@dcem/core`). */
const NORMALIZE_EPS = 1e-6;
const NON_FINITE_MARGIN = 100;

/**
 * Compiles `fn` (arrays in, an array or a record of arrays out, in the
 * backend's convention) with jax-js's `jit`, once per `key` (jit itself
 * compiles once per input shape). The compiled function follows jax-js's
 * convention inside (it consumes its arguments and returns new arrays); the
 * wrapper returned here follows the backend's (it takes `.ref` of its
 * arguments and records its results in the current scope).
 */
function compiler(owner: Ownership) {
  const cache = new Map<string, (...xs: Tensor[]) => unknown>();
  return <R extends Tensor | Record<string, Tensor>>(key: string, fn: (...xs: Tensor[]) => R) => {
    let compiled = cache.get(key);
    if (compiled === undefined) {
      compiled = jit((...xs: Tensor[]) => {
        let out: R | undefined;
        owner.tidy(() => {
          for (const x of xs) owner.own(x);
          const result = fn(...xs);
          // One more reference for jit to own; the scope releases the backend's.
          out = (
            isTensor(result)
              ? result.ref
              : Object.fromEntries(Object.entries(result).map(([k, v]) => [k, v.ref]))
          ) as R;
        });
        return out as R;
      }) as unknown as (...xs: Tensor[]) => unknown;
      cache.set(key, compiled);
    }
    const run = compiled;
    return (...xs: Tensor[]): R => {
      const result = run(...xs.map((x) => x.ref)) as R;
      if (isTensor(result)) return owner.own(result) as R;
      for (const v of Object.values(result)) owner.own(v);
      return result;
    };
  };
}

function isTensor(x: unknown): x is Tensor {
  return typeof x === 'object' && x !== null && typeof (x as Tensor).dispose === 'function' && 'shape' in x;
}

/**
 * The `fused` group of the jax-js backend `b` (complete, without `fused`):
 * `lml`, `scores`, `sample` and `fit`. `stopGradient` is `b.stopGradient`.
 */
export function createFused(b: Backend<Tensor>, owner: Ownership): BackendFusedOps<Tensor> {
  const compile = compiler(owner);
  // The generic LML with customGrad reduced to the forward pass: its
  // gradient is supplied by `lml` below, so nothing needs recording.
  const forwardOps: LmlOps<Tensor> = {
    ...b,
    fused: undefined,
    customGrad: (forward) => (x) => forward(x, () => undefined).value,
  };
  return {
    /**
     * y = sg(LML(x)) + g(x − sg(x)) with g(u) = s ⊙ (u − ⟨s, u⟩/Σs)/τ and
     * s = sg(y ⊙ (1 − y)): the value of the generic LML (its forward pass
     * compiled on the concrete input) and, since g is linear with LML's
     * implicit Jacobian (symmetric), its vector–Jacobian product.
     */
    lml(x, k, temperature, maxIterations) {
      const forward = compile(`lml ${k} ${temperature} ${maxIterations}`, (z) =>
        lml(forwardOps, z, k, { temperature, maxIterations }),
      );
      const y = forward(concreteOf(x) ?? b.stopGradient(x));
      if (isConcrete(x)) return y;
      return b.tidy(() => {
        const s = b.stopGradient(b.mul(y, b.sub(b.scalar(1), y)));
        const total = b.sum(s, 1, true);
        const safeTotal = b.where(b.greater(total, b.scalar(0)), total, b.scalar(1));
        const u = b.sub(x, b.stopGradient(x));
        const mean = b.div(b.sum(b.mul(s, u), 1, true), safeTotal);
        return b.add(y, b.div(b.mul(s, b.sub(u, mean)), b.scalar(temperature)));
      });
    },
    scores(values, normalize, eps, margin) {
      const temperature = margin / NON_FINITE_MARGIN;
      if (eps !== NORMALIZE_EPS || NON_FINITE_MARGIN * temperature !== margin) return undefined;
      return compile(`scores ${normalize} ${temperature}`, (v) => {
        const { scores, nonFinite } = valuesToScores(b, v, { normalize, temperature });
        return { scores, nonFinite };
      })(values);
    },
    sample(mean, std, noise, lower, upper) {
      const key = `sample ${lower === undefined} ${upper === undefined}`;
      const bounds = [lower, upper].filter((t): t is Tensor => t !== undefined);
      return compile(key, (m, s, e, ...box) => {
        let x = sampleDiagonalGaussian(b, m, s, e);
        // Bounds [1 or batch, dim] apply to every sample: [1 or batch, 1, dim].
        const perSample = (t: Tensor) => b.reshape(t, [t.shape[0] ?? 1, 1, t.shape[1] ?? 1]);
        let at = 0;
        if (lower !== undefined) x = b.maximum(x, perSample(box[at++] as Tensor));
        if (upper !== undefined) x = b.minimum(x, perSample(box[at] as Tensor));
        return x;
      })(mean, std, noise, ...bounds);
    },
    fit(samples, weights, k, minStd) {
      return compile(`fit ${k} ${minStd}`, (x, w) => {
        const { mean, std } = fitDiagonalGaussian(b, x, w, k, minStd);
        return { mean, std };
      })(samples, weights);
    },
  };
}
