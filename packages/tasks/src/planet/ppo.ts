/**
 * Proximal policy optimisation (Schulman et al. 2017) for any policy that
 * is a diagonal Gaussian around a deterministic, differentiable action:
 * generalised advantage estimation, the clipped surrogate objective with a
 * value loss and an optional entropy bonus, and a learner that takes
 * minibatch passes with Adam and checkpoints its state as plain data.
 *
 * @module
 */
import {
  assertBoolean,
  assertFiniteNumber,
  assertFunction,
  assertInteger,
  assertKnownOptions,
  assertNonNegative,
  assertObject,
  assertPositive,
  assertTensorShape,
  describeValue,
} from '@dcem/errors';
import * as tf from '@tensorflow/tfjs';
import { type Adam, type AdamState, createAdam } from './adam.js';
import { PlanetRandom } from './random.js';
import { tidyObject } from './tidy.js';

/** log √(2π). */
const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/**
 * PPO's settings. γ, λ, ε, the coefficients, Adam's ε and the clip follow
 * the common defaults of PPO implementations (Schulman et al. 2017;
 * stable-baselines3); `std` is the DCEM paper's fixed policy variance 0.1
 * (σ = √0.1), and `learningRate` its smaller ablation value's neighbour.
 */
export const PPO_DEFAULTS = Object.freeze({
  gamma: 0.99,
  lambda: 0.95,
  clip: 0.2,
  valueCoef: 0.5,
  entropyCoef: 0,
  passes: 4,
  minibatchSize: 64,
  learningRate: 1e-4,
  adamEpsilon: 1e-5,
  clipNorm: 0.5,
  normalizeAdvantages: true,
  std: Math.sqrt(0.1),
  learnStd: false,
});

/** Options of {@link createPpoLearner} (each defaults to {@link PPO_DEFAULTS}). */
export interface PpoOptions {
  /** ε of the clipped ratio, > 0 (default 0.2). */
  clip?: number;
  /** c_v, the value loss's weight, ≥ 0 (default 0.5). */
  valueCoef?: number;
  /** c_e, the entropy bonus's weight, ≥ 0 (default 0). */
  entropyCoef?: number;
  /** Passes (epochs) over a batch per update, an integer ≥ 1 (default 4; the paper ablates 1, 2, 4). */
  passes?: number;
  /** Samples per minibatch, an integer ≥ 1 (default 64; a batch's last minibatch may be smaller). */
  minibatchSize?: number;
  /** Adam's learning rate, > 0 (default 1e-4; the paper ablates 1e-4 and 1e-5). */
  learningRate?: number;
  /** Adam's ε, > 0 (default 1e-5). */
  adamEpsilon?: number;
  /** Every minibatch's gradient is clipped to this global norm, > 0 (default 0.5). */
  clipNorm?: number;
  /** Standardise the advantages over the batch before the update (default true). */
  normalizeAdvantages?: boolean;
  /** σ of the policy (its start when learned), > 0 (default √0.1: the paper's fixed variance 0.1). */
  std?: number;
  /** Learn log σ (one per action entry) with the other variables (default false: σ fixed). */
  learnStd?: boolean;
}

/** {@link PpoOptions} with every default filled in. */
export type ResolvedPpoOptions = Readonly<Required<PpoOptions>>;

/** The settings of {@link computeGae} (each defaults to {@link PPO_DEFAULTS}). */
export interface GaeOptions {
  /** γ ∈ [0, 1], the discount (default 0.99). */
  gamma?: number;
  /** λ ∈ [0, 1] (default 0.95; 1 gives Monte Carlo returns minus V, 0 one-step TD errors). */
  lambda?: number;
}

/** One episode's rewards and value estimates, the input of {@link computeGae}. */
export interface GaeEpisode {
  /** r₀ … r_{T−1}: the reward received after the action of each step. */
  rewards: ArrayLike<number>;
  /** V(s₀) … V(s_{T−1}): the value estimate of the state each action was taken in. */
  values: ArrayLike<number>;
  /**
   * How the episode ended: `true` when s_T is terminal (its value is 0);
   * `false` when it was cut by a time limit (or any truncation), so that the
   * return continues past s_T and is bootstrapped with {@link GaeEpisode.lastValue}.
   */
  terminated: boolean;
  /** V(s_T), the value estimate of the state after the last step; used when not `terminated`. */
  lastValue?: number;
}

