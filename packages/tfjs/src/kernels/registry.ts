// Fused kernels for the tfjs `cpu` and `wasm` backends. Each replaces a
// composition of generic tfjs ops in @dcem/lml or @dcem/core (dozens of
// kernel launches, several of them broadcasts that tfjs's cpu backend runs
// element by element) with one kernel that loops over the data once, plus a
// registered gradient that computes the same vector–Jacobian product as tfjs's
// autodiff of the generic composition. One file per kernel beside this one
// (lml, scores, sample, fit, best, normal: the kernel functions, their typed
// attributes and their gradients); the arithmetic is in math.ts. This file
// registers them and binds them to one tfjs namespace.
//
// Kernels are registered lazily, on the first fused call on a cpu or wasm
// backend (importing this package registers nothing). On any other backend
// (webgl, tensorflow, …) the fused functions return undefined and the
// callers fall back to the generic composition.
import type * as tfjs from '@tensorflow/tfjs';
import { drawAhead } from '../threads/normals-ahead.js';
import { poolThreads } from '../threads/pool.js';
import { BEST_KERNEL_FUNCS, BEST_KERNELS, bestGradient, runBest } from './best.js';
import { FIT_KERNEL_FUNCS, FIT_KERNELS, fitGradient, runFit } from './fit.js';
import { LML_KERNEL_FUNCS, LML_KERNELS, lmlGradient, runLml } from './lml.js';
import { NORMAL_KERNEL_FUNCS, NORMAL_KERNELS, runNormal } from './normal.js';
import { runSample, SAMPLE_KERNEL_FUNCS, SAMPLE_KERNELS, sampleGradient } from './sample.js';
import { runScores, SCORES_KERNEL_FUNCS, SCORES_KERNELS, scoresGradient } from './scores.js';
import { wasmSampling } from './simd.js';
import type { KernelEntry, RunKernel } from './tensor-io.js';

export { LML_THREADED_MIN_ENTRIES } from './lml.js';

type Tf = typeof tfjs;
type Tensor = tfjs.Tensor;

/** Names of the kernels registered by @dcem/tfjs. */
export const FUSED_KERNELS = Object.freeze({
  ...LML_KERNELS,
  ...SCORES_KERNELS,
  ...SAMPLE_KERNELS,
  ...FIT_KERNELS,
  ...NORMAL_KERNELS,
  ...BEST_KERNELS,
});

/** The tfjs backends that get the fused kernels (both keep tensors in host-addressable memory). */
export const FUSED_BACKENDS: readonly string[] = ['cpu', 'wasm'];

/**
 * Largest sample tensor (batch · numSamples · dim entries) that the wasm
 * backend samples with the fused kernel when the kernel runs in JavaScript
 * (with bounds, or without WebAssembly kernels). Sampling is two
 * element-wise operations (plus the clamps): for large tensors the wasm
 * backend's own SIMD kernels outrun a JavaScript loop by far more than the
 * launches of the separate ops cost, for small ones the launches dominate.
 * Unbounded sampling runs in this package's SIMD WebAssembly kernel at any size.
 */
export const WASM_SAMPLE_LIMIT = 16384;

/**
 * Fewest draws that are made ahead on a worker thread (Node.js, with more
 * than one thread): below, the hand-off costs about what drawing does.
 */
export const NORMALS_AHEAD_MIN = 16384;

const KERNEL_FUNCS: readonly KernelEntry[] = [
  ...NORMAL_KERNEL_FUNCS,
  ...BEST_KERNEL_FUNCS,
  ...LML_KERNEL_FUNCS,
  ...SCORES_KERNEL_FUNCS,
  ...SAMPLE_KERNEL_FUNCS,
  ...FIT_KERNEL_FUNCS,
];

function gradients(tf: Tf): tfjs.GradConfig[] {
  const run = runner(tf);
  return [
    lmlGradient(run),
    scoresGradient(tf, run),
    sampleGradient(tf, run),
    fitGradient(tf, run),
    bestGradient(tf, run),
  ];
}

/** `tf.engine().runKernel` of one tfjs namespace. */
function runner(tf: Tf): RunKernel {
  return (name, inputs, attrs = {}) => tf.engine().runKernel(name, inputs, attrs);
}

const registered = new WeakMap<Tf, Set<string>>();

/**
 * Whether the fused kernels can run on the active backend of `tf` for these
 * float32 tensors; registers them (and their gradients) on first use.
 */
