import { deriveSeed } from '@dcem/core';
import { dcem } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import { TASK_SEED_STREAMS } from '../seed-streams.js';
import { BUMPS_THETA, threeBumps } from './two-d.js';

/** Settings of {@link createMinimumMover}. */
export interface MinimumMoverOptions {
  /** Where the DCEM minimiser of the learned objective should go, (x, y). */
  target: [number, number];
  /** Adam's learning rate, default 0.05. */
  learningRate?: number;
  /** DCEM samples per iteration, default 100. */
  numSamples?: number;
  /** DCEM elites, default 10. */
  numElites?: number;
  /** DCEM iterations, default 10. */
  numIterations?: number;
  /** DCEM temperature τ, default 1. */
  temperature?: number;
  /** Initial σ of DCEM, default 1.5. */
  initStd?: number;
  /** Integer seed; step t's DCEM uses `deriveSeed(seed, TASK_SEED_STREAMS.learningStep, t)`. Default 0. */
  seed?: number;
}

/** One gradient step of {@link createMinimumMover}. */
export interface MinimumMoverStep {
  /** 0-based step. */
  step: number;
  /** The loss ‖x̂(θ) − target‖² before the update. */
  loss: number;
  /** x̂(θ) before the update. */
  solution: [number, number];
}

/** The learning loop of {@link createMinimumMover}, one step at a time. */
export interface MinimumMover {
  /** Takes one Adam step on θ and reports the loss before it. */
  step(): MinimumMoverStep;
  /** The current θ (9 numbers). */
  theta(): number[];
  /** The objective with the current θ (valid until the next step). */
  objective(): (samples: tf.Tensor) => tf.Tensor;
  /** Releases θ and the optimiser. */
  dispose(): void;
}

/**
 * Learns the parameters θ of the three-bumps objective by differentiating
 * through DCEM, so that the minimiser x̂(θ) = DCEM argmin f_θ moves to a
 * target: each step minimises ‖x̂(θ) − target‖² with Adam. This is the
 * notebook's demonstration that DCEM's output is differentiable in the
 * objective's parameters.
 *
 * @param options Target and solver settings.
 * @example
 * ```ts
 * const mover = createMinimumMover({ target: [0, 1.25] });
 * for (let i = 0; i < 60; i++) console.log(mover.step().loss);
 * mover.dispose();
 * ```
 */
export function createMinimumMover(options: MinimumMoverOptions): MinimumMover {
  const [tx, ty] = options.target;
  if (!Number.isFinite(tx) || !Number.isFinite(ty)) {
    throw new RangeError(`target must be two finite numbers, received (${tx}, ${ty})`);
  }
  const solver = {
    dim: 2,
    numSamples: options.numSamples ?? 100,
    numElites: options.numElites ?? 10,
    numIterations: options.numIterations ?? 10,
    temperature: options.temperature ?? 1,
    initStd: options.initStd ?? 1.5,
  };
  const seed = options.seed ?? 0;
  const theta = tf.tidy(() => tf.variable(tf.tensor1d([...BUMPS_THETA])));
  const target = tf.tensor2d([[tx, ty]]);
  const optimizer = tf.train.adam(options.learningRate ?? 0.05);
  let t = 0;
  return {
    step() {
      let solution: [number, number] = [Number.NaN, Number.NaN];
      const loss = optimizer.minimize(
        () => {
          const r = dcem(threeBumps(theta as tf.Tensor1D), {
            ...solver,
            seed: deriveSeed(seed, TASK_SEED_STREAMS.learningStep, t),
          });
          solution = Array.from(r.solution.dataSync()) as [number, number];
          return tf.sum(tf.square(tf.sub(r.solution, target))) as tf.Scalar;
        },
        true,
        [theta],
      ) as tf.Scalar;
      const value = loss.dataSync()[0] as number;
      loss.dispose();
      return { step: t++, loss: value, solution };
    },
    theta: () => Array.from(theta.dataSync()),
    objective: () => threeBumps(theta as tf.Tensor1D),
    dispose() {
      tf.dispose([theta, target]);
      optimizer.dispose();
    },
  };
}
