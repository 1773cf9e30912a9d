// The GRU cell (PyTorch's GRUCell) as one kernel for the forward pass and
// one for the backward pass (src/threads/gru.ts), with the tfjs composition
// where those kernels do not run.
import { describeValue, formatShape } from '@dcem/errors';
import * as tfjs from '@tensorflow/tfjs';
import type { Tensor } from '../backend.js';
import { attrMap, fusedKernel, type KernelEntry } from '../kernels/tensor-io.js';
import { tnPartialCount, writeTransposed } from '../threads/gemm.js';
import { gruBackward, gruForward } from '../threads/gru.js';
import { threadsAvailable } from '../threads/pool.js';
import { layerThreads } from './dense-kernels.js';

import type { Tensor2D } from './matmul.js';

/** Names of the GRU kernels. */
export const GRU_KERNELS = Object.freeze({
  /** h' (and with `withGates` the gates r, z, n, h·Whn + bhn, [m, 4D]) from x, h, wx, wh, bx, bh. */
  forward: 'DcemGruCell',
  /** dx, dh, dWx, dWh, dbx, dbh from x, h, wx, wh, the gates and dy. */
  backward: 'DcemGruCellGrad',
  /** dx, dh and the gates' pre-activation gradients dgx, dgh ([m, 3D] each) from x, h, wx, wh, the gates and dy. */
  gateGrads: 'DcemGruCellGateGrad',
});

/** Attributes of `DcemGruCell`. */
interface GruAttrs {
  /** Whether to write the gates as a second output (for the backward pass). */
  withGates: boolean;
}

const SHARED_MEMORY_ERROR = '@dcem/tfjs gruCell: the operands do not fit the threads’ shared memory';

const forwardKernel = fusedKernel<GruAttrs>(GRU_KERNELS.forward, { withGates: 'boolean' }, (io, attrs) => {
  const x = io.input('x');
  const wh = io.input('wh');
  const [m = 0, inputs = 0] = x.shape;
  const d = wh.shape[0] ?? 0;
  const { infos, views } = io.allocate(
    attrs.withGates
      ? [
          [m, d],
          [m, 4 * d],
        ]
      : [[m, d]],
  );
  const ok = gruForward({
    x: io.read(x),
    h: io.read('h'),
    wx: io.read('wx'),
    wh: io.read(wh),
    bx: io.read('bx'),
    bh: io.read('bh'),
    m,
    d,
    inputs,
    out: views[0] as Float32Array,
    gates: views[1],
    threads: layerThreads(m, 3 * d, Math.max(inputs, d)),
  });
  if (!ok) throw new Error(SHARED_MEMORY_ERROR);
  return attrs.withGates ? infos : (infos[0] as tfjs.TensorInfo);
});

/**
 * Transposes of weights, by the tensor data they were made from: tfjs
 * tensors never change their data (a variable's assign gives it new data),
 * so a filtering loop's backward steps transpose each weight once.
 */
const transposes = new WeakMap<object, Float32Array>();

/** Wᵀ ([cols, rows]) of the [rows, cols] weight `info` with entries `values`. */
function transposedOf(info: tfjs.TensorInfo, values: Float32Array, rows: number, cols: number): Float32Array {
  let t = transposes.get(info.dataId);
  if (t === undefined) {
    t = new Float32Array(rows * cols);
    writeTransposed(t, values, rows, cols);
    transposes.set(info.dataId, t);
  }
  return t;
}

const backwardKernel = fusedKernel<Record<string, never>>(GRU_KERNELS.backward, {}, (io) => {
  const x = io.input('x');
  const wh = io.input('wh');
  const [m = 0, inputs = 0] = x.shape;
  const d = wh.shape[0] ?? 0;
  const { infos, views } = io.allocate([[m, inputs], [m, d], [inputs, 3 * d], [d, 3 * d], [3 * d], [3 * d]]);
  const [dx, dh, dwx, dwh, dbx, dbh] = views;
  const wx = io.input('wx');
  const ok = gruBackward({
    x: io.read(x),
    h: io.read('h'),
    wxT: transposedOf(wx, io.read(wx), inputs, 3 * d),
    whT: transposedOf(wh, io.read(wh), d, 3 * d),
    gates: io.read('gates'),
    dy: io.read('dy'),
    m,
    d,
    inputs,
    dx,
    dh,
    dwx,
    dwh,
    dbx,
    dbh,
    threads: layerThreads(m, 3 * d, Math.max(inputs, d)),
  });
  if (!ok) throw new Error(SHARED_MEMORY_ERROR);
  return infos;
});

