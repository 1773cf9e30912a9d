/**
 * Acting with a world model: the posterior filtered with the real
 * observations, and the core planner over imagined rollouts from it.
 *
 * @module
 */
import { assertInteger, assertObject, assertOptions, describeValue } from '@dcem/errors';
import { createPlanner, deriveSeed, disposePlanResult } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import type { ActionDecoder } from '../control/latent-decoder.js';
import { disposeLatentPlanResult, planLatent } from '../control/latent-planner.js';
import { TASK_SEED_STREAMS } from '../seed-streams.js';
import { imagineReturns } from './imagine.js';
import { checkDecoder } from './latent.js';
import { PlanetRandom } from './random.js';
import type { Rssm, RssmState } from './rssm.js';
import type { LatentMode, PlanetPlannerConfig } from './settings.js';

/** Options of {@link createPlanetAgent}. */
export interface PlanetAgentOptions {
  /** The planner (`planetPlannerConfig`). */
  plan: PlanetPlannerConfig;
  /** Seed of the planner's noise; the loop passes `deriveSeed(seed, TASK_SEED_STREAMS.planetPlanner, episode)`. */
  plannerSeed: number;
  /** Seed of the posterior samples; the loop passes `deriveSeed(seed, TASK_SEED_STREAMS.planetFilter, episode)`. */
  filterSeed: number;
  /** Imagined latent states: sampled from the prior (`sample`, PlaNet, the default) or its mean. */
  imagination?: LatentMode;
  /** The filtered posterior: sampled (`sample`, PlaNet, the default) or its mean. */
  filter?: LatentMode;
  /**
   * The latent planner's decoder (`createPlanetDecoder`): required with
   * `plan.planner` `latent`, refused otherwise. Not disposed by the agent.
   */
  decoder?: ActionDecoder;
}

/**
 * An agent that acts with a world model for one episode: `observe` filters
 * the posterior with each real (action, observation) row, `act` plans from
 * the current posterior state.
 */
export interface PlanetAgent {
  /** The current filtered state (h [1, D], s [1, S]); owned by the agent. */
  readonly state: RssmState;
  /** Decisions planned so far. */
  readonly decisions: number;
  /**
   * Filters one aligned row: state ← observeStep(state, action, observation).
   * Row 0 of an episode is (zeros, the reset's observation).
   *
   * @param action The action that led to `observation` (length A).
   * @param observation The observation (length O).
   */
  observe(action: ArrayLike<number>, observation: ArrayLike<number>): void;
  /**
   * Plans from the current state and returns the planner's action (length A,
   * in [−1, 1]; no exploration noise).
   */
  act(): Float32Array;
  /** Releases the state and the planner (not the model). */
  dispose(): void;
}

/**
 * The agent of one episode: filtering in the model, then planning in it.
 *
 * Filtering starts from `model.initialState(1)` and takes one
 * `observeStep` per real row, with ε ~ N(0, I) drawn from a generator
 * seeded by `filterSeed` (or none, s = μq, with `filter: 'mean'`).
 *
 * Each decision runs the core planner (`createPlanner` of `@dcem/tfjs` with
 * the configuration's preset, actions in [−1, 1]^{H×A}, one start state) on
 * the cost of a candidate u ∈ [N, H, A]:
 * c(u) = −Σ_{k<H} r̂(h_{k+1}, s_{k+1}) from `imagineReturns`, batched over
 * the N candidates, from the current filtered state. Imagined states are
 * sampled from the prior, s = μp + σp ⊙ ε, as PlaNet does (the default),
 * or its mean (`imagination: 'mean'`); the ε [H, N, S] of the cost's c-th
 * evaluation in the episode come from
 * `tf.randomNormal(…, deriveSeed(plannerSeed, TASK_SEED_STREAMS.planetLatentNoise, c))`.
 * PlaNet's CEM (`cem`) restarts from μ₀ = 0 at every decision; the other
 * presets warm-start from the previous plan. The latent planner (`latent`,
 * with `options.decoder`) instead runs `planLatent`: DCEM over
 * z ∈ [−1, 1]^d from μ₀ = 0 on the cost of decode(z), its noise at
 * decision k seeded by `deriveSeed(plannerSeed, TASK_SEED_STREAMS.planetLatentPlan, k)`,
 * and acts with the first step of decode(ẑ).
 *
 * @param model The world model (not disposed by the agent).
 * @param options See {@link PlanetAgentOptions}.
 * @returns The agent, at the filter's start (call `observe` with row 0 first).
 * @example
 * ```ts
 * import { createPlanetAgent, createRssm, planetPlannerConfig } from '@dcem/tasks/planet';
 * const model = createRssm({ observationSize: 5, actionSize: 1, deterministic: 8, stochastic: 4, hidden: 8 }, 0);
 * const agent = createPlanetAgent(model, {
 *   plan: planetPlannerConfig('cem', { horizon: 3, samples: 20, elites: 4, iterations: 2 }),
 *   plannerSeed: 1,
 *   filterSeed: 2,
 * });
 * agent.observe([0], [0, 1, 0, 0, 0]); // row 0: zero action, the reset's observation
 * const action = agent.act(); // Float32Array(1) in [−1, 1]
 * agent.dispose();
 * model.dispose();
 * ```
 */
