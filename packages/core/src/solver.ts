import { assertKnownOptions, describeValue, formatShape } from '@dcem/errors';
import type { Backend } from './backend.js';
import { colouredNoise } from './coloured-noise.js';
import { fitMean, fitStd, sampleDiagonalGaussian } from './gaussian.js';
import { clamp } from './ops.js';
import {
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
  /** True once the solve converged (every row, with `convergence: 'row'`). */
  readonly converged: boolean;
  /** Per row, whether it has stopped (`convergence: 'row'`; with `'batch'` always false: see `converged`). */
  readonly rowConverged: readonly boolean[];
  /** Running count of non-finite objective values, a rank-0 tensor. */
  readonly nonFinite: T;
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
  /** The final mean μ before clamping, [batch, dim]. */
  mean: T;
  /** The final standard deviation σ, [batch, dim]. */
  std: T;
  /** Iterations run (including the one that met the tolerance). */
  iterations: number;
  /** Whether the tolerance stopped the solve before `numIterations` (every row, with `convergence: 'row'`). */
  converged: boolean;
  /** How many objective values over the whole solve were NaN or ±∞ (they never count as elites). */
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
 * Frees every tensor of a {@link CemResult}: `solution`, `mean`, `std`,
 * `best.sample`, `best.value`, `elites.samples`, `elites.values` and
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
   * Reads back to the host when `tolerance` > 0 (the new and the previous
   * mean, to compute the change there; a backend that keeps what it read
   * pays for the new one only) and for a selector function.
   *
   * @param samples What `ask` returned, [batch, Pᵢ, dim].
   * @param values f(samples), [batch, Pᵢ].
   */
  tell(state: CemState<T>, samples: T, values: T): CemState<T>;
  /**
   * The result of a finished (or interrupted) solve. The state's mean, std,
   * best and elites become the result's (the caller owns them); its other
   * tensors are released, so do not `release` the state afterwards. Call it
   * once per state.
   */
  result(state: CemState<T>): CemResult<T>;
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
    for (const t of [state.mean, state.std, state.nonFinite, state.carried, state.carriedValues]) {
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
        if (start?.std !== undefined) {
          const bad = Array.from(backend.readSync(std)).find((v) => !(v > 0) || !Number.isFinite(v));
          if (bad !== undefined) {
            throw new RangeError(
              `start.std must be > 0 and finite everywhere, received ${describeValue(bad)}`,
            );
          }
        }
        const out: Record<string, T> = { mean, std, nonFinite: backend.scalar(0) };
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
      const count = askCount(state);
      checkShape(backend, 'samples', samples, [batch, count, dim]);
      checkShape(backend, 'objective(samples)', values, [batch, count]);
      const row = o.convergence === 'row';
      const wasActive = state.rowConverged.map((c) => !c);
      let rowConverged = state.rowConverged;
      let converged = false;
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
        const weights = selectWeights(backend, scores, k, o.selector, o.temperature, o.lmlIterations);
        // The fused refit computes σ' too; it is dropped if the tolerance stops the solve.
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
        let count = backend.add(state.nonFinite, nonFinite);
        if (reusedNonFinite !== undefined) count = backend.sub(count, reusedNonFinite);

        // Convergence: the change of the mean on the host (whole batch, or per
        // row), from one read of each mean; no tensor ops, so nothing is taped.
        let stopping = new Array<boolean>(batch).fill(false);
        if (o.tolerance > 0) {
          const change = meanChange(backend.readSync(mean), backend.readSync(state.mean), batch, dim, row);
          if (row) {
            stopping = wasActive.map((active, b) => active && (change[b] ?? 0) < o.tolerance);
            rowConverged = state.rowConverged.map((c, b) => c || (stopping[b] as boolean));
            converged = rowConverged.every((c) => c);
          } else {
            converged = (change[0] ?? 0) < o.tolerance;
          }
        }
        let std: T;
        if (converged && !row) {
          // As the reference: keep the new mean, leave σ, skip the callback.
          std = copy(state.std);
        } else {
          std = blend(state.std, fit?.std ?? fitStd(backend, xs, weights, fitted, k, o.minStd));
          if (o.maxStd !== undefined) std = backend.minimum(std, backend.scalar(o.maxStd));
        }

        // NaN and ±∞ values as +∞ (for the elites' values).
        const cleaned = () =>
          backend.where(
            backend.isFinite(vs),
            vs,
            backend.fill([batch, population], Number.POSITIVE_INFINITY),
          );
        const { sample: bestSample, value: bestValue } = updateBest(backend, xs, scores, vs, state.best);
        const out: Record<string, T> = { mean, std, nonFinite: count, bestSample, bestValue };

        // The k best of this iteration, best first, are gathered only where
        // they are needed: when the solve (or a row) ends here, and the
        // ⌊ξk⌋ best when elites are kept.
        const final = converged || state.iteration + 1 >= o.numIterations || stopping.some((x) => x);
        const ranked = final ? k : o.keptElites;
        const order = ranked > 0 ? backend.topkIndices(backend.stopGradient(scores), ranked) : undefined;
        const gathered = order === undefined ? undefined : backend.batchGather(xs, order);
        const gatheredValues =
          order === undefined
            ? undefined
            : backend.reshape(
                backend.batchGather(backend.reshape(cleaned(), [batch, population, 1]), order),
                [batch, ranked],
              );
        if (final && order !== undefined && gathered !== undefined && gatheredValues !== undefined) {
          const picked = backend.reshape(
            backend.batchGather(backend.reshape(weights, [batch, population, 1]), order),
            [batch, k],
          );
          const mass = backend.sum(picked, 1, true);
          out.eliteSamples = gathered;
          out.eliteValues = gatheredValues;
          out.eliteWeights = backend.where(
            backend.greater(mass, backend.scalar(0)),
            backend.div(picked, backend.maximum(mass, backend.scalar(Number.MIN_VALUE))),
            backend.fill([batch, k], 1 / k),
          );
        } else if (state.elites !== undefined) {
          out.eliteSamples = copy(state.elites.samples);
          out.eliteValues = copy(state.elites.values);
          out.eliteWeights = copy(state.elites.weights);
        }
        if (row && (wasActive.some((a) => !a) || stopping.some((x) => x))) {
          // Stopped rows keep their whole state; rows stopping now keep σ.
          const active2 = rowMask(wasActive, [batch, 1]);
          const stdRows = rowMask(
            wasActive.map((a, b) => a && !(stopping[b] as boolean)),
            [batch, 1],
          );
          out.mean = backend.where(active2, mean, state.mean);
          out.std = backend.where(stdRows, std, state.std);
          if (state.best !== undefined) {
            out.bestSample = backend.where(active2, bestSample, state.best.sample);
            out.bestValue = backend.where(backend.reshape(active2, [batch]), bestValue, state.best.value);
          }
          if (final && state.elites !== undefined) {
            out.eliteSamples = backend.where(
              backend.reshape(active2, [batch, 1, 1]),
              out.eliteSamples as T,
              state.elites.samples,
            );
            out.eliteValues = backend.where(active2, out.eliteValues as T, state.elites.values);
            out.eliteWeights = backend.where(active2, out.eliteWeights as T, state.elites.weights);
          }
          mean = out.mean;
          std = out.std;
        }
        if (o.keptElites > 0 && gathered !== undefined && gatheredValues !== undefined) {
          const kept = o.keptElites;
          const flat = backend.reshape(gathered, [batch, ranked * dim]);
          out.carried = backend.reshape(backend.sliceColumns(flat, 0, kept * dim), [batch, kept, dim]);
          if (o.reuseEliteValues) out.carriedValues = backend.sliceColumns(gatheredValues, 0, kept);
        }
        if (!converged) {
          o.onIteration?.({ iteration: state.iteration, samples: xs, values: vs, weights, mean, std });
        }
        return out;
      });
      return {
        mean: next.mean as T,
        std: next.std as T,
        nonFinite: next.nonFinite as T,
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
        converged,
        rowConverged,
      };
    },
    result(state) {
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
      const nonFiniteValues = backend.readSync(state.nonFinite)[0] ?? 0;
      // The count is handed out as a number: release its tensor, and the carried samples.
      for (const t of [state.nonFinite, state.carried, state.carriedValues]) {
        if (t !== undefined) backend.dispose(t);
      }
      return {
        solution: extra.solution as T,
        mean: state.mean,
        std: state.std,
        iterations: state.iteration,
        converged: state.converged,
        nonFiniteValues,
        best: state.best ?? { sample: extra.bestSample as T, value: extra.bestValue as T },
        elites: state.elites ?? {
          samples: extra.eliteSamples as T,
          values: extra.eliteValues as T,
          weights: extra.eliteWeights as T,
        },
      };
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
