// The fused LML kernel, y = LML_k(x/τ) by rows of x [rows, n], and its
// gradient. In Node both run on the thread pool's WebAssembly kernels (on
// every thread for large inputs, else on the calling thread); elsewhere
// their JavaScript twins in math.ts.
import type * as tfjs from '@tensorflow/tfjs';
import { lmlGradRowsThreaded, lmlRowsThreaded } from '../threads/lml-rows.js';
import { poolThreads, threadsAvailable } from '../threads/pool.js';
import { lmlBackward, lmlForward } from './math.js';
import {
  type AttrSpec,
  attrMap,
  dims,
  firstDy,
  fusedKernel,
  type KernelEntry,
  type RunKernel,
  readAttrs,
} from './tensor-io.js';

/** Names of the LML kernels. */
export const LML_KERNELS = Object.freeze({ lml: 'DcemLml', lmlGrad: 'DcemLmlGrad' });

/** Attributes of `DcemLml` (input `x`). */
export interface LmlAttrs {
  /** The top-k size, 1 ≤ k < n. */
  k: number;
  /** The temperature τ. */
  temperature: number;
  /** Most Newton steps per row. */
  maxIterations: number;
}

/** Attributes of `DcemLmlGrad` (inputs `dy`, `y`). */
export interface LmlGradAttrs {
  /** The temperature τ of the forward pass. */
  temperature: number;
}

const LML_ATTRS: AttrSpec<LmlAttrs> = { k: 'number', temperature: 'number', maxIterations: 'number' };
const LML_GRAD_ATTRS: AttrSpec<LmlGradAttrs> = { temperature: 'number' };

/**
 * Smallest LML input (rows · n entries) that runs on every thread of the
 * pool where there is one (Node.js): below, handing out the rows costs more
 * than the other threads save, and the calling thread runs it alone.
 */
export const LML_THREADED_MIN_ENTRIES = 32768;

/**
 * The threads LML and its gradient run on for `entries` entries: in Node the
 * WebAssembly kernels of the pool run them, on every thread for large
 * inputs, else on the calling thread alone (still faster than JavaScript);
 * 0 where there is no pool (browsers), which means the JavaScript twins.
 */
function lmlThreads(entries: number): number {
  if (!threadsAvailable()) return 0;
  return entries >= LML_THREADED_MIN_ENTRIES ? poolThreads() : 1;
}

/** The LML kernels, for registration. */
export const LML_KERNEL_FUNCS: readonly KernelEntry[] = [
  fusedKernel(LML_KERNELS.lml, LML_ATTRS, (io, { k, temperature, maxIterations }) => {
    const x = io.input('x');
    const [rows = 0, n = 0] = x.shape;
    const { infos, views } = io.allocate([dims(x)]);
    const [y] = views;
    const args = { x: io.read(x), rows, n, k, temperature, maxIterations, y };
    const threads = lmlThreads(rows * n);
    if (!(threads > 0 && lmlRowsThreaded(args, threads))) lmlForward(args);
    return infos[0] as tfjs.TensorInfo;
  }),
  fusedKernel(LML_KERNELS.lmlGrad, LML_GRAD_ATTRS, (io, { temperature }) => {
    const y = io.input('y');
    const [rows = 0, n = 0] = y.shape;
    const { infos, views } = io.allocate([dims(y)]);
    const [dx] = views;
    const args = { y: io.read(y), dy: io.read('dy'), rows, n, temperature, dx };
    const threads = lmlThreads(rows * n);
    if (!(threads > 0 && lmlGradRowsThreaded(args, threads))) lmlBackward(args);
    return infos[0] as tfjs.TensorInfo;
  }),
];

/** The gradient of `DcemLml`: `DcemLmlGrad` at the saved output. */
export function lmlGradient(run: RunKernel): tfjs.GradConfig {
  return {
    kernelName: LML_KERNELS.lml,
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const { temperature } = readAttrs(LML_KERNELS.lml, attrs, LML_ATTRS);
      return {
        x: () =>
          run<tfjs.Tensor>(
            LML_KERNELS.lmlGrad,
            { dy: firstDy(dy) as tfjs.Tensor, y: saved[0] as tfjs.Tensor },
            attrMap<LmlGradAttrs>({ temperature }),
          ),
      };
    },
  };
}

/** y = LML_k(x/τ) for x [rows, n] on the fused kernel. */
export function runLml(run: RunKernel, x: tfjs.Tensor, attrs: LmlAttrs): tfjs.Tensor {
  return run<tfjs.Tensor>(LML_KERNELS.lml, { x }, attrMap(attrs));
}
