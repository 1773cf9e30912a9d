import {
  assertFiniteNumber,
  assertInteger,
  assertNonNegative,
  assertPositive,
  describeValue,
  formatShape,
} from '@dcem/lml';
import type { Backend } from './backend.js';

/** What {@link CemOptions.onIteration} receives after every completed iteration. */
export interface IterationInfo<T> {
  /** 0-based iteration index. */
  iteration: number;
  /** The evaluated samples X, [batch, numSamples, dim] (after clamping and `project`). */
  samples: T;
  /** The objective values f(X), [batch, numSamples]. */
  values: T;
  /** The elite weights I, [batch, numSamples]. */
  weights: T;
  /** The refitted mean μ', [batch, dim]. */
  mean: T;
  /** The refitted standard deviation σ', [batch, dim]. */
  std: T;
}

/**
 * Options of the cross-entropy method (see {@link cem} and {@link dcem}).
 * Tensor-valued options are the backend's tensors.
 */
export interface CemOptions<T> {
  /** Dimension n of x ∈ ℝⁿ, an integer ≥ 1. */
  dim: number;
  /** Independent problems solved at once (rows of every tensor), default 1. */
  batchSize?: number;
  /** N, the samples drawn per iteration, default 20. */
  numSamples?: number;
  /** k, the elites refitted per iteration, 1 ≤ k < N, default 10. */
  numElites?: number;
  /** Iterations at most, default 10. */
  numIterations?: number;
  /**
   * τ > 0 of the paper: the weights are LML_k(−v̂/τ) (softmax(−v̂/τ) when k = 1).
   * `null` selects vanilla CEM, the hard indicator of the k best samples.
   * The reference's `temp` is 1/τ. Default: `null` for {@link cem}, 1 for {@link dcem}.
   */
  temperature?: number | null;
  /** Standardise the values per row before selection: v̂ = (v − mean) / (std + 1e-6), unbiased std. Default true. */
  normalize?: boolean;
  /** Lower bound of the box (scalar, [dim] or [batch, dim]); samples are clamped before evaluation. */
  lowerBound?: number | T;
  /** Upper bound of the box (scalar, [dim] or [batch, dim]). */
  upperBound?: number | T;
  /** Initial mean μ₀ (scalar, [dim] or [batch, dim]), default 0. */
  initMean?: number | T;
  /** Initial standard deviation σ₀ > 0 (scalar, [dim] or [batch, dim]), default 1. */
  initStd?: number | T;
  /** Stop when ‖μ' − μ‖ over the whole batch (Frobenius) is below this; 0 disables (no host reads). Default 1e-4. */
  tolerance?: number;
  /**
   * Floor of σ: σ' = √max(Σᵢ Iᵢ(Xᵢ − μ')²/k, minStd²). It keeps a collapsed
   * distribution (all elites equal) finite and differentiable where the
   * reference would crash. Default 1e-6; it never changes a σ above it.
   */
  minStd?: number;
  /** Integer seed of the standard-normal draws; the same seed gives the same solve. */
  seed?: number;
  /** Standard-normal draws ε for iteration t, [batch, numSamples, dim]; overrides `seed`. */
  noise?: (iteration: number) => T;
  /** Called after each completed iteration; its tensors are released after the call. */
  onIteration?: (info: IterationInfo<T>) => void;
  /** Maps the (clamped) samples [batch, numSamples, dim] onto a feasible set before evaluation. */
  project?: (samples: T) => T;
  /** Root-finder iterations of the LML selector, default 16 (see `@dcem/lml`). */
  lmlIterations?: number;
}

/** Defaults of {@link CemOptions}, in one place. */
export const CEM_DEFAULTS = Object.freeze({
  batchSize: 1,
  numSamples: 20,
  numElites: 10,
  numIterations: 10,
  normalize: true,
  initMean: 0,
  initStd: 1,
  tolerance: 1e-4,
  minStd: 1e-6,
  lmlIterations: 16,
});

