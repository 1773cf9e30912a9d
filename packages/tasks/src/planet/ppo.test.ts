// PPO's pieces against hand-computed values (GAE with and without a time-limit
// bootstrap, the clipped loss and its gradient, the Gaussian log-density, one
// Adam step of the learner), then the learner on a toy task: it improves a
// seeded linear policy on the analytic cart-pole, leaks no tensors, and a run
// resumed from its state equals an uninterrupted one bit for bit.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  computeGae,
  createPpoLearner,
  gaussianEntropy,
  gaussianLogProb,
  PPO_DEFAULTS,
  ppoLoss,
  resolvePpoOptions,
} from './ppo.js';
import { CARTPOLE_TOY, trainCartpolePpo } from './ppo-cartpole.test-utils.js';
import { tidyObject } from './tidy.js';

beforeAll(async () => {
  tf.enableProdMode();
  await tf.setBackend('cpu');
});

const close = (got: ArrayLike<number>, want: readonly number[], tol = 1e-6) => {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => {
    expect(Math.abs((got[i] as number) - w)).toBeLessThan(tol);
  });
};

describe('computeGae', () => {
  // γ = 0.9, λ = 0.8, r = (1, 0, 1), V = (0.5, 0.4, 0.3).
  const episode = { rewards: [1, 0, 1], values: [0.5, 0.4, 0.3] };
  const options = { gamma: 0.9, lambda: 0.8 };

  it('bootstraps a time-limited episode with V(s_T)', () => {
    // δ₂ = 1 + 0.9·2 − 0.3 = 2.5;  δ₁ = 0 + 0.9·0.3 − 0.4 = −0.13;  δ₀ = 1 + 0.9·0.4 − 0.5 = 0.86
    // Â₂ = 2.5;  Â₁ = −0.13 + 0.72·2.5 = 1.67;  Â₀ = 0.86 + 0.72·1.67 = 2.0624
    const r = computeGae({ ...episode, terminated: false, lastValue: 2 }, options);
    close(r.advantages, [2.0624, 1.67, 2.5], 1e-12);
    close(r.returns, [2.5624, 2.07, 2.8], 1e-12);
  });

  it('gives a terminal state the value 0', () => {
    // δ₂ = 1 − 0.3 = 0.7;  Â₁ = −0.13 + 0.72·0.7 = 0.374;  Â₀ = 0.86 + 0.72·0.374 = 1.12928
    const r = computeGae({ ...episode, terminated: true, lastValue: 2 }, options);
    close(r.advantages, [1.12928, 0.374, 0.7], 1e-12);
  });

  it('is the one-step TD error at λ = 0 and the discounted return minus V at λ = 1', () => {
    const e = { ...episode, terminated: false, lastValue: 2 };
    close(computeGae(e, { gamma: 0.9, lambda: 0 }).advantages, [0.86, -0.13, 2.5], 1e-12);
    // G₀ = 1 + 0 + 0.81·1 + 0.729·2 = 3.268
    close(computeGae(e, { gamma: 0.9, lambda: 1 }).returns, [3.268, 2.52, 2.8], 1e-12);
  });

  it('rejects bad episodes and settings with typed errors', () => {
    expect(() => computeGae({ ...episode, terminated: false })).toThrow(/episode.lastValue must be V\(s_T\)/);
    expect(() => computeGae({ ...episode, terminated: true }, { gamma: 1.5 })).toThrow(RangeError);
    expect(() => computeGae({ rewards: [1, 2], values: [1], terminated: true })).toThrow(
      /episode.values must hold 2 numbers/,
    );
    expect(() => computeGae({ ...episode, terminated: true }, { lamda: 0.9 } as never)).toThrow(
      /did you mean "lambda"/,
    );
    expect(() => computeGae({ ...episode, terminated: 'yes' } as never)).toThrow(TypeError);
  });
});

