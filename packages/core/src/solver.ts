import { assertKnownOptions, describeValue, formatShape } from '@dcem/errors';
import type { Backend } from './backend.js';
import { colouredNoise } from './coloured-noise.js';
import { fitMean, fitStd, sampleDiagonalGaussian } from './gaussian.js';
import { clamp } from './ops.js';
import {
  assertPositiveEverywhere,
  CEM_FLAVOUR,
  type CemOptions,
  DCEM_FLAVOUR,
  type ResolvedCemOptions,
  resolveCemOptions,
  type SolverFlavour,
  toRowTensor,
} from './options.js';
import { deriveSeed, SEED_STREAMS } from './seed.js';
import { selectWeights, valuesToScores } from './selectors.js';
import { attachStatus } from './status.js';

/** The best sample evaluated so far, per row. */
export interface CemBest<T> {
  /** x*, [batch, dim]: the sample with the lowest finite objective value seen (as evaluated, after clamping and `project`). */
  readonly sample: T;
  /** f(x*), [batch]; +∞ for a row whose values were all NaN or ±∞ (or before any iteration). */
  readonly value: T;
}

/** The k best samples of the last evaluated iteration, best first. */
export interface CemElites<T> {
  /** [batch, k, dim]. */
  readonly samples: T;
  /** Their objective values, [batch, k] (NaN and ±∞ reported as +∞). */
  readonly values: T;
  /** Their selector weights renormalised to sum to 1 per row, [batch, k]. */
  readonly weights: T;
}

/**
 * A warm start for {@link CemSolver.init}: every field is optional and
 * replaces the matching option (`initMean`, `initStd`); `elites` are extra
 * candidates evaluated with the fresh samples of the first iteration (iCEM's
 * shifted elites). The caller keeps ownership of these tensors.
 */
export interface CemStart<T> {
  /** μ₀: a tensor [dim], [1, dim] or [batch, dim]. */
  mean?: T;
  /** σ₀ > 0: a tensor [dim], [1, dim] or [batch, dim]. */
  std?: T;
  /** Candidates [batch, K, dim] (K ≥ 1), clamped to the bounds and added to the first iteration's samples. */
  elites?: T;
}

/**
 * The state of a CEM solve between iterations. Its tensors belong to the
 * solver's caller: release a state with {@link CemSolver.release} once it is
 * replaced.
 */
export interface CemState<T> {
  /** μ, [batch, dim]. */
  readonly mean: T;
  /** σ, [batch, dim]. */
  readonly std: T;
  /** Iterations completed so far. */
  readonly iteration: number;
  /**
   * True once the solve is known to have converged (every row, with
   * `convergence: 'row'`): as last read from the device (see
   * `earlyStopping`); a solve that never reads keeps false here, and its
   * result says whether it converged.
   */
  readonly converged: boolean;
  /** Per row, whether it is known to have stopped (`convergence: 'row'`; with `'batch'` always false: see `converged`). */
  readonly rowConverged: readonly boolean[];
  /** Running count of non-finite objective values, a rank-0 tensor (frozen once the solve has converged). */
  readonly nonFinite: T;
  /**
   * Per row, 1 once the row has converged on the device and 0 before,
   * [batch] (with `convergence: 'batch'` every entry is the same);
   * undefined when `tolerance` is 0. `converged` and `rowConverged` are
   * what was last read of it.
   */
  readonly stopped: T | undefined;
  /**
   * The iterations run until the solve converged (the one that met the
   * tolerance included), a rank-0 tensor counted on the device; undefined
   * when `tolerance` is 0 (then it is `iteration`).
   */
  readonly ran: T | undefined;
  /** The best sample so far; undefined before the first `tell`. */
  readonly best: CemBest<T> | undefined;
  /**
   * The elites of the iteration that ended the solve (or, with
   * `convergence: 'row'`, the iteration where each row stopped); undefined
   * before that. They are gathered only then, which saves a gather per iteration.
   */
  readonly elites: CemElites<T> | undefined;
  /** Samples carried into the next iteration, [batch, K, dim] (kept elites or the warm start's). */
  readonly carried: T | undefined;
  /** Their objective values [batch, K] when they are reused (`reuseEliteValues`). */
  readonly carriedValues: T | undefined;
}

/**
 * What a CEM/DCEM solve returns. The caller owns the tensors;
 * {@link disposeCemResult} frees them all. (A type alias rather than an
 * interface, so that a tensor library's container type accepts it: in
 * TensorFlow.js, `tf.dispose(result)` type-checks and frees them all too.)
 */
