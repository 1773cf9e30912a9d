import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleCartpoleStates } from './cartpole.js';
import { maxAbsDiff } from './dynamics-f64.test-utils.js';
import { costFor, small } from './latent.test-utils.js';
import { type LatentTrainingOptions, trainLatentEmbedding } from './latent-trainer.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('trainLatentEmbedding', () => {
  const options = (validationStates: tf.Tensor): LatentTrainingOptions => ({
    iterations: 40,
    sampleInitialStates: sampleCartpoleStates,
    cost: costFor,
    validationStates,
    planner: { solver: { numSamples: 40, numElites: 5, numIterations: 5 } },
    batchSize: 4,
    learningRate: 3e-3,
    validateEvery: 20,
    seed: 7,
  });

  it('lowers the training and validation cost in a short run and keeps the best checkpoint (τ = 1)', () => {
    const decoder = small(5);
    // The same 8 start states at every update, so that the training cost is
    // comparable across updates (random states make it noisy at this length).
    const states = sampleCartpoleStates(8, 123);
    const before = tf.memory().numTensors;
    const r = trainLatentEmbedding(decoder, {
      ...options(states),
      iterations: 30,
      sampleInitialStates: () => states.clone(),
      batchSize: 8,
      learningRate: 1e-3,
      validateEvery: 10,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.trainCosts).toHaveLength(30);
    expect(r.validations.map((v) => v.iteration)).toEqual([0, 10, 20, 30]);
    const head = r.trainCosts.slice(0, 5).reduce((a, b) => a + b, 0) / 5;
    const tail = r.trainCosts.slice(-5).reduce((a, b) => a + b, 0) / 5;
    // Costs are −returns (|return| ≤ ~20): a drop by 1 is clear progress (observed −4.3 → −6.2).
    expect(tail).toBeLessThan(head - 1);
    const first = (r.validations[0] as { cost: number }).cost;
    expect(r.best.cost).toBeLessThan(first - 1);
    expect(r.best.iteration).toBeGreaterThan(0);
    // The decoder holds the checkpoint.
    const w = decoder.getWeights();
    r.bestWeights.forEach((b, i) => {
      expect(maxAbsDiff(b, w[i] as Float32Array)).toBe(0);
    });
    states.dispose();
    decoder.dispose();
  });

  it('trains with temperature null (vanilla CEM) through the decoder at ẑ only, and halves the learning rate on a plateau', () => {
    const decoder = small(6);
    const validation = sampleCartpoleStates(8, 98);
    const steps: number[] = [];
    const r = trainLatentEmbedding(decoder, {
      ...options(validation),
      iterations: 6,
      planner: { solver: { numSamples: 20, numElites: 4, numIterations: 3, temperature: null } },
      learningRate: 1e-12, // the weights do not move: every validation is a plateau
      validateEvery: 1,
      plateauPatience: 2,
      onStep: (s) => {
        expect(s.gradientNorm).toBeGreaterThan(0);
        steps.push(s.iteration);
      },
    });
    expect(steps).toEqual([1, 2, 3, 4, 5, 6]);
    // Validations 0…6; after the first, every second one without a new best halves the rate.
    expect(r.validations.map((v) => v.learningRate)).toEqual([
      1e-12, 1e-12, 5e-13, 5e-13, 2.5e-13, 2.5e-13, 1.25e-13,
    ]);
    expect(r.learningRate).toBe(1.25e-13);
    validation.dispose();
    decoder.dispose();
  });

  it('rejects bad options', () => {
    const decoder = small();
    const validation = sampleCartpoleStates(4, 1);
    const o = options(validation);
    expect(() => trainLatentEmbedding(decoder, { ...o, iterations: -1 })).toThrow(
      /iterations must be an integer ≥ 0/,
    );
    expect(() => trainLatentEmbedding(decoder, { ...o, learningRate: 0 })).toThrow(
      /learningRate must be > 0/,
    );
    expect(() => trainLatentEmbedding(decoder, { ...o, plateauFactor: 1 })).toThrow(
      /plateauFactor must be < 1/,
    );
    expect(() => trainLatentEmbedding(decoder, { ...o, validationStates: tf.zeros([3]) })).toThrow(
      /validationStates must have shape \[\*, \*\]/,
    );
    expect(() =>
      trainLatentEmbedding(decoder, { ...o, sampleInitialStates: () => tf.zeros([2, 5]), iterations: 1 }),
    ).toThrow(/sampleInitialStates\(count, seed\) must have shape \[4, \*\]/);
    expect(() => trainLatentEmbedding(decoder, { ...o, planner: { solver: { temperature: 0 } } })).toThrow(
      /planner.solver.temperature must be > 0 or null, received 0; for vanilla CEM \(no temperature\) write null/,
    );
    expect(() => trainLatentEmbedding(decoder, { ...o, planner: { solver: { seed: 3 } as never } })).toThrow(
      /planner.solver.seed is not taken by trainLatentEmbedding/,
    );
    validation.dispose();
    decoder.dispose();
  });
});
