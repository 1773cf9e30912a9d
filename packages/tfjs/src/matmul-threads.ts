// The threaded path of matMul and dense: tfjs kernels (registered for the
// cpu and wasm backends on first use) that run the products on the
// SIMD kernels of src/wasm/gemm.ts, on every core Node offers. Elsewhere
// (browsers, other tfjs backends, small products) callers keep tf.matMul.
import * as tfjs from '@tensorflow/tfjs';
import { allocate, read } from './fused-kernels.js';
import {
  type ActivationName,
  denseBackward,
  gemm,
  gemmThreads,
  gemmTn,
  tnPartialCount,
} from './wasm/gemm.js';

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
  /** h = act(x·W + b), and the pre-activation z = x·W + b for the gradient. */
  dense: 'DcemDense',
  /** dx, dW, db of a dense layer from x, W, the upstream gradient and z. */
  denseGrad: 'DcemDenseGrad',
});

/**
 * Smallest product (multiply-adds m·n·k) that goes to the threads: below,
 * copying the operands and waking the workers cost more than they save.
 */
export const THREADED_MIN_MACS = 1 << 22;
/** Smallest m, n and k of a threaded product (narrower products run tf.matMul). */
export const THREADED_MIN_DIM = 8;
/** What one entry of a layer's element-wise work (bias, activation, gradient) counts, in multiply-adds, for the size threshold. */
const DENSE_ELEMENTWISE_MACS = 32;
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

function info(inputs: tfjs.NamedTensorInfoMap, name: string): tfjs.TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`@dcem/tfjs dense kernel: missing input ${name}`);
  return t;
}

function activationOf(attrs: tfjs.NamedAttrMap | undefined): ActivationName {
  const a = attrs?.activation;
  if (a === 'linear' || a === 'relu' || a === 'softplus') return a as ActivationName;
  throw new Error(`@dcem/tfjs dense kernel: bad activation ${String(a)}`);
}

const denseKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as KernelBackend;
  const x = info(inputs, 'x');
  const w = info(inputs, 'w');
  const [m = 0, k = 0] = x.shape;
  const n = w.shape[1] ?? 0;
  const activation = activationOf(attrs);
  const { infos, views } = allocate(
    be,
    activation === 'linear'
      ? [[m, n]]
      : [
          [m, n],
          [m, n],
        ],
  );
  const ok = gemm(
    read(be, x),
    read(be, w),
    read(be, info(inputs, 'bias')),
    m,
    n,
    k,
    views[0] as Float32Array,
    gemmThreads(),
    activation,
    views[1],
  );
  if (!ok) throw new Error('@dcem/tfjs dense: the operands do not fit the threads’ shared memory');
  return infos;
};

const denseGradKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as KernelBackend;
  const x = info(inputs, 'x');
  const w = info(inputs, 'w');
  const [m = 0, k = 0] = x.shape;
  const n = w.shape[1] ?? 0;
  const activation = activationOf(attrs);
  const { infos, views } = allocate(be, [[m, k], [k, n], [n]]);
  const [dx, dw, db] = views as [Float32Array, Float32Array, Float32Array];
  const ok = denseBackward(
    read(be, x),
    read(be, w),
    read(be, info(inputs, 'dy')),
    activation === 'linear' ? undefined : read(be, info(inputs, 'z')),
    m,
    n,
    k,
    activation,
    dx,
    dw,
    db,
    gemmThreads(),
  );
  if (!ok) throw new Error('@dcem/tfjs dense: the operands do not fit the threads’ shared memory');
  return infos;
};

const KERNELS: ReadonlyArray<[string, KernelFunc]> = [
  [MATMUL_KERNELS.dense, denseKernel],
  [MATMUL_KERNELS.denseGrad, denseGradKernel],
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
 * Whether an [m, k]·[k, n] product (`layer`: a dense layer, any k ≥ 1)
 * runs on the threads here (registers the kernels on first use): Node with
 * two threads or more, the cpu or wasm tfjs backend, and a product large
 * enough.
 */
export function threaded(m: number, n: number, k: number, partials = 0, layer = false): boolean {
  // A layer (dense with its activation) is worth the threads for any inner
  // size k: its element-wise work (bias, activation, their gradient) scales with m·n.
  const work = layer ? m * n * Math.max(k, DENSE_ELEMENTWISE_MACS) : m * n * k;
  if (m < THREADED_MIN_DIM || n < THREADED_MIN_DIM || k < (layer ? 1 : THREADED_MIN_DIM) || work < minMacs) {
    return false;
  }
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

const denseTaped = new Map<ActivationName, (x: Tensor, w: Tensor, b: Tensor) => Tensor2D>();

function denseTapedFor(activation: ActivationName): (x: Tensor, w: Tensor, b: Tensor) => Tensor2D {
  let f = denseTaped.get(activation);
  if (f === undefined) {
    f = tfjs.customGrad((x, w, b, save) => {
      const outs = tfjs
        .engine()
        .runKernel(
          MATMUL_KERNELS.dense,
          { x: x as Tensor, w: w as Tensor, bias: b as Tensor },
          { activation },
        ) as Tensor[];
      const h = outs[0] as Tensor2D;
      const z = (outs[1] ?? h) as Tensor2D;
      (save as tfjs.GradSaveFunc)([x as Tensor, w as Tensor, z]);
      return {
        value: h,
        gradFunc: (dy: Tensor, saved: Tensor[]) => {
          const [sx, sw, sz] = saved as [Tensor, Tensor, Tensor];
          return tfjs
            .engine()
            .runKernel(MATMUL_KERNELS.denseGrad, { x: sx, w: sw, dy, z: sz }, { activation }) as Tensor[];
        },
      };
    }) as (x: Tensor, w: Tensor, b: Tensor) => Tensor2D;
    denseTaped.set(activation, f);
  }
  return f;
}

/**
 * act(x·W + b) in one threaded kernel (and its gradient in another) when
 * {@link threaded} allows; otherwise undefined (the caller composes tfjs
 * ops). x: [m, k], W: [k, n], b: [n] float32.
 */
export function denseFused(
  x: Tensor2D,
  w: Tensor2D,
  b: Tensor,
  activation: ActivationName,
): Tensor2D | undefined {
  const [m, k] = x.shape;
  const n = w.shape[1];
  if (!threaded(m, n, k, tnPartialCount(m) * (k + 1) * n, true)) return undefined;
  if (tfjs.engine().isTapeOn()) return denseTapedFor(activation)(x, w, b);
  const outs = tfjs.engine().runKernel(MATMUL_KERNELS.dense, { x, w, bias: b }, { activation }) as Tensor[];
  if (outs[1] !== undefined) outs[1].dispose();
  return outs[0] as Tensor2D;
}
