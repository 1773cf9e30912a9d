// Finite-difference checks of the gradients tfjs's autodiff computes through
// LML and DCEM. The objectives and losses are written once, generic over
// `Backend<T>`: on tfjs they are differentiated with tf.grad / tf.grads; on the
// float64 backend of @dcem/core/testing (forward only, double precision) the
// same code is the oracle for central finite differences. Both backends get
// exactly the same numbers (inputs, parameters and noise are rounded to
// float32 first), so the only differences are float32 rounding in the tfjs
// forward and backward passes and the O(h²) + O(ε₆₄/h) error of the FD.
import { type Backend, cem, dcem, lml } from '@dcem/core';
import { createFloat64Backend, Float64Tensor } from '@dcem/core/testing';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { tfjsBackend } from './api.js';
import { maxDiff } from './golden.test-utils.js';
import { centralDifferences, draws, quadratic } from './solver.test-utils.js';
import { activateBackend, TEST_BACKENDS, WEBGPU_RUN } from './test-backend.test-utils.js';

/**
 * The tests that are not backend-parametrised run in the cpu/wasm run only;
 * the webgpu run (see test-backend.test-utils.ts) defines just the
 * parametrised ones.
 */
const itCpuRun: typeof it = WEBGPU_RUN === undefined ? it : ((() => undefined) as unknown as typeof it);
const describeCpuRun: typeof describe =
  WEBGPU_RUN === undefined ? describe : ((() => undefined) as unknown as typeof describe);

const f64 = createFloat64Backend({ seed: 2024 });
const tfb = tfjsBackend;

/** The few operations beyond `Backend` the objectives need. */
interface Extra<T> {
  cos(x: T): T;
}
const f64Extra: Extra<Float64Tensor> = { cos: (x) => new Float64Tensor(x.shape, x.data.map(Math.cos)) };
const tfExtra: Extra<tf.Tensor> = { cos: (x) => tf.cos(x) };

/** Central-difference step (float64). */
const H = 1e-5;

/** The same numbers as a float64 tensor and as a float32 tfjs tensor. */
function both(values: readonly number[], shape: number[]): { f: Float64Tensor; t: tf.Tensor } {
  const rounded = values.map(Math.fround);
  return { f: f64.tensor(rounded, shape), t: tf.tensor(rounded, shape, 'float32') };
}

/** Σ over every entry of a 2-D tensor, as a rank-0 tensor. */
function total<T>(b: Backend<T>, x: T): T {
  return b.sum(b.sum(x, 1, false), 0, false);
}

/** Σ w ⊙ x over a 2-D x. */
function weightedSum<T>(b: Backend<T>, w: T, x: T): T {
  return total(b, b.mul(w, x));
}

/** Central FD (step H) of `loss` (float64) with respect to every entry of `values`. */
function centralFd(values: readonly number[], loss: (v: number[]) => number): number[] {
  return centralDifferences(values, loss, H);
}

function scalarOf(x: Float64Tensor): number {
  return x.data[0] as number;
}

function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) m = Math.max(m, Math.abs(values[i] as number));
  return m;
}

beforeAll(async () => {
  expect(await tf.setBackend('cpu')).toBe(true);
});

// ---------------------------------------------------------------------------
// (a) LML
// ---------------------------------------------------------------------------

/** Row losses r_b = Σ_j g_bj · LML_k(x/τ)_bj, [batch]. */
function lmlRowLoss<T>(b: Backend<T>, x: T, g: T, k: number, tau: number): T {
  return b.sum(b.mul(g, lml(b, x, k, { temperature: tau, maxIterations: 60 })), 1, false);
}

interface LmlCase {
  n: number;
  k: number;
  tau: number;
  batch: number;
  scale: number;
}

const LML_CASES: LmlCase[] = [
  { n: 4, k: 1, tau: 1, batch: 3, scale: 1 },
  { n: 6, k: 2, tau: 0.5, batch: 3, scale: 1 },
  { n: 10, k: 3, tau: 1, batch: 3, scale: 2 },
  { n: 20, k: 5, tau: 2, batch: 2, scale: 3 },
  { n: 50, k: 10, tau: 0.25, batch: 2, scale: 1 },
  { n: 100, k: 30, tau: 1, batch: 2, scale: 1.5 },
];

