import { cem, disposeCemResult } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { cartpoleReturnFused, createCartpole, sampleCartpoleStates } from './cartpole.js';
import { maxAbs, maxAbsDiff } from './dynamics-f64.test-utils.js';
import {
  type ActionDecoder,
  createActionDecoder,
  disposeLatentPlanResult,
  LATENT_SOLVER_DEFAULTS,
  type LatentTrainingOptions,
  planLatent,
  trainLatentEmbedding,
} from './latent-embedding.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const cartpole = createCartpole();
const costFor = (x0: tf.Tensor) => (u: tf.Tensor) => tf.neg(cartpoleReturnFused(cartpole, x0, u));

function small(seed = 1, latentDim = 2): ActionDecoder {
  return createActionDecoder({
    latentDim,
    horizon: 20,
    hiddenSizes: [32, 32],
    lowerBound: -100,
    upperBound: 100,
    seed,
  });
}

describe('createActionDecoder', () => {
  it('frees everything it made on dispose', () => {
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) small(i).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('maps latents [..., d] to control sequences [..., H, m] inside the bounds', () => {
    const decoder = createActionDecoder({
      latentDim: 3,
      horizon: 6,
      controlDim: 2,
      lowerBound: [-1, 0],
      upperBound: [1, 10],
      seed: 4,
    });
    const z = tf.randomUniform([2, 5, 3], -1, 1, 'float32', 3);
    const u = decoder.decode(z);
    expect(u.shape).toEqual([2, 5, 6, 2]);
    const [first, second] = tf.unstack(u, 3) as [tf.Tensor, tf.Tensor];
    expect(tf.min(first).dataSync()[0]).toBeGreaterThanOrEqual(-1);
    expect(tf.max(first).dataSync()[0]).toBeLessThanOrEqual(1);
    expect(tf.min(second).dataSync()[0]).toBeGreaterThanOrEqual(0);
    expect(tf.max(second).dataSync()[0]).toBeLessThanOrEqual(10);
    tf.dispose([z, u, first, second]);
    decoder.dispose();
  });

  it('initialises W ~ N(0, (2/√(fan_in + fan_out))²) and b = 0, reproducibly from the seed', () => {
    const a = createActionDecoder({ latentDim: 2, horizon: 20, lowerBound: -100, upperBound: 100, seed: 0 });
    const b = createActionDecoder({ latentDim: 2, horizon: 20, lowerBound: -100, upperBound: 100, seed: 0 });
    const c = createActionDecoder({ latentDim: 2, horizon: 20, lowerBound: -100, upperBound: 100, seed: 1 });
    expect(a.variables.map((v) => v.shape)).toEqual([
      [2, 256],
      [256],
      [256, 256],
      [256],
      [256, 256],
      [256],
      [256, 20],
      [20],
    ]);
    const w = a.getWeights();
    const big = w[2] as Float32Array; // 256 × 256
    const mean = big.reduce((s, v) => s + v, 0) / big.length;
    const std = Math.sqrt(big.reduce((s, v) => s + (v - mean) ** 2, 0) / big.length);
    // 65 536 draws: the sample std is within ~0.6 % of σ = 2/√512 (three standard errors: 1 %).
    expect(Math.abs(std / (2 / Math.sqrt(512)) - 1)).toBeLessThan(0.01);
    expect(Math.abs(mean)).toBeLessThan(0.01 * std);
    expect(maxAbs(w[1] as Float32Array)).toBe(0);
    expect(maxAbsDiff(w[0] as Float32Array, b.getWeights()[0] as Float32Array)).toBe(0);
    expect(maxAbsDiff(w[0] as Float32Array, c.getWeights()[0] as Float32Array)).toBeGreaterThan(0.01);
    c.setWeights(w);
    expect(maxAbsDiff(c.getWeights()[2] as Float32Array, big)).toBe(0);
    for (const d of [a, b, c]) d.dispose();
  });

  it('back-propagates through its dense layers exactly as tfjs’s own matMul gradient', () => {
    const decoder = small(2);
    const z = tf.randomUniform([7, 2], -1, 1, 'float32', 5);
    const weights = tf.randomNormal([7, 20, 1], 0, 1, 'float32', 6);
    const mine = tf.variableGrads(
      () => tf.sum(tf.mul(weights, decoder.decode(z))) as tf.Scalar,
      decoder.variables,
    );
    const v = decoder.variables;
    const plain = tf.variableGrads(() => {
      let h: tf.Tensor = z;
      for (let l = 0; l < 3; l++) {
        h = tf.add(tf.matMul(h, v[2 * l] as tf.Tensor), v[2 * l + 1] as tf.Tensor);
        if (l < 2) h = tf.elu(h);
      }
      const u = tf.reshape(tf.add(-100, tf.mul(200, tf.sigmoid(h))), [7, 20, 1]);
      return tf.sum(tf.mul(weights, u)) as tf.Scalar;
    }, v);
    expect(
      Math.abs((mine.value.dataSync()[0] as number) - (plain.value.dataSync()[0] as number)),
    ).toBeLessThan(1e-3);
    for (const x of v) {
      const a = mine.grads[x.name] as tf.Tensor;
      const b = plain.grads[x.name] as tf.Tensor;
      expect(maxAbsDiff(a.dataSync(), b.dataSync())).toBeLessThan(1e-5 * Math.max(1, maxAbs(b.dataSync())));
    }
    tf.dispose([
      z,
      weights,
      mine.value,
      plain.value,
      ...Object.values(mine.grads),
      ...Object.values(plain.grads),
    ]);
    decoder.dispose();
  });

  it('rejects bad options', () => {
    const ok = { latentDim: 2, horizon: 5, lowerBound: -1, upperBound: 1 };
    expect(() => createActionDecoder({ ...ok, latentDim: 0 })).toThrow(
      /latentDim must be an integer ≥ 1, received 0/,
    );
    expect(() => createActionDecoder({ ...ok, hiddenSizes: [8, 0] })).toThrow(
      /hiddenSizes\[1\] must be an integer ≥ 1/,
    );
    expect(() => createActionDecoder({ ...ok, upperBound: -1 })).toThrow(/lowerBound must be < upperBound/);
    const decoder = small();
    expect(() => decoder.decode(tf.zeros([3, 4]))).toThrow(/latent must have shape \[…, 2\]/);
    expect(() => decoder.setWeights([new Float32Array(3)])).toThrow(/weights must be an array of 6 arrays/);
    decoder.dispose();
    expect(() => decoder.decode(tf.zeros([1, 2]))).toThrow(/disposed/);
  });
});

describe('planLatent', () => {
  it('plans ẑ ∈ [−1, 1]^d per initial state; temperature null is vanilla CEM; τ > 0 passes gradients to the decoder', () => {
    const decoder = small(3);
    const x0 = sampleCartpoleStates(4, 2);
    const r = planLatent(decoder, costFor(x0), 4, { solver: { seed: 1 } });
    expect(r.latent.shape).toEqual([4, 2]);
    expect(r.controls.shape).toEqual([4, 20, 1]);
    expect(r.cost.shape).toEqual([4]);
    expect(maxAbs(r.latent.dataSync())).toBeLessThanOrEqual(1);
    const direct = tf.tidy(() => costFor(x0)(tf.expandDims(decoder.decode(r.latent), 1)).dataSync());
    expect(maxAbsDiff(direct, r.cost.dataSync())).toBeLessThan(1e-5);
    // null is vanilla CEM: the same plan as cem over z with the same seed, bounds and settings.
    const vanilla = planLatent(decoder, costFor(x0), 4, { solver: { seed: 1, temperature: null } });
    const reference = cem((z) => costFor(x0)(decoder.decode(z)), {
      ...LATENT_SOLVER_DEFAULTS,
      temperature: null,
      dim: 2,
      batchSize: 4,
      lowerBound: -1,
      upperBound: 1,
      initMean: 0,
      seed: 1,
    });
    expect(maxAbsDiff(reference.solution.dataSync(), vanilla.latent.dataSync())).toBe(0);
    expect(maxAbsDiff(r.latent.dataSync(), vanilla.latent.dataSync())).toBeGreaterThan(0);
    disposeCemResult(reference);
    const { value, grads } = tf.variableGrads(
      () => tf.mean(planLatent(decoder, costFor(x0), 4, { solver: { seed: 1 } }).cost) as tf.Scalar,
      decoder.variables,
    );
    expect(maxAbs((grads[decoder.variables[0]?.name ?? ''] as tf.Tensor).dataSync())).toBeGreaterThan(0);
    tf.dispose([x0, value, ...Object.values(grads)]);
    for (const p of [r, vanilla]) disposeLatentPlanResult(p);
    expect(() => planLatent(decoder, costFor(x0), 0)).toThrow(/batchSize must be an integer ≥ 1/);
    decoder.dispose();
  });

  it('rejects τ = 0 saying what to write, and options outside `solver`', () => {
    const decoder = small(3);
    const x0 = sampleCartpoleStates(4, 2);
    const before = tf.memory().numTensors;
    expect(() => planLatent(decoder, costFor(x0), 4, { solver: { temperature: 0 } })).toThrow(
      new RangeError(
        'solver.temperature must be > 0 or null, received 0; for vanilla CEM (no temperature) write temperature: null',
      ),
    );
    expect(() => planLatent(decoder, costFor(x0), 4, { solver: { temperature: -1 } })).toThrow(
      new RangeError('solver.temperature must be > 0 or null (vanilla CEM), received -1'),
    );
    expect(() => planLatent(decoder, costFor(x0), 4, { solver: { temperature: Number.NaN } })).toThrow(
      RangeError,
    );
    expect(() => planLatent(decoder, costFor(x0), 4, { temperature: 0.1 } as never)).toThrow(
      new TypeError(
        'unknown option "temperature": the latent planner takes { solver } (write { solver: { temperature: … } } for a solver setting)',
      ),
    );
    expect(() => planLatent(decoder, costFor(x0), 4, { solver: { dim: 3 } as never })).toThrow(
      /solver.dim is set by the latent planner/,
    );
    expect(() => planLatent(decoder, costFor(x0), 4, { solver: 3 as never })).toThrow(
      new TypeError('solver must be an object, received 3'),
    );
    expect(tf.memory().numTensors).toBe(before);
    x0.dispose();
    decoder.dispose();
  });
});

describe('disposeLatentPlanResult', () => {
  it('frees every tensor of a result: repeated plans leak nothing', () => {
    const decoder = small(4);
    const x0 = sampleCartpoleStates(3, 5);
    const solver = { numSamples: 20, numElites: 4, numIterations: 3 };
    disposeLatentPlanResult(planLatent(decoder, costFor(x0), 3, { solver })); // warm up tfjs's caches
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      const r = planLatent(decoder, costFor(x0), 3, { solver: { ...solver, seed: i } });
      expect(tf.memory().numTensors).toBe(before + 3);
      disposeLatentPlanResult(r);
      disposeLatentPlanResult(r); // twice is harmless
    }
    expect(tf.memory().numTensors).toBe(before);
    x0.dispose();
    decoder.dispose();
  });
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
      /planner.solver.temperature must be > 0 or null, received 0; for vanilla CEM \(no temperature\) write temperature: null/,
    );
    expect(() => trainLatentEmbedding(decoder, { ...o, planner: { solver: { seed: 3 } as never } })).toThrow(
      /planner.solver.seed is not taken by trainLatentEmbedding/,
    );
    validation.dispose();
    decoder.dispose();
  });
});
