/**
 * The GRU cell of the world model's deterministic path, one small function
 * so that a fused kernel can replace it.
 *
 * @module
 */
import { gruCell as fusedGruCell } from '@dcem/tfjs';
import type * as tf from '@tensorflow/tfjs';

/**
 * One step of a gated recurrent unit with PyTorch's `nn.GRUCell` semantics
 * (gates ordered r, z, n; the reset gate applied after the recurrent
 * product):
 *
 * r = σ(x Wxr + bxr + h Whr + bhr), z = σ(x Wxz + bxz + h Whz + bhz),
 * n = tanh(x Wxn + bxn + r ⊙ (h Whn + bhn)), h' = (1 − z) ⊙ n + z ⊙ h.
 *
 * The weights are stored as PyTorch's `weight_ih`/`weight_hh` transposed:
 * the columns of `wx` and `wh` are the gates r, z, n in that order. The
 * arguments are not checked (the callers have checked them); it is
 * differentiable with `tf.grad`.
 *
 * @param x Inputs, [B, I].
 * @param h The previous state, [B, D].
 * @param wx Input weights, [I, 3D].
 * @param wh Recurrent weights, [D, 3D].
 * @param bx Input bias, [3D].
 * @param bh Recurrent bias, [3D].
 * @returns h', [B, D].
 * @example
 * ```ts
 * const h1 = gruCell(x, h0, wx, wh, bx, bh);
 * ```
 */
export function gruCell(
  x: tf.Tensor2D,
  h: tf.Tensor2D,
  wx: tf.Tensor2D,
  wh: tf.Tensor2D,
  bx: tf.Tensor1D,
  bh: tf.Tensor1D,
): tf.Tensor2D {
  // @dcem/tfjs's kernel: one SIMD kernel for both products and the gates
  // (and one for the backward pass) where it runs, the tfjs composition elsewhere.
  return fusedGruCell(x, h, wx, wh, bx, bh);
}