/**
 * Float32 tolerance of the tfjs VJP dx = s ⊙ (g − ⟨s, g⟩/Σs)/τ, s = y(1 − y),
 * relative to max(1, max|dx|). Each entry goes through a handful of float32
 * roundings (x/τ, the root ν, the sigmoid, s, the centring sum over ≤ 100
 * entries, the product), each ≤ ε₃₂ ≈ 1.2e-7 relative to max|dx|; rounding
 * of the logits matters only where s is large, i.e. where |x/τ + ν| = O(1).
 * 1e-5 (≈ 84 ε₃₂) leaves a margin of ≥ 25× over the observed errors
 * (≤ 4e-7 for max|dx| ≈ 2); a missing 1/τ, centring term or a wrong sign
 * would be off by O(max|dx|).
 */
const LML_GRAD_REL = 1e-5;

describe('(a) lml: tf.grad vs central FD of the float64 forward and vs the closed-form Jacobian', () => {
  for (const backendName of TEST_BACKENDS) {
    for (const [index, c] of LML_CASES.entries()) {
      it(`${backendName}: n = ${c.n}, k = ${c.k}, τ = ${c.tau} (batch ${c.batch})`, async () => {
        await activateBackend(backendName);
        try {
          const size = c.batch * c.n;
          const xv = draws(size, 100 + index, c.scale);
          const gv = draws(size, 200 + index);
          const x = both(xv, [c.batch, c.n]);
          const g = both(gv, [c.batch, c.n]);

          // tfjs autodiff through the custom LML gradient.
          const dx = tf.grad((xx: tf.Tensor) => tf.sum(lmlRowLoss(tfb, xx, g.t, c.k, c.tau)))(x.t);
          const got = Array.from(dx.dataSync());
          tf.dispose([dx, x.t, g.t]);

          // Central FD of the float64 forward. Rows are independent, so column j
          // of every row is perturbed at once and row b's loss gives ∂L/∂x[b][j].
          const fd = new Array<number>(size).fill(0);
          for (let j = 0; j < c.n; j++) {
            const shifted = (delta: number) => {
              const v = [...xv];
              for (let r = 0; r < c.batch; r++) v[r * c.n + j] = (v[r * c.n + j] as number) + delta;
              return f64.readSync(lmlRowLoss(f64, f64.tensor(v, [c.batch, c.n]), g.f, c.k, c.tau));
            };
            const plus = shifted(H);
            const minus = shifted(-H);
            for (let r = 0; r < c.batch; r++) {
              fd[r * c.n + j] = ((plus[r] as number) - (minus[r] as number)) / (2 * H);
            }
          }

          // The closed-form Jacobian J = (diag(s) − s sᵀ/Σs)/τ, s = y(1 − y), from the float64 y.
          const y = f64.readSync(lml(f64, x.f, c.k, { temperature: c.tau, maxIterations: 60 }));
          const closed = new Array<number>(size).fill(0);
          let jacobianVsFd = 0;
          for (let r = 0; r < c.batch; r++) {
            const s = Array.from({ length: c.n }, (_, i) => {
              const yi = y[r * c.n + i] as number;
              return yi * (1 - yi);
            });
            const sumS = s.reduce((a, v) => a + v, 0);
            const jac = (i: number, j: number) =>
              ((i === j ? (s[i] as number) : 0) - ((s[i] as number) * (s[j] as number)) / sumS) / c.tau;
            for (let j = 0; j < c.n; j++) {
              let v = 0;
              for (let i = 0; i < c.n; i++) v += (gv[r * c.n + i] as number) * jac(i, j);
              closed[r * c.n + j] = v;
            }
            // The float64 forward's own FD Jacobian agrees with the closed form (column 0 of each row).
            const column = (delta: number) => {
              const v = [...xv];
              v[r * c.n] = (v[r * c.n] as number) + delta;
              return f64.readSync(
                lml(f64, f64.tensor(v, [c.batch, c.n]), c.k, { temperature: c.tau, maxIterations: 60 }),
              );
            };
            const plus = column(H);
            const minus = column(-H);
            for (let i = 0; i < c.n; i++) {
              const fdJ = ((plus[r * c.n + i] as number) - (minus[r * c.n + i] as number)) / (2 * H);
              jacobianVsFd = Math.max(jacobianVsFd, Math.abs(fdJ - jac(i, 0)));
            }
          }

          // FD truncation + rounding in float64 is ~1e-10 here.
          expect(jacobianVsFd).toBeLessThan(1e-8);
          expect(maxDiff(closed, fd)).toBeLessThan(1e-8);
          const tol = LML_GRAD_REL * Math.max(1, maxAbs(closed));
          expect(maxDiff(got, fd)).toBeLessThanOrEqual(tol);
          expect(maxDiff(got, closed)).toBeLessThanOrEqual(tol);
          // Not vacuous: the gradient is far from zero compared with the tolerance.
          expect(maxAbs(fd)).toBeGreaterThan(100 * tol);
        } finally {
          await tf.setBackend('cpu');
        }
      });
    }
  }
});