export function fusedAvailable(tf: Tf, tensors: readonly (Tensor | undefined)[]): boolean {
  const backendName = tf.getBackend();
  if (!FUSED_BACKENDS.includes(backendName)) return false;
  for (const t of tensors) if (t !== undefined && t.dtype !== 'float32') return false;
  let done = registered.get(tf);
  if (done === undefined) {
    done = new Set();
    registered.set(tf, done);
  }
  if (!done.has(backendName)) {
    for (const [kernelName, kernelFunc] of KERNEL_FUNCS) {
      if (tf.getKernel(kernelName, backendName) === undefined) {
        tf.registerKernel({ kernelName, backendName, kernelFunc });
      }
    }
    for (const config of gradients(tf)) {
      if (tf.getGradient(config.kernelName) === undefined) tf.registerGradient(config);
    }
    done.add(backendName);
  }
  return true;
}

/** The fused operations over tfjs, as the optional members of `Backend` use them. */
export interface FusedTfjsOps {
  lml(x: Tensor, k: number, temperature: number, maxIterations: number): Tensor | undefined;
  scores(
    values: Tensor,
    normalize: boolean,
    eps: number,
    margin: number,
  ): { scores: Tensor; nonFinite: Tensor } | undefined;
  sample(
    mean: Tensor,
    std: Tensor,
    noise: Tensor,
    lower: Tensor | undefined,
    upper: Tensor | undefined,
  ): Tensor | undefined;
  fit(samples: Tensor, weights: Tensor, k: number, minStd: number): { mean: Tensor; std: Tensor } | undefined;
  best(
    samples: Tensor,
    scores: Tensor,
    values: Tensor,
    previous: { sample: Tensor; value: Tensor } | undefined,
  ): { sample: Tensor; value: Tensor } | undefined;
  /** Standard-normal draws of `shape` from the streams of `seed` (see `seedStates`). */
  normal(shape: readonly number[], seed: number): Tensor | undefined;
  /** Starts drawing what `normal(shape, seed)` will return on a worker thread, where that pays. */
  normalAhead(shape: readonly number[], seed: number): void;
}

/** Binds the fused kernels to one tfjs namespace. */
export function createFusedOps(tf: Tf): FusedTfjsOps {
  const run = runner(tf);
  return {
    lml(x, k, temperature, maxIterations) {
      if (x.rank !== 2 || !fusedAvailable(tf, [x])) return undefined;
      return runLml(run, x, { k, temperature, maxIterations });
    },
    scores(values, normalize, eps, margin) {
      if (values.rank !== 2 || !fusedAvailable(tf, [values])) return undefined;
      return runScores(run, values, { normalize, eps, margin });
    },
    sample(mean, std, noise, lower, upper) {
      if (noise.rank !== 3 || !fusedAvailable(tf, [mean, std, noise, lower, upper])) return undefined;
      const unbounded = lower === undefined && upper === undefined;
      if (tf.getBackend() === 'wasm' && noise.size > WASM_SAMPLE_LIMIT && !(unbounded && wasmSampling())) {
        return undefined;
      }
      // Kernel inputs cannot be absent (the gradient saves them all): a
      // missing bound is passed as a placeholder and flagged off.
      const none = lower === undefined || upper === undefined ? tf.scalar(0) : undefined;
      return runSample(
        run,
        { mean, std, noise, lower: lower ?? (none as Tensor), upper: upper ?? (none as Tensor) },
        { hasLower: lower !== undefined, hasUpper: upper !== undefined },
      );
    },
    fit(samples, weights, k, minStd) {
      if (samples.rank !== 3 || !fusedAvailable(tf, [samples, weights])) return undefined;
      return runFit(run, samples, weights, { k, minStd });
    },
    best(samples, scores, values, previous) {
      if (
        samples.rank !== 3 ||
        !fusedAvailable(tf, [samples, scores, values, previous?.sample, previous?.value])
      ) {
        return undefined;
      }
      const [, count = 0, dim = 0] = samples.shape;
      const none = previous === undefined ? tf.scalar(0) : undefined;
      return runBest(
        run,
        {
          samples,
          scores,
          values,
          previousSample: previous?.sample ?? (none as Tensor),
          previousValue: previous?.value ?? (none as Tensor),
        },
        { hasPrevious: previous !== undefined, count, dim },
      );
    },
    normalAhead(shape, seed) {
      const count = shape.reduce((a, b) => a * b, 1);
      if (count < NORMALS_AHEAD_MIN || poolThreads() < 2 || !fusedAvailable(tf, [])) return;
      drawAhead(count, seed);
    },
    normal(shape, seed) {
      if (!fusedAvailable(tf, [])) return undefined;
      return runNormal(run, { shape: [...shape], seed });
    },
  };
}