/** What {@link computeGae} returns (float64). */
export interface GaeResult {
  /** Â₀ … Â_{T−1}. */
  advantages: Float64Array;
  /** The value targets Âₜ + V(sₜ) (the λ-returns). */
  returns: Float64Array;
}

function checkUnitInterval(name: string, value: unknown): number {
  assertFiniteNumber(name, value);
  if (value < 0 || value > 1)
    throw new RangeError(`${name} must be in [0, 1], received ${describeValue(value)}`);
  return value;
}

function checkNumbers(name: string, value: unknown, length?: number): ArrayLike<number> {
  if (
    value === null ||
    typeof value !== 'object' ||
    typeof (value as { length?: unknown }).length !== 'number'
  ) {
    throw new TypeError(`${name} must be an array of numbers, received ${describeValue(value)}`);
  }
  const a = value as ArrayLike<unknown>;
  if (length !== undefined && a.length !== length) {
    throw new RangeError(`${name} must hold ${length} numbers, received ${a.length}`);
  }
  for (let i = 0; i < a.length; i++) assertFiniteNumber(`${name}[${i}]`, a[i]);
  return a as ArrayLike<number>;
}

/**
 * Generalised advantage estimation (Schulman et al. 2016) over one episode,
 * in float64:
 *
 * δₜ = rₜ + γ V(sₜ₊₁) − V(sₜ), Âₜ = δₜ + γλ Âₜ₊₁ (Â_T = 0),
 *
 * with V(s_T) = 0 when the episode `terminated` and V(s_T) = `lastValue`
 * when a time limit cut it: a truncated episode is not a terminal one, so
 * its last states keep the value of what would have followed. The value
 * targets are Âₜ + V(sₜ).
 *
 * @param episode Rewards, values and how the episode ended (see {@link GaeEpisode}).
 * @param options γ and λ (see {@link GaeOptions}).
 * @returns The advantages and the value targets, [T] each.
 * @throws TypeError / RangeError for arrays of the wrong kind or length, or γ, λ outside [0, 1].
 * @example
 * ```ts
 * import { computeGae } from '@dcem/tasks/planet';
 * // A 3-step episode cut by the time limit, bootstrapped with V(s₃) = 2.
 * const { advantages, returns } = computeGae(
 *   { rewards: [1, 0, 1], values: [0.5, 0.4, 0.3], terminated: false, lastValue: 2 },
 *   { gamma: 0.9, lambda: 0.8 },
 * );
 * ```
 */
export function computeGae(episode: GaeEpisode, options: GaeOptions = {}): GaeResult {
  assertObject('episode', episode);
  assertKnownOptions('episode field', episode, ['rewards', 'values', 'terminated', 'lastValue']);
  assertObject('options', options);
  assertKnownOptions('GAE option', options, ['gamma', 'lambda']);
  const gamma = checkUnitInterval('options.gamma', options.gamma ?? PPO_DEFAULTS.gamma);
  const lambda = checkUnitInterval('options.lambda', options.lambda ?? PPO_DEFAULTS.lambda);
  const rewards = checkNumbers('episode.rewards', episode.rewards);
  const T = rewards.length;
  const values = checkNumbers('episode.values', episode.values, T);
  assertBoolean('episode.terminated', episode.terminated);
  let next = 0;
  if (!episode.terminated) {
    if (episode.lastValue === undefined) {
      throw new TypeError(
        'episode.lastValue must be V(s_T), a number, when the episode did not terminate (a time limit cut it); received undefined',
      );
    }
    assertFiniteNumber('episode.lastValue', episode.lastValue);
    next = episode.lastValue;
  }
  const advantages = new Float64Array(T);
  const returns = new Float64Array(T);
  let running = 0;
  for (let t = T - 1; t >= 0; t--) {
    const v = values[t] as number;
    const delta = (rewards[t] as number) + gamma * next - v;
    running = delta + gamma * lambda * running;
    advantages[t] = running;
    returns[t] = running + v;
    next = v;
  }
  return { advantages, returns };
}

