/**
 * The replay buffer of the online loop: whole episodes in PlaNet's aligned
 * rows, and seeded sampling of training sequences that never cross an
 * episode's end.
 *
 * @module
 */
import { assertInteger, assertObject, assertOptions, describeValue } from '@dcem/errors';
import * as tf from '@tensorflow/tfjs';
import { PlanetRandom } from './random.js';

/**
 * One episode of T agent steps as T + 1 aligned rows t = 0..T (PlaNet's
 * convention): `observations` row t is the observation after t steps,
 * `actions` row t the action that led to it (row 0: zeros) and `rewards[t]`
 * the reward received with it (row 0: 0). Row-major, float32.
 */
export interface PlanetEpisodeData {
  /** [rows, O], row-major. */
  readonly observations: Float32Array;
  /** [rows, A], row-major. */
  readonly actions: Float32Array;
  /** [rows]. */
  readonly rewards: Float32Array;
}

/**
 * B training sequences of L consecutive rows each, as plain arrays
 * (row-major): `observations` [B, L, O], `actions` [B, L, A], `rewards`
 * [B, L]. {@link sequenceBatchTensors} turns it into the model's tensors.
 */
export interface SequenceBatchData {
  /** B, the number of sequences. */
  readonly batch: number;
  /** L, rows per sequence. */
  readonly length: number;
  /** O. */
  readonly observationSize: number;
  /** A. */
  readonly actionSize: number;
  /** [B, L, O]. */
  readonly observations: Float32Array;
  /** [B, L, A]. */
  readonly actions: Float32Array;
  /** [B, L]. */
  readonly rewards: Float32Array;
  /** Where sequence b starts: `episodes[b]` (index in the buffer) and `starts[b]` (its first row). */
  readonly episodes: Int32Array;
  /** The first row of each sequence within its episode. */
  readonly starts: Int32Array;
}

/**
 * The plain-data contents of a {@link ReplayBuffer} (for checkpoints): the
 * sizes, each episode's row count, and every episode's rows concatenated in
 * order.
 */
export interface ReplayState {
  /** O. */
  readonly observationSize: number;
  /** A. */
  readonly actionSize: number;
  /** Rows (T + 1) of each episode, in order. */
  readonly rows: readonly number[];
  /** [Σ rows, O]. */
  readonly observations: Float32Array;
  /** [Σ rows, A]. */
  readonly actions: Float32Array;
  /** [Σ rows]. */
  readonly rewards: Float32Array;
}

/**
 * Checks that `episode` is an object of `observations`, `actions` and
 * `rewards` only, with `rewards` array-like, and returns its row count
 * (`rewards.length`); the arrays' contents are checked by
 * {@link toFloat32}. Internal.
 */
export function episodeRows(episode: unknown): number {
  assertOptions('episode', episode, ['observations', 'actions', 'rewards']);
  assertObject('episode', episode);
  const r = episode.rewards;
  if (r === undefined || r === null || typeof (r as { length?: unknown }).length !== 'number') {
    throw new TypeError(
      `episode.rewards must be a Float32Array, Float64Array or number[], received ${describeValue(r)}`,
    );
  }
  return (r as ArrayLike<number>).length;
}

/** `value` (Float32Array, Float64Array or number[] of `size` finite numbers) as a new Float32Array. Internal. */
export function toFloat32(name: string, value: unknown, size: number): Float32Array {
  if (!(value instanceof Float32Array) && !(value instanceof Float64Array) && !Array.isArray(value)) {
    throw new TypeError(
      `${name} must be a Float32Array, Float64Array or number[], received ${describeValue(value)}`,
    );
  }
  if (value.length !== size) {
    throw new RangeError(`${name} must have ${size} entries, received ${value.length}`);
  }
  const out = Float32Array.from(value as ArrayLike<number>);
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) {
      throw new RangeError(
        `${name}[${i}] must be finite, received ${describeValue((value as ArrayLike<number>)[i])}`,
      );
    }
  }
  return out;
}

