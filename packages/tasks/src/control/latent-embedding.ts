import { deriveSeed } from '@dcem/core';
import {
  assertFiniteNumber,
  assertFunction,
  assertInteger,
  assertObject,
  assertPositive,
  assertTensorShape,
  describeValue,
  perDimension,
} from '@dcem/errors';
import { type DcemOptions, dcem, dense, disposeCemResult } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import { TASK_SEED_STREAMS } from '../seed-streams.js';
import type { ControlCost } from './planner.js';

/** Options of {@link createActionDecoder}. */
export interface ActionDecoderOptions {
  /** d, the latent size, an integer ≥ 1. */
  latentDim: number;
  /** H, the plan horizon the decoder emits, an integer ≥ 1. */
  horizon: number;
  /** m, the control dimension, default 1. */
  controlDim?: number;
  /** Widths of the hidden layers, default [256, 256, 256]. */
  hiddenSizes?: readonly number[];
  /** Lower bound of each control dimension (a number or [m]). */
  lowerBound: number | readonly number[];
  /** Upper bound of each control dimension (a number or [m]), > `lowerBound`. */
  upperBound: number | readonly number[];
  /** Integer seed of the initial weights, default 0. */
  seed?: number;
}

/**
 * A decoder from a latent z ∈ [−1, 1]^d to a control sequence
 * u ∈ [lb, ub]^{H×m}: an MLP d → hidden… → H·m with ELU activations whose
 * output y is mapped into the bounds by u = lb + (ub − lb)·σ(y). Its
 * weights are `tf.Variable`s, trained by {@link trainLatentEmbedding}.
 */
export interface ActionDecoder {
  /** d. */
  readonly latentDim: number;
  /** H. */
  readonly horizon: number;
  /** m. */
  readonly controlDim: number;
  /** [m]. */
  readonly lowerBound: readonly number[];
  /** [m]. */
  readonly upperBound: readonly number[];
  /** The trainable weights W₁, b₁, W₂, b₂, … (W [fan_in, fan_out], b [fan_out]). */
  readonly variables: tf.Variable[];
  /**
   * Decodes latents.
   *
   * @param latent z, [..., d].
   * @returns u, [..., H, m], inside the bounds.
   */
  decode(latent: tf.Tensor): tf.Tensor;
  /** A copy of the weights (for checkpoints), in the order of `variables`. */
  getWeights(): Float32Array[];
  /** Overwrites the weights with a copy from {@link ActionDecoder.getWeights}. */
  setWeights(weights: readonly ArrayLike<number>[]): void;
  /** Releases the variables and constants. */
  dispose(): void;
}

/**
 * Creates the latent action decoder of the DCEM paper's cart-pole study:
 * d → 256 → 256 → 256 → H·m with ELU, output lb + (ub − lb)·σ(·), weights
 * drawn from N(0, (2/√(fan_in + fan_out))²) and zero biases, as the
 * reference initialises it.
 *
 * @param options See {@link ActionDecoderOptions}.
 * @returns An {@link ActionDecoder}; call `dispose()` when done.
 * @example
 * ```ts
 * const decoder = createActionDecoder({ latentDim: 2, horizon: 20, lowerBound: -100, upperBound: 100, seed: 0 });
 * const u = decoder.decode(tf.zeros([5, 2])); // [5, 20, 1]
 * ```
 */
