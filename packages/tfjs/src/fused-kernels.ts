// Fused kernels for the tfjs `cpu` and `wasm` backends. Each replaces a
// composition of generic tfjs ops in @dcem/lml or @dcem/core (dozens of
// kernel launches, several of them broadcasts that tfjs's cpu backend runs
// element by element) with one kernel that loops over the data once, plus a
// registered gradient that computes the same vector–Jacobian product as tfjs's
// autodiff of the generic composition. The arithmetic is in fused-math.ts.
//
// Kernels are registered lazily, on the first fused call on a cpu or wasm
// backend (importing this package registers nothing). On any other backend
// (webgl, tensorflow, …) the fused functions return undefined and the
// callers fall back to the generic composition.
import type * as tfjs from '@tensorflow/tfjs';
import {
  bestBackward,
  bestForward,
  lmlBackward,
  lmlForward,
  type SampleShape,
  sampleBackwardNoise,
  scoresBackward,
  scoresForward,
} from './fused-math.js';
import { seedStates } from './normal.js';
import { gemmThreads, lmlGradRowsThreaded, lmlRowsThreaded, threadsAvailable } from './wasm/gemm.js';
import {
  fillNormals,
  fitBackward,
  fitForward,
  sampleBackwardParams,
  sampleForward,
  wasmSampling,
} from './wasm/kernels.js';
import { drawAhead, takeAhead } from './wasm/normals-ahead.js';

type Tf = typeof tfjs;
type Tensor = tfjs.Tensor;
type TensorInfo = tfjs.TensorInfo;
type KernelBackend = tfjs.KernelBackend;
type KernelFunc = tfjs.KernelConfig['kernelFunc'];

/** Names of the kernels registered by @dcem/tfjs. */
export const FUSED_KERNELS = Object.freeze({
  lml: 'DcemLml',
  lmlGrad: 'DcemLmlGrad',
  scores: 'DcemScores',
  scoresGrad: 'DcemScoresGrad',
  sample: 'DcemSample',
  sampleGrad: 'DcemSampleGrad',
  sampleGradNoise: 'DcemSampleGradNoise',
  fit: 'DcemFit',
  fitGrad: 'DcemFitGrad',
  normal: 'DcemNormal',
  best: 'DcemBest',
  bestGrad: 'DcemBestGrad',
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
 * Smallest LML input (rows · n entries) that runs on every thread of the
 * pool where there is one (Node.js): below, handing out the rows costs more
 * than the other threads save, and the calling thread runs it alone.
 */
export const LML_THREADED_MIN_ENTRIES = 32768;

/**
 * Fewest draws that are made ahead on a worker thread (Node.js, with more
 * than one thread): below, the hand-off costs about what drawing does.
 */
export const NORMALS_AHEAD_MIN = 16384;

/** The wasm backend's access to its heap (tensors live in the module's memory). */
interface HeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

function heap(backend: KernelBackend): HeapBackend | undefined {
  const b = backend as unknown as Partial<HeapBackend>;
  return typeof b.makeOutput === 'function' && typeof b.typedArrayFromHeap === 'function'
    ? (b as HeapBackend)
    : undefined;
}

/**
 * Allocates the outputs of a kernel and returns them with float32 views to
 * fill in. On wasm the views are the heap memory of the outputs (no copy);
 * take input views with {@link read} only after this call, since an
 * allocation may grow (and so detach) the heap.
 */
export function allocate(
  backend: KernelBackend,
  shapes: number[][],
): { infos: TensorInfo[]; views: Float32Array[] } {
  const h = heap(backend);
  if (h !== undefined) {
    const infos = shapes.map((shape) => h.makeOutput(shape, 'float32'));
    return { infos, views: infos.map((info) => h.typedArrayFromHeap(info)) };
  }
  const views = shapes.map((shape) => new Float32Array(shape.reduce((a, b) => a * b, 1)));
  const infos = shapes.map((shape, i) => ({
    dataId: backend.write(views[i] as Float32Array, shape, 'float32'),
    shape,
    dtype: 'float32' as const,
  }));
  return { infos, views };
}

/** The entries of a float32 input (a heap view on wasm, the stored array on cpu: read only). */
export function read(backend: KernelBackend, t: TensorInfo): Float32Array {
  const h = heap(backend);
  return h !== undefined ? h.typedArrayFromHeap(t) : (backend.readSync(t.dataId) as Float32Array);
}

/** A kernel's input by name (an Error names a missing one). */
export function input(inputs: tfjs.NamedTensorInfoMap, name: string): TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`@dcem/tfjs kernel: missing input ${name}`);
  return t;
}