/**
 * The log-density of a diagonal Gaussian, summed over the action entries:
 * log π(a) = Σᵢ [−½((aᵢ − μᵢ)/σᵢ)² − log σᵢ − ½ log 2π], σ = exp(log σ).
 *
 * @param actions a, [N, A].
 * @param mean μ, [N, A].
 * @param logStd log σ, [A] (shared by the rows) or [N, A].
 * @returns log π(a), [N].
 * @example
 * ```ts
 * const lp = gaussianLogProb(tf.tensor2d([[0.1]]), tf.tensor2d([[0]]), tf.tensor1d([Math.log(0.3)]));
 * ```
 */
export function gaussianLogProb(actions: tf.Tensor, mean: tf.Tensor, logStd: tf.Tensor): tf.Tensor1D {
  assertTensorShape('actions', actions, [null, null]);
  assertTensorShape('mean', mean, actions.shape);
  const A = actions.shape[1] as number;
  if (logStd.rank === 1) assertTensorShape('logStd', logStd, [A]);
  else assertTensorShape('logStd', logStd, actions.shape);
  return tf.tidy(() => {
    const z = tf.div(tf.sub(actions, mean), tf.exp(logStd));
    const perEntry = tf.sub(tf.mul(-0.5, tf.square(z)), tf.add(logStd, HALF_LOG_TWO_PI));
    return tf.sum(perEntry, 1) as tf.Tensor1D;
  });
}

/**
 * The entropy of a diagonal Gaussian: Σᵢ (log σᵢ + ½ log 2πe).
 *
 * @param logStd log σ, [A].
 * @returns The entropy, a scalar.
 */
export function gaussianEntropy(logStd: tf.Tensor): tf.Scalar {
  assertTensorShape('logStd', logStd, [null]);
  return tf.tidy(() => tf.sum(tf.add(logStd, HALF_LOG_TWO_PI + 0.5)) as tf.Scalar);
}

/** The inputs of {@link ppoLoss}, one entry per sample. */
export interface PpoLossInputs {
  /** log π_θ(aₙ | sₙ) under the weights being trained, [N]. */
  logProbs: tf.Tensor1D;
  /** log π_old(aₙ | sₙ) when the samples were collected, [N]. */
  oldLogProbs: tf.Tensor1D;
  /** Âₙ, [N] (already standardised when that is wanted). */
  advantages: tf.Tensor1D;
  /** V_θ(sₙ), [N]. */
  values: tf.Tensor1D;
  /** The value targets Rₙ, [N]. */
  returns: tf.Tensor1D;
  /** The policy's entropy (a scalar); required when `entropyCoef` > 0. */
  entropy?: tf.Scalar;
}

/** The settings of {@link ppoLoss} (each defaults to {@link PPO_DEFAULTS}). */
export interface PpoLossOptions {
  /** ε, > 0. */
  clip?: number;
  /** c_v, ≥ 0. */
  valueCoef?: number;
  /** c_e, ≥ 0. */
  entropyCoef?: number;
}

/** What {@link ppoLoss} returns: scalars (the caller disposes them). */
export interface PpoLossTerms {
  /** L = L_π + c_v L_V − c_e H, the loss to minimise. */
  loss: tf.Scalar;
  /** L_π = −mean(min(ρÂ, clip(ρ, 1 − ε, 1 + ε)Â)). */
  policy: tf.Scalar;
  /** L_V = mean((V − R)²). */
  value: tf.Scalar;
  /** H (0 when no entropy was given). */
  entropy: tf.Scalar;
  /** The fraction of samples whose ratio lies outside [1 − ε, 1 + ε] (a diagnostic, not in the loss). */
  clipFraction: tf.Scalar;
  /** mean(log π_old − log π_θ), an estimate of KL(π_old ‖ π_θ) (a diagnostic, not in the loss). */
  approxKl: tf.Scalar;
}