export type CemResult<T> = {
  /** The mean clamped to the bounds, [batch, dim]: the argmin estimate x̂. */
  solution: T;
  /**
   * `[iterations, converged (1 or 0), nonFiniteValues]`, a tensor [3]: the
   * three numbers below, on the device. Read it asynchronously to learn them
   * without a synchronous read (the async solves do).
   */
  status: T;
  /** The final mean μ before clamping, [batch, dim]. */
  mean: T;
  /** The final standard deviation σ, [batch, dim]. */
  std: T;
  /**
   * Iterations until the solve converged (including the one that met the
   * tolerance), or `numIterations`. Iterations run after convergence (frozen,
   * without early stopping) do not count. From the results of the
   * synchronous solves, this and the next two are read from `status` on
   * first access (one synchronous read for the three; they are
   * non-enumerable getters, so spreading the result drops them); the async
   * solves resolve them before they return.
   */
  iterations: number;
  /** Whether the tolerance was met before `numIterations` ran out (every row, with `convergence: 'row'`). */
  converged: boolean;
  /** How many objective values until convergence were NaN or ±∞ (they never count as elites). */
  nonFiniteValues: number;
  /** The best sample ever evaluated and its value (before any iteration: the solution, value +∞). */
  best: { sample: T; value: T };
  /**
   * The k best samples of the last evaluated iteration, best first, their
   * values and their selector weights renormalised to sum to 1 per row. For
   * a state taken before the solve is `done` (an interrupted solve), whose
   * elites were not gathered: k copies of the solution, values +∞, weights 1/k.
   */
  elites: { samples: T; values: T; weights: T };
};

/**
 * Frees every tensor of a {@link CemResult}: `solution`, `status`, `mean`,
 * `std`, `best.sample`, `best.value`, `elites.samples`, `elites.values` and
 * `elites.weights`.
 *
 * @param backend The backend that made the result.
 * @param result A result of `cem`, `dcem` or {@link CemSolver.result}.
 * @example
 * ```ts
 * const result = cem(backend, f, { dim: 2 });
 * console.log(backend.readSync(result.solution));
 * disposeCemResult(backend, result);
 * ```
 */
export function disposeCemResult<T>(backend: Backend<T>, result: CemResult<T>): void {
  for (const t of [
    result.solution,
    result.status,
    result.mean,
    result.std,
    result.best.sample,
    result.best.value,
    result.elites.samples,
    result.elites.values,
    result.elites.weights,
  ]) {
    backend.dispose(t);
  }
}

/**
 * CEM as a state machine (like evosax's ask/tell): `init` → (`ask` →
 * evaluate → `tell`)* → `result`. Use it to drive the loop yourself, for
 * example to evaluate samples asynchronously; {@link cem} and {@link dcem}
 * are this loop.
 */
export interface CemSolver<T> {
  /** The validated options with defaults filled in. */
  readonly options: ResolvedCemOptions<T>;
  /**
   * The initial state: μ₀ and σ₀ broadcast to [batch, dim], from `start`
   * where given (a warm start, see {@link CemStart}) and from the options otherwise.
   */
  init(start?: CemStart<T>): CemState<T>;
  /** True when the solve is over (converged or out of iterations). */
  done(state: CemState<T>): boolean;
  /**
   * The number of fresh samples of iteration `iteration`:
   * Nᵢ = max(⌊N γ^(−i)⌋, minSamples) (N without decay).
   */
  freshSamples(iteration: number): number;
  /**
   * The samples of the next iteration, [batch, Pᵢ, dim]: the Nᵢ fresh ones
   * X = clamp(μ + σ ⊙ ε, lowerBound, upperBound), then the carried elites
   * (unless their values are reused), then the clamped mean (last iteration
   * with `addMeanToLast`); `project` maps the whole set.
   */
  ask(state: CemState<T>): T;
  /**
   * Refits the distribution to evaluated samples: returns the next state and
   * calls `onIteration`. Does not release `state`, `samples` or `values`.
   * The convergence test runs on the device; the only synchronous read is
   * of the convergence flag, [batch] values, after the iterations where
   * `earlyStopping` asks for it or `onIteration` needs it (with `tolerance`
   * > 0), and those of `debug` checks.
   *
   * @param samples What `ask` returned, [batch, Pᵢ, dim].
   * @param values f(samples), [batch, Pᵢ].
   */
  tell(state: CemState<T>, samples: T, values: T): CemState<T>;
  /**
   * {@link CemSolver.tell} that awaits the read of the convergence flag
   * (`backend.read`) instead of reading it synchronously.
   */
  tellAsync(state: CemState<T>, samples: T, values: T): Promise<CemState<T>>;
  /**
   * The result of a finished (or interrupted) solve. The state's mean, std,
   * best and elites become the result's (the caller owns them); its other
   * tensors are released, so do not `release` the state afterwards. Call it
   * once per state.
   */
  result(state: CemState<T>): CemResult<T>;
  /**
   * {@link CemSolver.result} whose `iterations`, `converged` and
   * `nonFiniteValues` are plain values, read from `status` with an awaited
   * `backend.read` (no synchronous read).
   */
  resultAsync(state: CemState<T>): Promise<CemResult<T>>;
  /** Releases the tensors of `state`. */
  release(state: CemState<T>): void;
  /** Releases what the solver holds (its bound tensors). */
  dispose(): void;
}

