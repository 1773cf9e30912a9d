import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEnergyMlp } from './energy-mlp.js';
import { distanceEnergyMlp } from './energy-reference.test-utils.js';
import { energySurface } from './energy-surface.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('energySurface', () => {
  it('evaluates E on the grid and finds the grid minimiser of every column', () => {
    // E(x, y) = softplus(y − x) + softplus(x − y): minimum at y = x.
    const mlp = distanceEnergyMlp();
    const s = energySurface(mlp, { xRange: [-2, 2], yRange: [-3, 3], xSteps: 5, ySteps: 13 });
    expect(s.x).toEqual([-2, -1, 0, 1, 2]);
    expect(s.y[0]).toBe(-3);
    expect(s.y[12]).toBe(3);
    expect(s.energy).toHaveLength(5);
    expect(s.energy[0]).toHaveLength(13);
    expect(s.argminY).toEqual([-2, -1, 0, 1, 2]);
    const softplus = (a: number) => Math.log1p(Math.exp(a));
    expect(s.energy[1]?.[4]).toBeCloseTo(softplus(-1 - -1) + softplus(-1 - -1), 5);
    expect(s.energy[4]?.[0]).toBeCloseTo(softplus(-3 - 2) + softplus(2 + 3), 5);
    mlp.dispose();
  });

  it('defaults to [0, 2π] × [−6, 6] and validates its options', () => {
    const mlp = createEnergyMlp({ hiddenSize: 4 });
    const s = energySurface(mlp, { xSteps: 3, ySteps: 3 });
    expect(s.x).toEqual([0, Math.PI, 2 * Math.PI]);
    expect(s.y).toEqual([-6, 0, 6]);
    expect(() => energySurface(mlp, { xSteps: 1 })).toThrow(/xSteps must be an integer ≥ 2, received 1/);
    expect(() => energySurface(mlp, { yRange: [1, 1] })).toThrow(/yRange must have min < max/);
    const before = tf.memory().numTensors;
    energySurface(mlp, { xSteps: 4, ySteps: 4 });
    expect(tf.memory().numTensors).toBe(before);
    mlp.dispose();
  });
});
