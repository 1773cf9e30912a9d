import * as tf from '@tensorflow/tfjs';

/**
 * `tf.tidy` for a function returning an object of tensors (possibly nested,
 * as `tf.tidy` walks it) whose interface lacks TensorContainer's index
 * signature: the returned tensors are kept, every other one is disposed.
 * Internal.
 */
export function tidyObject<T extends object>(fn: () => T): T {
  return tf.tidy(fn as unknown as () => tf.TensorContainer) as unknown as T;
}
