import { assertInteger, assertObject, describeValue } from '@dcem/errors';
import { dense, matMul } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import { hash32, STREAM } from './random.js';

/** Options of {@link createEnergyMlp}. */
export interface EnergyMlpOptions {
  /** Width H of every hidden layer, an integer ≥ 1. Default 128 (the paper's). */
  hiddenSize?: number;
  /** Number L of hidden layers (softplus after each), an integer ≥ 1. Default 3 (the paper's). */
  hiddenLayers?: number;
  /** Integer seed of the initial weights. Default 0. */
  seed?: number;
}

/** Defaults of {@link EnergyMlpOptions}: the architecture of the paper's regression study. */
export const ENERGY_MLP_DEFAULTS = Object.freeze({ hiddenSize: 128, hiddenLayers: 3, seed: 0 });

/** One weight tensor as plain numbers: its name (`layer<i>/kernel` or `layer<i>/bias`), shape and row-major values. */
export interface NamedWeight {
  /** `layer<i>/kernel` ([in, out]) or `layer<i>/bias` ([out]), i = 0…L. */
  name: string;
  /** The tensor's shape. */
  shape: number[];
  /** The values in row-major order (float32 values written as numbers). */
  values: number[];
}

/** The energy together with its derivative in y, both [batch, n]. */
export interface EnergyAndGradient {
  /** E(xᵦ, yᵦᵢ), [batch, n]. */
  energy: tf.Tensor2D;
  /** ∂E/∂y at (xᵦ, yᵦᵢ), [batch, n]. */
  gradY: tf.Tensor2D;
}

/** E_θ(x, ·) at fixed inputs x [batch] (see {@link EnergyMlp.bind}). */
export interface BoundEnergy {
  /** The number of inputs x. */
  readonly batch: number;
  /** E_θ(xᵦ, yᵦᵢ) for y [batch, n]; returns [batch, n]. */
  energy(y: tf.Tensor): tf.Tensor2D;
  /** ∂E_θ/∂y at (xᵦ, yᵦᵢ) for y [batch, n]; returns [batch, n]. */
  energyGradY(y: tf.Tensor): tf.Tensor2D;
  /** Both from one forward pass. */
  energyAndGradY(y: tf.Tensor): EnergyAndGradient;
  /** Releases the precomputed tensors. */
  dispose(): void;
}

/**
 * A learned energy E_θ(x, y): ℝ × ℝ → ℝ, the multilayer perceptron
 * [x, y] → H → … → H → 1 with softplus activations of the DCEM paper's
 * regression study. θ are {@link EnergyMlp.variables}; every method is
 * differentiable with respect to them with `tf.grad` / `tf.variableGrads`.
 */
export interface EnergyMlp {
  /** Width H of the hidden layers. */
  readonly hiddenSize: number;
  /** Number L of hidden layers. */
  readonly hiddenLayers: number;
  /**
   * θ as trainable `tf.Variable`s: `[W₀, b₀, W₁, b₁, …, W_L, b_L]` with
   * W₀ [2, H], Wₗ [H, H] (0 < l < L), W_L [H, 1] and biases [out].
   */
  readonly variables: readonly tf.Variable[];
  /** The names of {@link EnergyMlp.variables} in the same order (`layer<i>/kernel`, `layer<i>/bias`). */
  readonly weightNames: readonly string[];
  /**
   * E_θ(xᵦ, yᵦᵢ) for every batch row b and candidate i.
   *
   * @param x [batch] inputs.
   * @param y [batch, n] candidate outputs per input.
   * @returns [batch, n] energies.
   */
  energy(x: tf.Tensor, y: tf.Tensor): tf.Tensor2D;
  /**
   * ∂E_θ/∂y at (xᵦ, yᵦᵢ), written out with ops (reverse mode through the
   * layers by hand, softplus' = sigmoid) so that it is itself differentiable
   * with respect to θ: a = zW + b, h = softplus(a); δ_L = W_L ⊙ σ(a_L);
   * δ_{l−1} = (δ_l W_lᵀ) ⊙ σ(a_{l−1}); ∂E/∂y = δ₀ · W₀[1, :].
   *
   * @param x [batch] inputs.
   * @param y [batch, n] candidate outputs.
   * @returns [batch, n].
   */
  energyGradY(x: tf.Tensor, y: tf.Tensor): tf.Tensor2D;
  /** {@link EnergyMlp.energy} and {@link EnergyMlp.energyGradY} from one forward pass. */
  energyAndGradY(x: tf.Tensor, y: tf.Tensor): EnergyAndGradient;
  /**
   * E_θ(x, ·) at fixed inputs x, for evaluating many candidate y at the same
   * x (an inner optimiser): the x-dependent part of the first layer and the
   * transposed kernels are computed once instead of at every call. The
   * returned object's tensors belong to the scope that called `bind` (use it
   * inside `tf.tidy`, or call its `dispose()`); it must not outlive a change
   * of θ that should be seen.
   *
   * @param x [batch] inputs.
   */
  bind(x: tf.Tensor): BoundEnergy;
  /** The current θ as plain numbers (reads the variables back from the backend). */
  getWeights(): NamedWeight[];
  /**
   * Overwrites θ with `weights` (as returned by {@link EnergyMlp.getWeights}).
   * Throws a `RangeError` on a missing or extra name, a wrong shape or a
   * non-finite value, before changing anything.
   */
  setWeights(weights: readonly NamedWeight[]): void;
  /** Releases the variables. */
  dispose(): void;
}