const gateGradsKernel = fusedKernel<Record<string, never>>(GRU_KERNELS.gateGrads, {}, (io) => {
  const x = io.input('x');
  const wh = io.input('wh');
  const [m = 0, inputs = 0] = x.shape;
  const d = wh.shape[0] ?? 0;
  const { infos, views } = io.allocate([
    [m, inputs],
    [m, d],
    [m, 3 * d],
    [m, 3 * d],
  ]);
  const [dx, dh, dgx, dgh] = views;
  const wx = io.input('wx');
  const none = new Float32Array(0);
  const ok = gruBackward({
    x: io.read(x),
    h: io.read('h'),
    wxT: transposedOf(wx, io.read(wx), inputs, 3 * d),
    whT: transposedOf(wh, io.read(wh), d, 3 * d),
    gates: io.read('gates'),
    dy: io.read('dy'),
    m,
    d,
    inputs,
    dx,
    dh,
    dwx: none,
    dwh: none,
    dbx: none,
    dbh: none,
    gateGrads: { dgx, dgh },
    threads: layerThreads(m, 3 * d, Math.max(inputs, d)),
  });
  if (!ok) throw new Error(SHARED_MEMORY_ERROR);
  return infos;
});

const KERNELS: readonly KernelEntry[] = [forwardKernel, backwardKernel, gateGradsKernel];
const registered = new Set<string>();