// ---------------------------------------------------------------------------
// (b) DCEM with respect to the objective's parameters
// ---------------------------------------------------------------------------

/** f(x, y) = 0.15 x cos y − Σᵢ θ[3i] exp(−(x − θ[3i+1])² − (y − θ[3i+2])²), θ [9]. */
function bumps<T>(b: Backend<T>, extra: Extra<T>, theta: T): (x: T) => T {
  return (x) => {
    const [batch = 0, n = 0] = b.shape(x);
    const pairs = b.reshape(x, [batch * n, 2]);
    const u = b.reshape(b.sliceColumns(pairs, 0, 1), [batch, n]);
    const v = b.reshape(b.sliceColumns(pairs, 1, 1), [batch, n]);
    const th = b.reshape(theta, [1, 9]);
    const at = (i: number) => b.sliceColumns(th, i, 1);
    let f = b.mul(b.scalar(0.15), b.mul(u, extra.cos(v)));
    for (let i = 0; i < 3; i++) {
      const d2 = b.add(b.square(b.sub(u, at(3 * i + 1))), b.square(b.sub(v, at(3 * i + 2))));
      f = b.sub(f, b.mul(at(3 * i), b.exp(b.sub(b.scalar(0), d2))));
    }
    return f;
  };
}

interface SolveConfig {
  batch: number;
  dim: number;
  numSamples: number;
  numElites: number;
  numIterations: number;
  temperature: number | null;
  lowerBound?: number;
  upperBound?: number;
  initStd?: number;
}

/** Fixed standard-normal noise for every iteration, float32-rounded: [iteration][batch·N·dim]. */
function fixedNoise(cfg: SolveConfig, seed: number): number[][] {
  const per = cfg.batch * cfg.numSamples * cfg.dim;
  return Array.from({ length: cfg.numIterations }, (_, t) => draws(per, seed * 1000 + t));
}

/** Σ w ⊙ solution of (D)CEM on backend `b`, with the given noise and initial mean/std. */
function solveLoss<T>(
  b: Backend<T>,
  objective: (x: T) => T,
  cfg: SolveConfig,
  noise: T[],
  w: T,
  init?: { mean: T; std: T },
): T {
  const solver = cfg.temperature === null ? cem : dcem;
  const r = solver(b, objective, {
    dim: cfg.dim,
    batchSize: cfg.batch,
    numSamples: cfg.numSamples,
    numElites: cfg.numElites,
    numIterations: cfg.numIterations,
    temperature: cfg.temperature,
    tolerance: 0,
    lmlIterations: 40,
    noise: (t) => noise[t] as T,
    ...(init === undefined ? { initStd: cfg.initStd ?? 1 } : { initMean: init.mean, initStd: init.std }),
    ...(cfg.lowerBound === undefined ? {} : { lowerBound: cfg.lowerBound }),
    ...(cfg.upperBound === undefined ? {} : { upperBound: cfg.upperBound }),
  });
  expect(r.iterations).toBe(cfg.numIterations);
  return weightedSum(b, w, r.solution);
}

/**
 * Float32 tolerance of DCEM gradients, relative to max(1, max|∇|).
 * Every iteration standardises the values (dividing by their spread) and
 * applies the soft top-k, whose Jacobian scales like 1/τ, so the relative
 * float32 error of the first iterate (ε₃₂ ≈ 1.2e-7) is amplified a little
 * at each of the ≤ 8 iterations used here; the observed relative errors
 * are 5e-8 … 4e-7 (cpu). 2e-5 (≈ 170 ε₃₂) keeps a margin of ≥ 50× and is
 * far below the O(1) relative change of a wrong or missing gradient path.
 */
const DCEM_GRAD_REL = 2e-5;

interface GradCheck {
  got: number[];
  fd: number[];
}

function expectGradientsMatch(name: string, { got, fd }: GradCheck): void {
  const scale = Math.max(1, maxAbs(fd));
  const rel = maxDiff(got, fd) / scale;
  expect(rel, `${name}: max |tf.grads − FD| / max(1, |FD|) = ${rel.toExponential(2)}`).toBeLessThanOrEqual(
    DCEM_GRAD_REL,
  );
  // Not vacuous.
  expect(maxAbs(fd), `${name}: FD gradient is ~0`).toBeGreaterThan(1e-3);
}

