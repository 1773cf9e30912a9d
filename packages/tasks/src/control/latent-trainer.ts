import { deriveSeed } from '@dcem/core';
import {
  assertFunction,
  assertInteger,
  assertObject,
  assertOptionalFunctions,
  assertPositive,
  assertTensorShape,
  describeValue,
} from '@dcem/errors';
import * as tf from '@tensorflow/tfjs';
import { TASK_SEED_STREAMS } from '../seed-streams.js';
import type { ActionDecoder } from './latent-decoder.js';
import {
  disposeLatentPlanResult,
  type LatentPlannerOptions,
  type LatentSolverOptions,
  planLatent,
  resolveLatentSolver,
} from './latent-planner.js';
import type { ControlCost } from './planner.js';

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

/** What {@link latentPlanGradients} returns; the caller owns `grads`. */
export interface LatentPlanGradients {
  /** The mean planned cost over the batch, mean_b C_b(decode(ẑ_b)). */
  cost: number;
  /** Its gradient with respect to each of `decoder.variables`, in their order. */
  grads: tf.Tensor[];
  /** The gradient's global norm √(Σ‖gᵢ‖²). */
  gradientNorm: number;
}

/**
 * The decoder's gradient through the latent planner, the inner step of
 * Algorithm 2 of the DCEM paper, for any plan cost: ẑ_b = DCEM_z C_b(decode_θ(z))
 * for each of the `batchSize` problems (see {@link planLatent}), and
 * ∇_θ mean_b C_b(decode_θ(ẑ_b(θ))), the gradient flowing through the
 * decoder and through the DCEM iterations. With `temperature: null`
 * (vanilla CEM) ẑ is found without the tape and the gradient goes through
 * the decoder at ẑ only (the paper's ablation). Shared by the cart-pole
 * embedding ({@link trainLatentEmbedding}) and the world model's online
 * decoder training (`@dcem/tasks/planet`); the caller clips and steps.
 *
 * @param decoder The decoder (its variables are read, not changed).
 * @param cost C: controls [batch, N, H, m] ↦ [batch, N] (any N), differentiable in the controls.
 * @param batchSize Problems planned at once.
 * @param options The solver's settings, as for {@link planLatent} (`solver.seed` seeds its noise).
 * @returns The mean cost, the gradients (the caller disposes them) and their norm.
 * @example
 * ```ts
 * const { cost, grads, gradientNorm } = latentPlanGradients(decoder, costFor(x0), 4, { solver: { seed: 0 } });
 * tf.dispose(grads);
 * ```
 */
export function latentPlanGradients(
  decoder: ActionDecoder,
  cost: ControlCost,
  batchSize: number,
  options: LatentPlannerOptions = {},
): LatentPlanGradients {
  if (decoder === null || typeof decoder !== 'object' || !Array.isArray(decoder.variables)) {
    throw new TypeError(`decoder must be an ActionDecoder, received ${describeValue(decoder)}`);
  }
  assertFunction('cost', cost);
  assertInteger('batchSize', batchSize, 1);
  const solver = resolveLatentSolver(options, 'solver');
  let fixedLatent: tf.Tensor | undefined;
  if (solver.temperature === null) {
    const r = planLatent(decoder, cost, batchSize, options);
    fixedLatent = r.latent;
    tf.dispose([r.controls, r.cost]); // ẑ is kept for the gradient step
  }
  let value: tf.Scalar;
  let grads: tf.NamedTensorMap;
  try {
    ({ value, grads } = tf.variableGrads(() => {
      if (fixedLatent !== undefined) {
        const u = decoder.decode(fixedLatent);
        return tf.mean(cost(tf.expandDims(u, 1))) as tf.Scalar;
      }
      const r = planLatent(decoder, cost, batchSize, options);
      return tf.mean(r.cost) as tf.Scalar;
    }, decoder.variables));
  } finally {
    fixedLatent?.dispose();
  }
  const list = decoder.variables.map((v) => grads[v.name] as tf.Tensor);
  const norm = tf.tidy(() => tf.sqrt(tf.addN(list.map((g) => tf.sum(tf.square(g))))).dataSync()[0] as number);
  const loss = value.dataSync()[0] as number;
  value.dispose();
  return { cost: loss, grads: list, gradientNorm: norm };
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
  assertObject('options', options);
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
  assertOptionalFunctions(options, ['onStep', 'onValidation']);
  const plannerOptions = options.planner ?? {};
  const solver = resolveLatentSolver(plannerOptions, 'planner.solver');
  for (const key of ['seed', 'noise', 'onIteration'] as const) {
    if (plannerOptions.solver !== undefined && key in plannerOptions.solver) {
      throw new TypeError(
        `planner.solver.${key} is not taken by trainLatentEmbedding (the noise is seeded from seed)`,
      );
    }
  }
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
        const {
          cost: loss,
          grads: list,
          gradientNorm: norm,
        } = latentPlanGradients(decoder, cost(x0), batchSize, { solver: { ...solver, seed: planSeed } });
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
