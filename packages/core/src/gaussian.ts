import type { Backend } from './backend.js';

/**
 * Reparameterised samples of a diagonal Gaussian: Xᵢ = μ + σ ⊙ εᵢ.
 *
 * @param backend Tensor operations.
 * @param mean μ, [batch, dim].
 * @param std σ, [batch, dim].
 * @param noise ε, standard normal draws [batch, numSamples, dim].
 * @returns X, [batch, numSamples, dim]; differentiable in μ and σ.
 * @example
 * ```ts
 * const x = sampleDiagonalGaussian(backend, mu, sigma, backend.randomNormal([1, 20, 2], 0));
 * ```
 */
export function sampleDiagonalGaussian<T>(backend: Backend<T>, mean: T, std: T, noise: T): T {
  const fused = backend.fused?.sample?.(mean, std, noise, undefined, undefined);
  if (fused !== undefined) return fused;
  const [batch = 0, dim = 0] = backend.shape(mean);
  const mu = backend.reshape(mean, [batch, 1, dim]);
  const sigma = backend.reshape(std, [batch, 1, dim]);
  return backend.add(mu, backend.mul(sigma, noise));
}

/**
 * Weighted maximum-likelihood refit of a diagonal Gaussian, as the reference:
 * μ' = Σᵢ Iᵢ Xᵢ / k and σ' = √max(Σᵢ Iᵢ (Xᵢ − μ')² / k, minStd²).
 * Dividing by k (`numElites`) and not by ΣI is the reference's choice.
 *
 * @param backend Tensor operations.
 * @param samples X, [batch, numSamples, dim].
 * @param weights I, [batch, numSamples].
 * @param k The number of elites.
 * @param minStd Floor of σ'; see `CemOptions.minStd`.
 * @returns μ' and σ', each [batch, dim].
 * @example
 * ```ts
 * const { mean, std } = fitDiagonalGaussian(backend, x, w, 10, 1e-6);
 * ```
 */
export function fitDiagonalGaussian<T>(
  backend: Backend<T>,
  samples: T,
  weights: T,
  k: number,
  minStd: number,
): { mean: T; std: T } {
  const fused = backend.fused?.fit?.(samples, weights, k, minStd);
  if (fused !== undefined) return fused;
  const mean = fitMean(backend, samples, weights, k);
  const std = fitStd(backend, samples, weights, mean, k, minStd);
  return { mean, std };
}

/** μ' = Σᵢ Iᵢ Xᵢ / k, [batch, dim]; see {@link fitDiagonalGaussian}. */
export function fitMean<T>(backend: Backend<T>, samples: T, weights: T, k: number): T {
  const [batch = 0, n = 0] = backend.shape(weights);
  const w = backend.reshape(weights, [batch, n, 1]);
  return backend.div(backend.sum(backend.mul(w, samples), 1, false), backend.scalar(k));
}

/** σ' = √max(Σᵢ Iᵢ (Xᵢ − μ')² / k, minStd²), [batch, dim]; see {@link fitDiagonalGaussian}. */
export function fitStd<T>(
  backend: Backend<T>,
  samples: T,
  weights: T,
  mean: T,
  k: number,
  minStd: number,
): T {
  const [batch = 0, n = 0] = backend.shape(weights);
  const dim = backend.shape(mean)[1] ?? 0;
  const w = backend.reshape(weights, [batch, n, 1]);
  const centred = backend.sub(samples, backend.reshape(mean, [batch, 1, dim]));
  const variance = backend.div(
    backend.sum(backend.mul(w, backend.square(centred)), 1, false),
    backend.scalar(k),
  );
  return backend.sqrt(backend.maximum(variance, backend.scalar(minStd * minStd)));
}
