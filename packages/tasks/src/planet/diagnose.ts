/**
 * How well a learned model predicts a real episode: the errors of its
 * reward and observation predictions, filtered and open-loop, against the
 * depth of imagination. A planner sees only the model's predicted returns
 * over its horizon, so these numbers tell whether a weak run is the
 * model's fault or the planner's.
 *
 * @module
 */
import { assertInteger, assertOptions } from '@dcem/errors';
import * as tf from '@tensorflow/tfjs';
import { episodeRows, toFloat32 } from './replay.js';
import { type Rssm, type RssmState, rssmParts } from './rssm.js';

/** Options of {@link planetModelError}. */
export interface PlanetModelErrorOptions {
  /** H, the depth of the open-loop predictions (default 12, PlaNet's planning horizon). */
  horizon?: number;
}

/** What {@link planetModelError} measured on one episode (plain numbers). */
export interface PlanetModelError {
  /** H. */
  horizon: number;
  /** W = rows − H: the open-loop windows, one from each row t = 0 … rows − H − 1. */
  windows: number;
  /** The mean of |r| over rows 1 … rows − 1 (the scale of the reward errors). */
  meanAbsReward: number;
  /** The mean of |r̂(hₜ, sₜ) − rₜ| over rows 1 … rows − 1, with (hₜ, sₜ) the filtered posterior after row t. */
  filteredRewardError: number;
  /** Length H; entry k − 1 is the mean over the windows of |r̂ₜ₊ₖ − rₜ₊ₖ|, r̂ₜ₊ₖ predicted k steps open-loop from row t. */
  rewardError: number[];
  /** Length H; entry k − 1 is the mean over the windows of r̂ₜ₊ₖ − rₜ₊ₖ. */
  rewardBias: number[];
  /** Length H; entry k − 1 is the root mean square over the windows and the O coordinates of ôₜ₊ₖ − oₜ₊ₖ. */
  observationError: number[];
  /** Per window, Σₖ r̂ₜ₊ₖ: the return the planner would have predicted for the actions taken. */
  predictedReturns: number[];
  /** Per window, Σₖ rₜ₊ₖ: the return those actions received. */
  actualReturns: number[];
  /** The mean over the windows of |R̂ − R|. */
  returnError: number;
  /** Σ |R̂ − R| / Σ |R| over the windows (NaN when every R is 0). */
  relativeReturnError: number;
}

const OPTION_NAMES = ['horizon'];

/** The mean of values[from … to − 1]. */
function mean(values: ArrayLike<number>, from = 0, to = values.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += values[i] as number;
  return sum / (to - from);
}

/**
 * Measures a model's predictions along one real episode (aligned rows as
 * the replay buffer stores them: row 0 the reset's observation with a zero
 * action and reward 0, row t the observation reached by action t and the
 * reward received with it).
 *
 * The episode is filtered with posterior means (no noise), one
 * `observeStep` per row as an agent filters. From the filtered state after
 * each row t, the model is rolled out open-loop with the prior means over
 * the episode's next H actions, and the predicted rewards and
 * observations are compared with the real ones at each depth k = 1 … H.
 * The model is not changed.
 *
 * @param model The model.
 * @param episode `observations` [rows, O], `actions` [rows, A], `rewards`
 *   [rows] (Float32Array, Float64Array or number[], row-major, finite).
 * @param options {@link PlanetModelErrorOptions}.
 * @returns The errors ({@link PlanetModelError}).
 * @throws TypeError for an argument of the wrong kind or an unknown
 *   option; RangeError for arrays of the wrong length, a non-finite entry,
 *   H < 1 or an episode of ≤ H rows.
 * @example
 * ```ts
 * const error = planetModelError(model, replay.episode(replay.episodes - 1), { horizon: 12 });
 * error.rewardError; // [12]: the mean |r̂ − r| k steps ahead
 * ```
 */
