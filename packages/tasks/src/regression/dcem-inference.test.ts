import { dcem, disposeCemResult } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DCEM_INFERENCE_DEFAULTS, dcemInference, resolveDcemInferenceOptions } from './dcem-inference.js';
import { createEnergyMlp } from './energy-mlp.js';
import { distanceEnergyMlp } from './energy-reference.test-utils.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('dcemInference', () => {
  it('has the paper’s defaults', () => {
    expect(DCEM_INFERENCE_DEFAULTS).toMatchObject({
      numSamples: 100,
      numElites: 10,
      numIterations: 10,
      initMean: 0,
      initStd: 7,
      temperature: 1,
      normalize: true,
      tolerance: 1e-4,
    });
  });

  it('is DCEM over y with objective E(x_b, y_bi), one problem per input', () => {
    const mlp = createEnergyMlp({ seed: 2, hiddenSize: 16 });
    const x = tf.tensor1d([0.5, 2, 5]);
    const ours = dcemInference(mlp, x, { seed: 7, numSamples: 30, numElites: 5 });
    const direct = dcem((s) => mlp.energy(x, tf.reshape(s, [3, 30])), {
      dim: 1,
      batchSize: 3,
      numSamples: 30,
      numElites: 5,
      numIterations: 10,
      initStd: 7,
      temperature: 1,
      lmlIterations: 8,
      seed: 7,
    });
    expect(ours.shape).toEqual([3]);
    expect(Array.from(ours.dataSync())).toEqual(Array.from(direct.solution.dataSync()));
    tf.dispose([ours, x]);
    disposeCemResult(direct);
    mlp.dispose();
  });

  it('gives the same ŷ with 8 LML iterations as with 16 (the root is converged)', () => {
    const mlp = createEnergyMlp({ seed: 3, hiddenSize: 16 });
    const x = tf.tensor1d([0, 1, 2, 3, 4, 5, 6]);
    const a = dcemInference(mlp, x, { seed: 1, lmlIterations: 8 });
    const b = dcemInference(mlp, x, { seed: 1, lmlIterations: 16 });
    const diff = tf.max(tf.abs(tf.sub(a, b)));
    expect(diff.dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([a, b, diff, x]);
    mlp.dispose();
  });

  it('finds the minimiser of a known energy and is differentiable w.r.t. every weight', () => {
    // E(x, y) = softplus(y − x) + softplus(x − y): convex in y with its minimum at y = x.
    const mlp = distanceEnergyMlp();
    const xs = [-3, 0.5, 2, 5.5];
    const x = tf.tensor1d(xs);
    const yHat = dcemInference(mlp, x, { seed: 3, numIterations: 30, tolerance: 0 }).arraySync();
    xs.forEach((xi, b) => {
      expect(Math.abs((yHat[b] as number) - xi)).toBeLessThan(0.05);
    });
    const vars = mlp.variables as tf.Variable[];
    const { value, grads } = tf.variableGrads(() => tf.sum(dcemInference(mlp, x, { seed: 3 })), vars);
    for (const v of vars) {
      const gv = grads[v.name];
      expect(gv).toBeDefined();
      expect(Array.from((gv as tf.Tensor).dataSync()).every(Number.isFinite)).toBe(true);
    }
    tf.dispose([x, value, ...Object.values(grads)]);
    mlp.dispose();
  });

  it('validates its options with typed errors and leaks no tensors', () => {
    expect(() => resolveDcemInferenceOptions({ numSamples: 0 })).toThrow(
      /numSamples must be an integer ≥ 2, received 0/,
    );
    expect(() => resolveDcemInferenceOptions({ numElites: 100 })).toThrow(
      /numElites must be < numSamples \(100\)/,
    );
    expect(() => resolveDcemInferenceOptions({ initStd: 0 }, 'dcem.')).toThrow(
      /dcem\.initStd must be > 0, received 0/,
    );
    expect(() => resolveDcemInferenceOptions({ temperature: -1 })).toThrow(RangeError);
    expect(() => resolveDcemInferenceOptions({ normalize: 1 as unknown as boolean })).toThrow(TypeError);
    expect(() => resolveDcemInferenceOptions({ tolerance: -1 })).toThrow(/tolerance must be ≥ 0/);
    const mlp = createEnergyMlp({ seed: 1, hiddenSize: 8 });
    const x = tf.tensor1d([1, 2]);
    expect(() => dcemInference(mlp, x, { seed: 0.5 })).toThrow(/seed must be an integer/);
    const before = tf.memory().numTensors;
    tf.dispose(dcemInference(mlp, x, { seed: 1, numSamples: 20, numElites: 4 }));
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    mlp.dispose();
  });
});
