import {
  assertFiniteNumber,
  assertInteger,
  assertKnownOptions,
  assertNonNegative,
  assertObject,
  assertOptionalFunctions,
  assertPositive,
  describeValue,
  formatShape,
} from '@dcem/errors';
import type { Backend } from './backend.js';
import { assertSeedOption } from './seed.js';
import { assertSelector, type SelectorFunction, type SelectorName } from './selector-names.js';

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
   * `null` is the one way to say "no temperature": vanilla CEM, the hard
   * indicator of the k best samples (as `selector: 'hard'`). `0` is an error
   * (write `null`). The reference's `temp` is 1/τ. Default: `null` for
   * {@link cem} and `createCem`, 1 for {@link dcem} and `createDcem`; with
   * a soft `selector` and no `temperature`, 1.
   */
  temperature?: number | null;
  /**
   * How the elite weights I are chosen from the scores s = −v̂ (see
   * {@link SelectorName}): `'hard'`, `'lml'`, `'sparse'`, `'softmax'` (MPPI),
   * `'elite-softmax'` (TD-MPC2) or a {@link SelectorFunction}. Default: from
   * `temperature` as the reference (null → `'hard'`; a number → `'lml'`, or
   * a softmax when `numElites` is 1).
   */
  selector?: SelectorName | SelectorFunction<T>;
  /**
   * Momentum α ∈ [0, 1) of the refit (iCEM, mbrl-lib's `alpha`):
   * μ' = α μ + (1 − α) μ_fit and σ' = α σ + (1 − α) σ_fit. Default 0.
   */
  momentum?: number;
  /** Ceiling of σ (≥ `minStd`), applied after the momentum: σ' = min(σ', maxStd). Default: none. */
  maxStd?: number;
  /**
   * γ ≥ 1, iCEM's population decay: iteration i draws
   * Nᵢ = max(⌊N γ^(−i)⌋, `minSamples`) fresh samples (N = `numSamples`). Default 1 (no decay).
   */
  populationDecay?: number;
  /** Floor of the decayed population, an integer with k < minSamples ≤ N. Default min(2k, N). */
  minSamples?: number;
  /**
   * ξ ∈ [0, 1), iCEM's kept elites: the ⌊ξ k⌋ best samples of iteration i
   * join the samples of iteration i + 1. Default 0.
   */
  keepElites?: number;
  /**
   * Reuse the objective values of kept elites instead of evaluating them
   * again (the iCEM paper's code). `ask` then returns only the samples that
   * need values, and `tell` adds the kept ones. Default false (re-evaluated, as mbrl-lib).
   */
  reuseEliteValues?: boolean;
  /** Add the mean μ (clamped to the bounds) as one more sample of the last iteration (iCEM). Default false. */
  addMeanToLast?: boolean;
  /**
   * β ≥ 0, the exponent of coloured noise: ε has power spectrum ∝ 1/f^β along
   * `noiseAxis` of `noiseShape` (iCEM; β = 0 is white noise, 2 is red). Default 0.
   */
  noiseExponent?: number;
  /** How the `dim` entries of x are laid out for coloured noise (product = dim), default [dim]. */
  noiseShape?: readonly number[];
  /** The axis of `noiseShape` along which the noise is coloured, default 0. */
  noiseAxis?: number;
  /**
   * `'batch'` (default, as the reference): stop when ‖μ' − μ‖ over the whole
   * batch is below `tolerance`. `'row'`: each row stops when its own mean
   * moves by less than `tolerance` and keeps its state while the other rows go on.
   */
  convergence?: 'batch' | 'row';
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
  /**
   * The solve has converged when ‖μ' − μ‖ over the whole batch (Frobenius;
   * per row with `convergence: 'row'`) is below this; 0 disables the test.
   * Default 1e-4. The test runs on the device: from the iteration that meets
   * it, the state is frozen there (μ' kept, σ left as it was, the best
   * sample and the elites of that iteration kept), so the result is the same
   * whether the loop stops then or runs on. Whether it stops is
   * `earlyStopping`.
   */
  tolerance?: number;
  /**
   * When the loop stops once the solve has converged (see `tolerance`); the
   * only reason a solve reads the device while it runs. `false` (default):
   * never read; all `numIterations` iterations run, those after convergence
   * frozen (they still evaluate the objective but change nothing), and the
   * result is the same as with early stopping. `true`: read the convergence
   * flag (one value per row, or one) after every iteration and stop at the
   * first that converges, as the reference does. An integer n ≥ 1: read it
   * after every n-th iteration only (iterations n, 2n, …), so a solve that
   * converges at iteration t stops at the next multiple of n: up to n − 1
   * frozen iterations more, n times fewer reads. With `onIteration` (which is
   * not called for frozen iterations) the flag is read after every iteration
   * whatever this says. The async solves (`cemAsync`, `dcemAsync`) await
   * these reads instead.
   */
  earlyStopping?: boolean | number;
  /**
   * Check what only a read of the device can check (default false): tensor
   * `initStd` and `start.std` > 0 and finite, tensor bounds without NaN and
   * with lowerBound < upperBound, and the weights a selector function
   * returns (finite, ≥ 0, rows summing to k). Each check is a synchronous
   * read. Without it, number options are still checked on the host, and
   * shapes always are.
   */
  debug?: boolean;
  /**
   * Floor of σ: σ' = √max(Σᵢ Iᵢ(Xᵢ − μ')²/k, minStd²). It keeps a collapsed
   * distribution (all elites equal) finite and differentiable where the
   * reference would crash. Default 1e-6; it never changes a σ above it.
   */
  minStd?: number;
  /** Integer seed of the standard-normal draws; the same seed gives the same solve. */
  seed?: number;
  /**
   * Standard-normal draws ε for iteration t, [batch, Nₜ, dim] (Nₜ the fresh
   * samples of the iteration, `numSamples` without decay); overrides `seed`
   * and `noiseExponent`.
   */
  noise?: (iteration: number) => T;
  /** Called after each completed iteration; its tensors are released after the call. */
  onIteration?: (info: IterationInfo<T>) => void;
  /** Maps the (clamped) samples [batch, numSamples, dim] onto a feasible set before evaluation. */
  project?: (samples: T) => T;
  /** Root-finder iterations of the LML selector, default 16 (see `@dcem/lml`). */
  lmlIterations?: number;
}