/**
 * The best-sample update of a CEM iteration: per row of `samples`
 * [batch, P, dim], the sample with the largest score (the first on ties) and
 * its value, NaN and ±∞ taken as +∞; where `previous` is given, it stays
 * unless the new value is strictly lower. Gradients flow to the sample, the
 * value and the previous best it came from; the choice itself (the scores)
 * gets none. Uses the backend's `fused.best` where it has one.
 *
 * @param backend Tensor operations.
 * @param samples [batch, P, dim].
 * @param scores [batch, P], larger is better (see `valuesToScores`).
 * @param values The objective values [batch, P].
 * @param previous The best so far ([batch, dim] and [batch]), if any.
 * @returns The new best sample [batch, dim] and value [batch].
 */
export function updateBest<T>(
  backend: Backend<T>,
  samples: T,
  scores: T,
  values: T,
  previous: { sample: T; value: T } | undefined,
): { sample: T; value: T } {
  const fused = backend.fused?.best?.(samples, scores, values, previous);
  if (fused !== undefined) return fused;
  const [batch = 0, population = 0] = backend.shape(values);
  // A one-hot mask picks the row's sample (no gradient through the choice).
  const first = backend.topkMask(backend.stopGradient(scores), 1);
  let sample = backend.sum(backend.mul(backend.reshape(first, [batch, population, 1]), samples), 1, false);
  const clean = backend.where(
    backend.isFinite(values),
    values,
    backend.fill([batch, population], Number.POSITIVE_INFINITY),
  );
  let value = backend.sum(
    backend.where(backend.greater(first, backend.scalar(0)), clean, backend.fill([batch, population], 0)),
    1,
    false,
  );
  if (previous !== undefined) {
    const better = backend.less(value, previous.value);
    sample = backend.where(backend.reshape(better, [batch, 1]), sample, previous.sample);
    value = backend.where(better, value, previous.value);
  }
  return { sample, value };
}

/**
 * ‖μ' − μ‖ of the whole batch (`perRow` false: one entry) or of each row,
 * from the two means [batch, dim] read back: the differences are rounded to
 * float32, as a float32 tensor subtraction rounds them, and summed in float64.
 */
export function meanChange(
  next: ArrayLike<number>,
  previous: ArrayLike<number>,
  batch: number,
  dim: number,
  perRow: boolean,
): number[] {
  const sums = new Float64Array(perRow ? batch : 1);
  for (let b = 0; b < batch; b++) {
    let s = 0;
    for (let j = 0; j < dim; j++) {
      const d = Math.fround((next[b * dim + j] as number) - (previous[b * dim + j] as number));
      s += d * d;
    }
    const at = perRow ? b : 0;
    sums[at] = (sums[at] as number) + s;
  }
  return Array.from(sums, Math.sqrt);
}

function checkShape<T>(backend: Backend<T>, what: string, x: unknown, expected: number[]): void {
  if (x === null || typeof x !== 'object') {
    throw new TypeError(
      `${what} must be a tensor of shape ${formatShape(expected)}, received ${describeValue(x)}`,
    );
  }
  const shape = backend.shape(x as T);
  if (shape.length !== expected.length || shape.some((s, i) => s !== expected[i])) {
    throw new RangeError(`${what} must have shape ${formatShape(expected)}, received ${formatShape(shape)}`);
  }
}