function resolveLossOptions(options: PpoLossOptions): Required<PpoLossOptions> {
  assertObject('options', options);
  assertKnownOptions('PPO loss option', options, ['clip', 'valueCoef', 'entropyCoef']);
  const clip = options.clip ?? PPO_DEFAULTS.clip;
  assertPositive('options.clip', clip);
  const valueCoef = options.valueCoef ?? PPO_DEFAULTS.valueCoef;
  assertNonNegative('options.valueCoef', valueCoef);
  const entropyCoef = options.entropyCoef ?? PPO_DEFAULTS.entropyCoef;
  assertNonNegative('options.entropyCoef', entropyCoef);
  return { clip, valueCoef, entropyCoef };
}

/**
 * PPO's clipped surrogate loss with a value loss and an entropy bonus
 * (Schulman et al. 2017, eq. 7 and 9), with ρₙ = exp(log π_θ − log π_old):
 *
 * L = −mean(min(ρₙÂₙ, clip(ρₙ, 1 − ε, 1 + ε)Âₙ)) + c_v mean((Vₙ − Rₙ)²) − c_e H.
 *
 * The value loss is not clipped. Differentiable with respect to whatever
 * `logProbs`, `values` and `entropy` depend on.
 *
 * @param inputs See {@link PpoLossInputs}.
 * @param options ε, c_v and c_e (see {@link PpoLossOptions}).
 * @returns The loss, its terms and two diagnostics.
 * @throws TypeError / RangeError for tensors of different lengths or bad options.
 * @example
 * ```ts
 * const terms = ppoLoss({ logProbs, oldLogProbs, advantages, values, returns }, { clip: 0.2 });
 * ```
 */
export function ppoLoss(inputs: PpoLossInputs, options: PpoLossOptions = {}): PpoLossTerms {
  assertObject('inputs', inputs);
  assertKnownOptions('PPO loss input', inputs, [
    'logProbs',
    'oldLogProbs',
    'advantages',
    'values',
    'returns',
    'entropy',
  ]);
  assertTensorShape('inputs.logProbs', inputs.logProbs, [null]);
  const n = inputs.logProbs.shape;
  for (const key of ['oldLogProbs', 'advantages', 'values', 'returns'] as const) {
    assertTensorShape(`inputs.${key}`, inputs[key], n);
  }
  if (inputs.entropy !== undefined) assertTensorShape('inputs.entropy', inputs.entropy, []);
  const { clip, valueCoef, entropyCoef } = resolveLossOptions(options);
  if (entropyCoef > 0 && inputs.entropy === undefined) {
    throw new TypeError('inputs.entropy must be given (a scalar) when options.entropyCoef > 0');
  }
  return tidyObject(() => {
    const { logProbs, oldLogProbs, advantages, values, returns } = inputs;
    const logRatio = tf.sub(logProbs, oldLogProbs);
    const ratio = tf.exp(logRatio);
    const unclipped = tf.mul(ratio, advantages);
    const clipped = tf.mul(tf.clipByValue(ratio, 1 - clip, 1 + clip), advantages);
    const policy = tf.neg(tf.mean(tf.minimum(unclipped, clipped))) as tf.Scalar;
    const value = tf.mean(tf.square(tf.sub(values, returns))) as tf.Scalar;
    const entropy = (inputs.entropy === undefined ? tf.scalar(0) : tf.clone(inputs.entropy)) as tf.Scalar;
    let loss = tf.add(policy, tf.mul(valueCoef, value));
    if (entropyCoef > 0) loss = tf.sub(loss, tf.mul(entropyCoef, entropy));
    const outside = tf.logicalOr(tf.less(ratio, 1 - clip), tf.greater(ratio, 1 + clip));
    return {
      loss: loss as tf.Scalar,
      policy,
      value,
      entropy,
      clipFraction: tf.mean(tf.cast(outside, 'float32')) as tf.Scalar,
      approxKl: tf.neg(tf.mean(logRatio)) as tf.Scalar,
    };
  });
}

/** What a policy's forward pass returns for a minibatch (see {@link PpoLearnerOptions.forward}). */
export interface PpoForward {
  /** μ, the deterministic action of each sample, [n, A]. */
  mean: tf.Tensor2D;
  /** V, the value estimate of each sample's state, [n]. */
  value: tf.Tensor1D;
}