/** The fixed noise of `fixedNoise(cfg, seed)` as float32 tfjs tensors and as float64 tensors. */
function noiseBoth(cfg: SolveConfig, seed: number): { t: tf.Tensor[]; f: Float64Tensor[] } {
  const eps = fixedNoise(cfg, seed);
  const noiseShape = [cfg.batch, cfg.numSamples, cfg.dim];
  return {
    t: eps.map((e) => tf.tensor(e, noiseShape, 'float32')),
    f: eps.map((e) => f64.tensor(e, noiseShape)),
  };
}

/** The per-row quadratic's Q (> 0) and p, and the loss weights w, from seeds seed + 1 … seed + 3. */
function quadraticParams(cfg: SolveConfig, seed: number): { qv: number[]; pv: number[]; wv: number[] } {
  const size = cfg.batch * cfg.dim;
  return {
    qv: draws(size, seed + 1).map((v) => Math.fround(1 + 0.5 * Math.abs(v))),
    pv: draws(size, seed + 2, 0.7),
    wv: draws(size, seed + 3),
  };
}

/**
 * tf.grads of Σ w ⊙ solution with respect to the quadratic's Q and p, and the
 * float64 central FD of the same loss (parameters from `quadraticParams(cfg,
 * seed)`, noise from `fixedNoise(cfg, seed)`).
 */
function quadraticCase(cfg: SolveConfig, seed: number): GradCheck {
  const size = cfg.batch * cfg.dim;
  const shape = [cfg.batch, cfg.dim];
  const { qv, pv, wv } = quadraticParams(cfg, seed);
  const noise = noiseBoth(cfg, seed);
  const q = both(qv, shape);
  const p = both(pv, shape);
  const w = both(wv, shape);

  const grads = tf.grads((qq: tf.Tensor, pp: tf.Tensor) =>
    solveLoss(tfb, quadratic(tfb, qq, pp), cfg, noise.t, w.t),
  )([q.t, p.t]);
  const got = grads.flatMap((gr) => Array.from(gr.dataSync()));
  tf.dispose([...grads, ...noise.t, q.t, p.t, w.t]);
  const fd = centralFd([...qv, ...pv], (params) =>
    scalarOf(
      solveLoss(
        f64,
        quadratic(f64, f64.tensor(params.slice(0, size), shape), f64.tensor(params.slice(size), shape)),
        cfg,
        noise.f,
        w.f,
      ),
    ),
  );
  return { got, fd };
}

/** A DCEM gradient check on the quadratic: its test title, its label in messages, its solve and its seed. */
interface QuadraticCase {
  title: string;
  label: string;
  cfg: SolveConfig;
  seed: number;
  /** Whether it runs on every test backend (else in the cpu/wasm run only). */
  everyBackend?: boolean;
}

const QUADRATIC_CASES: QuadraticCase[] = [
  {
    title: 'quadratic with per-row Q and p, τ = 1 (batch 2, dim 3, 20 samples, 5 elites, 6 iterations)',
    label: 'quadratic τ = 1',
    cfg: { batch: 2, dim: 3, numSamples: 20, numElites: 5, numIterations: 6, temperature: 1 },
    seed: 11,
    everyBackend: true,
  },
  {
    title: 'quadratic, τ = 0.5, initial σ 2, 8 iterations',
    label: 'quadratic τ = 0.5',
    cfg: { batch: 2, dim: 2, numSamples: 30, numElites: 8, numIterations: 8, temperature: 0.5, initStd: 2 },
    seed: 12,
  },
  {
    title: 'quadratic with bounds [−0.6, 0.8]: clamped samples get zero gradient on both sides',
    label: 'quadratic with bounds',
    cfg: {
      batch: 2,
      dim: 3,
      numSamples: 20,
      numElites: 5,
      numIterations: 5,
      temperature: 1,
      lowerBound: -0.6,
      upperBound: 0.8,
    },
    seed: 13,
  },
  {
    title: 'numElites = 1 (softmax weights), τ = 1',
    label: 'softmax',
    cfg: { batch: 2, dim: 2, numSamples: 20, numElites: 1, numIterations: 5, temperature: 1 },
    seed: 14,
  },
];