/** Defaults of {@link CemOptions}, in one place (`minSamples`' default depends on k and N). */
export const CEM_DEFAULTS = Object.freeze({
  batchSize: 1,
  numSamples: 20,
  numElites: 10,
  numIterations: 10,
  normalize: true,
  initMean: 0,
  initStd: 1,
  tolerance: 1e-4,
  earlyStopping: false as boolean | number,
  debug: false,
  minStd: 1e-6,
  lmlIterations: 16,
  momentum: 0,
  populationDecay: 1,
  keepElites: 0,
  reuseEliteValues: false,
  addMeanToLast: false,
  noiseExponent: 0,
  noiseAxis: 0,
  convergence: 'batch' as 'batch' | 'row',
});

// Every key of CemOptions, checked by the compiler in both directions.
const OPTION_KEYS: Record<keyof CemOptions<unknown>, true> = {
  dim: true,
  batchSize: true,
  numSamples: true,
  numElites: true,
  numIterations: true,
  temperature: true,
  selector: true,
  normalize: true,
  lowerBound: true,
  upperBound: true,
  initMean: true,
  initStd: true,
  tolerance: true,
  earlyStopping: true,
  debug: true,
  minStd: true,
  maxStd: true,
  momentum: true,
  populationDecay: true,
  minSamples: true,
  keepElites: true,
  reuseEliteValues: true,
  addMeanToLast: true,
  noiseExponent: true,
  noiseShape: true,
  noiseAxis: true,
  convergence: true,
  seed: true,
  noise: true,
  onIteration: true,
  project: true,
  lmlIterations: true,
};