export function createActionDecoder(options: ActionDecoderOptions): ActionDecoder {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`options must be an object, received ${describeValue(options)}`);
  }
  const { latentDim: d, horizon } = options;
  assertInteger('latentDim', d, 1);
  assertInteger('horizon', horizon, 1);
  const m = options.controlDim ?? 1;
  assertInteger('controlDim', m, 1);
  const hidden = options.hiddenSizes ?? [256, 256, 256];
  if (!Array.isArray(hidden)) {
    throw new TypeError(`hiddenSizes must be an array of integers, received ${describeValue(hidden)}`);
  }
  hidden.forEach((h, i) => {
    assertInteger(`hiddenSizes[${i}]`, h, 1);
  });
  const lower = perDimension('lowerBound', options.lowerBound, m);
  const upper = perDimension('upperBound', options.upperBound, m);
  lower.forEach((lo, i) => {
    if (!(lo < (upper[i] as number))) {
      throw new RangeError(`lowerBound must be < upperBound, received ${lo} and ${upper[i]} at ${i}`);
    }
  });
  const seed = options.seed ?? 0;
  assertInteger('seed', seed, Number.MIN_SAFE_INTEGER);

  const sizes = [d, ...hidden, horizon * m];
  const variables: tf.Variable[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const fanIn = sizes[l] as number;
    const fanOut = sizes[l + 1] as number;
    const std = 2 / Math.sqrt(fanIn + fanOut);
    variables.push(
      tf.tidy(() =>
        tf.variable(
          tf.randomNormal([fanIn, fanOut], 0, std, 'float32', deriveSeed(seed, TASK_SEED_STREAMS.weights, l)),
          true,
        ),
      ),
    );
    variables.push(tf.tidy(() => tf.variable(tf.zeros([fanOut]), true)));
  }
  const offset = tf.tidy(() => tf.tile(tf.tensor1d(lower), [horizon]));
  const scale = tf.tidy(() =>
    tf.tile(tf.tensor1d(lower.map((lo, i) => (upper[i] as number) - lo)), [horizon]),
  );
  let disposed = false;
  const layers = variables.length / 2;

  return {
    latentDim: d,
    horizon,
    controlDim: m,
    lowerBound: lower,
    upperBound: upper,
    variables,
    decode(latent) {
      if (disposed) throw new Error('the decoder has been disposed');
      assertTensorShape('latent', latent, ['...', d]);
      return tf.tidy(() => {
        let h = tf.reshape(latent, [-1, d]);
        for (let l = 0; l < layers; l++) {
          h = dense(h, variables[2 * l] as tf.Variable, variables[2 * l + 1] as tf.Variable);
          if (l + 1 < layers) h = tf.elu(h);
        }
        const u = tf.add(offset, tf.mul(scale, tf.sigmoid(h)));
        return tf.reshape(u, [...latent.shape.slice(0, -1), horizon, m]);
      });
    },
    getWeights() {
      return variables.map((v) => Float32Array.from(v.dataSync()));
    },
    setWeights(weights) {
      if (!Array.isArray(weights) || weights.length !== variables.length) {
        throw new TypeError(
          `weights must be an array of ${variables.length} arrays, received ${describeValue(weights)}`,
        );
      }
      variables.forEach((v, i) => {
        const w = weights[i] as ArrayLike<number>;
        if (w === undefined || w.length !== v.size) {
          throw new RangeError(`weights[${i}] must hold ${v.size} numbers, received ${describeValue(w)}`);
        }
        tf.tidy(() => v.assign(tf.tensor(Array.from(w), v.shape, 'float32')));
      });
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      tf.dispose([...variables, offset, scale]);
    },
  };
}

/**
 * The settings of the CEM/DCEM solver over the latent space: `@dcem/tfjs`'s
 * solver options without the ones {@link planLatent} sets itself (`dim` = d,
 * `batchSize`, the bounds z ∈ [−1, 1]^d and μ₀ = 0).
 */
export type LatentSolverOptions = Omit<
  DcemOptions,
  'dim' | 'batchSize' | 'lowerBound' | 'upperBound' | 'initMean'
>;

/**
 * The solver settings of the DCEM paper's cart-pole study (100 samples,
 * 10 elites, 10 iterations, σ₀ = 0.5, τ = 1, normalised costs, tolerance
 * 1e-4): what {@link planLatent} uses for every setting `solver` leaves out.
 * A preset of the solver's own options, not a second declaration of them.
 */
export const LATENT_SOLVER_DEFAULTS: Readonly<LatentSolverOptions> = Object.freeze({
  numSamples: 100,
  numElites: 10,
  numIterations: 10,
  initStd: 0.5,
  temperature: 1,
  normalize: true,
  tolerance: 1e-4,
});

/** Options of {@link planLatent}. */
export interface LatentPlannerOptions {
  /**
   * The solver's settings (N, k, iterations, σ₀, τ, seed, noise, onIteration, …),
   * spread over {@link LATENT_SOLVER_DEFAULTS}. `temperature: null` gives vanilla
   * CEM: the plan is then not differentiable, and training takes the gradient
   * through the decoder at ẑ only. τ = 0 is a `RangeError`: write `null`.
   */
  solver?: LatentSolverOptions;
}

