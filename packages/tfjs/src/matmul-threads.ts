// The threaded path of matMul and dense: tfjs kernels (registered for the
// cpu and wasm backends on first use) that run the products on the
// SIMD kernels of src/wasm/gemm.ts, on every core Node offers. Elsewhere
// (browsers, other tfjs backends, small products) callers keep tf.matMul.
import * as tfjs from '@tensorflow/tfjs';
import { allocate, read } from './fused-kernels.js';
import { gemm, gemmThreads, gemmTn, tnPartialCount } from './wasm/gemm.js';

type Tensor = tfjs.Tensor;
type Tensor2D = tfjs.Tensor2D;
type KernelBackend = tfjs.KernelBackend;
type KernelFunc = tfjs.KernelConfig['kernelFunc'];

/** Names of the threaded product kernels. */
export const MATMUL_KERNELS = Object.freeze({
  /** C = A·B. */
  nn: 'DcemMatMul',
  /** C = A·B + bias (bias broadcast over rows). */
  bias: 'DcemMatMulBias',
  /** C = Aᵀ·B. */
  tn: 'DcemMatMulTN',
});

/**
 * Smallest product (multiply-adds m·n·k) that goes to the threads: below,
 * copying the operands and waking the workers cost more than they save.
 */
export const THREADED_MIN_MACS = 1 << 22;
/** Smallest m, n and k of a threaded product (narrower products run tf.matMul). */
export const THREADED_MIN_DIM = 8;
/** Largest shared memory a product may take (operands, partials and result), bytes. */
const THREADED_MAX_BYTES = 512 * 1024 * 1024;

let minMacs = THREADED_MIN_MACS;

/** Test hook: the size threshold of the threaded path (pass undefined to restore it). */
export function setThreadedMinMacs(macs: number | undefined): void {
  minMacs = macs ?? THREADED_MIN_MACS;
}

function product(
  backend: KernelBackend,
  a: tfjs.TensorInfo,
  b: tfjs.TensorInfo,
  bias: tfjs.TensorInfo | undefined,
  transposeA: boolean,
): tfjs.TensorInfo {
  const [ra = 0, ca = 0] = a.shape;
  const n = b.shape[1] ?? 0;
  const m = transposeA ? ca : ra;
  const { infos, views } = allocate(backend, [[m, n]]);
  const out = views[0] as Float32Array;
  const av = read(backend, a);
  const bv = read(backend, b);
  const threads = gemmThreads();
  const ok = transposeA
    ? gemmTn(av, bv, ra, n, ca, out, threads)
    : gemm(av, bv, bias === undefined ? undefined : read(backend, bias), ra, n, ca, out, threads);
  if (!ok) throw new Error('@dcem/tfjs matMul: the operands do not fit the threads’ shared memory');
  return infos[0] as tfjs.TensorInfo;
}

const KERNELS: ReadonlyArray<[string, KernelFunc]> = [
  [
    MATMUL_KERNELS.nn,
    ({ inputs, backend }) =>
      product(
        backend as KernelBackend,
        inputs.a as tfjs.TensorInfo,
        inputs.b as tfjs.TensorInfo,
        undefined,
        false,
      ),
  ],
  [
    MATMUL_KERNELS.bias,
    ({ inputs, backend }) =>
      product(
        backend as KernelBackend,
        inputs.a as tfjs.TensorInfo,
        inputs.b as tfjs.TensorInfo,
        inputs.bias as tfjs.TensorInfo,
        false,
      ),
  ],
  [
    MATMUL_KERNELS.tn,
    ({ inputs, backend }) =>
      product(
        backend as KernelBackend,
        inputs.a as tfjs.TensorInfo,
        inputs.b as tfjs.TensorInfo,
        undefined,
        true,
      ),
  ],
];

const registered = new Set<string>();

/**
 * Whether an [m, k]·[k, n] product runs on the threads here (registers the
 * kernels on first use): Node with two threads or more, the cpu or wasm
 * tfjs backend, and a product large enough.
 */
export function threaded(m: number, n: number, k: number, partials = 0): boolean {
  if (m < THREADED_MIN_DIM || n < THREADED_MIN_DIM || k < THREADED_MIN_DIM || m * n * k < minMacs)
    return false;
  const backendName = tfjs.getBackend();
  if (backendName !== 'cpu' && backendName !== 'wasm') return false;
  if (gemmThreads() < 2) return false;
  if ((m * k + k * n + m * n + partials) * 4 > THREADED_MAX_BYTES) return false;
  if (!registered.has(backendName)) {
    for (const [kernelName, kernelFunc] of KERNELS) {
      if (tfjs.getKernel(kernelName, backendName) === undefined) {
        tfjs.registerKernel({ kernelName, backendName, kernelFunc });
      }
    }
    registered.add(backendName);
  }
  return true;
}

/** a·b ([m, k]·[k, n]), on the threads when {@link threaded} allows, else tf.matMul. */
export function productNN(a: Tensor2D, b: Tensor2D): Tensor2D {
  const [m, k] = a.shape;
  const n = b.shape[1];
  if (!threaded(m, n, k)) return tfjs.matMul(a, b);
  return tfjs.engine().runKernel(MATMUL_KERNELS.nn, { a, b }) as Tensor2D;
}

/** a·b + bias, on the threads when {@link threaded} allows, else tf.matMul and tf.add. */
export function productBias(a: Tensor2D, b: Tensor2D, bias: Tensor): Tensor2D {
  const [m, k] = a.shape;
  const n = b.shape[1];
  if (!threaded(m, n, k)) return tfjs.tidy(() => tfjs.add(tfjs.matMul(a, b), bias) as Tensor2D);
  return tfjs.engine().runKernel(MATMUL_KERNELS.bias, { a, b, bias }) as Tensor2D;
}

/**
 * aᵀ·b ([m, k]ᵀ·[m, n] → [k, n]) on the threads when {@link threaded}
 * allows; otherwise undefined (the caller transposes and calls tf.matMul).
 */
export function productTN(a: Tensor2D, b: Tensor2D): Tensor2D | undefined {
  const [m, k] = a.shape;
  const n = b.shape[1];
  const partials = tnPartialCount(m) * k * n;
  if (!threaded(k, n, m, partials)) return undefined;
  return tfjs.engine().runKernel(MATMUL_KERNELS.tn, { a, b }) as Tensor2D;
}