export function createPlanetAgent(model: Rssm, options: PlanetAgentOptions): PlanetAgent {
  assertObject('model', model);
  assertOptions('agent options', options, [
    'plan',
    'plannerSeed',
    'filterSeed',
    'imagination',
    'filter',
    'decoder',
  ]);
  assertObject('options', options);
  assertObject('options.plan', options.plan);
  assertInteger('options.plannerSeed', options.plannerSeed, Number.MIN_SAFE_INTEGER);
  assertInteger('options.filterSeed', options.filterSeed, Number.MIN_SAFE_INTEGER);
  const imagination = options.imagination ?? 'sample';
  const filter = options.filter ?? 'sample';
  for (const [name, v] of [
    ['options.imagination', imagination],
    ['options.filter', filter],
  ] as const) {
    if (v !== 'sample' && v !== 'mean') {
      throw new RangeError(`${name} must be "sample" or "mean", received ${describeValue(v)}`);
    }
  }
  const { observationSize: O, actionSize: A, stochastic: S } = model.sizes;
  const config = options.plan;
  const H = config.horizon;
  const latent = config.planner === 'latent';
  const decoder = options.decoder;
  if (latent) {
    if (decoder === undefined) {
      throw new TypeError('options.decoder is required with the latent planner (createPlanetDecoder)');
    }
    checkDecoder('options.decoder', decoder, model, H);
  } else if (decoder !== undefined) {
    throw new TypeError(
      `options.decoder is taken only by the latent planner, received it with planner ${JSON.stringify(config.planner)}`,
    );
  }
  const random = new PlanetRandom(options.filterSeed);
  const planner = latent
    ? undefined
    : createPlanner({
        horizon: H,
        actionDim: A,
        lowerBound: -1,
        upperBound: 1,
        initMean: 0,
        initStd: config.initStd,
        solver: config.solver as never,
        seed: options.plannerSeed,
      });
  let state: RssmState = model.initialState(1);
  let decisions = 0;
  let costCalls = 0;
  let disposed = false;
  const check = () => {
    if (disposed) throw new Error('this PlanetAgent has been disposed');
  };
  const vector = (name: string, value: ArrayLike<number>, size: number): Float32Array => {
    if (value === null || typeof value !== 'object' || typeof value.length !== 'number') {
      throw new TypeError(`${name} must be an array of ${size} numbers, received ${describeValue(value)}`);
    }
    if (value.length !== size)
      throw new RangeError(`${name} must have ${size} entries, received ${value.length}`);
    return Float32Array.from(value);
  };
  return {
    get state() {
      return state;
    },
    get decisions() {
      return decisions;
    },
    observe(action, observation) {
      check();
      const a = vector('action', action, A);
      const o = vector('observation', observation, O);
      const noise = filter === 'sample' ? random.normals(S) : null;
      const next = tf.tidy(() => {
        const r = model.observeStep(
          state,
          tf.tensor2d(a, [1, A]),
          tf.tensor2d(o, [1, O]),
          noise === null ? null : tf.tensor2d(noise, [1, S]),
        );
        return { h: r.state.h, s: r.state.s };
      });
      tf.dispose([state.h, state.s]);
      state = next;
    },
    act() {
      check();
      const start = state;
      const cost = (controls: tf.Tensor): tf.Tensor => {
        const [, n] = controls.shape as [number, number, number, number];
        const seed =
          imagination === 'sample'
            ? deriveSeed(options.plannerSeed, TASK_SEED_STREAMS.planetLatentNoise, costCalls)
            : 0;
        costCalls++;
        return tf.tidy(() => {
          const noise =
            imagination === 'sample'
              ? (tf.randomNormal([H, n, S], 0, 1, 'float32', seed) as tf.Tensor3D)
              : null;
          const returns = imagineReturns(model, start, tf.reshape(controls, [n, H, A]) as tf.Tensor3D, noise);
          return tf.reshape(tf.neg(returns), [1, n]);
        });
      };
      if (planner === undefined) {
        const r = planLatent(decoder as ActionDecoder, cost, 1, {
          solver: {
            ...config.solver,
            seed: deriveSeed(options.plannerSeed, TASK_SEED_STREAMS.planetLatentPlan, decisions),
          },
        });
        decisions++;
        try {
          return Float32Array.from(r.controls.dataSync().subarray(0, A));
        } finally {
          disposeLatentPlanResult(r);
        }
      }
      if (!config.warmStart) planner.reset();
      const result = planner.plan(cost);
      decisions++;
      try {
        return Float32Array.from(result.action.dataSync());
      } finally {
        disposePlanResult(result);
      }
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      planner?.dispose();
      tf.dispose([state.h, state.s]);
    },
  };
}
