import { assertBoolean, assertFiniteNumber, assertInteger, assertObject, assertPositive } from '@dcem/errors';
import { dcem } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import type { EnergyMlp } from './energy-mlp.js';

/**
 * Settings of the DCEM inference layer ŷ(x) = DCEM-argmin_y E_θ(x, y). The
 * defaults are those of the paper's regression study.
 */
export interface DcemInferenceOptions {
  /** N, samples per iteration, an integer ≥ 2. Default 100. */
  numSamples?: number;
  /** k, soft elites per iteration, 1 ≤ k < N. Default 10. */
  numElites?: number;
  /** Iterations at most, an integer ≥ 1. Default 10. */
  numIterations?: number;
  /** μ₀ of the sampling distribution over y. Default 0. */
  initMean?: number;
  /** σ₀ > 0 of the sampling distribution over y. Default 7. */
  initStd?: number;
  /** τ > 0 of the soft top-k LML_k(−v̂/τ). Default 1. */
  temperature?: number;
  /** Standardise the energies per row before the soft top-k. Default true. */
  normalize?: boolean;
  /** Stop when ‖μ' − μ‖ over the batch is below this (0: never). Default 1e-4 (the reference's `iter_eps`). */
  tolerance?: number;
  /** Newton iterations of the LML soft top-k inside each DCEM iteration, an integer ≥ 1. Default 8. */
  lmlIterations?: number;
}

/** {@link DcemInferenceOptions} with every field filled in. */
export type ResolvedDcemInferenceOptions = Required<DcemInferenceOptions>;

/** Defaults of {@link DcemInferenceOptions}: the paper's regression settings. */
export const DCEM_INFERENCE_DEFAULTS: Readonly<ResolvedDcemInferenceOptions> = Object.freeze({
  numSamples: 100,
  numElites: 10,
  numIterations: 10,
  initMean: 0,
  initStd: 7,
  temperature: 1,
  normalize: true,
  tolerance: 1e-4,
  lmlIterations: 8,
});

/**
 * Validates DCEM inference options and fills in the defaults. Throws a
 * `TypeError` or `RangeError` naming the option (prefixed with `prefix`).
 *
 * @param options Options as given (undefined: all defaults).
 * @param prefix Name prefix of the options in messages, for example `'dcem.'`.
 * @example
 * ```ts
 * resolveDcemInferenceOptions({ numIterations: 20 }); // { numSamples: 100, …, numIterations: 20 }
 * ```
 */
export function resolveDcemInferenceOptions(
  options: DcemInferenceOptions = {},
  prefix = '',
): ResolvedDcemInferenceOptions {
  assertObject(prefix === '' ? 'options' : prefix.slice(0, -1), options);
  const o = { ...DCEM_INFERENCE_DEFAULTS, ...stripUndefined(options) };
  assertInteger(`${prefix}numSamples`, o.numSamples, 2);
  assertInteger(`${prefix}numElites`, o.numElites, 1);
  if (o.numElites >= o.numSamples) {
    throw new RangeError(
      `${prefix}numElites must be < numSamples (${o.numSamples}), received ${o.numElites}`,
    );
  }
  assertInteger(`${prefix}numIterations`, o.numIterations, 1);
  assertFiniteNumber(`${prefix}initMean`, o.initMean);
  assertPositive(`${prefix}initStd`, o.initStd);
  assertPositive(`${prefix}temperature`, o.temperature);
  assertBoolean(`${prefix}normalize`, o.normalize);
  assertFiniteNumber(`${prefix}tolerance`, o.tolerance);
  if (o.tolerance < 0) throw new RangeError(`${prefix}tolerance must be ≥ 0, received ${o.tolerance}`);
  assertInteger(`${prefix}lmlIterations`, o.lmlIterations, 1);
  return {
    numSamples: o.numSamples,
    numElites: o.numElites,
    numIterations: o.numIterations,
    initMean: o.initMean,
    initStd: o.initStd,
    temperature: o.temperature,
    normalize: o.normalize,
    tolerance: o.tolerance,
    lmlIterations: o.lmlIterations,
  };
}

/** Drops keys whose value is undefined (so they do not override defaults). */
export function stripUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The DCEM inference layer of energy-based regression:
 * ŷ(xᵦ) = DCEM-argmin_y E_θ(xᵦ, y), one 1-D DCEM problem per input, solved
 * as one batch (objective: samples [batch, N, 1] ↦ E_θ(xᵦ, yᵦᵢ) [batch, N]).
 * ŷ is differentiable with respect to θ through the samples, the soft top-k
 * weights and the energies, so `tf.variableGrads` of a loss on ŷ trains the
 * energy (Amos & Yarats 2020, §5.1).
 *
 * @param mlp The energy E_θ.
 * @param x Inputs, [batch].
 * @param options DCEM settings (defaults: the paper's; see {@link DcemInferenceOptions})
 *   and the integer `seed` of the sampling noise.
 * @returns ŷ, [batch]. The caller owns it.
 * @example
 * ```ts
 * const mlp = createEnergyMlp({ seed: 0 });
 * const yHat = dcemInference(mlp, tf.tensor1d([0.5, 1, 1.5]), { seed: 1 }); // [3]
 * ```
 */
export function dcemInference(
  mlp: EnergyMlp,
  x: tf.Tensor,
  options: DcemInferenceOptions & { seed?: number } = {},
): tf.Tensor1D {
  const o = resolveDcemInferenceOptions(options);
  if (options.seed !== undefined) assertInteger('seed', options.seed, Number.MIN_SAFE_INTEGER);
  if (!(x instanceof tf.Tensor) || x.rank !== 1) {
    throw new RangeError(
      `x must be a tf.Tensor of shape [batch], received ${x instanceof tf.Tensor ? `[${x.shape.join(', ')}]` : typeof x}`,
    );
  }
  const batch = x.shape[0] as number;
  return tf.tidy(() => {
    const energy = mlp.bind(x);
    const result = dcem((samples) => energy.energy(tf.reshape(samples, [batch, o.numSamples])), {
      dim: 1,
      batchSize: batch,
      ...o,
      ...(options.seed === undefined ? {} : { seed: options.seed }),
    });
    return tf.reshape(result.solution, [batch]) as tf.Tensor1D;
  });
}
