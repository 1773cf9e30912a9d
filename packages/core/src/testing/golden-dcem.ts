// The check of one golden DCEM case (golden/dcem.json) on any backend: the
// loop of the golden DCEM tests of @dcem/tfjs and @dcem/jax.

import type { Backend } from '../backend.js';
import { dcem } from '../cem.js';
import { disposeCemResult } from '../solver.js';
import { ConformanceError } from './conformance.js';
import { flat, type GoldenDcemCase, maxDiff } from './golden.js';

/**
 * Tolerance of {@link checkGoldenDcemCase} for iterates, σ and the output.
 * The reference is float64 and the backends compute in float32
 * (ε₃₂ ≈ 1.2e-7); iterates, outputs and σ are O(1), so their rounding error
 * is a few ε₃₂ per operation: measured on tfjs's cpu backend the largest
 * deviation over all cases is about 1e-7. 2e-6 allows about 20× that,
 * enough for other summation orders, far below any semantic difference (a
 * wrong normalisation or division changes iterates by > 1e-2).
 */
export const GOLDEN_DCEM_TOL_ITERATE = 2e-6;

/**
 * Tolerance of {@link checkGoldenDcemCase} for the gradients, relative to
 * max(1, |gradient|): measured at about 4e-7 on tfjs's cpu backend, bound
 * about 20× that.
 */
export const GOLDEN_DCEM_TOL_GRAD_REL = 1e-5;

/** What {@link checkGoldenDcemCase} needs besides the backend and the case. */
export interface GoldenDcemContext<T> {
  /**
   * The case's objective (`quadratic` or `bumps`, defined in dcem.json's
   * `meta.objectives`) over the parameters `params` (each a tensor of the
   * shape of its entry of `obj_params`): samples [batch, numSamples, nx] to
   * values [batch, numSamples]. A backend writes it with its own ops (the
   * bumps need a cosine, which `Backend` has not).
   */
  objective(c: GoldenDcemCase, params: Record<string, T>): (x: T) => T;
  /** The backend's autodiff: the gradient of sum(f(x)) with respect to `x`, as in the conformance cases. */
  grad(f: (x: T) => T, x: T): T;
}

/** Throws a {@link ConformanceError} naming `what` unless `difference` ≤ `tolerance`. */
function within(difference: number, tolerance: number, what: string): void {
  if (!(difference <= tolerance)) {
    throw new ConformanceError(
      `${what}: differs by ${difference} from golden/dcem.json (tolerance ${tolerance})`,
    );
  }
}

/** Throws a {@link ConformanceError} naming `what` unless `actual` is `expected`. */
function same(actual: unknown, expected: unknown, what: string): void {
  if (actual !== expected) {
    throw new ConformanceError(`${what} is ${String(actual)}, golden/dcem.json has ${String(expected)}`);
  }
}

/**
 * Runs `dcem` on `backend` with the settings and the stored Gaussian draws
 * of one golden case (not an `lml_degenerate` one: `dcem` rejects
 * numElites ≥ numSamples) and checks it against the reference: iterations
 * run, convergence, every iterate's μ and σ, the final μ, σ and solution
 * (to {@link GOLDEN_DCEM_TOL_ITERATE}) and, where the case has them, the
 * gradients of sum(w ⊙ solution) with respect to each objective parameter
 * (to {@link GOLDEN_DCEM_TOL_GRAD_REL}). The temperature is 1/`temp`, early
 * stopping is on (the reference stops at convergence) and LML runs 30
 * iterations. Everything it makes is made inside `backend.tidy` and
 * released, so a leak check around it sees only the backend's own.
 *
 * @param backend The backend under test.
 * @param c The case, from `loadGolden('dcem.json')`.
 * @param context The case's objective in the backend's ops and its autodiff.
 * @throws ConformanceError naming the first quantity that differs.
 * @example
 * ```ts
 * const { cases } = await loadGolden<GoldenDcemCase>('dcem.json');
 * for (const c of cases.filter((cc) => !cc.kinds.includes('lml_degenerate'))) {
 *   it(c.name, () => checkGoldenDcemCase(backend, c, { objective, grad: (f, x) => tf.grad(f)(x) }));
 * }
 * ```
 */