/** The added constant of the normalisation v̂ = (v − mean)/(std + 1e-6), as the reference. */
export const NORMALIZE_EPS = 1e-6;

/** Options after validation, with defaults filled in and tensors shaped [batch, dim]. */
export interface ResolvedCemOptions<T> {
  dim: number;
  batchSize: number;
  numSamples: number;
  numElites: number;
  numIterations: number;
  temperature: number | null;
  normalize: boolean;
  tolerance: number;
  minStd: number;
  lmlIterations: number;
  seed: number | undefined;
  noise: ((iteration: number) => T) | undefined;
  onIteration: ((info: IterationInfo<T>) => void) | undefined;
  project: ((samples: T) => T) | undefined;
  /** Bounds as new [batch or 1, dim] tensors, owned by the caller of `resolveCemOptions`. */
  lowerBound: T | undefined;
  upperBound: T | undefined;
  /** Raw initial values as given (numbers or tensors). */
  initMean: number | T;
  initStd: number | T;
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number';
}

/**
 * Checks that a number-or-tensor option broadcasts to the shape
 * `[batch, dim]` (a number, or a tensor of shape `[dim]`, `[1, dim]` or
 * `[batch, dim]`) and returns it as a
 * new 2-D tensor that the caller owns.
 */
export function toRowTensor<T>(
  backend: Backend<T>,
  name: string,
  value: number | T,
  batch: number,
  dim: number,
): T {
  if (isNumber(value)) {
    assertFiniteNumber(name, value);
    return backend.fill([1, dim], value);
  }
  if (value === null || typeof value !== 'object') {
    throw new TypeError(`${name} must be a number or a tensor, received ${describeValue(value)}`);
  }
  const shape = backend.shape(value);
  const ok =
    (shape.length === 1 && shape[0] === dim) ||
    (shape.length === 2 && (shape[0] === 1 || shape[0] === batch) && shape[1] === dim);
  if (!ok) {
    throw new RangeError(
      `${name} must have shape [${dim}], [1, ${dim}] or [${batch}, ${dim}], received ${formatShape(shape)}`,
    );
  }
  // Always a new tensor, so the caller owns (and disposes) what it gets.
  return backend.reshape(value, [shape.length === 1 ? 1 : (shape[0] as number), dim]);
}

function readAll<T>(backend: Backend<T>, x: T): number[] {
  return Array.from(backend.readSync(x));
}

/** Reads a mask built by `make` and tells whether any entry is false. */
function anyFalse<T>(backend: Backend<T>, make: () => T): boolean {
  const mask = backend.tidy(() => backend.maskToFloat(make()));
  const values = readAll(backend, mask);
  backend.dispose(mask);
  return values.some((v) => v === 0);
}

/**
 * Validates user options and fills in the defaults. Every problem throws a
 * `TypeError` or `RangeError` that names the option and the value.
 * Tensor bounds and σ₀ are read once to check them (one host read each).
 */