/**
 * Creates the CEM state machine for `options` (validated here; see
 * {@link CemOptions}). Without `temperature` and `selector` it is vanilla
 * CEM (hard top-k), in `@dcem/core` and `@dcem/tfjs` alike; see
 * {@link createDcem} for DCEM's defaults. With `seed`, iteration t draws
 * its standard normals with the seed
 * `deriveSeed(seed, SEED_STREAMS.solverIteration, t)`.
 *
 * @param backend Tensor operations.
 * @param options Solver options.
 * @example
 * ```ts
 * const solver = createCem(backend, { dim: 2, numSamples: 50, numElites: 5 });
 * let state = solver.init();
 * while (!solver.done(state)) {
 *   const x = solver.ask(state);
 *   const next = solver.tell(state, x, f(x));
 *   solver.release(state);
 *   state = next;
 * }
 * const result = solver.result(state);
 * ```
 */
export function createCem<T>(backend: Backend<T>, options: CemOptions<T>): CemSolver<T> {
  return createSolver(backend, options, CEM_FLAVOUR);
}

/** The seed of iteration `iteration`'s standard-normal draws of a solve seeded with `seed`. */
function iterationDrawSeed(seed: number, iteration: number): number {
  return deriveSeed(seed, SEED_STREAMS.solverIteration, iteration);
}