/** What {@link planLatent} returns; the caller owns the tensors. */
export interface LatentPlanResult {
  /** ẑ ∈ [−1, 1]^d, [batch, d]. */
  latent: tf.Tensor2D;
  /** The decoded plan û = decode(ẑ), [batch, H, m]. */
  controls: tf.Tensor3D;
  /** Its cost C(û), [batch]. */
  cost: tf.Tensor1D;
  /** Solver iterations run. */
  iterations: number;
}

/**
 * Releases the tensors of a {@link LatentPlanResult} (ẑ, û and C(û)).
 * Releasing one twice does nothing.
 *
 * @param result What {@link planLatent} returned.
 * @example
 * ```ts
 * const r = planLatent(decoder, cost, 8, { solver: { seed: 0 } });
 * const returns = Array.from(r.cost.dataSync(), (c) => -c);
 * disposeLatentPlanResult(r);
 * ```
 */
export function disposeLatentPlanResult(result: LatentPlanResult): void {
  tf.dispose([result.latent, result.controls, result.cost]);
}

/**
 * Plans in a learned latent action space: ẑ = argmin_{z ∈ [−1, 1]^d}
 * C(decode(z)) with CEM/DCEM over z (the `dcem` of `@dcem/tfjs`), then
 * û = decode(ẑ). With τ > 0, û and its cost are differentiable with
 * respect to the decoder's weights (the inner loop of Algorithm 2 of the
 * DCEM paper).
 *
 * @param decoder The decoder.
 * @param cost C: controls [batch, numSamples, H, m] ↦ [batch, numSamples] (any sample count).
 * @param batchSize Problems planned at once (rows of `cost`).
 * @param options See {@link LatentPlannerOptions}.
 * @returns ẑ [batch, d], û [batch, H, m] and C(û) [batch].
 * @example
 * ```ts
 * const x0 = sampleCartpoleStates(8, 1);
 * const cost = (u: tf.Tensor) => tf.neg(cartpoleReturn(cartpole, tf.expandDims(x0, 1), u));
 * const { controls } = planLatent(decoder, cost, 8, { solver: { seed: 0 } });
 * ```
 */
export function planLatent(
  decoder: ActionDecoder,
  cost: ControlCost,
  batchSize: number,
  options: LatentPlannerOptions = {},
): LatentPlanResult {
  if (decoder === null || typeof decoder !== 'object' || typeof decoder.decode !== 'function') {
    throw new TypeError(`decoder must be an ActionDecoder, received ${describeValue(decoder)}`);
  }
  assertFunction('cost', cost);
  assertInteger('batchSize', batchSize, 1);
  const o = resolveLatentSolver(options, 'solver');
  const d = decoder.latentDim;
  const numSamples = o.numSamples as number;
  const objective = (z: tf.Tensor) => {
    const values = cost(decoder.decode(z));
    assertTensorShape('cost(controls)', values, [batchSize, numSamples]);
    return values;
  };
  const solverOptions: DcemOptions = {
    ...o,
    dim: d,
    batchSize,
    lowerBound: -1,
    upperBound: 1,
    initMean: 0,
  };
  const r = dcem(objective, solverOptions);
  try {
    return tf.tidy(() => {
      const controls = decoder.decode(r.solution) as tf.Tensor3D;
      const c = cost(tf.expandDims(controls, 1));
      assertTensorShape('cost(controls)', c, [batchSize, 1]);
      return {
        latent: tf.clone(r.solution) as tf.Tensor2D,
        controls,
        cost: tf.reshape(c, [batchSize]) as tf.Tensor1D,
        iterations: r.iterations,
      };
    });
  } finally {
    disposeCemResult(r);
  }
}

/** Options {@link planLatent} sets itself; a `solver` that holds one is an error. */
const PLANNER_SET = ['dim', 'batchSize', 'lowerBound', 'upperBound', 'initMean'] as const;

/**
 * Checks the latent planner's options and returns the solver's settings over
 * {@link LATENT_SOLVER_DEFAULTS}. `where` names the solver's options in messages.
 */