/** Whether the GRU kernels run here (Node.js threads, the cpu or wasm backend); registers them on first use. */
function fusedGruAvailable(m: number, d: number, inputs: number): boolean {
  const backendName = tfjs.getBackend();
  if (backendName !== 'cpu' && backendName !== 'wasm') return false;
  if (!threadsAvailable()) return false;
  // The backward pass's memory, the larger of the two (bytes).
  const floats =
    m * (3 * d + 12 * d + 2 * inputs) +
    6 * d * (inputs + d) +
    tnPartialCount(m) * (Math.max(inputs, d) + 1) * 3 * d;
  if (floats * 4 > 512 * 1024 * 1024) return false;
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

/** The GRU cell composed of tfjs ops (the reference the kernels are tested against; used where they do not run). */
export function gruCellComposed(
  x: Tensor,
  h: Tensor,
  wx: Tensor,
  wh: Tensor,
  bx: Tensor,
  bh: Tensor,
): Tensor2D {
  return tfjs.tidy(() => {
    const d = h.shape[1] as number;
    const gx = tfjs.add(tfjs.matMul(x as Tensor2D, wx as Tensor2D), bx);
    const gh = tfjs.add(tfjs.matMul(h as Tensor2D, wh as Tensor2D), bh);
    const [xr, xz, xn] = tfjs.split(gx, [d, d, d], 1) as [Tensor, Tensor, Tensor];
    const [hr, hz, hn] = tfjs.split(gh, [d, d, d], 1) as [Tensor, Tensor, Tensor];
    const r = tfjs.sigmoid(tfjs.add(xr, hr));
    const z = tfjs.sigmoid(tfjs.add(xz, hz));
    const n = tfjs.tanh(tfjs.add(xn, tfjs.mul(r, hn)));
    return tfjs.add(tfjs.mul(tfjs.sub(1, z), n), tfjs.mul(z, h)) as Tensor2D;
  });
}

const gruTaped = tfjs.customGrad((x, h, wx, wh, bx, bh, save) => {
  const outs = tfjs.engine().runKernel(
    GRU_KERNELS.forward,
    {
      x: x as Tensor,
      h: h as Tensor,
      wx: wx as Tensor,
      wh: wh as Tensor,
      bx: bx as Tensor,
      bh: bh as Tensor,
    },
    attrMap<GruAttrs>({ withGates: true }),
  ) as Tensor[];
  const [out, gates] = outs as [Tensor2D, Tensor];
  (save as tfjs.GradSaveFunc)([x as Tensor, h as Tensor, wx as Tensor, wh as Tensor, gates]);
  return {
    value: out,
    gradFunc: (dy: Tensor, saved: Tensor[]) => {
      const [sx, sh, swx, swh, sg] = saved as [Tensor, Tensor, Tensor, Tensor, Tensor];
      return tfjs
        .engine()
        .runKernel(GRU_KERNELS.backward, { x: sx, h: sh, wx: swx, wh: swh, gates: sg, dy }) as Tensor[];
    },
  };
}) as (x: Tensor, h: Tensor, wx: Tensor, wh: Tensor, bx: Tensor, bh: Tensor) => Tensor2D;

function checkFloatTensor(name: string, value: unknown, rank: number): asserts value is Tensor {
  if (!(value instanceof tfjs.Tensor)) {
    throw new TypeError(`gruCell: ${name} must be a tf.Tensor, received ${describeValue(value)}`);
  }
  if (value.dtype !== 'float32') {
    throw new TypeError(`gruCell: ${name} must have dtype float32, received ${value.dtype}`);
  }
  if (value.rank !== rank) {
    throw new RangeError(
      `gruCell: ${name} must have rank ${rank}, received shape ${formatShape(value.shape)}`,
    );
  }
}

function checkShape(name: string, t: Tensor, expected: readonly number[]): void {
  if (t.shape.length !== expected.length || t.shape.some((v, i) => v !== expected[i])) {
    throw new RangeError(
      `gruCell: ${name} must have shape ${formatShape(expected)}, received ${formatShape(t.shape)}`,
    );
  }
}

/**
 * One step of a gated recurrent unit, PyTorch's `GRUCell` (gates ordered
 * r, z, n):
 *
 * r = σ(x·Wx_r + bx_r + h·Wh_r + bh_r), z = σ(x·Wx_z + bx_z + h·Wh_z + bh_z),
 * n = tanh(x·Wx_n + bx_n + r ⊙ (h·Wh_n + bh_n)), h' = (1 − z) ⊙ n + z ⊙ h,
 *
 * where Wx = [Wx_r | Wx_z | Wx_n] by columns (PyTorch's `weight_ih` is its
 * transpose), and likewise Wh, bx and bh. Differentiable with `tf.grad` in
 * all six arguments.
 *
 * In Node.js on the tfjs `cpu` and `wasm` backends the step is one kernel
 * (both products, the biases and the gates, on every core when the batch
 * is large enough; see {@link setThreads}) and its backward pass another;
 * elsewhere it is the tfjs composition. Values and gradients are those of
 * the composition to float32 rounding (σ and tanh are evaluated from a
 * polynomial eᵗ, within a few units in the last place of 1).
 *
 * @param x Inputs, [batch, in], float32.
 * @param h The state, [batch, D], float32.
 * @param wx [in, 3D], float32.
 * @param wh [D, 3D], float32.
 * @param bx [3D], float32.
 * @param bh [3D], float32.
 * @returns h', [batch, D].
 * @throws TypeError when an argument is not a float32 tensor; RangeError
 *   when a rank or a shape does not fit the others.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { gruCell } from '@dcem/tfjs';
 * const [batch, inputs, d] = [4, 3, 5];
 * const wx = tf.randomNormal([inputs, 3 * d]), wh = tf.randomNormal([d, 3 * d]);
 * const bx = tf.zeros([3 * d]), bh = tf.zeros([3 * d]);
 * const h1 = gruCell(tf.randomNormal([batch, inputs]), tf.zeros([batch, d]), wx, wh, bx, bh); // [4, 5]
 * ```
 */
export function gruCell(x: Tensor, h: Tensor, wx: Tensor, wh: Tensor, bx: Tensor, bh: Tensor): Tensor2D {
  checkFloatTensor('x', x, 2);
  checkFloatTensor('h', h, 2);
  checkFloatTensor('wx', wx, 2);
  checkFloatTensor('wh', wh, 2);
  checkFloatTensor('bx', bx, 1);
  checkFloatTensor('bh', bh, 1);
  const [m, inputs] = x.shape as [number, number];
  const d = h.shape[1] as number;
  checkShape('h', h, [m, d]);
  checkShape('wx', wx, [inputs, 3 * d]);
  checkShape('wh', wh, [d, 3 * d]);
  checkShape('bx', bx, [3 * d]);
  checkShape('bh', bh, [3 * d]);
  if (m === 0 || d === 0 || inputs === 0 || !fusedGruAvailable(m, d, inputs)) {
    return gruCellComposed(x, h, wx, wh, bx, bh);
  }
  if (tfjs.engine().isTapeOn()) return gruTaped(x, h, wx, wh, bx, bh);
  return tfjs
    .engine()
    .runKernel(
      GRU_KERNELS.forward,
      { x, h, wx, wh, bx, bh },
      attrMap<GruAttrs>({ withGates: false }),
    ) as Tensor2D;
}

/** The forward pass of {@link gruCellSteps}: h' and the gates its backward pass needs. */
export interface GruCellStep {
  /** h', [batch, D]. */
  h: Tensor2D;
  /** The gates of the step, [batch, 4D] (r, z, n and h·Wh_n + bh_n), for {@link GruCellSteps.backward}. */
  gates: Tensor2D;
}

/** What {@link GruCellSteps.backward} returns. */
export interface GruCellStepGrads {
  /** ∂L/∂x, [batch, in]. */
  dx: Tensor2D;
  /** ∂L/∂h (of the step's input state), [batch, D]. */
  dh: Tensor2D;
  /** ∂L/∂(x·Wx + bx), [batch, 3D]: the weights' gradients are dWx = xᵀ·dgx, dbx = Σ rows of dgx. */
  dgx: Tensor2D;
  /** ∂L/∂(h·Wh + bh), [batch, 3D]: dWh = hᵀ·dgh, dbh = Σ rows of dgh. */
  dgh: Tensor2D;
}

/**
 * The GRU cell's kernels for a hand-written backward pass through time
 * (see {@link gruCellSteps}).
 */
export interface GruCellSteps {
  /**
   * One step, h' = GRU(x, h) as {@link gruCell} computes it, with the gates
   * kept for {@link GruCellSteps.backward}. Records no gradient.
   */
  forward(x: Tensor, h: Tensor, wx: Tensor, wh: Tensor, bx: Tensor, bh: Tensor): GruCellStep;
  /**
   * The backward pass of one step without the weights' gradients: from the
   * step's x, h, weights and gates and the upstream gradient dy of h', the
   * gradients of x and h and of the gates' pre-activations, from which the
   * weights' gradients of many steps can be formed as one product each.
   */
  backward(x: Tensor, h: Tensor, wx: Tensor, wh: Tensor, gates: Tensor, dy: Tensor): GruCellStepGrads;
}

const STEPS: GruCellSteps = {
  forward(x, h, wx, wh, bx, bh) {
    const [out, gates] = tfjs
      .engine()
      .runKernel(
        GRU_KERNELS.forward,
        { x, h, wx, wh, bx, bh },
        attrMap<GruAttrs>({ withGates: true }),
      ) as Tensor2D[];
    return { h: out as Tensor2D, gates: gates as Tensor2D };
  },
  backward(x, h, wx, wh, gates, dy) {
    const [dx, dh, dgx, dgh] = tfjs
      .engine()
      .runKernel(GRU_KERNELS.gateGrads, { x, h, wx, wh, gates, dy }) as Tensor2D[];
    return { dx: dx as Tensor2D, dh: dh as Tensor2D, dgx: dgx as Tensor2D, dgh: dgh as Tensor2D };
  },
};

/**
 * The GRU cell's forward and backward kernels as separate steps, for a
 * caller that writes back-propagation through time itself (e.g. a
 * recurrent model whose weights' gradients are formed once over all steps
 * instead of once per step), or undefined where the kernels do not run
 * (see {@link gruCell}: Node.js threads, the tfjs `cpu` and `wasm`
 * backends). The arguments are not checked: they must be float32 tensors
 * of {@link gruCell}'s shapes (x [batch, in], h [batch, D], wx [in, 3D],
 * wh [D, 3D], bx and bh [3D], with batch, in, D ≥ 1). The values are those
 * of {@link gruCell} and its gradient, bit for bit.
 *
 * @param batch The rows of the steps to run.
 * @param inputs The input size.
 * @param d The state size D.
 * @returns The kernels, or undefined.
 * @example
 * ```ts
 * const steps = gruCellSteps(50, 200, 200);
 * if (steps !== undefined) {
 *   const { h: h1, gates } = steps.forward(x, h0, wx, wh, bx, bh);
 *   const { dx, dh, dgx, dgh } = steps.backward(x, h0, wx, wh, gates, dh1);
 * }
 * ```
 */
export function gruCellSteps(batch: number, inputs: number, d: number): GruCellSteps | undefined {
  if (batch < 1 || inputs < 1 || d < 1 || !fusedGruAvailable(batch, d, inputs)) return undefined;
  return STEPS;
}