describe('ppoLoss', () => {
  it('matches the clipped objective, the value loss and the entropy bonus computed by hand, and their gradient', () => {
    const lpNew = [-1, -0.5, -2];
    const lpOld = [-1.2, -0.5, -1.5];
    const adv = [1, -2, 0.5];
    const values = [0.2, 0.1, 0];
    const returns = [1, 0, -1];
    // ρ = (e^0.2, 1, e^−0.5); ε = 0.2:
    // n = 0: min(1.2214·1, 1.2·1) = 1.2 (clipped);  n = 1: −2;  n = 2: min(0.6065·0.5, 0.8·0.5) = 0.3033 (unclipped)
    const rho = lpNew.map((l, i) => Math.exp(l - (lpOld[i] as number)));
    const policy = -(1.2 - 2 + (rho[2] as number) * 0.5) / 3;
    const value = (0.8 ** 2 + 0.1 ** 2 + 1) / 3;
    const loss = policy + 0.5 * value - 0.01 * 1.3;
    const logProbs = tf.tensor1d(lpNew);
    const grad = tf.grad((lp: tf.Tensor) =>
      tf.tidy(() => {
        const t = ppoLoss(
          {
            logProbs: lp as tf.Tensor1D,
            oldLogProbs: tf.tensor1d(lpOld),
            advantages: tf.tensor1d(adv),
            values: tf.tensor1d(values),
            returns: tf.tensor1d(returns),
            entropy: tf.scalar(1.3),
          },
          { clip: 0.2, valueCoef: 0.5, entropyCoef: 0.01 },
        );
        return t.loss;
      }),
    )(logProbs);
    const terms = tidyObject(() =>
      ppoLoss(
        {
          logProbs,
          oldLogProbs: tf.tensor1d(lpOld),
          advantages: tf.tensor1d(adv),
          values: tf.tensor1d(values),
          returns: tf.tensor1d(returns),
          entropy: tf.scalar(1.3),
        },
        { clip: 0.2, valueCoef: 0.5, entropyCoef: 0.01 },
      ),
    );
    close(terms.policy.dataSync(), [policy]);
    close(terms.value.dataSync(), [value]);
    close(terms.entropy.dataSync(), [1.3]);
    close(terms.loss.dataSync(), [loss]);
    close(terms.clipFraction.dataSync(), [2 / 3]);
    close(terms.approxKl.dataSync(), [-(0.2 + 0 - 0.5) / 3]);
    // ∂L/∂log π: 0 where the clipped term is the minimum (n = 0), −ρÂ/N elsewhere.
    close(grad.dataSync(), [0, 2 / 3, -((rho[2] as number) * 0.5) / 3]);
    tf.dispose([logProbs, grad, ...Object.values(terms)]);
  });

  it('rejects mismatched lengths and a missing entropy', () => {
    const v = tf.tensor1d([0, 0]);
    const w = tf.tensor1d([0, 0, 0]);
    expect(() =>
      ppoLoss({ logProbs: v, oldLogProbs: w, advantages: v, values: v, returns: v } as never),
    ).toThrow(/inputs.oldLogProbs/);
    expect(() =>
      ppoLoss({ logProbs: v, oldLogProbs: v, advantages: v, values: v, returns: v }, { entropyCoef: 0.1 }),
    ).toThrow(/inputs.entropy must be given/);
    expect(() =>
      ppoLoss({ logProbs: v, oldLogProbs: v, advantages: v, values: v, returns: v }, { clip: 0 }),
    ).toThrow(RangeError);
    tf.dispose([v, w]);
  });
});

describe('the diagonal Gaussian', () => {
  it('has the closed-form log-density and entropy', () => {
    const a = tf.tensor2d([
      [0.5, -1],
      [0, 0],
    ]);
    const mu = tf.tensor2d([
      [0, -0.5],
      [0.1, 0.2],
    ]);
    const sigma = [0.3, 2];
    const logStd = tf.tensor1d(sigma.map(Math.log));
    const logDensity = (x: number, m: number, sd: number) =>
      -0.5 * ((x - m) / sd) ** 2 - Math.log(sd) - 0.5 * Math.log(2 * Math.PI);
    const want = [
      logDensity(0.5, 0, 0.3) + logDensity(-1, -0.5, 2),
      logDensity(0, 0.1, 0.3) + logDensity(0, 0.2, 2),
    ];
    const lp = gaussianLogProb(a, mu, logStd);
    close(lp.dataSync(), want, 1e-5);
    const h = gaussianEntropy(logStd);
    close(
      h.dataSync(),
      [sigma.reduce((s, sd) => s + Math.log(sd) + 0.5 * Math.log(2 * Math.PI * Math.E), 0)],
      1e-5,
    );
    tf.dispose([a, mu, logStd, lp, h]);
  });
});

