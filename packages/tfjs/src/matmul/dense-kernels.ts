// The threaded path of matMul and dense: tfjs kernels (registered for the
// cpu and wasm backends on first use) that run the products on the
// SIMD kernels of src/threads/gemm.ts, on every core Node offers. Elsewhere
// (browsers, other tfjs backends, small products) callers keep tf.matMul.
import * as tfjs from '@tensorflow/tfjs';
import { allocate, attrMap, input, read } from '../kernels/tensor-io.js';
import { type ActivationName, denseBackward, gemm, gemmTn, tnPartialCount } from '../threads/gemm.js';
import { poolThreads, threadsAvailable } from '../threads/pool.js';

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
  /** h = act(x·W + b), and with `withSlope` act′(x·W + b) for the gradient. */
  dense: 'DcemDense',
  /** dx, dW, db of a dense layer from x, W, the upstream gradient and the slope act′(x·W + b). */
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
  const threads = poolThreads();
  const ok = transposeA
    ? gemmTn({ a: av, b: bv, m: ra, n, k: ca, out, threads })
    : gemm({
        a: av,
        b: bv,
        bias: bias === undefined ? undefined : read(backend, bias),
        m: ra,
        n,
        k: ca,
        out,
        threads,
      });
  if (!ok) throw new Error('@dcem/tfjs matMul: the operands do not fit the threads’ shared memory');
  return infos[0] as tfjs.TensorInfo;
}

/** Attributes of `DcemDense` (inputs `x`, `w`, `bias`). */
interface DenseAttrs {
  /** The activation. */
  activation: ActivationName;
  /** Whether to write act′(x·W + b) as a second output (not for a linear layer). */
  withSlope: boolean;
}

/** Attributes of `DcemDenseGrad` (inputs `x`, `w`, `dy`, and `slope` unless linear). */
type DenseGradAttrs = Pick<DenseAttrs, 'activation'>;

/** The typed attributes of the dense kernels (an Error names a bad activation). */
function denseAttrs(attrs: tfjs.NamedAttrMap | undefined): DenseAttrs {
  const a = attrs?.activation;
  if (a === 'linear' || a === 'relu' || a === 'softplus')
    return { activation: a as ActivationName, withSlope: attrs?.withSlope === true };
  throw new Error(`@dcem/tfjs dense kernel: bad activation ${String(a)}`);
}

/** The dense kernels' inputs `x` [m, k] and `w` [k, n], with m, k and n. */
function denseOperands(inputs: tfjs.NamedTensorInfoMap): {
  x: tfjs.TensorInfo;
  w: tfjs.TensorInfo;
  m: number;
  k: number;
  n: number;
} {
  const x = input(inputs, 'x');
  const w = input(inputs, 'w');
  const [m = 0, k = 0] = x.shape;
  return { x, w, m, k, n: w.shape[1] ?? 0 };
}

const denseKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as KernelBackend;
  const { x, w, m, k, n } = denseOperands(inputs);
  const { activation, withSlope: slopeAsked } = denseAttrs(attrs);
  const withSlope = slopeAsked && activation !== 'linear';
  const { infos, views } = allocate(
    be,
    withSlope
      ? [
          [m, n],
          [m, n],
        ]
      : [[m, n]],
  );
  const ok = gemm({
    a: read(be, x),
    b: read(be, w),
    bias: read(be, input(inputs, 'bias')),
    m,
    n,
    k,
    out: views[0] as Float32Array,
    threads: layerThreads(m, n, k),
    activation,
    slope: views[1],
  });
  if (!ok) throw new Error('@dcem/tfjs dense: the operands do not fit the threads’ shared memory');
  return infos;
};

const denseGradKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as KernelBackend;
  const { x, w, m, k, n } = denseOperands(inputs);
  const { activation } = denseAttrs(attrs);
  const { infos, views } = allocate(be, [[m, k], [k, n], [n]]);
  const [dx, dw, db] = views as [Float32Array, Float32Array, Float32Array];
  const ok = denseBackward({
    x: read(be, x),
    w: read(be, w),
    g: read(be, input(inputs, 'dy')),
    slope: activation === 'linear' ? undefined : read(be, input(inputs, 'slope')),
    m,
    n,
    k,
    dx,
    dw,
    db,
    threads: layerThreads(m, n, k),
  });
  if (!ok) throw new Error('@dcem/tfjs dense: the operands do not fit the threads’ shared memory');
  return infos;
};