function resolveLatentSolver(options: LatentPlannerOptions, where: string): LatentSolverOptions {
  assertObject('options', options);
  for (const key of Object.keys(options)) {
    if (key !== 'solver') {
      throw new TypeError(
        `unknown option ${JSON.stringify(key)}: the latent planner takes { solver }` +
          ` (write { solver: { ${key}: … } } for a solver setting)`,
      );
    }
  }
  const solver = options.solver ?? {};
  assertObject(where, solver);
  for (const key of PLANNER_SET) {
    if (key in solver) {
      throw new TypeError(`${where}.${key} is set by the latent planner (z ∈ [−1, 1]^d, μ₀ = 0); remove it`);
    }
  }
  const merged: LatentSolverOptions = { ...LATENT_SOLVER_DEFAULTS, ...solver };
  const { temperature } = merged;
  if (temperature === 0) {
    throw new RangeError(
      `${where}.temperature must be > 0 or null, received 0; for vanilla CEM (no temperature) write temperature: null`,
    );
  }
  if (temperature !== null && temperature !== undefined) {
    assertFiniteNumber(`${where}.temperature`, temperature);
    if (!(temperature > 0)) {
      throw new RangeError(
        `${where}.temperature must be > 0 or null (vanilla CEM), received ${describeValue(temperature)}`,
      );
    }
  }
  return merged;
}

/** What {@link LatentTrainingOptions.onStep} receives after each update. */
export interface LatentTrainingStep {
  /** 1-based update count. */
  iteration: number;
  /** The training cost of this update: the mean of C(decode(ẑ)) over the sampled initial states. */
  cost: number;
  /** ‖∇‖ before clipping. */
  gradientNorm: number;
  /** The learning rate used. */
  learningRate: number;
}

/** One validation of {@link trainLatentEmbedding}. */
export interface LatentValidation {
  /** Updates done when it was measured (0: the initial decoder). */
  iteration: number;
  /** Mean cost of the latent planner's plans over the validation states. */
  cost: number;
  /** The learning rate after this validation (it may have been halved). */
  learningRate: number;
  /** Whether this is the best validation cost so far (a new checkpoint). */
  best: boolean;
}

/** Options of {@link trainLatentEmbedding}. */
export interface LatentTrainingOptions {
  /** Updates to run, an integer ≥ 0. */
  iterations: number;
  /** Random initial states: (count, seed) ↦ [count, n_x]. */
  sampleInitialStates: (count: number, seed: number) => tf.Tensor;
  /** The plan cost from given initial states: x₀ [B, n_x] ↦ C, controls [B, N, H, m] ↦ [B, N]. */
  cost: (initialStates: tf.Tensor) => ControlCost;
  /** Fixed validation states, [V, n_x]. */
  validationStates: tf.Tensor;
  /**
   * The latent planner: `{ solver }` as in {@link LatentPlannerOptions}, without
   * `seed`, `noise` or `onIteration` (the noise is seeded from `seed`).
   */
  planner?: { solver?: Omit<LatentSolverOptions, 'seed' | 'noise' | 'onIteration'> };
  /** Initial states per update, default 1 (the reference). */
  batchSize?: number;
  /** Adam's learning rate, default 5e-4. */
  learningRate?: number;
  /** Clip the gradient's global norm to this, default 1. */
  clipNorm?: number;
  /** Validate every this many updates (and before the first), default 100. */
  validateEvery?: number;
  /** Halve (× `plateauFactor`) the learning rate after this many validations in a row without a new best, default 10. */
  plateauPatience?: number;
  /** Learning-rate factor on a plateau, in (0, 1), default 0.5. */
  plateauFactor?: number;
  /** Integer seed of the training states and of the planner's noise, default 0. */
  seed?: number;
  /** Load the best-validation weights into the decoder at the end, default true. */
  restoreBest?: boolean;
  /** Called after each update. */
  onStep?: (step: LatentTrainingStep) => void;
  /** Called after each validation. */
  onValidation?: (validation: LatentValidation) => void;
}

/** What {@link trainLatentEmbedding} returns. */
export interface LatentTrainingResult {
  /** The training cost of every update. */
  trainCosts: number[];
  /** Every validation, in order. */
  validations: LatentValidation[];
  /** The best validation (the checkpoint). */
  best: { iteration: number; cost: number };
  /** The checkpoint's weights (see {@link ActionDecoder.getWeights}). */
  bestWeights: Float32Array[];
  /** The learning rate at the end. */
  learningRate: number;
}