/** Shapes of the weights of an MLP with `hiddenLayers` hidden layers of width `hiddenSize`, in variable order. */
export function energyMlpShapes(
  hiddenSize: number,
  hiddenLayers: number,
): { name: string; shape: number[] }[] {
  const shapes: { name: string; shape: number[] }[] = [];
  for (let l = 0; l <= hiddenLayers; l++) {
    const fanIn = l === 0 ? 2 : hiddenSize;
    const fanOut = l === hiddenLayers ? 1 : hiddenSize;
    shapes.push({ name: `layer${l}/kernel`, shape: [fanIn, fanOut] });
    shapes.push({ name: `layer${l}/bias`, shape: [fanOut] });
  }
  return shapes;
}

type Unary = (a: tf.Tensor) => tf.Tensor;

/**
 * softplus(a) = relu(a) − log σ(|a|) with gradient σ(a)·g (internal). It is
 * exact (log(1 + eᵃ) = max(a, 0) + log(1 + e^−|a|), and σ(|a|) ∈ [½, 1)
 * never underflows) and faster than tfjs's softplus kernel on wasm and cpu.
 * The network's products are `matMul` of @dcem/tfjs, whose backward pass
 * transposes explicitly (fast on wasm). Both are first-order custom
 * gradients: the unrolled-GD path only needs the first derivative of a
 * graph that already contains ∂E/∂y as explicit ops.
 */
function makeSoftplus(): Unary {
  return tf.customGrad((a, save) => {
    const x = a as tf.Tensor;
    (save as tf.GradSaveFunc)([x]);
    return {
      value: tf.sub(tf.relu(x), tf.log(tf.sigmoid(tf.abs(x)))),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, tf.sigmoid(saved[0] as tf.Tensor)),
    };
  }) as Unary;
}

/**
 * Creates the energy network of the DCEM paper's regression study,
 * E_θ(x, y) = MLP([x, y]) with `hiddenLayers` softplus layers of width
 * `hiddenSize` and a linear scalar output, initialised like PyTorch's
 * `nn.Linear`: every weight and bias ~ U(−1/√fan_in, 1/√fan_in), drawn from
 * `seed`.
 *
 * @param options Architecture and seed; see {@link EnergyMlpOptions}.
 * @returns The network; call `dispose()` when done.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { createEnergyMlp } from '@dcem/tasks';
 * const mlp = createEnergyMlp({ seed: 0 });
 * const e = mlp.energy(tf.tensor1d([1, 2]), tf.tensor2d([[0, 1, 2], [0, 1, 2]])); // [2, 3]
 * const dEdy = mlp.energyGradY(tf.tensor1d([1]), tf.tensor2d([[0.5]])); // [1, 1]
 * mlp.dispose();
 * ```
 */