export function resolveCemOptions<T>(
  backend: Backend<T>,
  options: CemOptions<T>,
  defaultTemperature: number | null,
): ResolvedCemOptions<T> {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`options must be an object, received ${describeValue(options)}`);
  }
  const dim = options.dim;
  assertInteger('dim', dim, 1);
  const batchSize = options.batchSize ?? CEM_DEFAULTS.batchSize;
  assertInteger('batchSize', batchSize, 1);
  const numSamples = options.numSamples ?? CEM_DEFAULTS.numSamples;
  assertInteger('numSamples', numSamples, 2);
  const numElites = options.numElites ?? CEM_DEFAULTS.numElites;
  assertInteger('numElites', numElites, 1);
  if (numElites >= numSamples) {
    throw new RangeError(`numElites must be < numSamples (${numSamples}), received ${numElites}`);
  }
  const numIterations = options.numIterations ?? CEM_DEFAULTS.numIterations;
  assertInteger('numIterations', numIterations, 1);
  const temperature = options.temperature === undefined ? defaultTemperature : options.temperature;
  if (temperature !== null) assertPositive('temperature', temperature);
  const normalize = options.normalize ?? CEM_DEFAULTS.normalize;
  if (typeof normalize !== 'boolean') {
    throw new TypeError(`normalize must be a boolean, received ${describeValue(normalize)}`);
  }
  const tolerance = options.tolerance ?? CEM_DEFAULTS.tolerance;
  assertNonNegative('tolerance', tolerance);
  const minStd = options.minStd ?? CEM_DEFAULTS.minStd;
  assertPositive('minStd', minStd);
  const lmlIterations = options.lmlIterations ?? CEM_DEFAULTS.lmlIterations;
  assertInteger('lmlIterations', lmlIterations, 1);
  if (options.seed !== undefined) {
    assertFiniteNumber('seed', options.seed);
    if (!Number.isInteger(options.seed)) {
      throw new TypeError(`seed must be an integer, received ${describeValue(options.seed)}`);
    }
  }
  for (const name of ['noise', 'onIteration', 'project'] as const) {
    const fn = options[name];
    if (fn !== undefined && typeof fn !== 'function') {
      throw new TypeError(`${name} must be a function, received ${describeValue(fn)}`);
    }
  }

  const initMean = options.initMean ?? CEM_DEFAULTS.initMean;
  const initStd = options.initStd ?? CEM_DEFAULTS.initStd;
  backend.tidy(() => {
    toRowTensor(backend, 'initMean', initMean, batchSize, dim);
    const s = toRowTensor(backend, 'initStd', initStd, batchSize, dim);
    const bad = readAll(backend, s).find((v) => !(v > 0) || !Number.isFinite(v));
    if (bad !== undefined) {
      throw new RangeError(`initStd must be > 0 and finite everywhere, received ${describeValue(bad)}`);
    }
    return undefined;
  });

  const lowerBound =
    options.lowerBound === undefined
      ? undefined
      : backend.keep(toRowTensor(backend, 'lowerBound', options.lowerBound, batchSize, dim));
  let upperBound: T | undefined;
  try {
    upperBound =
      options.upperBound === undefined
        ? undefined
        : backend.keep(toRowTensor(backend, 'upperBound', options.upperBound, batchSize, dim));
  } catch (error) {
    if (lowerBound !== undefined) backend.dispose(lowerBound);
    throw error;
  }
  if (lowerBound !== undefined && upperBound !== undefined) {
    const bad = anyFalse(backend, () => backend.less(lowerBound, upperBound));
    if (bad) {
      const lo = isNumber(options.lowerBound) ? options.lowerBound : 'tensor';
      const hi = isNumber(options.upperBound) ? options.upperBound : 'tensor';
      backend.dispose(lowerBound);
      backend.dispose(upperBound);
      throw new RangeError(
        `lowerBound must be < upperBound in every dimension, received lowerBound ${lo} and upperBound ${hi}`,
      );
    }
  }
  for (const [name, t] of [
    ['lowerBound', lowerBound],
    ['upperBound', upperBound],
  ] as const) {
    if (t === undefined) continue;
    const nan = anyFalse(backend, () => backend.equal(t, t));
    if (nan) {
      if (lowerBound !== undefined) backend.dispose(lowerBound);
      if (upperBound !== undefined) backend.dispose(upperBound);
      throw new RangeError(`${name} must not contain NaN`);
    }
  }

  return {
    dim,
    batchSize,
    numSamples,
    numElites,
    numIterations,
    temperature,
    normalize,
    tolerance,
    minStd,
    lmlIterations,
    seed: options.seed,
    noise: options.noise,
    onIteration: options.onIteration,
    project: options.project,
    lowerBound,
    upperBound,
    initMean,
    initStd,
  };
}