/** Options of {@link createPpoLearner}: the policy, and PPO's settings. */
export interface PpoLearnerOptions extends PpoOptions {
  /** The variables PPO trains (the policy's and the value head's), in a fixed order. */
  variables: readonly tf.Variable[];
  /** A, the action size, an integer ≥ 1. */
  actionSize: number;
  /**
   * The policy on the collected samples `indices` (indices into the batch
   * given to {@link PpoLearner.update}): their means and values, computed
   * from `variables`. Called inside a gradient tape; the tensors it makes
   * are released by the learner. It must give the same μ for the same
   * weights and sample (a planner inside it replays the seeds it acted with).
   */
  forward: (indices: Int32Array) => PpoForward;
}

/** A batch of collected samples for {@link PpoLearner.update}, N samples. */
export interface PpoBatch {
  /** The actions taken (before any clipping to the action bounds), [N × A] row-major. */
  actions: ArrayLike<number>;
  /** log π_old of each action when it was taken, [N] (as {@link PpoLearner.sample} returned them). */
  logProbs: ArrayLike<number>;
  /** Â, [N] (e.g. {@link computeGae}'s, episodes concatenated). */
  advantages: ArrayLike<number>;
  /** The value targets, [N]. */
  returns: ArrayLike<number>;
}

/** The draws of {@link PpoLearner.sample}. */
export interface PpoSample {
  /** a = μ + σ ⊙ ε, [n × A] row-major (not clipped). */
  actions: Float32Array;
  /** log π(a), [n]. */
  logProbs: Float32Array;
}

/** What {@link PpoLearner.update} returns: means over its minibatch steps (plain numbers). */
export interface PpoUpdateStats {
  /** Minibatch steps taken (passes × ⌈N / minibatchSize⌉). */
  steps: number;
  /** Mean L. */
  loss: number;
  /** Mean L_π. */
  policy: number;
  /** Mean L_V. */
  value: number;
  /** Mean H. */
  entropy: number;
  /** Mean clip fraction. */
  clipFraction: number;
  /** Mean approximate KL. */
  approxKl: number;
  /** Mean global gradient norm before clipping. */
  gradNorm: number;
  /** σ after the update, [A]. */
  std: number[];
}

/** A learner's state as plain data (for checkpoints). */
export interface PpoState {
  /** The values of {@link PpoLearner.variables}, in order (log σ last when it is learned). */
  weights: Float32Array[];
  /** Adam's state. */
  adam: AdamState;
  /** Updates taken. */
  updates: number;
}

/** PPO over a user's policy (see {@link createPpoLearner}). */
export interface PpoLearner {
  /** PPO's settings (defaults filled in). */
  readonly options: ResolvedPpoOptions;
  /** The variables it trains: the user's, then log σ when it is learned. */
  readonly variables: readonly tf.Variable[];
  /** Updates taken so far. */
  readonly updates: number;
  /** σ now, [A]. */
  std(): Float32Array;
  /**
   * Draws actions a = μ + σ ⊙ ε with ε ~ N(0, I) from a generator seeded
   * by `seed` (plain JavaScript draws: the same on every backend), and
   * their log-probabilities under the current σ.
   *
   * @param mean μ, [n, A] (not disposed).
   * @param seed An integer seed (e.g. a `deriveSeed` value).
   */
  sample(mean: tf.Tensor2D, seed: number): PpoSample;
  /**
   * One PPO update: `passes` passes over the batch, each in a fresh order
   * drawn from `seed`, in minibatches of `minibatchSize`; each minibatch
   * takes one Adam step on {@link ppoLoss} (gradient clipped to `clipNorm`).
   *
   * @param batch The collected samples (see {@link PpoBatch}).
   * @param seed The integer seed of the minibatch order.
   */
  update(batch: PpoBatch, seed: number): PpoUpdateStats;
  /** A copy of the state (weights, Adam, the update count). */
  getState(): PpoState;
  /** Overwrites the state with a copy of `state` ({@link PpoLearner.getState}'s). */
  setState(state: PpoState): void;
  /** Releases Adam's moments and log σ (not the user's variables). */
  dispose(): void;
}