export function planetModelError(
  model: Rssm,
  episode: PlanetEpisodeRows,
  options: PlanetModelErrorOptions = {},
): PlanetModelError {
  assertOptions('planetModelError options', options, OPTION_NAMES);
  const horizon = options.horizon ?? 12;
  assertInteger('options.horizon', horizon, 1);
  rssmParts(model); // throws unless model is an Rssm
  const rows = episodeRows(episode);
  const { observationSize: O, actionSize: A } = model.sizes;
  if (rows <= horizon) {
    throw new RangeError(
      `episode must have more rows than options.horizon (${horizon}), received ${rows} rows`,
    );
  }
  const rewards = toFloat32('episode.rewards', episode.rewards, rows);
  const observations = toFloat32('episode.observations', episode.observations, rows * O);
  const actions = toFloat32('episode.actions', episode.actions, rows * A);
  const windows = rows - horizon;

  const { predicted, filtered, decoded } = tf.tidy(() => {
    // Filter: one observeStep per row, posterior means.
    const obs = tf.tensor2d(observations, [rows, O]);
    const act = tf.tensor2d(actions, [rows, A]);
    let state: RssmState = model.initialState(1);
    const hs: tf.Tensor2D[] = [];
    const ss: tf.Tensor2D[] = [];
    for (let t = 0; t < rows; t++) {
      const next = model.observeStep(
        state,
        tf.slice(act, [t, 0], [1, A]),
        tf.slice(obs, [t, 0], [1, O]),
        null,
      ).state;
      hs.push(next.h);
      ss.push(next.s);
      state = next;
    }
    const allH = tf.concat(hs, 0) as tf.Tensor2D;
    const allS = tf.concat(ss, 0) as tf.Tensor2D;
    const filtered = model.predictReward({ h: allH, s: allS });
    // Open-loop from the states after rows 0 … W − 1, all windows at once.
    let open: RssmState = {
      h: tf.slice(allH, [0, 0], [windows, -1]),
      s: tf.slice(allS, [0, 0], [windows, -1]),
    };
    const predicted: tf.Tensor1D[] = [];
    const decoded: tf.Tensor2D[] = [];
    for (let k = 1; k <= horizon; k++) {
      open = model.imagineStep(open, tf.slice(act, [k, 0], [windows, A]), null).state;
      predicted.push(model.predictReward(open));
      decoded.push(model.decodeObservation(open));
    }
    return {
      predicted: tf.stack(predicted, 0) as tf.Tensor2D, // [H, W]
      filtered,
      decoded: tf.stack(decoded, 0) as tf.Tensor3D, // [H, W, O]
    };
  });
  let rHat: Float32Array;
  let rFiltered: Float32Array;
  let oHat: Float32Array;
  try {
    rHat = predicted.dataSync() as Float32Array;
    rFiltered = filtered.dataSync() as Float32Array;
    oHat = decoded.dataSync() as Float32Array;
  } finally {
    predicted.dispose();
    filtered.dispose();
    decoded.dispose();
  }

  const absReward = Array.from(rewards, Math.abs);
  const filteredErrors = Array.from(rFiltered, (x, t) => Math.abs(x - (rewards[t] as number)));
  const rewardError: number[] = [];
  const rewardBias: number[] = [];
  const observationError: number[] = [];
  const predictedReturns = new Array<number>(windows).fill(0);
  const actualReturns = new Array<number>(windows).fill(0);
  for (let k = 1; k <= horizon; k++) {
    let abs = 0;
    let bias = 0;
    let squares = 0;
    for (let t = 0; t < windows; t++) {
      const p = rHat[(k - 1) * windows + t] as number;
      const real = rewards[t + k] as number;
      abs += Math.abs(p - real);
      bias += p - real;
      predictedReturns[t] = (predictedReturns[t] as number) + p;
      actualReturns[t] = (actualReturns[t] as number) + real;
      for (let i = 0; i < O; i++) {
        const d =
          (oHat[((k - 1) * windows + t) * O + i] as number) - (observations[(t + k) * O + i] as number);
        squares += d * d;
      }
    }
    rewardError.push(abs / windows);
    rewardBias.push(bias / windows);
    observationError.push(Math.sqrt(squares / (windows * O)));
  }
  let returnAbs = 0;
  let actualAbs = 0;
  for (let t = 0; t < windows; t++) {
    returnAbs += Math.abs((predictedReturns[t] as number) - (actualReturns[t] as number));
    actualAbs += Math.abs(actualReturns[t] as number);
  }
  return {
    horizon,
    windows,
    meanAbsReward: mean(absReward, 1),
    filteredRewardError: mean(filteredErrors, 1),
    rewardError,
    rewardBias,
    observationError,
    predictedReturns,
    actualReturns,
    returnError: returnAbs / windows,
    relativeReturnError: actualAbs === 0 ? Number.NaN : returnAbs / actualAbs,
  };
}

/** One episode's aligned rows for {@link planetModelError} (as the replay buffer's `PlanetEpisodeData`, in float32 or float64 arrays or number arrays). */
export interface PlanetEpisodeRows {
  /** [rows, O], row-major. */
  readonly observations: Float32Array | Float64Array | readonly number[];
  /** [rows, A], row-major. */
  readonly actions: Float32Array | Float64Array | readonly number[];
  /** [rows]. */
  readonly rewards: Float32Array | Float64Array | readonly number[];
}