function num(attrs: tfjs.NamedAttrMap | undefined, name: string): number {
  const v = attrs?.[name];
  if (typeof v !== 'number') throw new Error(`fused kernel: attribute ${name} must be a number`);
  return v;
}

function bool(attrs: tfjs.NamedAttrMap | undefined, name: string): boolean {
  return attrs?.[name] === true;
}

function dims(t: TensorInfo): number[] {
  return [...t.shape];
}

/**
 * The threads LML and its gradient run on for `entries` entries: in Node the
 * WebAssembly kernels of the matrix products' pool run them, on every thread
 * for large inputs, else on the calling thread alone (still faster than
 * JavaScript); 0 where there is no pool (browsers), which means the
 * JavaScript twins.
 */
function lmlThreads(entries: number): number {
  if (!threadsAvailable()) return 0;
  return entries >= LML_THREADED_MIN_ENTRIES ? gemmThreads() : 1;
}

const lmlKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as KernelBackend;
  const x = input(inputs, 'x');
  const [rows = 0, n = 0] = x.shape;
  const { infos, views } = allocate(b, [dims(x)]);
  const args = [
    read(b, x),
    rows,
    n,
    num(attrs, 'k'),
    num(attrs, 'temperature'),
    num(attrs, 'maxIterations'),
    views[0] as Float32Array,
  ] as const;
  const threads = lmlThreads(rows * n);
  if (!(threads > 0 && lmlRowsThreaded(...args, threads))) lmlForward(...args);
  return infos[0] as TensorInfo;
};

const lmlGradKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as KernelBackend;
  const y = input(inputs, 'y');
  const [rows = 0, n = 0] = y.shape;
  const { infos, views } = allocate(b, [dims(y)]);
  const args = [
    read(b, y),
    read(b, input(inputs, 'dy')),
    rows,
    n,
    num(attrs, 'temperature'),
    views[0] as Float32Array,
  ] as const;
  const threads = lmlThreads(rows * n);
  if (!(threads > 0 && lmlGradRowsThreaded(...args, threads))) lmlBackward(...args);
  return infos[0] as TensorInfo;
};

const scoresKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as KernelBackend;
  const values = input(inputs, 'values');
  const [rows = 0, n = 0] = values.shape;
  const { infos, views } = allocate(b, [dims(values), []]);
  const nonFinite = scoresForward(
    read(b, values),
    rows,
    n,
    bool(attrs, 'normalize'),
    num(attrs, 'eps'),
    num(attrs, 'margin'),
    views[0] as Float32Array,
  );
  (views[1] as Float32Array)[0] = nonFinite;
  return infos;
};

const scoresGradKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as KernelBackend;
  const values = input(inputs, 'values');
  const [rows = 0, n = 0] = values.shape;
  const { infos, views } = allocate(b, [dims(values)]);
  scoresBackward(
    read(b, values),
    read(b, input(inputs, 'dy')),
    rows,
    n,
    bool(attrs, 'normalize'),
    num(attrs, 'eps'),
    views[0] as Float32Array,
  );
  return infos[0] as TensorInfo;
};

/**
 * The inputs of the sampling kernels as float32 views, with their shapes.
 * Call it after allocating the outputs (an allocation may move the heap).
 */
function sampleInputs(
  b: KernelBackend,
  inputs: tfjs.NamedTensorInfoMap,
  attrs: tfjs.NamedAttrMap | undefined,
) {
  const noise = input(inputs, 'noise');
  const lower = input(inputs, 'lower');
  const upper = input(inputs, 'upper');
  const [batch = 0, samples = 0, dim = 0] = noise.shape;
  const shape: SampleShape = {
    batch,
    samples,
    dim,
    lowerRows: bool(attrs, 'hasLower') ? (lower.shape[0] ?? 1) : 0,
    upperRows: bool(attrs, 'hasUpper') ? (upper.shape[0] ?? 1) : 0,
  };
  return {
    mean: read(b, input(inputs, 'mean')),
    std: read(b, input(inputs, 'std')),
    noise: read(b, noise),
    lower: read(b, lower),
    upper: read(b, upper),
    shape,
  };
}

const sampleKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as KernelBackend;
  const { infos, views } = allocate(b, [dims(input(inputs, 'noise'))]);
  const x = sampleInputs(b, inputs, attrs);
  sampleForward(x.mean, x.std, x.noise, x.lower, x.upper, x.shape, views[0] as Float32Array);
  return infos[0] as TensorInfo;
};

const sampleGradKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as KernelBackend;
  const shapes = ['mean', 'std', 'lower', 'upper'].map((name) => dims(input(inputs, name)));
  const { infos, views } = allocate(b, shapes);
  const x = sampleInputs(b, inputs, attrs);
  const [dMean, dStd, dLower, dUpper] = views as [Float32Array, Float32Array, Float32Array, Float32Array];
  const dy = read(b, input(inputs, 'dy'));
  sampleBackwardParams(dy, x.mean, x.std, x.noise, x.lower, x.upper, x.shape, dMean, dStd, dLower, dUpper);
  return infos;
};

const sampleGradNoiseKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as KernelBackend;
  const { infos, views } = allocate(b, [dims(input(inputs, 'noise'))]);
  const x = sampleInputs(b, inputs, attrs);
  const dy = read(b, input(inputs, 'dy'));
  sampleBackwardNoise(dy, x.mean, x.std, x.noise, x.lower, x.upper, x.shape, views[0] as Float32Array);
  return infos[0] as TensorInfo;
};

const fitKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as KernelBackend;
  const samples = input(inputs, 'samples');
  const [batch = 0, count = 0, dim = 0] = samples.shape;
  const { infos, views } = allocate(b, [
    [batch, dim],
    [batch, dim],
  ]);
  fitForward(
    read(b, samples),
    read(b, input(inputs, 'weights')),
    batch,
    count,
    dim,
    num(attrs, 'k'),
    num(attrs, 'minStd'),
    views[0] as Float32Array,
    views[1] as Float32Array,
  );
  return infos;
};

const fitGradKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as KernelBackend;
  const samples = input(inputs, 'samples');
  const weights = input(inputs, 'weights');
  const [batch = 0, count = 0, dim = 0] = samples.shape;
  const { infos, views } = allocate(b, [dims(samples), dims(weights)]);
  fitBackward(
    read(b, samples),
    read(b, weights),
    read(b, input(inputs, 'mean')),
    read(b, input(inputs, 'std')),
    read(b, input(inputs, 'dMean')),
    read(b, input(inputs, 'dStd')),
    batch,
    count,
    dim,
    num(attrs, 'k'),
    num(attrs, 'minStd'),
    views[0] as Float32Array,
    views[1] as Float32Array,
  );
  return infos;
};

/**
 * Standard-normal draws written straight into the output tensor's memory:
 * no JavaScript array in between, which on wasm would be a fresh buffer the
 * size of the samples per call (its page faults cost more than the draws).
 */
const normalKernel: KernelFunc = ({ backend, attrs }) => {
  const shape = attrs?.shape;
  if (!Array.isArray(shape)) throw new Error('fused kernel: attribute shape must be an array');
  const { infos, views } = allocate(backend as KernelBackend, [shape as number[]]);
  const seed = num(attrs, 'seed');
  const out = views[0] as Float32Array;
  if (!takeAhead(out, seed)) fillNormals(out, seedStates(seed));
  return infos[0] as TensorInfo;
};

const bestKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as KernelBackend;
  const samples = input(inputs, 'samples');
  const [batch = 0, count = 0, dim = 0] = samples.shape;
  const { infos, views } = allocate(b, [[batch, dim], [batch], [batch]]);
  const previous = bool(attrs, 'hasPrevious');
  bestForward(
    read(b, samples),
    read(b, input(inputs, 'scores')),
    read(b, input(inputs, 'values')),
    previous ? read(b, input(inputs, 'previousSample')) : undefined,
    previous ? read(b, input(inputs, 'previousValue')) : undefined,
    batch,
    count,
    dim,
    views[0] as Float32Array,
    views[1] as Float32Array,
    views[2] as Float32Array,
  );
  return infos;
};

const bestGradKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as KernelBackend;
  const pick = input(inputs, 'pick');
  const [batch = 0] = pick.shape;
  const count = num(attrs, 'count');
  const dim = num(attrs, 'dim');
  const { infos, views } = allocate(b, [[batch, count, dim], [batch, count], [batch, dim], [batch]]);
  bestBackward(
    read(b, input(inputs, 'dSample')),
    read(b, input(inputs, 'dValue')),
    read(b, pick),
    read(b, input(inputs, 'value')),
    batch,
    count,
    dim,
    views[0] as Float32Array,
    views[1] as Float32Array,
    views[2] as Float32Array,
    views[3] as Float32Array,
  );
  return infos;
};

const KERNEL_FUNCS: ReadonlyArray<[string, KernelFunc]> = [
  [FUSED_KERNELS.normal, normalKernel],
  [FUSED_KERNELS.best, bestKernel],
  [FUSED_KERNELS.bestGrad, bestGradKernel],
  [FUSED_KERNELS.lml, lmlKernel],
  [FUSED_KERNELS.lmlGrad, lmlGradKernel],
  [FUSED_KERNELS.scores, scoresKernel],
  [FUSED_KERNELS.scoresGrad, scoresGradKernel],
  [FUSED_KERNELS.sample, sampleKernel],
  [FUSED_KERNELS.sampleGrad, sampleGradKernel],
  [FUSED_KERNELS.sampleGradNoise, sampleGradNoiseKernel],
  [FUSED_KERNELS.fit, fitKernel],
  [FUSED_KERNELS.fitGrad, fitGradKernel],
];