const PPO_OPTION_KEYS = [
  'clip',
  'valueCoef',
  'entropyCoef',
  'passes',
  'minibatchSize',
  'learningRate',
  'adamEpsilon',
  'clipNorm',
  'normalizeAdvantages',
  'std',
  'learnStd',
] as const;

/**
 * Validates PPO's settings and fills in {@link PPO_DEFAULTS}.
 *
 * @param options See {@link PpoOptions}.
 * @returns The settings with defaults.
 * @throws TypeError for an unknown option (with the nearest valid name) or a value of the wrong kind; RangeError for one out of range.
 */
export function resolvePpoOptions(options: PpoOptions = {}): ResolvedPpoOptions {
  assertObject('PPO options', options);
  assertKnownOptions('PPO option', options, PPO_OPTION_KEYS);
  const d = PPO_DEFAULTS;
  const pick = <K extends keyof PpoOptions>(key: K): NonNullable<PpoOptions[K]> =>
    (options[key] ?? d[key]) as NonNullable<PpoOptions[K]>;
  const { clip, valueCoef, entropyCoef } = resolveLossOptions({
    clip: pick('clip'),
    valueCoef: pick('valueCoef'),
    entropyCoef: pick('entropyCoef'),
  });
  const passes = pick('passes');
  assertInteger('options.passes', passes, 1);
  const minibatchSize = pick('minibatchSize');
  assertInteger('options.minibatchSize', minibatchSize, 1);
  const learningRate = pick('learningRate');
  assertPositive('options.learningRate', learningRate);
  const adamEpsilon = pick('adamEpsilon');
  assertPositive('options.adamEpsilon', adamEpsilon);
  const clipNorm = pick('clipNorm');
  assertPositive('options.clipNorm', clipNorm);
  const normalizeAdvantages = pick('normalizeAdvantages');
  assertBoolean('options.normalizeAdvantages', normalizeAdvantages);
  const std = pick('std');
  assertPositive('options.std', std);
  const learnStd = pick('learnStd');
  assertBoolean('options.learnStd', learnStd);
  return Object.freeze({
    clip,
    valueCoef,
    entropyCoef,
    passes,
    minibatchSize,
    learningRate,
    adamEpsilon,
    clipNorm,
    normalizeAdvantages,
    std,
    learnStd,
  });
}

/** Âₙ standardised over the batch, (Âₙ − mean) / (std + 1e-8), in float64 (population std). */
function standardise(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i] as number;
  mean /= n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += ((values[i] as number) - mean) ** 2;
  const std = Math.sqrt(variance / n);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = ((values[i] as number) - mean) / (std + 1e-8);
  return out;
}

/** A uniformly random permutation of 0 … n − 1 (Fisher–Yates). */
function permutation(n: number, random: PlanetRandom): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = random.below(i + 1);
    const t = p[i] as number;
    p[i] = p[j] as number;
    p[j] = t;
  }
  return p;
}

function gather(values: Float32Array, indices: Int32Array, width: number): Float32Array {
  const out = new Float32Array(indices.length * width);
  indices.forEach((row, i) => {
    out.set(values.subarray(row * width, row * width + width), i * width);
  });
  return out;
}

/**
 * PPO over a policy that is a diagonal Gaussian N(μ_θ(s), σ²) around a
 * deterministic action μ_θ(s) (any differentiable function: a network, or
 * a planner whose plan depends on trained weights), with a value head
 * V_θ(s). σ is fixed (`std`) or learned as one log σ per action entry
 * (`learnStd`, starting at `std`).
 *
 * A cycle is: act with {@link PpoLearner.sample} around the policy's μ,
 * compute advantages per episode with {@link computeGae}, then
 * {@link PpoLearner.update} on the concatenated samples. The state
 * ({@link PpoLearner.getState}) holds the weights and Adam's moments, so
 * a run restored from it continues bit for bit.
 *
 * @param options The policy (`variables`, `actionSize`, `forward`) and PPO's settings.
 * @returns The learner; call `dispose()` when done.
 * @throws TypeError / RangeError for bad options.
 * @example
 * ```ts
 * import { computeGae, createPpoLearner } from '@dcem/tasks/planet';
 * const ppo = createPpoLearner({ variables, actionSize: 1, forward: (idx) => policy(observationsAt(idx)) });
 * const { actions, logProbs } = ppo.sample(mean, seed); // while acting
 * const stats = ppo.update({ actions, logProbs, advantages, returns }, seed);
 * ```
 */
