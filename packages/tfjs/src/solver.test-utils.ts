// Test helpers shared by the gradient, solver and memory tests: central
// differences, seeded float32 draws, the per-row quadratic objective
// (generic over `Backend<T>`) and one ask/tell step of a tfjs solver.
import type { Backend, CemSolver, CemState } from '@dcem/core';
import { createFloat64Backend } from '@dcem/core/testing';
import * as tf from '@tensorflow/tfjs';

/** Central differences (step `h`) of `loss` with respect to every entry of `values`. */
export function centralDifferences(
  values: readonly number[],
  loss: (v: number[]) => number,
  h: number,
): number[] {
  return values.map((_, j) => {
    const plus = [...values];
    const minus = [...values];
    plus[j] = (plus[j] as number) + h;
    minus[j] = (minus[j] as number) - h;
    return (loss(plus) - loss(minus)) / (2 * h);
  });
}

/** Draws with an explicit seed are the same on every float64 backend instance. */
const f64 = createFloat64Backend({ seed: 0 });

/** `count` standard-normal draws (times `scale`) rounded to float32, so every backend sees the same numbers. */
export function draws(count: number, seed: number, scale = 1): number[] {
  return Array.from(f64.readSync(f64.randomNormal([count], seed)), (v) => Math.fround(v * scale));
}

/** f_b(x) = Σ_d ½ Q[b,d] x_d² + p[b,d] x_d, per batch row b (x [B, N, D], Q and p [B, D]). */
export function quadratic<T>(b: Backend<T>, q: T, p: T): (x: T) => T {
  return (x) => {
    const [batch = 0, , dim = 0] = b.shape(x);
    const qq = b.reshape(q, [batch, 1, dim]);
    const pp = b.reshape(p, [batch, 1, dim]);
    return b.sum(b.add(b.mul(b.scalar(0.5), b.mul(qq, b.square(x))), b.mul(pp, x)), 2, false);
  };
}

/**
 * One ask/tell step of a tfjs solver on `objective` (run in a tidy): frees
 * the samples and values, releases `state` and returns the next state.
 */
export function askTellStep(
  solver: CemSolver<tf.Tensor>,
  state: CemState<tf.Tensor>,
  objective: (x: tf.Tensor) => tf.Tensor,
): CemState<tf.Tensor> {
  const samples = solver.ask(state);
  const values = tf.tidy(() => objective(samples));
  const next = solver.tell(state, samples, values);
  tf.dispose([samples, values]);
  solver.release(state);
  return next;
}