/** Adam with PyTorch's conventions (ε added to √v̂), with a learning rate that may change. */
class Adam {
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  private t = 0;
  constructor(
    private readonly params: tf.Variable[],
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon = 1e-8,
  ) {
    this.m = params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
    this.v = params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
  }

  step(grads: tf.Tensor[], learningRate: number, gradScale: number): void {
    this.t += 1;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    tf.tidy(() => {
      this.params.forEach((p, i) => {
        const g = tf.mul(grads[i] as tf.Tensor, gradScale);
        const m = this.m[i] as tf.Variable;
        const v = this.v[i] as tf.Variable;
        m.assign(tf.add(tf.mul(this.beta1, m), tf.mul(1 - this.beta1, g)));
        v.assign(tf.add(tf.mul(this.beta2, v), tf.mul(1 - this.beta2, tf.square(g))));
        const update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), this.epsilon));
        p.assign(tf.sub(p, tf.mul(learningRate, update)));
      });
    });
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v]);
  }
}

/**
 * Learns a latent action space with DCEM: Algorithm 2 of the DCEM paper
 * (Amos & Yarats 2020, §5.2). Each update samples initial states x₀,
 * plans ẑ = DCEM_z C(decode(z); x₀) in the latent space, and takes an Adam
 * step on the decoder's weights θ along ∇_θ C(decode_θ(ẑ(θ)); x₀), the
 * gradient flowing through the decoder and through the DCEM iterations.
 * With `temperature: null` (vanilla CEM) ẑ is found without the tape and the gradient
 * goes through the decoder at ẑ only (the paper's ablation). The gradient's
 * global norm is clipped to `clipNorm`. Every `validateEvery` updates the
 * planner runs on the fixed validation states; the learning rate is halved
 * after `plateauPatience` validations without a new best, and the best
 * weights are kept as a checkpoint.
 *
 * @param decoder The decoder to train (its variables are updated in place).
 * @param options See {@link LatentTrainingOptions}.
 * @returns The training and validation costs and the best checkpoint.
 * @example
 * ```ts
 * const cartpole = createCartpole();
 * const decoder = createActionDecoder({ latentDim: 2, horizon: 20, lowerBound: -100, upperBound: 100 });
 * const validationStates = sampleCartpoleStates(100, 999);
 * const result = trainLatentEmbedding(decoder, {
 *   iterations: 1000,
 *   sampleInitialStates: sampleCartpoleStates,
 *   cost: (x0) => (u) => tf.neg(cartpoleReturn(cartpole, tf.expandDims(x0, 1), u)),
 *   validationStates,
 * });
 * console.log(result.best);
 * ```
 */