/** A linear policy μ = x w and value V = x c over fixed observations x [4, 2]. */
function linearProblem() {
  const x = [
    [1, 0.5],
    [-0.3, 1],
    [0.2, -0.7],
    [0.9, 0.1],
  ];
  const w = tf.variable(tf.tensor2d([[0.4], [-0.2]]));
  const c = tf.variable(tf.tensor2d([[0.1], [0.3]]));
  const forward = (indices: Int32Array) => {
    const rows = tf.tensor2d(Array.from(indices, (i) => x[i] as number[]));
    return {
      mean: tf.matMul(rows, w) as tf.Tensor2D,
      value: tf.reshape(tf.matMul(rows, c), [-1]) as tf.Tensor1D,
    };
  };
  return { x, w, c, forward };
}

describe('createPpoLearner', () => {
  it('takes one Adam step along the hand-computed PPO gradient (ratio 1 on the first pass)', () => {
    const { x, w, c, forward } = linearProblem();
    const sigma = 0.5;
    const alpha = 0.01;
    const ppo = createPpoLearner({
      variables: [w, c],
      actionSize: 1,
      forward,
      std: sigma,
      passes: 1,
      minibatchSize: 4,
      learningRate: alpha,
      adamEpsilon: 1e-8,
      clipNorm: 1e6,
      normalizeAdvantages: false,
      valueCoef: 0.5,
    });
    const mean = tf.tidy(() => forward(Int32Array.from([0, 1, 2, 3])).mean);
    const drawn = ppo.sample(mean, 7);
    const mu = Array.from(mean.dataSync());
    mean.dispose();
    // log π(a) = −½((a − μ)/σ)² − log σ − ½ log 2π
    drawn.actions.forEach((a, i) => {
      const z = (a - (mu[i] as number)) / sigma;
      expect(
        Math.abs(
          (drawn.logProbs[i] as number) - (-0.5 * z * z - Math.log(sigma) - 0.5 * Math.log(2 * Math.PI)),
        ),
      ).toBeLessThan(1e-5);
    });
    const advantages = [1, -0.5, 2, 0.25];
    const returns = [0.3, -0.2, 1, 0.5];
    const stats = ppo.update({ actions: drawn.actions, logProbs: drawn.logProbs, advantages, returns }, 3);
    expect(stats.steps).toBe(1);
    expect(stats.approxKl).toBe(0); // the first minibatch recomputes exactly the log-probabilities it acted with
    expect(stats.clipFraction).toBe(0);
    // At ρ = 1: ∂L/∂w = −(1/N) Σ Âₙ (aₙ − μₙ)/σ² xₙ,  ∂L/∂c = c_v (2/N) Σ (Vₙ − Rₙ) xₙ.
    const w0 = [0.4, -0.2] as const;
    const c0 = [0.1, 0.3] as const;
    const gw = [0, 0];
    const gc = [0, 0];
    x.forEach(([x0, x1], n) => {
      const xn = [x0 as number, x1 as number] as const;
      const m = xn[0] * w0[0] + xn[1] * w0[1];
      const v = xn[0] * c0[0] + xn[1] * c0[1];
      const a = drawn.actions[n] as number;
      for (const j of [0, 1] as const) {
        gw[j] = (gw[j] as number) - ((advantages[n] as number) * (a - m) * xn[j]) / sigma ** 2 / 4;
        gc[j] = (gc[j] as number) + (0.5 * 2 * (v - (returns[n] as number)) * xn[j]) / 4;
      }
    });
    // Adam's first step: m̂ = g, v̂ = g², so θ ← θ − α g / (|g| + ε).
    const step = (theta: readonly number[], g: number[]) =>
      theta.map((t, j) => t - (alpha * (g[j] as number)) / (Math.abs(g[j] as number) + 1e-8));
    close(w.dataSync(), step(w0, gw), 1e-6);
    close(c.dataSync(), step(c0, gc), 1e-6);
    expect(ppo.updates).toBe(1);
    ppo.dispose();
    tf.dispose([w, c]);
  });

  it('learns log σ when asked, and releases every tensor it makes', () => {
    const { w, c, forward } = linearProblem();
    const before = tf.memory().numTensors;
    const ppo = createPpoLearner({
      variables: [w, c],
      actionSize: 1,
      forward,
      learnStd: true,
      std: 0.3,
      minibatchSize: 3,
    });
    expect(ppo.variables).toHaveLength(3);
    const mean = tf.tidy(() => forward(Int32Array.from([0, 1, 2, 3])).mean);
    const drawn = ppo.sample(mean, 1);
    mean.dispose();
    const held = tf.memory().numTensors;
    const stats = ppo.update({ ...drawn, advantages: [1, -1, 0.5, -0.5], returns: [0, 0, 0, 0] }, 2);
    expect(tf.memory().numTensors).toBe(held);
    expect(stats.steps).toBe(PPO_DEFAULTS.passes * 2);
    expect(stats.std[0]).not.toBeCloseTo(0.3, 6);
    expect(ppo.std()[0]).toBe(stats.std[0]);
    ppo.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([w, c]);
  });

  it('rejects bad options and a forward pass of the wrong shape with typed errors', () => {
    const { w, c, forward } = linearProblem();
    expect(() => resolvePpoOptions({ pases: 2 } as never)).toThrow(/did you mean "passes"/);
    expect(() => resolvePpoOptions({ passes: 0 })).toThrow(RangeError);
    expect(() => resolvePpoOptions({ std: -1 })).toThrow(RangeError);
    expect(() => resolvePpoOptions({ learnStd: 1 } as never)).toThrow(TypeError);
    expect(() => createPpoLearner({ variables: [], actionSize: 1, forward })).toThrow(/must not be empty/);
    const before = tf.memory().numTensors;
    const ppo = createPpoLearner({
      variables: [w, c],
      actionSize: 1,
      forward: (idx) => ({
        mean: tf.zeros([idx.length, 2]) as tf.Tensor2D,
        value: tf.zeros([idx.length]) as tf.Tensor1D,
      }),
    });
    const batch = { actions: [0, 0], logProbs: [0, 0], advantages: [1, 0], returns: [0, 0] };
    expect(() => ppo.update(batch, 0)).toThrow(/forward\(indices\).mean/);
    expect(() => ppo.update({ ...batch, returns: [0] }, 0)).toThrow(/batch.returns must hold 2 numbers/);
    ppo.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => ppo.std()).toThrow(/disposed/);
    tf.dispose([w, c]);
  });
});