function gradients(tf: Tf): tfjs.GradConfig[] {
  const run = <R extends Tensor | Tensor[]>(name: string, inputs: tfjs.NamedTensorMap, attrs = {}) =>
    tf.engine().runKernel<R>(name, inputs, attrs);
  const first = (dy: Tensor | Tensor[]): Tensor | null => (Array.isArray(dy) ? (dy[0] ?? null) : dy);
  return [
    {
      kernelName: FUSED_KERNELS.lml,
      outputsToSave: [true],
      gradFunc: (dy, saved, attrs) => ({
        x: () =>
          run<Tensor>(
            FUSED_KERNELS.lmlGrad,
            { dy: first(dy) as Tensor, y: saved[0] as Tensor },
            { temperature: attrs.temperature as number },
          ),
      }),
    },
    {
      kernelName: FUSED_KERNELS.scores,
      inputsToSave: ['values'],
      gradFunc: (dy, saved, attrs) => {
        const values = saved[0] as Tensor;
        return {
          values: () =>
            run<Tensor>(
              FUSED_KERNELS.scoresGrad,
              { dy: first(dy) ?? tf.zerosLike(values), values },
              { normalize: attrs.normalize as boolean, eps: attrs.eps as number },
            ),
        };
      },
    },
    {
      kernelName: FUSED_KERNELS.sample,
      inputsToSave: ['mean', 'std', 'noise', 'lower', 'upper'],
      gradFunc: (dy, saved, attrs) => {
        const [mean, std, noise, lower, upper] = saved as [Tensor, Tensor, Tensor, Tensor, Tensor];
        const inputs = { dy: first(dy) ?? tf.zerosLike(noise), mean, std, noise, lower, upper };
        const flags = { hasLower: attrs.hasLower as boolean, hasUpper: attrs.hasUpper as boolean };
        // One kernel computes the gradients of μ, σ and the bounds (small);
        // the noise's (as large as the samples) only when it is needed.
        const outs = run<Tensor[]>(FUSED_KERNELS.sampleGrad, inputs, flags);
        return {
          mean: () => outs[0] as Tensor,
          std: () => outs[1] as Tensor,
          noise: () => run<Tensor>(FUSED_KERNELS.sampleGradNoise, inputs, flags),
          lower: () => outs[2] as Tensor,
          upper: () => outs[3] as Tensor,
        };
      },
    },
    {
      kernelName: FUSED_KERNELS.fit,
      inputsToSave: ['samples', 'weights'],
      outputsToSave: [true, true],
      gradFunc: (dy, saved, attrs) => {
        const [samples, weights, mean, std] = saved as [Tensor, Tensor, Tensor, Tensor];
        const dys = Array.isArray(dy) ? dy : [dy];
        const outs = run<Tensor[]>(
          FUSED_KERNELS.fitGrad,
          {
            dMean: dys[0] ?? tf.zerosLike(mean),
            dStd: dys[1] ?? tf.zerosLike(std),
            samples,
            weights,
            mean,
            std,
          },
          { k: attrs.k as number, minStd: attrs.minStd as number },
        );
        return { samples: () => outs[0] as Tensor, weights: () => outs[1] as Tensor };
      },
    },
    {
      kernelName: FUSED_KERNELS.best,
      outputsToSave: [false, true, true],
      gradFunc: (dy, saved, attrs) => {
        const [value, pick] = saved as [Tensor, Tensor];
        const batch = pick.shape[0] ?? 0;
        const count = attrs.count as number;
        const dim = attrs.dim as number;
        const dys = Array.isArray(dy) ? dy : [dy];
        // One kernel writes every gradient; the scores get none (the choice is not differentiated).
        const outs = run<Tensor[]>(
          FUSED_KERNELS.bestGrad,
          {
            dSample: dys[0] ?? tf.zeros([batch, dim]),
            dValue: dys[1] ?? tf.zeros([batch]),
            pick,
            value,
          },
          { count, dim },
        );
        const previous = attrs.hasPrevious === true;
        return {
          samples: () => outs[0] as Tensor,
          scores: () => tf.zeros([batch, count]),
          values: () => outs[1] as Tensor,
          previousSample: () => (previous ? (outs[2] as Tensor) : tf.scalar(0)),
          previousValue: () => (previous ? (outs[3] as Tensor) : tf.scalar(0)),
        };
      },
    },
  ];
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
  const run = <R extends Tensor | Tensor[]>(
    name: string,
    inputs: tfjs.NamedTensorMap,
    attrs: tfjs.NamedAttrMap = {},
  ) => tf.engine().runKernel<R>(name, inputs, attrs);
  return {
    lml(x, k, temperature, maxIterations) {
      if (x.rank !== 2 || !fusedAvailable(tf, [x])) return undefined;
      return run<Tensor>(FUSED_KERNELS.lml, { x }, { k, temperature, maxIterations });
    },
    scores(values, normalize, eps, margin) {
      if (values.rank !== 2 || !fusedAvailable(tf, [values])) return undefined;
      const [scores, nonFinite] = run<Tensor[]>(
        FUSED_KERNELS.scores,
        { values },
        { normalize, eps, margin },
      ) as [Tensor, Tensor];
      return { scores, nonFinite };
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
      return run<Tensor>(
        FUSED_KERNELS.sample,
        { mean, std, noise, lower: lower ?? (none as Tensor), upper: upper ?? (none as Tensor) },
        { hasLower: lower !== undefined, hasUpper: upper !== undefined },
      );
    },
    fit(samples, weights, k, minStd) {
      if (samples.rank !== 3 || !fusedAvailable(tf, [samples, weights])) return undefined;
      const [mean, std] = run<Tensor[]>(FUSED_KERNELS.fit, { samples, weights }, { k, minStd }) as [
        Tensor,
        Tensor,
      ];
      return { mean, std };
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
      const [sample, value, pick] = run<Tensor[]>(
        FUSED_KERNELS.best,
        {
          samples,
          scores,
          values,
          previousSample: previous?.sample ?? (none as Tensor),
          previousValue: previous?.value ?? (none as Tensor),
        },
        { hasPrevious: previous !== undefined, count, dim },
      ) as [Tensor, Tensor, Tensor];
      pick.dispose();
      return { sample, value };
    },
    normalAhead(shape, seed) {
      const count = shape.reduce((a, b) => a * b, 1);
      if (count < NORMALS_AHEAD_MIN || gemmThreads() < 2 || !fusedAvailable(tf, [])) return;
      drawAhead(count, seed);
    },
    normal(shape, seed) {
      if (!fusedAvailable(tf, [])) return undefined;
      return run<Tensor>(FUSED_KERNELS.normal, {}, { shape: [...shape], seed });
    },
  };
}