/** The solver behind {@link createCem} and {@link createDcem}, which differ only in `flavour`. */
function createSolver<T>(backend: Backend<T>, options: CemOptions<T>, flavour: SolverFlavour): CemSolver<T> {
  const o = resolveCemOptions(backend, options, flavour);
  const { batchSize: batch, numSamples: n, dim, numElites: k } = o;

  const freshSamples = (t: number): number => {
    if (o.populationDecay === 1) return n;
    // The relative nudge keeps ⌊N γ^(−t)⌋ exact where N γ^(−t) is an integer up to rounding.
    return Math.max(Math.floor((n / o.populationDecay ** t) * (1 + 1e-12)), o.minSamples);
  };
  const addsMean = (t: number) => o.addMeanToLast && t === o.numIterations - 1;
  /** Samples `ask` returns at iteration t for a state carrying `carried` samples. */
  const askCount = (state: CemState<T>) => {
    const carried =
      state.carried !== undefined && state.carriedValues === undefined
        ? (backend.shape(state.carried)[1] ?? 0)
        : 0;
    return freshSamples(state.iteration) + carried + (addsMean(state.iteration) ? 1 : 0);
  };
  // Bounds are [1 or batch, dim]; samples [batch, n, dim] need them as [·, 1, dim].
  const perSample = (bound: T | undefined) =>
    bound === undefined ? undefined : backend.reshape(bound, [backend.shape(bound)[0] ?? 1, 1, dim]);
  const copy = (x: T) => backend.add(x, backend.scalar(0));
  const rowMask = (bits: readonly boolean[], shape: number[]) =>
    backend.greater(
      backend.tensor(
        bits.map((b) => (b ? 1 : 0)),
        shape,
      ),
      backend.scalar(0),
    );
  const drawNoise = (t: number, count: number): T => {
    if (o.noise !== undefined) {
      const noise = o.noise(t);
      checkShape(backend, `noise(${t})`, noise, [batch, count, dim]);
      return noise;
    }
    const seed = o.seed === undefined ? undefined : iterationDrawSeed(o.seed, t);
    if (o.noiseExponent === 0) return backend.randomNormal([batch, count, dim], seed);
    // Coloured along noiseAxis of the [batch, count, ...noiseShape] layout of the draws.
    const shaped = colouredNoise(
      backend,
      [batch, count, ...o.noiseShape],
      2 + o.noiseAxis,
      o.noiseExponent,
      seed,
    );
    return backend.reshape(shaped, [batch, count, dim]);
  };

  const release = (state: CemState<T>) => {
    for (const t of [
      state.mean,
      state.std,
      state.nonFinite,
      state.stopped,
      state.ran,
      state.carried,
      state.carriedValues,
    ]) {
      if (t !== undefined) backend.dispose(t);
    }
    if (state.best !== undefined) {
      backend.dispose(state.best.sample);
      backend.dispose(state.best.value);
    }
    if (state.elites !== undefined) {
      backend.dispose(state.elites.samples);
      backend.dispose(state.elites.values);
      backend.dispose(state.elites.weights);
    }
  };

  /** Whether the solver tracks convergence on the device (`tolerance` > 0). */
  const track = o.tolerance > 0;
  /** Whether the convergence flag is read after iteration t. */
  const readsAfter = (t: number) =>
    track &&
    (o.onIteration !== undefined ||
      (o.earlyStopping > 0 && (t + 1) % o.earlyStopping === 0 && t + 1 < o.numIterations));

  /** One refit, before the convergence flag is read: see `settle`. */
  interface Step {
    readonly state: CemState<T>;
    readonly next: CemState<T>;
    /** The convergence flags [batch] to read, kept; undefined when nothing is read. */
    readonly flag: T | undefined;
    /** The callback's arguments, when there is a callback; `owned` are the solver's, to release. */
    readonly info: { samples: T; values: T; weights: T; owned: T[] } | undefined;
  }

  const advance = (state: CemState<T>, samples: T, values: T): Step => {
    const count = askCount(state);
    checkShape(backend, 'samples', samples, [batch, count, dim]);
    checkShape(backend, 'objective(samples)', values, [batch, count]);
    const row = o.convergence === 'row';
    const reads = readsAfter(state.iteration);
    const next = backend.tidy(() => {
      let xs = samples;
      let vs = values;
      let reusedNonFinite: T | undefined;
      if (state.carried !== undefined && state.carriedValues !== undefined) {
        xs = backend.concat([samples, state.carried], 1);
        vs = backend.concat([values, state.carriedValues], 1);
        reusedNonFinite = backend.sum(
          backend.sum(
            backend.sub(backend.scalar(1), backend.maskToFloat(backend.isFinite(state.carriedValues))),
            1,
            false,
          ),
          0,
          false,
        );
      }
      const population = backend.shape(vs)[1] ?? 0;
      const { scores, nonFinite } = valuesToScores(backend, vs, {
        normalize: o.normalize,
        temperature: o.temperature,
      });
      const weights = selectWeights(backend, scores, k, o.selector, o.temperature, o.lmlIterations, o.debug);
      const fit = backend.fused?.fit?.(xs, weights, k, o.minStd);
      const fitted = fit?.mean ?? fitMean(backend, xs, weights, k);
      const alpha = o.momentum;
      const blend = (previous: T, current: T) =>
        alpha === 0
          ? current
          : backend.add(
              backend.mul(backend.scalar(alpha), previous),
              backend.mul(backend.scalar(1 - alpha), current),
            );
      let mean = blend(state.mean, fitted);
      let nonFiniteCount = backend.add(state.nonFinite, nonFinite);
      if (reusedNonFinite !== undefined) nonFiniteCount = backend.sub(nonFiniteCount, reusedNonFinite);
      let std = blend(state.std, fit?.std ?? fitStd(backend, xs, weights, fitted, k, o.minStd));
      if (o.maxStd !== undefined) std = backend.minimum(std, backend.scalar(o.maxStd));

      // NaN and ±∞ values as +∞ (for the elites' values).
      const cleaned = () =>
        backend.where(backend.isFinite(vs), vs, backend.fill([batch, population], Number.POSITIVE_INFINITY));
      let { sample: bestSample, value: bestValue } = updateBest(backend, xs, scores, vs, state.best);
      const out: Record<string, T> = {};

      // The k best of this iteration, best first, are gathered only where
      // they may be the result's: every iteration while convergence is
      // tracked (the solve may end at any), else the last one; and the
      // ⌊ξk⌋ best when elites are kept.
      const final = track || state.iteration + 1 >= o.numIterations;
      const ranked = final ? k : o.keptElites;
      const order = ranked > 0 ? backend.topkIndices(backend.stopGradient(scores), ranked) : undefined;
      const gathered = order === undefined ? undefined : backend.batchGather(xs, order);
      const gatheredValues =
        order === undefined
          ? undefined
          : backend.reshape(backend.batchGather(backend.reshape(cleaned(), [batch, population, 1]), order), [
              batch,
              ranked,
            ]);
      let elites: { samples: T; values: T; weights: T } | undefined;
      if (final && order !== undefined && gathered !== undefined && gatheredValues !== undefined) {
        const picked = backend.reshape(
          backend.batchGather(backend.reshape(weights, [batch, population, 1]), order),
          [batch, k],
        );
        const mass = backend.sum(picked, 1, true);
        elites = {
          samples: gathered,
          values: gatheredValues,
          weights: backend.where(
            backend.greater(mass, backend.scalar(0)),
            backend.div(picked, backend.maximum(mass, backend.scalar(Number.MIN_VALUE))),
            backend.fill([batch, k], 1 / k),
          ),
        };
      } else if (state.elites !== undefined) {
        elites = {
          samples: copy(state.elites.samples),
          values: copy(state.elites.values),
          weights: copy(state.elites.weights),
        };
      }

      if (track && state.stopped !== undefined && state.ran !== undefined) {
        // Convergence on the device: ‖μ' − μ‖ of each row ('row') or of the
        // whole batch, against the tolerance. Rows stopped before this
        // iteration keep their whole state; rows stopping now keep the new
        // mean, the best and the elites of this iteration, and their σ.
        const moved = backend.stopGradient(backend.sub(mean, state.mean));
        const squares = backend.sum(backend.square(moved), 1, false);
        const change = backend.sqrt(row ? squares : backend.sum(squares, 0, true));
        const below = backend.maskToFloat(backend.less(change, backend.scalar(o.tolerance)));
        const stopped = backend.maximum(state.stopped, below);
        const was = backend.greater(state.stopped, backend.scalar(0.5));
        const wasRows = backend.reshape(was, [batch, 1]);
        const keepStd = backend.reshape(backend.greater(stopped, backend.scalar(0.5)), [batch, 1]);
        const allWere = backend.greater(backend.min(state.stopped, 0, false), backend.scalar(0.5));
        mean = backend.where(wasRows, state.mean, mean);
        std = backend.where(keepStd, state.std, std);
        if (state.best !== undefined) {
          bestSample = backend.where(wasRows, state.best.sample, bestSample);
          bestValue = backend.where(was, state.best.value, bestValue);
        }
        if (elites !== undefined && state.elites !== undefined) {
          const was3 = backend.reshape(was, [batch, 1, 1]);
          elites = {
            samples: backend.where(was3, state.elites.samples, elites.samples),
            values: backend.where(wasRows, state.elites.values, elites.values),
            weights: backend.where(wasRows, state.elites.weights, elites.weights),
          };
        }
        nonFiniteCount = backend.where(allWere, state.nonFinite, nonFiniteCount);
        out.ran = backend.where(allWere, state.ran, backend.add(state.ran, backend.scalar(1)));
        out.stopped = stopped;
        if (reads) out.flag = copy(stopped);
      }
      Object.assign(out, { mean, std, nonFinite: nonFiniteCount, bestSample, bestValue });
      if (elites !== undefined) {
        out.eliteSamples = elites.samples;
        out.eliteValues = elites.values;
        out.eliteWeights = elites.weights;
      }
      if (o.keptElites > 0 && gathered !== undefined && gatheredValues !== undefined) {
        const kept = o.keptElites;
        const flat = backend.reshape(gathered, [batch, ranked * dim]);
        out.carried = backend.reshape(backend.sliceColumns(flat, 0, kept * dim), [batch, kept, dim]);
        if (o.reuseEliteValues) out.carriedValues = backend.sliceColumns(gatheredValues, 0, kept);
      }
      if (o.onIteration !== undefined) {
        // Kept for the callback, which runs once the flag is read (see `settle`).
        if (xs !== samples) out.infoSamples = xs;
        if (vs !== values) out.infoValues = vs;
        out.infoWeights = weights;
      }
      return out;
    });
    const info =
      next.infoWeights === undefined
        ? undefined
        : {
            samples: next.infoSamples ?? samples,
            values: next.infoValues ?? values,
            weights: next.infoWeights,
            owned: [next.infoSamples, next.infoValues, next.infoWeights].filter(
              (t): t is T => t !== undefined,
            ),
          };
    return {
      state,
      flag: next.flag,
      info,
      next: {
        mean: next.mean as T,
        std: next.std as T,
        nonFinite: next.nonFinite as T,
        stopped: next.stopped,
        ran: next.ran,
        best: { sample: next.bestSample as T, value: next.bestValue as T },
        elites:
          next.eliteSamples === undefined
            ? undefined
            : {
                samples: next.eliteSamples,
                values: next.eliteValues as T,
                weights: next.eliteWeights as T,
              },
        carried: next.carried,
        carriedValues: next.carriedValues,
        iteration: state.iteration + 1,
        converged: state.converged,
        rowConverged: state.rowConverged,
      },
    };
  };

  /**
   * Completes a `Step` with the flags read (if any): the host's view of
   * convergence, then `onIteration` unless the solve is known to have
   * converged. Releases what the step kept for this.
   */
  const settle = (step: Step, flags: ArrayLike<number> | undefined): CemState<T> => {
    let { next } = step;
    try {
      if (flags !== undefined) {
        const rowConverged = Array.from({ length: batch }, (_, b) => (flags[b] ?? 0) > 0.5);
        const converged = rowConverged.every((c) => c);
        next = {
          ...next,
          converged,
          rowConverged: o.convergence === 'row' ? rowConverged : rowConverged.map(() => false),
        };
      }
      if (step.info !== undefined && !next.converged) {
        const info = step.info;
        backend.tidy(() => {
          o.onIteration?.({
            iteration: step.state.iteration,
            samples: info.samples,
            values: info.values,
            weights: info.weights,
            mean: next.mean,
            std: next.std,
          });
          return undefined;
        });
      }
      return next;
    } catch (error) {
      release(next);
      throw error;
    } finally {
      if (step.flag !== undefined) backend.dispose(step.flag);
      for (const t of step.info?.owned ?? []) backend.dispose(t);
    }
  };

  /** `[iterations, converged, nonFiniteValues]` of a state, a new tensor [3]. */
  const statusOf = (state: CemState<T>): T =>
    backend.tidy(() => {
      const one = (x: T) => backend.reshape(x, [1]);
      const ran = state.ran ?? backend.scalar(state.iteration);
      const converged =
        state.stopped === undefined
          ? backend.scalar(0)
          : backend.maskToFloat(backend.greater(backend.min(state.stopped, 0, false), backend.scalar(0.5)));
      return backend.concat(
        [one(ran), one(converged), one(backend.add(state.nonFinite, backend.scalar(0)))],
        0,
      );
    });

  const finish = (
    state: CemState<T>,
    read: { status: T; values: ArrayLike<number> } | undefined,
  ): CemResult<T> => {
    const status = read?.status ?? statusOf(state);
    const extra = backend.tidy(() => {
      const solution = clamp(backend, state.mean, o.lowerBound, o.upperBound);
      const out: Record<string, T> = { solution };
      if (state.best === undefined) {
        out.bestSample = copy(solution);
        out.bestValue = backend.fill([batch], Number.POSITIVE_INFINITY);
      }
      if (state.elites === undefined) {
        out.eliteSamples = backend.add(
          backend.reshape(solution, [batch, 1, dim]),
          backend.fill([batch, k, dim], 0),
        );
        out.eliteValues = backend.fill([batch, k], Number.POSITIVE_INFINITY);
        out.eliteWeights = backend.fill([batch, k], 1 / k);
      }
      return out;
    });
    // The counts are in `status` now: release their tensors, and the carried samples.
    for (const t of [state.nonFinite, state.stopped, state.ran, state.carried, state.carriedValues]) {
      if (t !== undefined) backend.dispose(t);
    }
    const result = {
      solution: extra.solution as T,
      status,
      mean: state.mean,
      std: state.std,
      best: state.best ?? { sample: extra.bestSample as T, value: extra.bestValue as T },
      elites: state.elites ?? {
        samples: extra.eliteSamples as T,
        values: extra.eliteValues as T,
        weights: extra.eliteWeights as T,
      },
    };
    return attachStatus(backend, result, status, read?.values);
  };

  return {
    options: o,
    freshSamples,
    init(start) {
      if (start !== undefined) {
        if (start === null || typeof start !== 'object') {
          throw new TypeError(`start must be an object, received ${describeValue(start)}`);
        }
        assertKnownOptions('start field', start, ['mean', 'std', 'elites']);
      }
      const tensors = backend.tidy(() => {
        const zeros = backend.fill([batch, dim], 0);
        const mean = backend.add(
          zeros,
          toRowTensor(backend, 'start.mean', start?.mean ?? o.initMean, batch, dim),
        );
        const std = backend.add(
          zeros,
          toRowTensor(backend, 'start.std', start?.std ?? o.initStd, batch, dim),
        );
        // A read: only in debug mode (see `debug`).
        if (start?.std !== undefined && o.debug) assertPositiveEverywhere(backend, 'start.std', std);
        const out: Record<string, T> = { mean, std, nonFinite: backend.scalar(0) };
        if (track) {
          out.stopped = backend.fill([batch], 0);
          out.ran = backend.scalar(0);
        }
        if (start?.elites !== undefined) {
          const e = start.elites;
          if (e === null || typeof e !== 'object') {
            throw new TypeError(
              `start.elites must be a tensor [${batch}, K, ${dim}], received ${describeValue(e)}`,
            );
          }
          const shape = backend.shape(e);
          if (shape.length !== 3 || shape[0] !== batch || shape[2] !== dim || !((shape[1] ?? 0) >= 1)) {
            throw new RangeError(
              `start.elites must have shape [${batch}, K, ${dim}] with K ≥ 1, received ${formatShape(shape)}`,
            );
          }
          // A new tensor (add 0 when there are no bounds): the state owns what it holds.
          out.carried = copy(clamp(backend, e, perSample(o.lowerBound), perSample(o.upperBound)));
        }
        return out;
      });
      return {
        mean: tensors.mean as T,
        std: tensors.std as T,
        nonFinite: tensors.nonFinite as T,
        stopped: tensors.stopped,
        ran: tensors.ran,
        carried: tensors.carried,
        carriedValues: undefined,
        best: undefined,
        elites: undefined,
        iteration: 0,
        converged: false,
        rowConverged: new Array<boolean>(batch).fill(false),
      };
    },
    done(state) {
      return state.converged || state.iteration >= o.numIterations;
    },
    ask(state) {
      return backend.tidy(() => {
        const t = state.iteration;
        const fresh = freshSamples(t);
        const noise = drawNoise(t, fresh);
        // The next iteration's draws are known now (seeded solves): a backend
        // may make them while the caller evaluates this iteration's samples.
        if (
          o.noise === undefined &&
          o.noiseExponent === 0 &&
          o.seed !== undefined &&
          t + 1 < o.numIterations
        ) {
          backend.prefetchNormal?.([batch, freshSamples(t + 1), dim], iterationDrawSeed(o.seed, t + 1));
        }
        let x = backend.fused?.sample?.(state.mean, state.std, noise, o.lowerBound, o.upperBound);
        if (x === undefined) {
          const raw = sampleDiagonalGaussian(backend, state.mean, state.std, noise);
          x = clamp(backend, raw, perSample(o.lowerBound), perSample(o.upperBound));
        }
        const parts = [x];
        if (state.carried !== undefined && state.carriedValues === undefined) parts.push(state.carried);
        if (addsMean(t)) {
          const m = clamp(backend, state.mean, o.lowerBound, o.upperBound);
          parts.push(backend.reshape(m, [batch, 1, dim]));
        }
        if (parts.length > 1) x = backend.concat(parts, 1);
        if (o.project !== undefined) {
          x = o.project(x);
          checkShape(backend, 'project(samples)', x, [batch, askCount(state), dim]);
        }
        return x;
      });
    },
    tell(state, samples, values) {
      const step = advance(state, samples, values);
      return settle(step, step.flag === undefined ? undefined : backend.readSync(step.flag));
    },
    async tellAsync(state, samples, values) {
      const step = advance(state, samples, values);
      return settle(step, step.flag === undefined ? undefined : await backend.read(step.flag));
    },
    result(state) {
      return finish(state, undefined);
    },
    async resultAsync(state) {
      const status = statusOf(state);
      let values: ArrayLike<number>;
      try {
        values = await backend.read(status);
      } catch (error) {
        backend.dispose(status);
        release(state);
        throw error;
      }
      return finish(state, { status, values });
    },
    release,
    dispose() {
      if (o.lowerBound !== undefined) backend.dispose(o.lowerBound);
      if (o.upperBound !== undefined) backend.dispose(o.upperBound);
    },
  };
}

/**
 * {@link createCem} with DCEM's defaults (Amos & Yarats, ICML 2020): without
 * `temperature` and `selector` the elite weights are LML_k(−v̂/τ) with τ = 1
 * (a softmax when k = 1). The same name means the same in `@dcem/tfjs`.
 *
 * @param backend Tensor operations.
 * @param options Solver options.
 * @example
 * ```ts
 * const solver = createDcem(backend, { dim: 2, numSamples: 50, numElites: 5 });
 * ```
 */
export function createDcem<T>(backend: Backend<T>, options: CemOptions<T>): CemSolver<T> {
  return createSolver(backend, options, DCEM_FLAVOUR);
}
