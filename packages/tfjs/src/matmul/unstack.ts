// tf.unstack along the first axis as one kernel that reads its input in
// place. The tfjs wasm backend unstacks by one Slice per output, and each
// Slice reads its input through readSync, which copies the whole input: an
// unstack of L steps copies the input L times (a [50, 50, 200] sequence:
// 100 MB of copies, most of a training update's filtering loop).
import { describeValue } from '@dcem/errors';
import * as tfjs from '@tensorflow/tfjs';
import type { Tensor } from '../backend.js';
import { fusedKernel, type KernelEntry } from '../kernels/tensor-io.js';

/** The name of the unstack kernel (outputs: the input's slices along its first axis). */
export const UNSTACK_KERNEL = 'DcemUnstack';

const unstackKernel: KernelEntry = fusedKernel(UNSTACK_KERNEL, {}, (io) => {
  const x = io.input('x');
  const [count = 0, ...rest] = x.shape;
  const size = rest.reduce((a, b) => a * b, 1);
  const { infos, views } = io.allocate(Array.from({ length: count }, () => rest));
  const values = io.read(x);
  for (let t = 0; t < count; t++) (views[t] as Float32Array).set(values.subarray(t * size, (t + 1) * size));
  return infos;
});

const registered = new Set<string>();

/** Whether the kernel runs here (the cpu or wasm backend); registers it and its gradient on first use. */
function unstackAvailable(): boolean {
  const backendName = tfjs.getBackend();
  if (backendName !== 'cpu' && backendName !== 'wasm') return false;
  if (!registered.has(backendName)) {
    if (tfjs.getKernel(UNSTACK_KERNEL, backendName) === undefined) {
      tfjs.registerKernel({ kernelName: UNSTACK_KERNEL, backendName, kernelFunc: unstackKernel[1] });
    }
    if (tfjs.getGradient(UNSTACK_KERNEL) === undefined) {
      tfjs.registerGradient({
        kernelName: UNSTACK_KERNEL,
        inputsToSave: ['x'],
        gradFunc: (dy, saved) => {
          const [x] = saved as [Tensor];
          const shape = x.shape.slice(1);
          // Outputs that the loss does not use have no gradient: zeros.
          const dys = (Array.isArray(dy) ? dy : [dy]).map((g) => g ?? tfjs.zeros(shape));
          return { x: () => tfjs.stack(dys) };
        },
      });
    }
    registered.add(backendName);
  }
  return true;
}

/**
 * The slices of a float32 tensor along its first axis, as `tf.unstack(x)`
 * (axis 0): x [n, …] gives n tensors of shape […]. Differentiable with
 * `tf.grad` (the gradient stacks the slices' gradients).
 *
 * On the tfjs `cpu` and `wasm` backends it is one kernel that reads x in
 * place; tfjs's own Unpack on wasm copies the whole of x once per slice,
 * which costs n times the size of x (a [50, 50, 200] sequence: 0.1 GB).
 * Elsewhere it is `tf.unstack`. The values are x's, bit for bit.
 *
 * @param x A float32 tensor of rank ≥ 1.
 * @returns x.shape[0] tensors.
 * @throws TypeError when x is not a float32 tensor; RangeError when it is a scalar.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { unstack } from '@dcem/tfjs';
 * const steps = unstack(tf.zeros([50, 8, 3])); // 50 tensors of shape [8, 3]
 * ```
 */
export function unstack(x: Tensor): Tensor[] {
  if (!(x instanceof tfjs.Tensor)) {
    throw new TypeError(`unstack: x must be a tf.Tensor, received ${describeValue(x)}`);
  }
  if (x.dtype !== 'float32') throw new TypeError(`unstack: x must have dtype float32, received ${x.dtype}`);
  if (x.rank < 1) throw new RangeError(`unstack: x must have rank ≥ 1, received ${describeValue(x)}`);
  if ((x.shape[0] as number) === 0 || !unstackAvailable()) return tfjs.unstack(x);
  return tfjs.engine().runKernel(UNSTACK_KERNEL, { x }) as Tensor[];
}

const stackTaped = tfjs.customGrad((...args: unknown[]) => {
  const xs = args.slice(0, -1) as Tensor[];
  return {
    value: tfjs.stack(xs),
    gradFunc: (dy: Tensor) => unstack(dy),
  };
}) as (...xs: Tensor[]) => Tensor;

/**
 * `tf.stack(tensors)` (axis 0) whose gradient is {@link unstack}: tfjs's
 * gradient of stack is its Unpack, which on the wasm backend copies the
 * whole upstream gradient once per input. The values are `tf.stack`'s.
 *
 * @param tensors One or more float32 tensors of one shape.
 * @returns [tensors.length, …shape].
 * @throws TypeError when `tensors` is not a non-empty array of float32
 *   tensors; RangeError when their shapes differ.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { stack } from '@dcem/tfjs';
 * const seq = stack([tf.zeros([8, 3]), tf.ones([8, 3])]); // [2, 8, 3]
 * ```
 */
export function stack(tensors: readonly Tensor[]): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) {
    throw new TypeError(
      `stack: tensors must be a non-empty array of tensors, received ${describeValue(tensors)}`,
    );
  }
  const first = tensors[0];
  tensors.forEach((t, i) => {
    if (!(t instanceof tfjs.Tensor)) {
      throw new TypeError(`stack: tensors[${i}] must be a tf.Tensor, received ${describeValue(t)}`);
    }
    if (t.dtype !== 'float32') {
      throw new TypeError(`stack: tensors[${i}] must have dtype float32, received ${t.dtype}`);
    }
    if (
      first !== undefined &&
      (t.rank !== first.rank || t.shape.some((v: number, j: number) => v !== first.shape[j]))
    ) {
      throw new RangeError(
        `stack: tensors[${i}] must have the shape of tensors[0], ${describeValue(first)}; received ${describeValue(t)}`,
      );
    }
  });
  if (!tfjs.engine().isTapeOn() || !unstackAvailable()) return tfjs.stack([...tensors]);
  return stackTaped(...tensors);
}