/**
 * A replay buffer of whole episodes in aligned rows ({@link PlanetEpisodeData}).
 *
 * {@link ReplayBuffer.sample} draws B sequences of L consecutive rows,
 * each uniformly among all windows that lie inside one episode: an episode
 * of n rows offers n − L + 1 windows, so a sequence never crosses an
 * episode's end, and an episode shorter than L rows is never sampled
 * (sampling throws a `RangeError` while no episode has L rows). Draws
 * are with replacement, from a seeded generator: the same buffer and seed
 * give the same batch.
 *
 * @example
 * ```ts
 * import { ReplayBuffer } from '@dcem/tasks/planet';
 * const replay = new ReplayBuffer(2, 1);
 * replay.addEpisode({
 *   observations: new Float32Array([0, 0, 1, 1, 2, 2]), // 3 rows: 2 agent steps
 *   actions: new Float32Array([0, 0.5, -0.5]),
 *   rewards: new Float32Array([0, 1, 0.5]),
 * });
 * const batch = replay.sample(4, 2, 7); // 4 sequences of 2 rows, seed 7
 * ```
 */
export class ReplayBuffer {
  /** O, the length of an observation. */
  readonly observationSize: number;
  /** A, the length of an action. */
  readonly actionSize: number;
  private readonly stored: PlanetEpisodeData[] = [];
  private rowCount = 0;

  /**
   * @param observationSize O, an integer ≥ 1.
   * @param actionSize A, an integer ≥ 1.
   */
  constructor(observationSize: number, actionSize: number) {
    assertInteger('observationSize', observationSize, 1);
    assertInteger('actionSize', actionSize, 1);
    this.observationSize = observationSize;
    this.actionSize = actionSize;
  }

  /** Episodes stored. */
  get episodes(): number {
    return this.stored.length;
  }

  /** Rows stored (Σ (T + 1)). */
  get rows(): number {
    return this.rowCount;
  }

  /** Agent steps stored (Σ T). */
  get steps(): number {
    return this.rowCount - this.stored.length;
  }

  /**
   * Adds an episode (copied to float32). Its rows are `rewards.length`
   * (≥ 1); `observations` and `actions` must hold rows · O and rows · A
   * finite numbers.
   *
   * @param episode The episode's aligned rows.
   */
  addEpisode(episode: {
    observations: ArrayLike<number>;
    actions: ArrayLike<number>;
    rewards: ArrayLike<number>;
  }): void {
    const rows = episodeRows(episode);
    const r = episode.rewards;
    if (rows < 1) throw new RangeError('episode.rewards must have ≥ 1 row (row 0: the reset), received 0');
    const data: PlanetEpisodeData = {
      observations: toFloat32('episode.observations', episode.observations, rows * this.observationSize),
      actions: toFloat32('episode.actions', episode.actions, rows * this.actionSize),
      rewards: toFloat32('episode.rewards', r, rows),
    };
    this.stored.push(data);
    this.rowCount += rows;
  }

  /**
   * Episode `index` (the stored arrays: do not modify them).
   *
   * @param index An integer in [0, episodes).
   */
  episode(index: number): PlanetEpisodeData {
    assertInteger('index', index, 0);
    const e = this.stored[index];
    if (e === undefined) throw new RangeError(`index must be < ${this.stored.length}, received ${index}`);
    return e;
  }

  /**
   * The number of windows of L rows inside one episode: Σ max(0, n − L + 1).
   *
   * @param length L, an integer ≥ 1.
   */
  windows(length: number): number {
    assertInteger('length', length, 1);
    let total = 0;
    for (const e of this.stored) total += Math.max(0, e.rewards.length - length + 1);
    return total;
  }