export function checkGoldenDcemCase<T>(
  backend: Backend<T>,
  c: GoldenDcemCase,
  context: GoldenDcemContext<T>,
): void {
  const b = backend;
  b.tidy(() => {
    const cfg = c.config;
    const params: Record<string, T> = {};
    for (const [key, value] of Object.entries(c.obj_params)) {
      const shape = Array.isArray(value[0]) ? [value.length, (value[0] as number[]).length] : [value.length];
      params[key] = b.tensor(flat(value), shape);
    }
    const eps = c.eps.map((e) => b.tensor(flat(e), [cfg.n_batch, cfg.n_sample, cfg.nx]));
    const means: number[][] = [];
    const stds: number[][] = [];
    const run = (p: Record<string, T>, record: boolean) =>
      dcem(b, context.objective(c, p), {
        dim: cfg.nx,
        batchSize: cfg.n_batch,
        numSamples: cfg.n_sample,
        numElites: cfg.n_elite,
        numIterations: cfg.n_iter,
        temperature: cfg.temp === null ? null : 1 / cfg.temp,
        normalize: cfg.normalize,
        ...(cfg.lb === null ? {} : { lowerBound: cfg.lb }),
        ...(cfg.ub === null ? {} : { upperBound: cfg.ub }),
        initMean: b.tensor(flat(cfg.init_mu), [cfg.n_batch, cfg.nx]),
        initStd: b.tensor(flat(cfg.init_sigma), [cfg.n_batch, cfg.nx]),
        tolerance: cfg.iter_eps,
        // Stop at convergence as the reference does (a read of the flag per
        // iteration); without it the solve runs its frozen iterations too.
        earlyStopping: true,
        lmlIterations: 30,
        noise: (t) => eps[t] as T,
        ...(record
          ? {
              onIteration: (info) => {
                means.push(Array.from(b.readSync(info.mean)));
                stds.push(Array.from(b.readSync(info.std)));
              },
            }
          : {}),
      });
    const result = run(params, true);
    same(result.iterations, c.n_iter_run, 'iterations');
    same(result.converged, c.early_exit, 'converged');
    same(result.nonFiniteValues, 0, 'nonFiniteValues');
    // Callbacks fire on every iteration but an early-exit one.
    same(means.length, c.early_exit ? c.n_iter_run - 1 : c.n_iter_run, 'onIteration calls');
    means.forEach((m, t) => {
      within(maxDiff(m, flat(c.mu_per_iter[t])), GOLDEN_DCEM_TOL_ITERATE, `μ after iteration ${t}`);
      within(
        maxDiff(stds[t] as number[], flat(c.sigma_per_iter[t])),
        GOLDEN_DCEM_TOL_ITERATE,
        `σ after iteration ${t}`,
      );
    });
    const last = c.n_iter_run - 1;
    within(maxDiff(b.readSync(result.mean), flat(c.mu_per_iter[last])), GOLDEN_DCEM_TOL_ITERATE, 'final μ');
    within(maxDiff(b.readSync(result.std), flat(c.sigma_per_iter[last])), GOLDEN_DCEM_TOL_ITERATE, 'final σ');
    within(maxDiff(b.readSync(result.solution), flat(c.output)), GOLDEN_DCEM_TOL_ITERATE, 'solution');
    disposeCemResult(b, result);

    if (c.grad !== null) {
      const w = b.tensor(flat(c.w), [cfg.n_batch, cfg.nx]);
      for (const key of Object.keys(c.obj_params)) {
        const g = context.grad(
          (t) => b.mul(w, run({ ...params, [key]: t }, false).solution),
          params[key] as T,
        );
        const expected = flat(c.grad[key]);
        const scale = Math.max(1, ...expected.map(Math.abs));
        within(
          maxDiff(b.readSync(g), expected) / scale,
          GOLDEN_DCEM_TOL_GRAD_REL,
          `gradient in ${key} (relative)`,
        );
      }
    }
    return undefined;
  });
}