export function trainLatentEmbedding(
  decoder: ActionDecoder,
  options: LatentTrainingOptions,
): LatentTrainingResult {
  if (decoder === null || typeof decoder !== 'object' || !Array.isArray(decoder.variables)) {
    throw new TypeError(`decoder must be an ActionDecoder, received ${describeValue(decoder)}`);
  }
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`options must be an object, received ${describeValue(options)}`);
  }
  const { iterations, sampleInitialStates, cost, validationStates } = options;
  assertInteger('iterations', iterations, 0);
  assertFunction('sampleInitialStates', sampleInitialStates);
  assertFunction('cost', cost);
  assertTensorShape('validationStates', validationStates, [null, null]);
  const batchSize = options.batchSize ?? 1;
  assertInteger('batchSize', batchSize, 1);
  let learningRate = options.learningRate ?? 5e-4;
  assertPositive('learningRate', learningRate);
  const clipNorm = options.clipNorm ?? 1;
  assertPositive('clipNorm', clipNorm);
  const validateEvery = options.validateEvery ?? 100;
  assertInteger('validateEvery', validateEvery, 1);
  const patience = options.plateauPatience ?? 10;
  assertInteger('plateauPatience', patience, 1);
  const factor = options.plateauFactor ?? 0.5;
  assertPositive('plateauFactor', factor);
  if (!(factor < 1)) throw new RangeError(`plateauFactor must be < 1, received ${factor}`);
  const seed = options.seed ?? 0;
  assertInteger('seed', seed, Number.MIN_SAFE_INTEGER);
  for (const name of ['onStep', 'onValidation'] as const) {
    if (options[name] !== undefined) assertFunction(name, options[name]);
  }
  const plannerOptions = options.planner ?? {};
  const solver = resolveLatentSolver(plannerOptions, 'planner.solver');
  for (const key of ['seed', 'noise', 'onIteration'] as const) {
    if (plannerOptions.solver !== undefined && key in plannerOptions.solver) {
      throw new TypeError(
        `planner.solver.${key} is not taken by trainLatentEmbedding (the noise is seeded from seed)`,
      );
    }
  }
  const vanilla = solver.temperature === null;
  const withSeed = (seed: number): LatentPlannerOptions => ({ solver: { ...solver, seed } });
  const numValidation = validationStates.shape[0] as number;
  const validationSeed = deriveSeed(seed, TASK_SEED_STREAMS.validation, 0);

  const validate = (): number =>
    tf.tidy(() => {
      const r = planLatent(decoder, cost(validationStates), numValidation, withSeed(validationSeed));
      const mean = tf.mean(r.cost).dataSync()[0] as number;
      disposeLatentPlanResult(r);
      return mean;
    });

  const adam = new Adam(decoder.variables);
  const trainCosts: number[] = [];
  const validations: LatentValidation[] = [];
  let best = { iteration: 0, cost: Number.POSITIVE_INFINITY };
  let bestWeights = decoder.getWeights();
  let sinceBest = 0;
  const record = (iteration: number) => {
    const c = validate();
    const isBest = c < best.cost;
    if (isBest) {
      best = { iteration, cost: c };
      bestWeights = decoder.getWeights();
      sinceBest = 0;
    } else {
      sinceBest += 1;
      if (sinceBest >= patience) {
        learningRate *= factor;
        sinceBest = 0;
      }
    }
    const v: LatentValidation = { iteration, cost: c, learningRate, best: isBest };
    validations.push(v);
    options.onValidation?.(v);
  };

  try {
    record(0);
    for (let it = 1; it <= iterations; it++) {
      const x0 = sampleInitialStates(batchSize, deriveSeed(seed, TASK_SEED_STREAMS.initialStates, it));
      assertTensorShape('sampleInitialStates(count, seed)', x0, [batchSize, null]);
      const planSeed = deriveSeed(seed, TASK_SEED_STREAMS.trainingPlan, it);
      try {
        const c = cost(x0);
        let fixedLatent: tf.Tensor | undefined;
        if (vanilla) {
          const r = planLatent(decoder, c, batchSize, withSeed(planSeed));
          fixedLatent = r.latent;
          tf.dispose([r.controls, r.cost]); // ẑ is kept for the gradient step
        }
        const { value, grads } = tf.variableGrads(() => {
          if (fixedLatent !== undefined) {
            const u = decoder.decode(fixedLatent);
            return tf.mean(c(tf.expandDims(u, 1))) as tf.Scalar;
          }
          const r = planLatent(decoder, c, batchSize, withSeed(planSeed));
          return tf.mean(r.cost) as tf.Scalar;
        }, decoder.variables);
        if (fixedLatent !== undefined) fixedLatent.dispose();
        const list = decoder.variables.map((v) => grads[v.name] as tf.Tensor);
        const norm = tf.tidy(
          () => tf.sqrt(tf.addN(list.map((g) => tf.sum(tf.square(g))))).dataSync()[0] as number,
        );
        const loss = value.dataSync()[0] as number;
        value.dispose();
        const scale = Number.isFinite(norm) ? Math.min(1, clipNorm / (norm + 1e-6)) : 0;
        if (scale > 0) adam.step(list, learningRate, scale);
        tf.dispose(list);
        trainCosts.push(loss);
        options.onStep?.({ iteration: it, cost: loss, gradientNorm: norm, learningRate });
      } finally {
        x0.dispose();
      }
      if (it % validateEvery === 0 || it === iterations) record(it);
    }
  } finally {
    adam.dispose();
  }
  if (options.restoreBest ?? true) decoder.setWeights(bestWeights);
  return { trainCosts, validations, best, bestWeights, learningRate };
}