describe('(b) dcem: tf.grads with respect to the objective parameters vs float64 central FD', () => {
  for (const c of QUADRATIC_CASES) {
    if (c.everyBackend !== true) {
      itCpuRun(c.title, () => expectGradientsMatch(c.label, quadraticCase(c.cfg, c.seed)));
      continue;
    }
    for (const backendName of TEST_BACKENDS) {
      it(`${backendName}: ${c.title}`, async () => {
        await activateBackend(backendName);
        try {
          expectGradientsMatch(`${c.label} (${backendName})`, quadraticCase(c.cfg, c.seed));
        } finally {
          await tf.setBackend('cpu');
        }
      });
    }
  }

  itCpuRun('three bumps: gradient with respect to θ = [1, 0, 0, 0.5, 1, 1, 1, −2, 2]', () => {
    const cfg: SolveConfig = {
      batch: 2,
      dim: 2,
      numSamples: 40,
      numElites: 8,
      numIterations: 6,
      temperature: 1,
      initStd: 1.5,
    };
    const thetaValues = [1, 0, 0, 0.5, 1, 1, 1, -2, 2];
    const noise = noiseBoth(cfg, 15);
    const w = both([1, -0.5, 0.25, 2], [cfg.batch, cfg.dim]);
    const theta = both(thetaValues, [9]);

    const g = tf.grad((th: tf.Tensor) => solveLoss(tfb, bumps(tfb, tfExtra, th), cfg, noise.t, w.t))(theta.t);
    const got = Array.from(g.dataSync());
    tf.dispose([g, ...noise.t, w.t, theta.t]);
    const fd = centralFd(thetaValues, (th) =>
      scalarOf(solveLoss(f64, bumps(f64, f64Extra, f64.tensor(th, [9])), cfg, noise.f, w.f)),
    );
    expectGradientsMatch('bumps', { got, fd });
  });
});

describeCpuRun('(b) vanilla CEM (temperature null)', () => {
  const cfg: SolveConfig = {
    batch: 2,
    dim: 2,
    numSamples: 20,
    numElites: 5,
    numIterations: 5,
    temperature: null,
  };
  const size = cfg.batch * cfg.dim;
  const shape = [cfg.batch, cfg.dim];

  itCpuRun('the solution does not depend on the objective parameters: tf.grads and FD are exactly 0', () => {
    const { got, fd } = quadraticCase(cfg, 30);
    // Hard top-k: the elite sets do not change within ±h, so the float64 loss is piecewise constant.
    expect(fd.every((v) => v === 0)).toBe(true);
    expect(got.every((v) => v === 0)).toBe(true);
    expect(got.length).toBe(2 * size);
  });

  itCpuRun('gradient with respect to the initial mean and std matches FD', () => {
    // The objective of the test above (seeds 31 … 33), new noise.
    const { qv, pv, wv } = quadraticParams(cfg, 30);
    const noise = noiseBoth(cfg, 34);
    const q = both(qv, shape);
    const p = both(pv, shape);
    const w = both(wv, shape);
    const meanValues = [0.3, -0.2, 0.1, 0.4];
    const stdValues = [1, 0.8, 1.2, 0.9];
    const mean = both(meanValues, shape);
    const std = both(stdValues, shape);
    const objT = quadratic(tfb, q.t, p.t);
    const grads = tf.grads((m: tf.Tensor, s: tf.Tensor) =>
      solveLoss(tfb, objT, cfg, noise.t, w.t, { mean: m, std: s }),
    )([mean.t, std.t]);
    const got = grads.flatMap((gr) => Array.from(gr.dataSync()));
    tf.dispose([...grads, ...noise.t, q.t, p.t, w.t, mean.t, std.t]);
    const objF = quadratic(f64, q.f, p.f);
    const fd = centralFd([...meanValues, ...stdValues].map(Math.fround), (v) =>
      scalarOf(
        solveLoss(f64, objF, cfg, noise.f, w.f, {
          mean: f64.tensor(v.slice(0, size), shape),
          std: f64.tensor(v.slice(size), shape),
        }),
      ),
    );
    // The solution is affine in (μ₀, σ₀) for fixed elite sets: a few float32
    // roundings per iteration (observed 3e-8); 1e-6 ≈ 8 ε₃₂.
    expect(maxDiff(got, fd)).toBeLessThanOrEqual(1e-6 * Math.max(1, maxAbs(fd)));
    expect(maxAbs(fd)).toBeGreaterThan(1e-2);
  });
});