export function createEnergyMlp(options: EnergyMlpOptions = {}): EnergyMlp {
  assertObject('options', options);
  const hiddenSize = options.hiddenSize ?? ENERGY_MLP_DEFAULTS.hiddenSize;
  const hiddenLayers = options.hiddenLayers ?? ENERGY_MLP_DEFAULTS.hiddenLayers;
  const seed = options.seed ?? ENERGY_MLP_DEFAULTS.seed;
  assertInteger('hiddenSize', hiddenSize, 1);
  assertInteger('hiddenLayers', hiddenLayers, 1);
  assertInteger('seed', seed, Number.MIN_SAFE_INTEGER);

  const shapes = energyMlpShapes(hiddenSize, hiddenLayers);
  const variables = shapes.map(({ shape }, i) =>
    tf.tidy(() => {
      const fanIn = shapes[i - (i % 2)]?.shape[0] ?? 1;
      const bound = 1 / Math.sqrt(fanIn);
      return tf.variable(tf.randomUniform(shape, -bound, bound, 'float32', hash32(seed, STREAM.init, i)));
    }),
  );
  const weightNames = shapes.map((s) => s.name);
  const softplus = makeSoftplus();
  const kernel = (l: number) => variables[2 * l] as tf.Variable;
  const bias = (l: number) => variables[2 * l + 1] as tf.Variable;

  const bind = (x: tf.Tensor): BoundEnergy => {
    if (!(x instanceof tf.Tensor)) throw new TypeError(`x must be a tf.Tensor, received ${describeValue(x)}`);
    if (x.rank !== 1) throw new RangeError(`x must have shape [batch], received [${x.shape.join(', ')}]`);
    const batch = x.shape[0] as number;
    const w0 = kernel(0);
    // [x, y] W₀ + b₀ = (x·W₀[0] + b₀) + y·W₀[1], without materialising the concatenation;
    // the x part, W₀[1] and the transposed kernels are computed once per bind.
    // Only these live as long as the binding; the intermediates are released at once.
    const owned = tf.tidy(() => {
      const wy = tf.slice(w0, [1, 0], [1, hiddenSize]);
      return [
        tf.reshape(
          tf.add(matMul(tf.reshape(x, [batch, 1]), tf.slice(w0, [0, 0], [1, hiddenSize])), bias(0)),
          [batch, 1, hiddenSize],
        ),
        tf.reshape(wy, [1, 1, hiddenSize]),
        tf.reshape(wy, [hiddenSize, 1]),
        tf.reshape(kernel(hiddenLayers), [1, hiddenSize]),
        ...Array.from({ length: hiddenLayers - 1 }, (_, l) => tf.transpose(kernel(l + 1))),
      ];
    });
    const [xPart, wyRow, wyColumn, outRow] = owned as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
    /** transposed[l] = W_lᵀ for 0 < l < L. */
    const transposed = [undefined, ...owned.slice(4)];

    const rows = (y: tf.Tensor): number => {
      if (!(y instanceof tf.Tensor))
        throw new TypeError(`y must be a tf.Tensor, received ${describeValue(y)}`);
      if (y.rank !== 2 || y.shape[0] !== batch) {
        throw new RangeError(
          `y must have shape [${batch}, n] (one row per input), received [${y.shape.join(', ')}]`,
        );
      }
      return y.shape[1] as number;
    };
    /** Pre-activations aₗ [batch·n, H] of the hidden layers. */
    /** The first layer's pre-activation a₀ [batch·n, H] = x·W₀[0] + b₀ + y·W₀[1]. */
    const firstLayer = (y: tf.Tensor, n: number): tf.Tensor2D =>
      tf.reshape(tf.add(tf.mul(tf.reshape(y, [batch, n, 1]), wyRow), xPart), [batch * n, hiddenSize]);
    const hidden = (y: tf.Tensor, n: number): tf.Tensor2D[] => {
      let a: tf.Tensor = firstLayer(y, n);
      const pre = [a as tf.Tensor2D];
      for (let l = 1; l < hiddenLayers; l++) {
        a = tf.add(matMul(softplus(a), kernel(l)), bias(l));
        pre.push(a as tf.Tensor2D);
      }
      return pre;
    };
    /**
     * The energy alone, layer by layer with `dense` (the product, bias and
     * softplus in one kernel each way where @dcem/tfjs fuses them).
     */
    const energyOnly = (y: tf.Tensor, n: number): tf.Tensor2D => {
      let h = softplus(firstLayer(y, n));
      for (let l = 1; l < hiddenLayers; l++) h = dense(h, kernel(l), bias(l), { activation: 'softplus' });
      return tf.reshape(dense(h, kernel(hiddenLayers), bias(hiddenLayers)), [batch, n]) as tf.Tensor2D;
    };
    const output = (pre: tf.Tensor2D[], n: number): tf.Tensor2D => {
      const last = pre[hiddenLayers - 1] as tf.Tensor2D;
      const out = tf.add(matMul(softplus(last), kernel(hiddenLayers)), bias(hiddenLayers));
      return tf.reshape(out, [batch, n]) as tf.Tensor2D;
    };
    const gradient = (pre: tf.Tensor2D[], n: number): tf.Tensor2D => {
      // δ_{L−1} = W_L[:, 0]ᵀ ⊙ σ(a_{L−1}), then δ_{l−1} = (δ_l W_lᵀ) ⊙ σ(a_{l−1}); ∂E/∂y = δ₀ W₀[1, :]ᵀ.
      let delta = tf.mul(tf.sigmoid(pre[hiddenLayers - 1] as tf.Tensor2D), outRow);
      for (let l = hiddenLayers - 1; l >= 1; l--) {
        delta = tf.mul(matMul(delta, transposed[l] as tf.Tensor), tf.sigmoid(pre[l - 1] as tf.Tensor2D));
      }
      return tf.reshape(matMul(delta, wyColumn), [batch, n]) as tf.Tensor2D;
    };
    return {
      batch,
      energy: (y) => {
        const n = rows(y);
        return tf.tidy(() => energyOnly(y, n));
      },
      energyGradY: (y) => {
        const n = rows(y);
        return tf.tidy(() => gradient(hidden(y, n), n));
      },
      energyAndGradY: (y) => {
        const n = rows(y);
        const [energy, gradY] = tf.tidy(() => {
          const pre = hidden(y, n);
          return [output(pre, n), gradient(pre, n)];
        });
        return { energy: energy as tf.Tensor2D, gradY: gradY as tf.Tensor2D };
      },
      dispose: () => tf.dispose(owned),
    };
  };

  let disposed = false;
  const alive = () => {
    if (disposed) throw new Error('this EnergyMlp has been disposed');
  };

  return {
    hiddenSize,
    hiddenLayers,
    variables,
    weightNames,
    bind(x) {
      alive();
      return bind(x);
    },
    energy(x, y) {
      alive();
      return tf.tidy(() => bind(x).energy(y));
    },
    energyGradY(x, y) {
      alive();
      return tf.tidy(() => bind(x).energyGradY(y));
    },
    energyAndGradY(x, y) {
      alive();
      const [energy, gradY] = tf.tidy(() => {
        const r = bind(x).energyAndGradY(y);
        return [r.energy, r.gradY];
      });
      return { energy: energy as tf.Tensor2D, gradY: gradY as tf.Tensor2D };
    },
    getWeights() {
      alive();
      return variables.map((v, i) => ({
        name: weightNames[i] as string,
        shape: [...v.shape],
        values: Array.from(v.dataSync()),
      }));
    },
    setWeights(weights) {
      alive();
      if (!Array.isArray(weights))
        throw new TypeError(`weights must be an array, received ${describeValue(weights)}`);
      const byName = new Map<string, NamedWeight>();
      for (const w of weights) {
        assertObject('weights[i]', w);
        if (byName.has(w.name)) throw new RangeError(`weights has ${JSON.stringify(w.name)} twice`);
        byName.set(w.name, w);
      }
      for (const w of byName.keys()) {
        if (!weightNames.includes(w)) {
          throw new RangeError(
            `weights has ${JSON.stringify(w)}, which this network (hiddenLayers ${hiddenLayers}) does not have`,
          );
        }
      }
      const values = shapes.map(({ name, shape }) => {
        const w = byName.get(name);
        if (w === undefined) throw new RangeError(`weights lacks ${JSON.stringify(name)}`);
        const same =
          Array.isArray(w.shape) &&
          w.shape.length === shape.length &&
          w.shape.every((s, i) => s === shape[i]);
        if (!same) {
          throw new RangeError(
            `weight ${name} must have shape [${shape.join(', ')}], received ${Array.isArray(w.shape) ? `[${w.shape.join(', ')}]` : describeValue(w.shape)}`,
          );
        }
        const size = shape.reduce((a, b) => a * b, 1);
        if (!Array.isArray(w.values) || w.values.length !== size) {
          throw new RangeError(
            `weight ${name} must have ${size} values, received ${describeValue(w.values)}`,
          );
        }
        if (!w.values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
          throw new RangeError(`weight ${name} must hold finite numbers only`);
        }
        return w.values;
      });
      tf.tidy(() => {
        variables.forEach((v, i) => {
          v.assign(tf.tensor(values[i] as number[], v.shape, 'float32'));
        });
      });
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      tf.dispose(variables);
    },
  };
}