/** Every option name of {@link CemOptions}; any other name is an error. */
export const CEM_OPTION_NAMES: readonly (keyof CemOptions<unknown>)[] = Object.freeze(
  Object.keys(OPTION_KEYS) as (keyof CemOptions<unknown>)[],
);

/** Options after validation, with defaults filled in and tensors shaped [batch, dim]. */
export interface ResolvedCemOptions<T> {
  dim: number;
  batchSize: number;
  numSamples: number;
  numElites: number;
  numIterations: number;
  temperature: number | null;
  /** The selector in use: the one given, or the reference's choice from `temperature`. */
  selector: SelectorName | SelectorFunction<T>;
  normalize: boolean;
  tolerance: number;
  /**
   * Read the convergence flag after every `earlyStopping`-th iteration; 0:
   * never (`earlyStopping: false`, or `tolerance` 0).
   */
  earlyStopping: number;
  /** Whether the checks that need device reads run (`debug`). */
  debug: boolean;
  minStd: number;
  /** Ceiling of σ, or undefined for none. */
  maxStd: number | undefined;
  lmlIterations: number;
  momentum: number;
  populationDecay: number;
  minSamples: number;
  /** ⌊ξ k⌋, the number of elites carried into the next iteration. */
  keptElites: number;
  reuseEliteValues: boolean;
  addMeanToLast: boolean;
  noiseExponent: number;
  noiseShape: readonly number[];
  noiseAxis: number;
  convergence: 'batch' | 'row';
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

/**
 * Reads `x` (a debug-mode check: one synchronous read) and throws a
 * `RangeError` naming `name` unless every entry is > 0 and finite.
 */
export function assertPositiveEverywhere<T>(backend: Backend<T>, name: string, x: T): void {
  const bad = readAll(backend, x).find((v) => !(v > 0) || !Number.isFinite(v));
  if (bad !== undefined) {
    throw new RangeError(`${name} must be > 0 and finite everywhere, received ${describeValue(bad)}`);
  }
}

/** Reads a mask built by `make` and tells whether any entry is false. */
function anyFalse<T>(backend: Backend<T>, make: () => T): boolean {
  const mask = backend.tidy(() => backend.maskToFloat(make()));
  const values = readAll(backend, mask);
  backend.dispose(mask);
  return values.some((v) => v === 0);
}

/**
 * What distinguishes the two solver factories: the temperature used when
 * the options give neither `temperature` nor `selector` (`null`: vanilla
 * CEM, as `createCem`; 1: DCEM's LML, as `createDcem`). Internal.
 */
export interface SolverFlavour {
  readonly defaultTemperature: number | null;
}

/** `createCem` and `cem`: vanilla CEM unless the options say otherwise. */
export const CEM_FLAVOUR: SolverFlavour = Object.freeze({ defaultTemperature: null });

/** `createDcem` and `dcem`: LML at τ = 1 (softmax when k = 1) unless the options say otherwise. */
export const DCEM_FLAVOUR: SolverFlavour = Object.freeze({ defaultTemperature: 1 });

/**
 * Validates user options and fills in the defaults. Every problem throws a
 * `TypeError` or `RangeError` that names the option and the value.
 * Tensor bounds and σ₀ are read to check them only with `debug: true`
 * (otherwise nothing is read).
 */
export function resolveCemOptions<T>(
  backend: Backend<T>,
  options: CemOptions<T>,
  flavour: SolverFlavour = CEM_FLAVOUR,
): ResolvedCemOptions<T> {
  assertObject('options', options);
  assertKnownOptions('CEM option', options, CEM_OPTION_NAMES);
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
  const given = options.selector;
  if (given !== undefined) assertSelector(given);
  if (options.temperature === 0) {
    throw new RangeError(
      "temperature must be > 0, received 0; for vanilla CEM (no temperature) write `temperature: null` (or `selector: 'hard'`)",
    );
  }
  if (options.temperature !== undefined && options.temperature !== null) {
    assertPositive('temperature', options.temperature);
  }
  let temperature: number | null;
  if (given === undefined || typeof given === 'function') {
    temperature = options.temperature === undefined ? flavour.defaultTemperature : options.temperature;
  } else if (given === 'hard') {
    if (typeof options.temperature === 'number') {
      throw new TypeError(
        `selector 'hard' takes no temperature, received temperature ${options.temperature}; remove it or write \`temperature: null\``,
      );
    }
    temperature = null;
  } else {
    if (options.temperature === null) {
      throw new TypeError(
        `selector ${JSON.stringify(given)} needs a temperature > 0, received null (null means vanilla CEM, selector 'hard')`,
      );
    }
    temperature = options.temperature ?? 1;
  }
  if (temperature !== null) assertPositive('temperature', temperature);
  const normalize = options.normalize ?? CEM_DEFAULTS.normalize;
  if (typeof normalize !== 'boolean') {
    throw new TypeError(`normalize must be a boolean, received ${describeValue(normalize)}`);
  }
  const tolerance = options.tolerance ?? CEM_DEFAULTS.tolerance;
  assertNonNegative('tolerance', tolerance);
  const earlyStoppingOption = options.earlyStopping ?? CEM_DEFAULTS.earlyStopping;
  if (typeof earlyStoppingOption !== 'boolean') assertInteger('earlyStopping', earlyStoppingOption, 1);
  const earlyStopping =
    tolerance === 0
      ? 0
      : earlyStoppingOption === true
        ? 1
        : earlyStoppingOption === false
          ? 0
          : earlyStoppingOption;
  const debug = options.debug ?? CEM_DEFAULTS.debug;
  if (typeof debug !== 'boolean') {
    throw new TypeError(`debug must be a boolean, received ${describeValue(debug)}`);
  }
  const minStd = options.minStd ?? CEM_DEFAULTS.minStd;
  assertPositive('minStd', minStd);
  const lmlIterations = options.lmlIterations ?? CEM_DEFAULTS.lmlIterations;
  assertInteger('lmlIterations', lmlIterations, 1);
  const selector: SelectorName | SelectorFunction<T> =
    given ?? (temperature === null ? 'hard' : numElites === 1 ? 'softmax' : 'lml');
  const maxStd = options.maxStd;
  if (maxStd !== undefined) {
    assertPositive('maxStd', maxStd);
    if (maxStd < minStd) {
      throw new RangeError(`maxStd must be ≥ minStd (${minStd}), received ${describeValue(maxStd)}`);
    }
  }
  const momentum = options.momentum ?? CEM_DEFAULTS.momentum;
  assertNonNegative('momentum', momentum);
  if (!(momentum < 1)) {
    throw new RangeError(`momentum must be in [0, 1), received ${describeValue(momentum)}`);
  }
  const populationDecay = options.populationDecay ?? CEM_DEFAULTS.populationDecay;
  assertFiniteNumber('populationDecay', populationDecay);
  if (!(populationDecay >= 1)) {
    throw new RangeError(`populationDecay must be ≥ 1, received ${describeValue(populationDecay)}`);
  }
  const minSamples = options.minSamples ?? Math.min(2 * numElites, numSamples);
  assertInteger('minSamples', minSamples, 1);
  if (minSamples <= numElites || minSamples > numSamples) {
    throw new RangeError(
      `minSamples must be > numElites (${numElites}) and ≤ numSamples (${numSamples}), received ${minSamples}`,
    );
  }
  const keepElites = options.keepElites ?? CEM_DEFAULTS.keepElites;
  assertNonNegative('keepElites', keepElites);
  if (!(keepElites < 1)) {
    throw new RangeError(`keepElites must be a fraction in [0, 1), received ${describeValue(keepElites)}`);
  }
  const flags = {
    reuseEliteValues: options.reuseEliteValues ?? CEM_DEFAULTS.reuseEliteValues,
    addMeanToLast: options.addMeanToLast ?? CEM_DEFAULTS.addMeanToLast,
  };
  for (const [name, value] of Object.entries(flags)) {
    if (typeof value !== 'boolean') {
      throw new TypeError(`${name} must be a boolean, received ${describeValue(value)}`);
    }
  }
  const noiseExponent = options.noiseExponent ?? CEM_DEFAULTS.noiseExponent;
  assertNonNegative('noiseExponent', noiseExponent);
  const noiseShape = options.noiseShape ?? [dim];
  if (!Array.isArray(noiseShape)) {
    throw new TypeError(`noiseShape must be an array of integers, received ${describeValue(noiseShape)}`);
  }
  noiseShape.forEach((extent, i) => {
    assertInteger(`noiseShape[${i}]`, extent, 1);
  });
  const noiseSize = noiseShape.reduce((a: number, b: number) => a * b, 1);
  if (noiseShape.length === 0 || noiseSize !== dim) {
    throw new RangeError(
      `noiseShape must have a product equal to dim (${dim}), received ${formatShape(noiseShape)}`,
    );
  }
  const noiseAxis = options.noiseAxis ?? CEM_DEFAULTS.noiseAxis;
  assertInteger('noiseAxis', noiseAxis, 0);
  if (noiseAxis >= noiseShape.length) {
    throw new RangeError(
      `noiseAxis must be < the rank of noiseShape (${noiseShape.length}), received ${noiseAxis}`,
    );
  }
  const convergence = options.convergence ?? CEM_DEFAULTS.convergence;
  if (convergence !== 'batch' && convergence !== 'row') {
    throw new TypeError(`convergence must be 'batch' or 'row', received ${describeValue(convergence)}`);
  }
  if (options.seed !== undefined) assertSeedOption(options.seed);
  assertOptionalFunctions(options, ['noise', 'onIteration', 'project']);

  const initMean = options.initMean ?? CEM_DEFAULTS.initMean;
  const initStd = options.initStd ?? CEM_DEFAULTS.initStd;
  backend.tidy(() => {
    toRowTensor(backend, 'initMean', initMean, batchSize, dim);
    const s = toRowTensor(backend, 'initStd', initStd, batchSize, dim);
    if (isNumber(initStd)) {
      if (!(initStd > 0)) {
        throw new RangeError(`initStd must be > 0 and finite everywhere, received ${describeValue(initStd)}`);
      }
    } else if (debug) assertPositiveEverywhere(backend, 'initStd', s);
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
  const onHost = (x: unknown) => x === undefined || isNumber(x);
  // Number bounds were checked as numbers; tensors only in debug mode (a read each).
  const checkTensors = debug || (onHost(options.lowerBound) && onHost(options.upperBound));
  if (checkTensors && lowerBound !== undefined && upperBound !== undefined) {
    const bad =
      onHost(options.lowerBound) && onHost(options.upperBound)
        ? !((options.lowerBound as number) < (options.upperBound as number))
        : anyFalse(backend, () => backend.less(lowerBound, upperBound));
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
    // A number bound is finite (toRowTensor checked it); a tensor one is read in debug mode only.
    if (t === undefined || !debug || isNumber(options[name])) continue;
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
    selector,
    normalize,
    tolerance,
    earlyStopping,
    debug,
    minStd,
    maxStd,
    lmlIterations,
    momentum,
    populationDecay,
    minSamples,
    keptElites: Math.floor(keepElites * numElites),
    ...flags,
    noiseExponent,
    noiseShape: Object.freeze([...noiseShape]),
    noiseAxis,
    convergence,
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