  /**
   * Draws `batch` sequences of `length` rows, each uniformly among the
   * {@link ReplayBuffer.windows} (with replacement), from a generator seeded
   * by `seed` (the loop passes `deriveSeed(seed, TASK_SEED_STREAMS.planetBatch, update)`).
   *
   * @param batch B, an integer ≥ 1.
   * @param length L, an integer ≥ 1.
   * @param seed An integer.
   * @returns The sequences as plain arrays.
   */
  sample(batch: number, length: number, seed: number): SequenceBatchData {
    assertInteger('batch', batch, 1);
    assertInteger('length', length, 1);
    assertInteger('seed', seed, Number.MIN_SAFE_INTEGER);
    const cumulative: number[] = [];
    let total = 0;
    for (const e of this.stored) {
      total += Math.max(0, e.rewards.length - length + 1);
      cumulative.push(total);
    }
    if (total === 0) {
      const longest = this.stored.reduce((m, e) => Math.max(m, e.rewards.length), 0);
      throw new RangeError(
        `length must be ≤ the rows of some stored episode (longest: ${longest} rows in ${this.stored.length} episodes), received ${length}`,
      );
    }
    const O = this.observationSize;
    const A = this.actionSize;
    const random = new PlanetRandom(seed);
    const observations = new Float32Array(batch * length * O);
    const actions = new Float32Array(batch * length * A);
    const rewards = new Float32Array(batch * length);
    const episodes = new Int32Array(batch);
    const starts = new Int32Array(batch);
    for (let b = 0; b < batch; b++) {
      const k = random.below(total);
      // The first episode whose cumulative window count exceeds k.
      let lo = 0;
      let hi = cumulative.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((cumulative[mid] as number) > k) hi = mid;
        else lo = mid + 1;
      }
      const e = this.stored[lo] as PlanetEpisodeData;
      const start = k - (lo === 0 ? 0 : (cumulative[lo - 1] as number));
      episodes[b] = lo;
      starts[b] = start;
      observations.set(e.observations.subarray(start * O, (start + length) * O), b * length * O);
      actions.set(e.actions.subarray(start * A, (start + length) * A), b * length * A);
      rewards.set(e.rewards.subarray(start, start + length), b * length);
    }
    return {
      batch,
      length,
      observationSize: O,
      actionSize: A,
      observations,
      actions,
      rewards,
      episodes,
      starts,
    };
  }

  /** The buffer as plain data (copies), for a checkpoint. */
  getState(): ReplayState {
    const O = this.observationSize;
    const A = this.actionSize;
    const observations = new Float32Array(this.rowCount * O);
    const actions = new Float32Array(this.rowCount * A);
    const rewards = new Float32Array(this.rowCount);
    let row = 0;
    for (const e of this.stored) {
      observations.set(e.observations, row * O);
      actions.set(e.actions, row * A);
      rewards.set(e.rewards, row);
      row += e.rewards.length;
    }
    return {
      observationSize: O,
      actionSize: A,
      rows: this.stored.map((e) => e.rewards.length),
      observations,
      actions,
      rewards,
    };
  }

  /**
   * A buffer holding the episodes of a {@link ReplayState} (copied).
   *
   * @param state What {@link ReplayBuffer.getState} returned (possibly read back from a checkpoint).
   */
  static fromState(state: ReplayState): ReplayBuffer {
    assertOptions('state', state, [
      'observationSize',
      'actionSize',
      'rows',
      'observations',
      'actions',
      'rewards',
    ]);
    assertObject('state', state);
    const buffer = new ReplayBuffer(state.observationSize, state.actionSize);
    if (!Array.isArray(state.rows))
      throw new TypeError(`state.rows must be an array, received ${describeValue(state.rows)}`);
    let total = 0;
    for (const [i, n] of state.rows.entries()) {
      assertInteger(`state.rows[${i}]`, n, 1);
      total += n;
    }
    const O = state.observationSize;
    const A = state.actionSize;
    for (const [name, array, size] of [
      ['observations', state.observations, total * O],
      ['actions', state.actions, total * A],
      ['rewards', state.rewards, total],
    ] as const) {
      if (!(array instanceof Float32Array)) {
        throw new TypeError(`state.${name} must be a Float32Array, received ${describeValue(array)}`);
      }
      if (array.length !== size)
        throw new RangeError(`state.${name} must have ${size} entries, received ${array.length}`);
    }
    let row = 0;
    for (const n of state.rows) {
      buffer.addEpisode({
        observations: state.observations.subarray(row * O, (row + n) * O),
        actions: state.actions.subarray(row * A, (row + n) * A),
        rewards: state.rewards.subarray(row, row + n),
      });
      row += n;
    }
    return buffer;
  }
}

/**
 * The model's tensors of a sampled batch: `observations` [B, L, O],
 * `actions` [B, L, A], `rewards` [B, L] (the caller disposes them).
 *
 * @param data A batch from {@link ReplayBuffer.sample}.
 */
export function sequenceBatchTensors(data: SequenceBatchData): {
  observations: tf.Tensor3D;
  actions: tf.Tensor3D;
  rewards: tf.Tensor2D;
} {
  const { batch: B, length: L } = data;
  return {
    observations: tf.tensor3d(data.observations, [B, L, data.observationSize]),
    actions: tf.tensor3d(data.actions, [B, L, data.actionSize]),
    rewards: tf.tensor2d(data.rewards, [B, L]),
  };
}
