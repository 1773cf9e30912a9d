// A toy task for PPO: balancing the analytic cart-pole of @dcem/tasks from
// near-upright starts with a seeded linear policy (and a small value network),
// E episodes of T steps collected in parallel (batched), each cut by the time
// limit (so GAE bootstraps the last state's value). Shared by the test and an
// offline script that measures several seeds.
import { deriveSeed } from '@dcem/core';
import * as tf from '@tensorflow/tfjs';
import { cartpoleReward, createCartpole } from '../control/cartpole.js';
import { TASK_SEED_STREAMS } from '../seed-streams.js';
import { computeGae, createPpoLearner, type PpoOptions, type PpoState, type PpoUpdateStats } from './ppo.js';
import { PlanetRandom } from './random.js';

/** The toy's sizes and PPO's settings. */
export interface CartpolePpoToy {
  /** Episodes per PPO iteration. */
  episodes: number;
  /** Steps per episode (the time limit). */
  steps: number;
  /** PPO iterations. */
  iterations: number;
  /** Newtons per unit of action (actions are clipped to [−1, 1]). */
  forceScale: number;
  /** Start states: p, ṗ, θ, θ̇ ~ U(−x, x) with these half-widths. */
  spread: readonly [number, number, number, number];
  /** Fixed test states for the evaluations. */
  testStates: number;
  /** Value network's hidden width. */
  hidden: number;
  /** PPO's settings. */
  ppo: PpoOptions;
  /** The reward: `upright` cos θ, or `full` the cart-pole's cos θ − 0.1 p² − 1e-5 F². */
  reward: 'upright' | 'full';
  /** γ, λ. */
  gamma: number;
  lambda: number;
}

export const CARTPOLE_TOY: CartpolePpoToy = {
  episodes: 16,
  steps: 40,
  iterations: 20,
  forceScale: 20,
  spread: [0.2, 0.2, 0.25, 0.2],
  testStates: 32,
  hidden: 16,
  ppo: { learningRate: 0.03, passes: 4, minibatchSize: 160, std: 0.5, clipNorm: 10 },
  reward: 'upright',
  gamma: 0.99,
  lambda: 0.95,
};

function rewardOf(toy: CartpolePpoToy, x: tf.Tensor, u: tf.Tensor): tf.Tensor {
  return toy.reward === 'full'
    ? cartpoleReward(x, u)
    : tf.tidy(() => tf.reshape(tf.slice(x, [0, 2], [-1, 1]), [-1]));
}

const cartpole = createCartpole();

function startStates(count: number, seed: number, spread: CartpolePpoToy['spread']): Float32Array {
  const random = new PlanetRandom(seed);
  const out = new Float32Array(count * 5);
  for (let i = 0; i < count; i++) {
    const p = random.uniform(-spread[0], spread[0]);
    const v = random.uniform(-spread[1], spread[1]);
    const theta = random.uniform(-spread[2], spread[2]);
    const w = random.uniform(-spread[3], spread[3]);
    out.set([p, v, Math.cos(theta), Math.sin(theta), w], 5 * i);
  }
  return out;
}

/** The policy and value weights: μ = x W + b (linear), V = w₂ᵀ tanh(W₁ᵀx + b₁) + b₂. */
function createNets(seed: number, hidden: number): { policy: tf.Variable[]; value: tf.Variable[] } {
  const w = (shape: number[], std: number, i: number) =>
    tf.tidy(() =>
      tf.variable(tf.randomNormal(shape, 0, std, 'float32', deriveSeed(seed, TASK_SEED_STREAMS.weights, i))),
    );
  const zeros = (n: number) => tf.tidy(() => tf.variable(tf.zeros([n])));
  return {
    policy: [w([5, 1], 0.01, 0), zeros(1)],
    value: [w([5, hidden], 1 / Math.sqrt(5), 1), zeros(hidden), w([hidden, 1], 0.1, 2), zeros(1)],
  };
}

function policyMean(policy: tf.Variable[], x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(
    () => tf.add(tf.matMul(x, policy[0] as tf.Variable), policy[1] as tf.Variable) as tf.Tensor2D,
  );
}

function stateValue(value: tf.Variable[], x: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const h = tf.tanh(tf.add(tf.matMul(x, value[0] as tf.Variable), value[1] as tf.Variable));
    return tf.reshape(
      tf.add(tf.matMul(h, value[2] as tf.Variable), value[3] as tf.Variable),
      [-1],
    ) as tf.Tensor1D;
  });
}

/** Mean return of the deterministic policy (μ, clipped) over `states` [n × 5], T steps. */
function evaluate(policy: tf.Variable[], toy: CartpolePpoToy, states: Float32Array): number {
  const n = states.length / 5;
  return tf.tidy(() => {
    let x = tf.tensor2d(states, [n, 5]);
    let total = tf.zeros([n]);
    for (let t = 0; t < toy.steps; t++) {
      const u = tf.mul(toy.forceScale, tf.clipByValue(policyMean(policy, x as tf.Tensor2D), -1, 1));
      total = tf.add(total, rewardOf(toy, x, u));
      x = cartpole.step(x, u) as tf.Tensor2D;
    }
    return tf.mean(total).dataSync()[0] as number;
  });
}

