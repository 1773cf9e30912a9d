/**
 * Adam with plain, checkpointable state, so that a resumed run continues
 * bit for bit.
 *
 * @module
 */
import {
  assertFiniteNumber,
  assertInteger,
  assertObject,
  assertOpenInterval,
  assertOptions,
  assertPositive,
  assertTensorShape,
  describeValue,
} from '@dcem/errors';
import * as tf from '@tensorflow/tfjs';

/** Options of {@link createAdam}. */
export interface AdamOptions {
  /** α, default 1e-3 (PlaNet). */
  learningRate?: number;
  /** ε, default 1e-4 (PlaNet). */
  epsilon?: number;
  /** β₁ in (0, 1), default 0.9. */
  beta1?: number;
  /** β₂ in (0, 1), default 0.999. */
  beta2?: number;
}

/** PlaNet's Adam settings. */
export const PLANET_ADAM: Readonly<Required<AdamOptions>> = Object.freeze({
  learningRate: 1e-3,
  epsilon: 1e-4,
  beta1: 0.9,
  beta2: 0.999,
});

/** The optimiser's state as plain data (for checkpoints). */
export interface AdamState {
  /** The number of steps taken, t. */
  step: number;
  /** The first moments, one per variable (its size). */
  m: Float32Array[];
  /** The second moments, one per variable. */
  v: Float32Array[];
}

/** An Adam optimiser over fixed variables (see {@link createAdam}). */
export interface Adam {
  /** The variables it updates, in the order of the gradients. */
  readonly variables: readonly tf.Variable[];
  /** The settings (defaults filled in). */
  readonly options: Readonly<Required<AdamOptions>>;
  /**
   * One step: updates every variable in place from its gradient.
   *
   * @param grads One gradient per variable, of its shape (not disposed).
   */
  step(grads: readonly tf.Tensor[]): void;
  /** A copy of the state. */
  getState(): AdamState;
  /** Overwrites the state with a copy of `state` (as {@link Adam.getState} returns it). */
  setState(state: AdamState): void;
  /** Releases the moments (not the variables). */
  dispose(): void;
}

const ADAM_OPTIONS = ['learningRate', 'epsilon', 'beta1', 'beta2'];

/**
 * Adam (Kingma & Ba 2015) with PyTorch's placement of ε: with gradient g at
 * step t,
 *
 * m ← β₁ m + (1 − β₁) g, v ← β₂ v + (1 − β₂) g²,
 * θ ← θ − α · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε).
 *
 * (TensorFlow's `AdamOptimizer`, which PlaNet used, adds ε to √v before the
 * bias correction of v, i.e. its ε is this one times √(1 − β₂ᵗ).) The state
 * is read and written as plain arrays, so a run restored from
 * {@link Adam.getState} takes bit-identical steps.
 *
 * @param variables The variables to update.
 * @param options See {@link AdamOptions}; defaults {@link PLANET_ADAM}.
 * @returns The optimiser; call `dispose()` when done.
 * @throws TypeError for an unknown option or a value of the wrong kind; RangeError for one out of range.
 * @example
 * ```ts
 * const adam = createAdam(model.variables);
 * adam.step(grads);
 * const saved = adam.getState();
 * ```
 */
export function createAdam(variables: readonly tf.Variable[], options: AdamOptions = {}): Adam {
  if (!Array.isArray(variables) || variables.length === 0) {
    throw new TypeError(
      `variables must be a non-empty array of tf.Variable, received ${describeValue(variables)}`,
    );
  }
  variables.forEach((v, i) => {
    if (!(v instanceof tf.Variable)) {
      throw new TypeError(`variables[${i}] must be a tf.Variable, received ${describeValue(v)}`);
    }
  });
  assertOptions('Adam options', options, ADAM_OPTIONS);
  const settings = Object.freeze({ ...PLANET_ADAM, ...options });
  assertPositive('learningRate', settings.learningRate);
  assertPositive('epsilon', settings.epsilon);
  assertOpenInterval('beta1', settings.beta1, 0, 1);
  assertOpenInterval('beta2', settings.beta2, 0, 1);
  const { learningRate, epsilon, beta1, beta2 } = settings;
  const vars = Object.freeze([...variables]);
  const m = vars.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
  const v2 = vars.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
  let t = 0;
  let disposed = false;
  const alive = () => {
    if (disposed) throw new Error('the Adam optimiser has been disposed');
  };
  const checkArrays = (name: string, arrays: unknown): void => {
    if (!Array.isArray(arrays) || arrays.length !== vars.length) {
      throw new TypeError(
        `${name} must be an array of ${vars.length} Float32Arrays, received ${describeValue(arrays)}`,
      );
    }
    arrays.forEach((a, i) => {
      if (!(a instanceof Float32Array)) {
        throw new TypeError(`${name}[${i}] must be a Float32Array, received ${describeValue(a)}`);
      }
      const size = (vars[i] as tf.Variable).size;
      if (a.length !== size)
        throw new RangeError(`${name}[${i}] must hold ${size} numbers, received ${a.length}`);
    });
  };

  return {
    variables: vars,
    options: settings,
    step(grads) {
      alive();
      if (!Array.isArray(grads) || grads.length !== vars.length) {
        throw new TypeError(
          `grads must be an array of ${vars.length} tensors, received ${describeValue(grads)}`,
        );
      }
      grads.forEach((g, i) => {
        assertTensorShape(`grads[${i}]`, g, (vars[i] as tf.Variable).shape);
      });
      t += 1;
      const c1 = 1 - beta1 ** t;
      const c2 = 1 - beta2 ** t;
      tf.tidy(() => {
        vars.forEach((p, i) => {
          const g = grads[i] as tf.Tensor;
          const mi = m[i] as tf.Variable;
          const vi = v2[i] as tf.Variable;
          mi.assign(tf.add(tf.mul(beta1, mi), tf.mul(1 - beta1, g)));
          vi.assign(tf.add(tf.mul(beta2, vi), tf.mul(1 - beta2, tf.square(g))));
          const update = tf.div(tf.div(mi, c1), tf.add(tf.sqrt(tf.div(vi, c2)), epsilon));
          p.assign(tf.sub(p, tf.mul(learningRate, update)));
        });
      });
    },
    getState() {
      alive();
      return {
        step: t,
        m: m.map((x) => Float32Array.from(x.dataSync())),
        v: v2.map((x) => Float32Array.from(x.dataSync())),
      };
    },
    setState(state) {
      alive();
      assertObject('state', state);
      assertFiniteNumber('state.step', state.step);
      assertInteger('state.step', state.step, 0);
      checkArrays('state.m', state.m);
      checkArrays('state.v', state.v);
      t = state.step;
      vars.forEach((p, i) => {
        tf.tidy(() => {
          (m[i] as tf.Variable).assign(
            tf.tensor(Float32Array.from(state.m[i] as Float32Array), p.shape, 'float32'),
          );
          (v2[i] as tf.Variable).assign(
            tf.tensor(Float32Array.from(state.v[i] as Float32Array), p.shape, 'float32'),
          );
        });
      });
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      tf.dispose([...m, ...v2]);
    },
  };
}