/** The kernel of A·B (with `bias`: A·B + bias; with `transposeA`: Aᵀ·B) on inputs a, b (and bias). */
function productKernel(withBias: boolean, transposeA: boolean): KernelFunc {
  return ({ inputs, backend }) =>
    product(
      backend as KernelBackend,
      input(inputs, 'a'),
      input(inputs, 'b'),
      withBias ? input(inputs, 'bias') : undefined,
      transposeA,
    );
}

const KERNELS: ReadonlyArray<[string, KernelFunc]> = [
  [MATMUL_KERNELS.dense, denseKernel],
  [MATMUL_KERNELS.denseGrad, denseGradKernel],
  [MATMUL_KERNELS.nn, productKernel(false, false)],
  [MATMUL_KERNELS.bias, productKernel(true, false)],
  [MATMUL_KERNELS.tn, productKernel(false, true)],
];

const registered = new Set<string>();

/** The tfjs backends our kernels are registered for. */
function onOurBackend(): boolean {
  const backendName = tfjs.getBackend();
  if (backendName !== 'cpu' && backendName !== 'wasm') return false;
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

/** Whether the operands of a product (and `partials` floats of partial sums) fit the shared memory. */
function fits(m: number, n: number, k: number, partials: number): boolean {
  return (m * k + k * n + m * n + partials) * 4 <= THREADED_MAX_BYTES;
}

/**
 * The threads a dense layer on [m, k]·[k, n] runs on: every thread of the
 * pool when its work is large enough, else the calling thread alone.
 */
export function layerThreads(m: number, n: number, k: number): number {
  const work = m * n * Math.max(k, DENSE_ELEMENTWISE_MACS);
  return work >= minMacs && m >= THREADED_MIN_DIM && n >= THREADED_MIN_DIM ? poolThreads() : 1;
}

/**
 * Whether an [m, k]·[k, n] product runs on the threads here (registers the
 * kernels on first use): Node with two threads or more, the cpu or wasm
 * tfjs backend, and a product large enough (`partials`: floats of partial
 * sums it keeps besides its operands).
 */
export function threaded(m: number, n: number, k: number, partials = 0): boolean {
  if (m < THREADED_MIN_DIM || n < THREADED_MIN_DIM || k < THREADED_MIN_DIM || m * n * k < minMacs)
    return false;
  if (poolThreads() < 2 || !fits(m, n, k, partials)) return false;
  return onOurBackend();
}

/**
 * Whether a dense layer on [m, k]·[k, n] runs as our fused kernels here:
 * the cpu or wasm tfjs backend, in a runtime whose WebAssembly memory can
 * be shared (Node.js), at any size. Large layers use every thread
 * ({@link layerThreads}); small ones run on the calling thread, where one
 * kernel still replaces the product, bias and activation (and their
 * gradients) of the tfjs composition.
 */
export function fusedLayer(m: number, n: number, k: number, partials = 0): boolean {
  if (m < 1 || n < 1 || k < 1 || !threadsAvailable() || !fits(m, n, k, partials)) return false;
  return onOurBackend();
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
          attrMap<DenseAttrs>({ activation, withSlope: true }),
        ) as Tensor[];
      const h = outs[0] as Tensor2D;
      // The slope act′(z) is kept for the backward pass (a linear layer has none).
      const slope = outs[1];
      (save as tfjs.GradSaveFunc)(
        slope === undefined ? [x as Tensor, w as Tensor] : [x as Tensor, w as Tensor, slope],
      );
      return {
        value: h,
        gradFunc: (dy: Tensor, saved: Tensor[]) => {
          const [sx, sw, ss] = saved as [Tensor, Tensor, Tensor | undefined];
          const inputs: tfjs.NamedTensorMap = { x: sx, w: sw, dy };
          if (ss !== undefined) inputs.slope = ss;
          return tfjs
            .engine()
            .runKernel(MATMUL_KERNELS.denseGrad, inputs, attrMap<DenseGradAttrs>({ activation })) as Tensor[];
        },
      };
    }) as (x: Tensor, w: Tensor, b: Tensor) => Tensor2D;
    denseTaped.set(activation, f);
  }
  return f;
}

/**
 * act(x·W + b) in one kernel (and its gradient in another) when
 * {@link fusedLayer} allows; otherwise undefined (the caller composes tfjs
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
  if (!fusedLayer(m, n, k, tnPartialCount(m) * (k + 1) * n)) return undefined;
  if (tfjs.engine().isTapeOn()) return denseTapedFor(activation)(x, w, b);
  const outs = tfjs
    .engine()
    .runKernel(
      MATMUL_KERNELS.dense,
      { x, w, bias: b },
      attrMap<DenseAttrs>({ activation, withSlope: false }),
    ) as Tensor[];
  return outs[0] as Tensor2D;
}