export function createPpoLearner(options: PpoLearnerOptions): PpoLearner {
  assertObject('options', options);
  const { variables, actionSize, forward, ...rest } = options;
  const settings = resolvePpoOptions(rest);
  if (!Array.isArray(variables)) {
    throw new TypeError(
      `options.variables must be an array of tf.Variable, received ${describeValue(variables)}`,
    );
  }
  variables.forEach((v, i) => {
    if (!(v instanceof tf.Variable)) {
      throw new TypeError(`options.variables[${i}] must be a tf.Variable, received ${describeValue(v)}`);
    }
  });
  assertInteger('options.actionSize', actionSize, 1);
  assertFunction('options.forward', forward);
  const A = actionSize;
  const logStd = tf.tidy(() => tf.variable(tf.fill([A], Math.log(settings.std)), settings.learnStd));
  const trained = Object.freeze(settings.learnStd ? [...variables, logStd] : [...variables]);
  if (trained.length === 0) {
    logStd.dispose();
    throw new TypeError('options.variables must not be empty when the std is fixed (nothing to train)');
  }
  let adam: Adam;
  try {
    adam = createAdam(trained, { learningRate: settings.learningRate, epsilon: settings.adamEpsilon });
  } catch (error) {
    logStd.dispose();
    throw error;
  }
  let updates = 0;
  let disposed = false;
  const currentStd = (): Float32Array => {
    const sigma = tf.exp(logStd);
    try {
      return Float32Array.from(sigma.dataSync());
    } finally {
      sigma.dispose();
    }
  };
  const alive = () => {
    if (disposed) throw new Error('this PPO learner has been disposed');
  };

  return {
    options: settings,
    variables: trained,
    get updates() {
      return updates;
    },
    std() {
      alive();
      return currentStd();
    },
    sample(mean, seed) {
      alive();
      assertTensorShape('mean', mean, [null, A]);
      assertInteger('seed', seed, Number.MIN_SAFE_INTEGER);
      const n = mean.shape[0];
      const noise = new PlanetRandom(seed).normals(n * A);
      const [actions, logProbs] = tf.tidy(() => {
        const a = tf.add(mean, tf.mul(tf.exp(logStd), tf.tensor2d(noise, [n, A])));
        return [a, gaussianLogProb(a, mean, logStd)];
      });
      try {
        return {
          actions: Float32Array.from((actions as tf.Tensor).dataSync()),
          logProbs: Float32Array.from((logProbs as tf.Tensor).dataSync()),
        };
      } finally {
        tf.dispose([actions as tf.Tensor, logProbs as tf.Tensor]);
      }
    },
    update(batch, seed) {
      alive();
      assertObject('batch', batch);
      assertKnownOptions('batch field', batch, ['actions', 'logProbs', 'advantages', 'returns']);
      const logProbs = checkNumbers('batch.logProbs', batch.logProbs);
      const N = logProbs.length;
      if (N === 0) throw new RangeError('batch must hold at least one sample, received 0');
      const actions = Float32Array.from(checkNumbers('batch.actions', batch.actions, N * A));
      const oldLogProbs = Float32Array.from(logProbs);
      const rawAdvantages = checkNumbers('batch.advantages', batch.advantages, N);
      const returns = Float32Array.from(checkNumbers('batch.returns', batch.returns, N));
      assertInteger('seed', seed, Number.MIN_SAFE_INTEGER);
      const advantages = Float32Array.from(
        settings.normalizeAdvantages ? standardise(rawAdvantages) : Array.from(rawAdvantages),
      );
      const random = new PlanetRandom(seed);
      const lossOptions = {
        clip: settings.clip,
        valueCoef: settings.valueCoef,
        entropyCoef: settings.entropyCoef,
      };
      const M = settings.minibatchSize;
      const sums = { loss: 0, policy: 0, value: 0, entropy: 0, clipFraction: 0, approxKl: 0, gradNorm: 0 };
      let steps = 0;
      for (let pass = 0; pass < settings.passes; pass++) {
        const order = permutation(N, random);
        for (let start = 0; start < N; start += M) {
          const idx = order.slice(start, Math.min(N, start + M));
          const n = idx.length;
          // The loss's terms, kept past variableGrads' scope (it keeps only the loss), released below.
          let kept: tf.Tensor[] = [];
          let stats: tf.Tensor;
          try {
            stats = tf.tidy(() => {
              const a = tf.tensor2d(gather(actions, idx, A), [n, A]);
              const old = tf.tensor1d(gather(oldLogProbs, idx, 1));
              const adv = tf.tensor1d(gather(advantages, idx, 1));
              const ret = tf.tensor1d(gather(returns, idx, 1));
              const { value: loss, grads } = tf.variableGrads(() => {
                const f = forward(idx);
                assertTensorShape('forward(indices).mean', f.mean, [n, A]);
                assertTensorShape('forward(indices).value', f.value, [n]);
                const terms = ppoLoss(
                  {
                    logProbs: gaussianLogProb(a, f.mean, logStd),
                    oldLogProbs: old,
                    advantages: adv,
                    values: f.value,
                    returns: ret,
                    entropy: gaussianEntropy(logStd),
                  },
                  lossOptions,
                );
                kept = [terms.policy, terms.value, terms.entropy, terms.clipFraction, terms.approxKl].map(
                  (t) => tf.keep(t),
                );
                return terms.loss;
              }, trained as tf.Variable[]);
              const list = trained.map((v) => {
                const g = grads[v.name];
                // A variable the loss does not reach gets a zero gradient.
                return g === undefined ? tf.zerosLike(v) : g;
              });
              const norm = tf.sqrt(tf.addN(list.map((g) => tf.sum(tf.square(g)))));
              const scale = tf.div(settings.clipNorm, tf.maximum(norm, settings.clipNorm));
              adam.step(list.map((g) => tf.mul(g, scale)));
              return tf.stack([loss, ...kept, norm]);
            });
          } finally {
            tf.dispose(kept);
          }
          const v = stats.dataSync();
          stats.dispose();
          sums.loss += v[0] as number;
          sums.policy += v[1] as number;
          sums.value += v[2] as number;
          sums.entropy += v[3] as number;
          sums.clipFraction += v[4] as number;
          sums.approxKl += v[5] as number;
          sums.gradNorm += v[6] as number;
          steps++;
        }
      }
      updates++;
      return {
        steps,
        loss: sums.loss / steps,
        policy: sums.policy / steps,
        value: sums.value / steps,
        entropy: sums.entropy / steps,
        clipFraction: sums.clipFraction / steps,
        approxKl: sums.approxKl / steps,
        gradNorm: sums.gradNorm / steps,
        std: Array.from(currentStd()),
      };
    },
    getState() {
      alive();
      return {
        weights: trained.map((v) => Float32Array.from(v.dataSync())),
        adam: adam.getState(),
        updates,
      };
    },
    setState(state) {
      alive();
      assertObject('state', state);
      assertKnownOptions('PPO state field', state, ['weights', 'adam', 'updates']);
      assertInteger('state.updates', state.updates, 0);
      if (!Array.isArray(state.weights) || state.weights.length !== trained.length) {
        throw new TypeError(
          `state.weights must be an array of ${trained.length} Float32Arrays, received ${describeValue(state.weights)}`,
        );
      }
      state.weights.forEach((w, i) => {
        const size = (trained[i] as tf.Variable).size;
        if (!(w instanceof Float32Array)) {
          throw new TypeError(`state.weights[${i}] must be a Float32Array, received ${describeValue(w)}`);
        }
        if (w.length !== size) {
          throw new RangeError(`state.weights[${i}] must hold ${size} numbers, received ${w.length}`);
        }
      });
      adam.setState(state.adam);
      trained.forEach((v, i) => {
        tf.tidy(() =>
          v.assign(tf.tensor(Float32Array.from(state.weights[i] as Float32Array), v.shape, 'float32')),
        );
      });
      updates = state.updates;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      adam.dispose();
      logStd.dispose();
    },
  };
}
