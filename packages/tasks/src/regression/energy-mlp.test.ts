import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEnergyMlp, type EnergyMlp, energyMlpShapes } from './energy-mlp.js';
import { energy64, toFloat64 } from './energy-reference.test-utils.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The same network with tfjs's own ops: concat, tf.matMul, tf.softplus. */
function plainEnergy(mlp: EnergyMlp, x: tf.Tensor1D, y: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const [batch, n] = y.shape;
    const xs = tf.tile(tf.reshape(x, [batch, 1]), [1, n]);
    let h: tf.Tensor = tf.stack([tf.reshape(xs, [-1]), tf.reshape(y, [-1])], 1);
    const v = mlp.variables;
    for (let l = 0; l <= mlp.hiddenLayers; l++) {
      h = tf.add(tf.matMul(h as tf.Tensor2D, v[2 * l] as tf.Tensor2D), v[2 * l + 1] as tf.Tensor);
      if (l < mlp.hiddenLayers) h = tf.softplus(h);
    }
    return tf.reshape(h, [batch, n]) as tf.Tensor2D;
  });
}

describe('createEnergyMlp', () => {
  it('has the paper’s architecture and PyTorch’s nn.Linear initialisation', () => {
    const mlp = createEnergyMlp({ seed: 3 });
    expect(mlp.variables.map((v) => v.shape)).toEqual(energyMlpShapes(128, 3).map((s) => s.shape));
    expect(mlp.weightNames[0]).toBe('layer0/kernel');
    const weights = mlp.getWeights();
    for (const w of weights) {
      const fanIn = w.name.startsWith('layer0') ? 2 : 128;
      const bound = 1 / Math.sqrt(fanIn);
      const max = Math.max(...w.values.map(Math.abs));
      expect(max).toBeLessThanOrEqual(bound);
      if (w.values.length >= 128) {
        // U(−b, b): the largest |value| is close to b, the mean close to 0, the variance b²/3.
        expect(max).toBeGreaterThan(0.9 * bound);
        const mean = w.values.reduce((a, b) => a + b, 0) / w.values.length;
        const variance = w.values.reduce((a, b) => a + (b - mean) ** 2, 0) / w.values.length;
        expect(Math.abs(mean)).toBeLessThan((4 * bound) / Math.sqrt(3 * w.values.length));
        expect(variance / ((bound * bound) / 3)).toBeGreaterThan(0.7);
        expect(variance / ((bound * bound) / 3)).toBeLessThan(1.3);
      }
    }
    mlp.dispose();
  });

  it('draws the same weights from the same seed and different ones from another', () => {
    const a = createEnergyMlp({ seed: 1, hiddenSize: 8 });
    const b = createEnergyMlp({ seed: 1, hiddenSize: 8 });
    const c = createEnergyMlp({ seed: 2, hiddenSize: 8 });
    expect(a.getWeights()).toEqual(b.getWeights());
    expect(a.getWeights()[2]?.values).not.toEqual(c.getWeights()[2]?.values);
    for (const m of [a, b, c]) m.dispose();
  });

  it('computes the same energy as concat + tf.matMul + tf.softplus, and as float64 maths', () => {
    const mlp = createEnergyMlp({ seed: 0 });
    const x = tf.tensor1d([0, 1.5, 4, 6.2]);
    const y = tf.tensor2d([
      [-30, -1, 0, 2],
      [0.5, 3, -6, 40],
      [1, 1, 1, 1],
      [-100, 100, 0.1, -0.1],
    ]);
    const ours = mlp.energy(x, y);
    const plain = plainEnergy(mlp, x, y);
    const a = ours.arraySync();
    const b = plain.arraySync();
    const ref = toFloat64(mlp.getWeights());
    const xs = x.arraySync();
    y.arraySync().forEach((row, i) => {
      row.forEach((yij, j) => {
        const e64 = energy64(ref, xs[i] as number, yij).e;
        expect(a[i]?.[j]).toBeCloseTo(b[i]?.[j] as number, 4);
        expect(Math.abs((a[i]?.[j] as number) - e64)).toBeLessThan(1e-5 * Math.max(1, Math.abs(e64)));
      });
    });
    tf.dispose([mlp.variables as tf.Variable[], x, y, ours, plain]);
  });

  it('has ∂E/∂y equal to tf.grad, to float64 maths and to central finite differences', () => {
    const mlp = createEnergyMlp({ seed: 5 });
    const xs = [0.2, 2, 3.5, 5.9];
    const ys = [
      [-7, 0, 3],
      [1.5, -2, 12],
      [0.01, -0.01, 5],
      [-4, 4, 20],
    ];
    const x = tf.tensor1d(xs);
    const y = tf.tensor2d(ys);
    const ours = mlp.energyGradY(x, y).arraySync();
    const auto = tf
      .grad((yy: tf.Tensor) => tf.sum(plainEnergy(mlp, x, yy as tf.Tensor2D)))(y)
      .arraySync() as number[][];
    const ref = toFloat64(mlp.getWeights());
    const h = 1e-4;
    ys.forEach((row, i) => {
      row.forEach((yij, j) => {
        const xi = xs[i] as number;
        const exact = energy64(ref, xi, yij).dEdy;
        const fd = (energy64(ref, xi, yij + h).e - energy64(ref, xi, yij - h).e) / (2 * h);
        const got = ours[i]?.[j] as number;
        expect(Math.abs(exact - fd)).toBeLessThan(1e-7);
        expect(Math.abs(got - exact)).toBeLessThan(2e-6 * Math.max(1, Math.abs(exact)));
        expect(Math.abs(got - (auto[i]?.[j] as number))).toBeLessThan(2e-6 * Math.max(1, Math.abs(exact)));
      });
    });
    const both = mlp.energyAndGradY(x, y);
    expect(both.gradY.arraySync()).toEqual(ours);
    // energy() runs fused dense layers, energyAndGradY() the explicit ones: equal to float32 rounding.
    const alone = mlp.energy(x, y).arraySync();
    both.energy.arraySync().forEach((row, i) => {
      row.forEach((e, j) => {
        const want = alone[i]?.[j] as number;
        expect(Math.abs(e - want)).toBeLessThan(1e-6 * Math.max(1, Math.abs(want)));
      });
    });
    tf.dispose([x, y, both.energy, both.gradY]);
    mlp.dispose();
  });

  it('has θ-gradients (hand-written matMul and softplus backward) equal to tfjs’s own', () => {
    const mlp = createEnergyMlp({ seed: 9, hiddenSize: 16 });
    const x = tf.tensor1d([0.5, 3]);
    const y = tf.tensor2d([
      [-2, 0, 1],
      [4, -30, 2],
    ]);
    const w = tf.tensor2d([
      [1, -2, 0.5],
      [0.3, 1, -1],
    ]);
    const vars = mlp.variables as tf.Variable[];
    const ours = tf.variableGrads(() => tf.sum(tf.mul(mlp.energy(x, y), w)), vars);
    const plain = tf.variableGrads(() => tf.sum(tf.mul(plainEnergy(mlp, x, y), w)), vars);
    for (const v of vars) {
      const diff = tf.max(tf.abs(tf.sub(ours.grads[v.name] as tf.Tensor, plain.grads[v.name] as tf.Tensor)));
      expect(diff.dataSync()[0]).toBeLessThan(1e-5);
      diff.dispose();
    }
    tf.dispose([
      x,
      y,
      w,
      ours.value,
      plain.value,
      ...Object.values(ours.grads),
      ...Object.values(plain.grads),
    ]);
    mlp.dispose();
  });

  it('stays finite and exact for huge pre-activations (softplus never overflows or underflows)', () => {
    const mlp = createEnergyMlp({ seed: 2, hiddenSize: 8, hiddenLayers: 2 });
    const x = tf.tensor1d([1]);
    const y = tf.tensor2d([[-1e4, -300, 300, 1e4]]);
    const e = mlp.energy(x, y).arraySync()[0] as number[];
    const g = mlp.energyGradY(x, y).arraySync()[0] as number[];
    const ref = toFloat64(mlp.getWeights());
    [-1e4, -300, 300, 1e4].forEach((yy, j) => {
      const r = energy64(ref, 1, yy);
      expect(Number.isFinite(e[j])).toBe(true);
      expect(Math.abs((e[j] as number) - r.e)).toBeLessThan(1e-5 * Math.max(1, Math.abs(r.e)));
      expect(Math.abs((g[j] as number) - r.dEdy)).toBeLessThan(1e-5 * Math.max(1, Math.abs(r.dEdy)));
    });
    tf.dispose([x, y]);
    mlp.dispose();
  });

  it('round-trips its weights and rejects mismatched ones before changing anything', () => {
    const a = createEnergyMlp({ seed: 1, hiddenSize: 4 });
    const b = createEnergyMlp({ seed: 2, hiddenSize: 4 });
    b.setWeights(a.getWeights());
    expect(b.getWeights()).toEqual(a.getWeights());
    const saved = b.getWeights();
    const wrongShape = a.getWeights().map((w, i) => (i === 2 ? { ...w, shape: [2, 8] } : w));
    expect(() => b.setWeights(wrongShape)).toThrow(RangeError);
    expect(() => b.setWeights(wrongShape)).toThrow(
      /layer1\/kernel must have shape \[4, 4\], received \[2, 8\]/,
    );
    expect(() => b.setWeights(a.getWeights().slice(1))).toThrow(/lacks "layer0\/kernel"/);
    const nan = a
      .getWeights()
      .map((w, i) => (i === 0 ? { ...w, values: w.values.map(() => Number.NaN) } : w));
    expect(() => b.setWeights(nan)).toThrow(/finite/);
    expect(() => b.setWeights([...a.getWeights(), { name: 'layer9/bias', shape: [1], values: [0] }])).toThrow(
      /does not have/,
    );
    expect(b.getWeights()).toEqual(saved);
    a.dispose();
    b.dispose();
    expect(() => b.getWeights()).toThrow(/disposed/);
  });

  it('rejects bad options and inputs with typed errors that name them', () => {
    expect(() => createEnergyMlp({ hiddenSize: 0 })).toThrow(RangeError);
    expect(() => createEnergyMlp({ hiddenSize: 0 })).toThrow(/hiddenSize must be an integer ≥ 1, received 0/);
    expect(() => createEnergyMlp({ hiddenLayers: -1 })).toThrow(
      /hiddenLayers must be an integer ≥ 1, received -1/,
    );
    expect(() => createEnergyMlp({ hiddenSize: 2.5 })).toThrow(TypeError);
    expect(() => createEnergyMlp({ seed: Number.NaN })).toThrow(/seed must be a finite number/);
    const mlp = createEnergyMlp({ hiddenSize: 4 });
    const x = tf.tensor1d([1, 2]);
    const y = tf.tensor2d([[1, 2, 3]]);
    expect(() => mlp.energy(x, y)).toThrow(/y must have shape \[2, n\]/);
    expect(() => mlp.energy(tf.scalar(1), y)).toThrow(/x must have shape \[batch\]/);
    expect(() => mlp.energy([1] as unknown as tf.Tensor, y)).toThrow(TypeError);
    tf.dispose([x, y]);
    mlp.dispose();
  });

  it('leaks no tensors', () => {
    const mlp = createEnergyMlp({ hiddenSize: 8 });
    const x = tf.tensor1d([1, 2]);
    const y = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const before = tf.memory().numTensors;
    tf.dispose(mlp.energy(x, y));
    tf.dispose(mlp.energyGradY(x, y));
    const both = mlp.energyAndGradY(x, y);
    tf.dispose([both.energy, both.gradY]);
    tf.tidy(() => {
      mlp.bind(x).energy(y);
    });
    const bound = mlp.bind(x);
    tf.dispose(bound.energyGradY(y));
    bound.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
    mlp.dispose();
  });
});