describe('PPO on the analytic cart-pole (a toy task)', () => {
  it('improves a seeded linear policy: the balancing return rises by more than 10 (of 40)', () => {
    // Seed 2 of CARTPOLE_TOY, 20 iterations of 16 × 40 steps: the deterministic policy's mean test
    // return goes 19.09 → 39.95 (measured). Over seeds 0–7 with these settings, 5 reach ≥ 35 within
    // 20–30 iterations and 3 stay on the plateau of the near-zero start policy (≈ 19–20), so the
    // margin asserted here is half of the measured gain, on a seed that leaves the plateau.
    const before = tf.memory().numTensors;
    const r = trainCartpolePpo(2);
    expect(tf.memory().numTensors).toBe(before);
    expect(r.after).toBeGreaterThan(r.before + 10);
    const first = r.collected.slice(0, 3).reduce((a, b) => a + b, 0) / 3;
    const last = r.collected.slice(-3).reduce((a, b) => a + b, 0) / 3;
    expect(last).toBeGreaterThan(first + 10);
  });

  it('resumes from the learner state bit for bit', () => {
    const toy = {
      ...CARTPOLE_TOY,
      episodes: 4,
      steps: 12,
      iterations: 4,
      testStates: 4,
      ppo: { ...CARTPOLE_TOY.ppo, minibatchSize: 16 },
    };
    const whole = trainCartpolePpo(5, toy);
    const half = trainCartpolePpo(5, toy, 2);
    const resumed = trainCartpolePpo(5, toy, toy.iterations, { at: 2, state: half.state });
    expect(resumed.state.updates).toBe(4);
    expect(resumed.state.adam.step).toBe(whole.state.adam.step);
    whole.state.weights.forEach((w, i) => {
      expect(resumed.state.weights[i]).toEqual(w);
    });
    whole.state.adam.m.forEach((m, i) => {
      expect(resumed.state.adam.m[i]).toEqual(m);
      expect(resumed.state.adam.v[i]).toEqual(whole.state.adam.v[i]);
    });
    expect(resumed.updates).toEqual(whole.updates.slice(2));
    expect(resumed.after).toBe(whole.after);
  });
});
