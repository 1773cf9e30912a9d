// A matrix product whose gradient transposes explicitly (internal).
import * as tf from '@tensorflow/tfjs';

/** The transpose of a matrix; a row or column vector is only reshaped (no copy). */
function transpose2d(x: tf.Tensor2D): tf.Tensor2D {
  const [rows, cols] = x.shape;
  return rows === 1 || cols === 1 ? tf.reshape(x, [cols, rows]) : tf.transpose(x);
}

/**
 * a·b for 2-D a and b, with the backward pass da = g·transpose(b),
 * db = transpose(a)·g written with explicit transposes. It is the same maths
 * as tfjs's own matMul gradient, which passes `transposeA`/`transposeB` to
 * the kernel instead; the wasm backend runs such flagged products 5–10×
 * slower than a transpose plus a plain product. Used by the dense layers of
 * the tasks' networks.
 */
export const matMulExplicitGrad = tf.customGrad((a, b, save) => {
  const x = a as tf.Tensor2D;
  const y = b as tf.Tensor2D;
  (save as tf.GradSaveFunc)([x, y]);
  return {
    value: tf.matMul(x, y),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
      return [tf.matMul(dy as tf.Tensor2D, transpose2d(sb)), tf.matMul(transpose2d(sa), dy as tf.Tensor2D)];
    },
  };
}) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;