/** What {@link trainCartpolePpo} returns. */
export interface CartpolePpoResult {
  /** Mean test return of the deterministic policy before and after training. */
  before: number;
  after: number;
  /** Mean return of the collected (noisy) episodes per iteration. */
  collected: number[];
  /** Every update's statistics. */
  updates: PpoUpdateStats[];
  /** The learner's state after the last update. */
  state: PpoState;
}

/**
 * Trains the linear policy with PPO for `toy.iterations` iterations (or
 * from `resume`, a learner state after `resumeAt` iterations) and returns
 * the test returns before and after. Releases every tensor it makes.
 */
export function trainCartpolePpo(
  seed: number,
  toy: CartpolePpoToy = CARTPOLE_TOY,
  stopAfter = toy.iterations,
  resume?: { at: number; state: PpoState },
): CartpolePpoResult {
  const nets = createNets(seed, toy.hidden);
  const variables = [...nets.policy, ...nets.value];
  const E = toy.episodes;
  const T = toy.steps;
  let observations = new Float32Array(0);
  const learner = createPpoLearner({
    ...toy.ppo,
    variables,
    actionSize: 1,
    forward: (indices) => {
      const rows = new Float32Array(indices.length * 5);
      indices.forEach((r, i) => {
        rows.set(observations.subarray(5 * r, 5 * r + 5), 5 * i);
      });
      const x = tf.tensor2d(rows, [indices.length, 5]);
      return { mean: policyMean(nets.policy, x), value: stateValue(nets.value, x) };
    },
  });
  try {
    const test = startStates(toy.testStates, deriveSeed(seed, TASK_SEED_STREAMS.testStates), toy.spread);
    const before = evaluate(nets.policy, toy, test);
    const collected: number[] = [];
    const updates: PpoUpdateStats[] = [];
    let first = 0;
    if (resume !== undefined) {
      learner.setState(resume.state);
      first = resume.at;
    }
    for (let k = first; k < stopAfter; k++) {
      // Collect E episodes of T steps in parallel: row t·E + e is episode e's step t.
      observations = new Float32Array((T + 1) * E * 5);
      const actions = new Float32Array(T * E);
      const logProbs = new Float32Array(T * E);
      const rewards = new Float32Array(T * E);
      const values = new Float32Array((T + 1) * E);
      const x0 = startStates(E, deriveSeed(seed, TASK_SEED_STREAMS.ppoInitialState, k), toy.spread);
      observations.set(x0, 0);
      const noiseBase = deriveSeed(seed, TASK_SEED_STREAMS.ppoAction, k);
      for (let t = 0; t <= T; t++) {
        const obs = observations.subarray(t * E * 5, (t + 1) * E * 5);
        const x = tf.tensor2d(obs, [E, 5]);
        try {
          const v = stateValue(nets.value, x);
          values.set(v.dataSync(), t * E);
          v.dispose();
          if (t === T) break;
          const mean = policyMean(nets.policy, x);
          const drawn = learner.sample(mean, deriveSeed(noiseBase, TASK_SEED_STREAMS.ppoAction, t));
          mean.dispose();
          actions.set(drawn.actions, t * E);
          logProbs.set(drawn.logProbs, t * E);
          const [r, next] = tf.tidy(() => {
            const u = tf.mul(toy.forceScale, tf.clipByValue(tf.tensor2d(drawn.actions, [E, 1]), -1, 1));
            return [rewardOf(toy, x, u), cartpole.step(x, u)];
          });
          rewards.set((r as tf.Tensor).dataSync(), t * E);
          observations.set((next as tf.Tensor).dataSync(), (t + 1) * E * 5);
          tf.dispose([r as tf.Tensor, next as tf.Tensor]);
        } finally {
          x.dispose();
        }
      }
      const advantages = new Float64Array(T * E);
      const returns = new Float64Array(T * E);
      let total = 0;
      for (let e = 0; e < E; e++) {
        const rs = Array.from({ length: T }, (_, t) => rewards[t * E + e] as number);
        const vs = Array.from({ length: T }, (_, t) => values[t * E + e] as number);
        total += rs.reduce((a, b) => a + b, 0);
        const g = computeGae(
          { rewards: rs, values: vs, terminated: false, lastValue: values[T * E + e] as number },
          { gamma: toy.gamma, lambda: toy.lambda },
        );
        for (let t = 0; t < T; t++) {
          advantages[t * E + e] = g.advantages[t] as number;
          returns[t * E + e] = g.returns[t] as number;
        }
      }
      collected.push(total / E);
      updates.push(
        learner.update(
          { actions, logProbs, advantages, returns },
          deriveSeed(seed, TASK_SEED_STREAMS.ppoMinibatch, k),
        ),
      );
    }
    const after = evaluate(nets.policy, toy, test);
    return { before, after, collected, updates, state: learner.getState() };
  } finally {
    learner.dispose();
    tf.dispose(variables);
  }
}
