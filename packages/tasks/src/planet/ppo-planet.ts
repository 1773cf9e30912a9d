/// <reference types="node" />
/**
 * Phase 3 of the DCEM paper's locomotion experiment (§5.2.2): PPO
 * fine-tuning of the latent DCEM controller on the true environment's
 * reward. The controller (DCEM over the learned latent action space in the
 * world model) is the mean of a Gaussian policy; PPO updates the decoder and
 * the model's reward module through the planner, with a value head on the
 * RSSM state; the model is not fitted to data in this phase.
 *
 * @module
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import {
  assertFiniteNumber,
  assertInteger,
  assertKnownOptions,
  assertObject,
  assertOptionalFunctions,
  assertOptions,
  describeValue,
} from '@dcem/errors';
import type { MujocoEnv, TaskName } from '@dcem/mujoco';
import { dense, deriveSeed } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import type { ActionDecoder } from '../control/latent-decoder.js';
import { planLatent } from '../control/latent-planner.js';
import type { ControlCost } from '../control/planner.js';
import { makeEnv } from '../mujoco/mujoco-peer.js';
import { TASK_SEED_STREAMS } from '../seed-streams.js';
import type { PlanetCheckpoint } from './checkpoint.js';
import { imagineReturns } from './imagine.js';
import { createPlanetDecoder } from './latent.js';
import {
  computeGae,
  createPpoLearner,
  type PpoLearner,
  type PpoOptions,
  type PpoState,
  type PpoUpdateStats,
  type ResolvedPpoOptions,
  resolvePpoOptions,
} from './ppo.js';
import { PlanetRandom } from './random.js';
import { createRssm, type Rssm, type RssmState } from './rssm.js';
import type { LatentMode, ResolvedPlanetSettings } from './settings.js';

/**
 * The phase's defaults: 10 episodes per PPO step (the paper), γ = 0.99,
 * λ = 0.95, a value head of two hidden layers of 200 (PlaNet's width) and
 * 10 PPO steps; PPO's own settings default to `PPO_DEFAULTS` except
 * minibatches of 16 samples (each sample plans with DCEM under the gradient
 * tape, so memory bounds the minibatch).
 */
export const PLANET_PPO_DEFAULTS = Object.freeze({
  seed: 0,
  iterations: 10,
  episodesPerStep: 10,
  gamma: 0.99,
  lambda: 0.95,
  valueHidden: 200,
  minibatchSize: 16,
});

/** Settings of {@link runPlanetPpo}; each defaults to {@link PLANET_PPO_DEFAULTS}. */
export interface PlanetPpoSettings {
  /** Integer seed of the phase's draws (`TASK_SEED_STREAMS.ppo*`), default 0. */
  seed?: number;
  /** PPO steps in all, an integer ≥ 1 (default 10); raising it resumes a finished run. */
  iterations?: number;
  /** Episodes collected per PPO step, in parallel, an integer ≥ 1 (default 10, the paper's). */
  episodesPerStep?: number;
  /** Agent steps per episode (default: the world-model run's `steps`). */
  steps?: number;
  /** γ of GAE (default 0.99). */
  gamma?: number;
  /** λ of GAE (default 0.95). */
  lambda?: number;
  /** Width of the value head's two hidden layers (default 200). */
  valueHidden?: number;
  /** PPO's settings (`createPpoLearner`'s; the paper ablates `passes` 1, 2, 4, a fixed σ² = 0.1 against `learnStd`, and `learningRate` 1e-4, 1e-5). */
  ppo?: PpoOptions;
}

/** {@link PlanetPpoSettings} with every default filled in (plain data, saved in checkpoints). */
export interface ResolvedPlanetPpoSettings {
  /** Seed. */
  seed: number;
  /** PPO steps in all. */
  iterations: number;
  /** Episodes per PPO step. */
  episodesPerStep: number;
  /** Agent steps per episode. */
  steps: number;
  /** γ. */
  gamma: number;
  /** λ. */
  lambda: number;
  /** Value head width. */
  valueHidden: number;
  /** PPO's settings. */
  ppo: ResolvedPpoOptions;
}

/** Where a PPO phase stands. */
export interface PlanetPpoCounters {
  /** PPO steps taken; the next has this index. */
  iterations: number;
  /** Episodes collected. */
  episodes: number;
  /** Control steps collected (agent steps × action repeat). */
  environmentSteps: number;
}

/** One PPO step, as the history keeps it (plain numbers, JSON-safe). */
export interface PlanetPpoRecord {
  /** The step's index. */
  iteration: number;
  /** Each episode's return on the true reward (the policy's noisy actions). */
  returns: number[];
  /** Their mean. */
  meanReturn: number;
  /** Agent steps collected in this PPO step. */
  samples: number;
  /** Control steps collected so far, this step included. */
  environmentSteps: number;
  /** The update's statistics (`PpoLearner.update`). */
  update: PpoUpdateStats;
  /** Wall seconds stepping the environments. */
  environmentSeconds: number;
  /** Wall seconds filtering and planning while collecting. */
  planningSeconds: number;
  /** Wall seconds of the PPO update. */
  updateSeconds: number;
}

/** The format version of {@link PlanetPpoCheckpoint}. */
export const PLANET_PPO_CHECKPOINT_VERSION = 1;

/** The file in a PPO run's folder that names its latest checkpoint folder. */
export const PLANET_PPO_LATEST_FILE = 'latest-ppo-checkpoint.json';

/**
 * A PPO phase's complete state as plain data: {@link runPlanetPpo} resumes
 * from it bit for bit.
 */
export interface PlanetPpoCheckpoint {
  /** {@link PLANET_PPO_CHECKPOINT_VERSION}. */
  version: number;
  /** The phase's settings. */
  settings: ResolvedPlanetPpoSettings;
  /** The world-model run's settings (task, model, latent planner). */
  base: ResolvedPlanetSettings;
  /** What it has done. */
  counters: PlanetPpoCounters;
  /** Every PPO step, in order. */
  history: PlanetPpoRecord[];
  /** The world model's weights (the reward module fine-tuned). */
  model: { names: string[]; values: Float32Array[] };
  /** The decoder's weights. */
  decoder: Float32Array[];
  /** The PPO learner's state (decoder, reward module, value head, log σ when learned, Adam). */
  ppo: PpoState;
}

/** Progress of one lockstep agent step, given to {@link PlanetPpoCallbacks.onStep}. */
export interface PlanetPpoStepInfo {
  /** The PPO step. */
  iteration: number;
  /** The agent step within its episodes, 0-based. */
  step: number;
  /** Agent steps per episode. */
  steps: number;
  /** Each episode's return so far. */
  returns: number[];
}

/** Callbacks of {@link runPlanetPpo}; each is optional. */
export interface PlanetPpoCallbacks {
  /** A line for people. */
  log?: (line: string) => void;
  /** After each lockstep agent step of the collected episodes. */
  onStep?: (info: PlanetPpoStepInfo) => void;
  /** After each PPO step, with its record. */
  onIteration?: (record: PlanetPpoRecord) => void;
  /** After each PPO step: the phase's complete state (a returned Promise is awaited). */
  onCheckpoint?: (checkpoint: PlanetPpoCheckpoint) => void | Promise<void>;
}

/** Options of {@link runPlanetPpo} besides the settings. */
export interface PlanetPpoRunOptions {
  /** The world-model run to fine-tune (a `runPlanet` checkpoint with the latent planner and its decoder); needed unless resuming. */
  start?: PlanetCheckpoint;
  /** A folder: resumes from the latest PPO checkpoint there, and saves one after every PPO step. */
  out?: string;
  /** A PPO checkpoint to resume from (instead of one found in `out`). */
  resume?: PlanetPpoCheckpoint;
}

/** What {@link runPlanetPpo} returns. */
export interface PlanetPpoRunResult {
  /** The settings with defaults. */
  settings: ResolvedPlanetPpoSettings;
  /** Every PPO step, resumed ones included. */
  history: PlanetPpoRecord[];
  /** Where the phase stands. */
  counters: PlanetPpoCounters;
  /** The final state. */
  checkpoint: PlanetPpoCheckpoint;
  /** Wall seconds of this call. */
  seconds: number;
}

const SETTINGS_KEYS = [
  'seed',
  'iterations',
  'episodesPerStep',
  'steps',
  'gamma',
  'lambda',
  'valueHidden',
  'ppo',
] as const;

/**
 * Validates the phase's settings and fills in {@link PLANET_PPO_DEFAULTS}.
 *
 * @param settings See {@link PlanetPpoSettings}.
 * @param base The world-model run's settings (for the default `steps` and its bound).
 * @returns The settings with defaults.
 * @throws TypeError for an unknown key (with the nearest valid one) or a value of the wrong kind; RangeError for one out of range.
 */
export function resolvePlanetPpoSettings(
  settings: PlanetPpoSettings,
  base: Pick<ResolvedPlanetSettings, 'steps' | 'actionRepeat'>,
): ResolvedPlanetPpoSettings {
  assertObject('settings', settings);
  assertKnownOptions('PPO phase setting', settings, SETTINGS_KEYS);
  const d = PLANET_PPO_DEFAULTS;
  const seed = settings.seed ?? d.seed;
  assertInteger('settings.seed', seed, Number.MIN_SAFE_INTEGER);
  if (!Number.isSafeInteger(seed))
    throw new RangeError(`settings.seed must be a safe integer, received ${seed}`);
  const iterations = settings.iterations ?? d.iterations;
  assertInteger('settings.iterations', iterations, 1);
  const episodesPerStep = settings.episodesPerStep ?? d.episodesPerStep;
  assertInteger('settings.episodesPerStep', episodesPerStep, 1);
  const maxSteps = 1000 / base.actionRepeat;
  const steps = settings.steps ?? base.steps;
  assertInteger('settings.steps', steps, 1);
  if (steps > maxSteps) {
    throw new RangeError(`settings.steps must be ≤ ${maxSteps} (1000 / actionRepeat), received ${steps}`);
  }
  const unit = (name: 'gamma' | 'lambda') => {
    const v = settings[name] ?? d[name];
    assertFiniteNumber(`settings.${name}`, v);
    if (v < 0 || v > 1)
      throw new RangeError(`settings.${name} must be in [0, 1], received ${describeValue(v)}`);
    return v;
  };
  const gamma = unit('gamma');
  const lambda = unit('lambda');
  const valueHidden = settings.valueHidden ?? d.valueHidden;
  assertInteger('settings.valueHidden', valueHidden, 1);
  if (settings.ppo !== undefined) assertObject('settings.ppo', settings.ppo);
  const ppo = resolvePpoOptions({ minibatchSize: d.minibatchSize, ...(settings.ppo ?? {}) });
  return { seed, iterations, episodesPerStep, steps, gamma, lambda, valueHidden, ppo: { ...ppo } };
}

/** The value head V(h, s) = w₃ᵀ relu(W₂ relu(W₁ [h, s] + b₁) + b₂) + b₃ (Glorot-uniform weights, zero biases). */
interface ValueHead {
  variables: tf.Variable[];
  apply(state: RssmState): tf.Tensor1D;
}

function createValueHead(inputs: number, hidden: number, seed: number): ValueHead {
  const sizes = [inputs, hidden, hidden, 1];
  const variables: tf.Variable[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const fanIn = sizes[l] as number;
    const fanOut = sizes[l + 1] as number;
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    const s = deriveSeed(seed, TASK_SEED_STREAMS.ppoValueWeights, l);
    variables.push(
      tf.tidy(() => tf.variable(tf.randomUniform([fanIn, fanOut], -limit, limit, 'float32', s), true)),
    );
    variables.push(tf.tidy(() => tf.variable(tf.zeros([fanOut]), true)));
  }
  return {
    variables,
    apply(state) {
      return tf.tidy(() => {
        let x: tf.Tensor2D = tf.concat([state.h, state.s], 1);
        for (let l = 0; l < 3; l++) {
          x = dense(x, variables[2 * l] as tf.Variable, variables[2 * l + 1] as tf.Variable, {
            activation: l < 2 ? 'relu' : 'linear',
          });
        }
        return tf.reshape(x, [-1]) as tf.Tensor1D;
      });
    },
  };
}

/**
 * The world model's planning cost from n start states, one row per state,
 * every row's random draws seeded by its own seed (so a state's plan does
 * not depend on the other rows it is planned with): candidate (i, j) of
 * u [n, N, H, A] is imagined from start i and costs −Σ r̂; the c-th call
 * samples row i's imagined states with
 * `tf.randomNormal([H, 1, N, S], …, deriveSeed(seeds[i], planetLatentNoise, c))`
 * (or the prior means with `imagination: 'mean'`).
 */
function rowSeededCost(
  model: Rssm,
  start: RssmState,
  seeds: readonly number[],
  imagination: LatentMode,
): ControlCost {
  const { actionSize: A, deterministic: D, stochastic: S } = model.sizes;
  const n = seeds.length;
  let calls = 0;
  return (controls: tf.Tensor): tf.Tensor => {
    const [, N, H] = controls.shape as [number, number, number, number];
    const c = calls++;
    return tf.tidy(() => {
      const noise =
        imagination === 'sample'
          ? (tf.reshape(
              tf.concat(
                seeds.map((seed) =>
                  tf.randomNormal(
                    [H, 1, N, S],
                    0,
                    1,
                    'float32',
                    deriveSeed(seed, TASK_SEED_STREAMS.planetLatentNoise, c),
                  ),
                ),
                1,
              ),
              [H, n * N, S],
            ) as tf.Tensor3D)
          : null;
      const starts: RssmState = {
        h: tf.reshape(tf.add(tf.zeros([n, N, D]), tf.expandDims(start.h, 1)), [n * N, D]) as tf.Tensor2D,
        s: tf.reshape(tf.add(tf.zeros([n, N, S]), tf.expandDims(start.s, 1)), [n * N, S]) as tf.Tensor2D,
      };
      const returns = imagineReturns(
        model,
        starts,
        tf.reshape(controls, [n * N, H, A]) as tf.Tensor3D,
        noise,
      );
      return tf.reshape(tf.neg(returns), [n, N]);
    });
  };
}

/** The policy's pieces: the model, the decoder, the value head and the base run's planner settings. */
interface Controller {
  model: Rssm;
  decoder: ActionDecoder;
  value: ValueHead;
  base: ResolvedPlanetSettings;
}

/**
 * The latent DCEM controller's action and the value head at n states: DCEM
 * over z from each state (row i's solver noise at iteration t from
 * `deriveSeed(seeds[i], ppoPlanner, t)`, its imagined noise as in
 * {@link rowSeededCost}), μ = the first action of the decoded plan.
 * Differentiable in the decoder and the reward module (through DCEM) and in
 * the value head.
 */
function controllerForward(
  c: Controller,
  state: RssmState,
  seeds: readonly number[],
): { mean: tf.Tensor2D; value: tf.Tensor1D } {
  const n = seeds.length;
  const A = c.model.sizes.actionSize;
  const solver = c.base.plan.solver as Record<string, unknown>;
  const numSamples = solver.numSamples as number;
  const d = c.decoder.latentDim;
  const cost = rowSeededCost(c.model, state, seeds, c.base.imagination);
  const r = planLatent(c.decoder, cost, n, {
    solver: {
      ...solver,
      noise: (t: number) =>
        tf.concat(
          seeds.map((seed) =>
            tf.randomNormal(
              [1, numSamples, d],
              0,
              1,
              'float32',
              deriveSeed(seed, TASK_SEED_STREAMS.ppoPlanner, t),
            ),
          ),
          0,
        ),
    },
  });
  const mean = tf.reshape(tf.slice(r.controls, [0, 0, 0], [n, 1, A]), [n, A]) as tf.Tensor2D;
  tf.dispose([r.latent, r.cost, r.controls]);
  return { mean, value: c.value.apply(state) };
}

function now(): number {
  return performance.now() / 1000;
}

function clip(x: number): number {
  return Math.min(1, Math.max(-1, x));
}

/** The samples of one PPO step, row-major, episode after episode. */
interface Collected {
  h: Float32Array;
  s: Float32Array;
  seeds: number[];
  actions: Float32Array;
  logProbs: Float32Array;
  advantages: Float64Array;
  returns: Float64Array;
  episodeReturns: number[];
  samples: number;
  environmentSeconds: number;
  planningSeconds: number;
}

/**
 * Collects E episodes of PPO step k in lockstep: episode e = k·E + j starts
 * from `makeEnv(env, { seed: deriveSeed(seed, ppoInitialState, e) })`, is
 * filtered with posterior noise from `deriveSeed(seed, ppoFilter, e)`, and
 * at agent step t plans with row seed `deriveSeed(deriveSeed(seed, ppoPlanner, e), ppoPlanner, t)`;
 * the Gaussian draws of step t come from `deriveSeed(deriveSeed(seed, ppoAction, k), ppoAction, t)`.
 * All live episodes are filtered and planned as one batch. An episode whose
 * simulation diverges ends at its last good state (bootstrapped like a time limit).
 */
async function collect(
  c: Controller,
  learner: PpoLearner,
  s: ResolvedPlanetPpoSettings,
  k: number,
  callbacks: PlanetPpoCallbacks,
): Promise<Collected> {
  const { model, base } = c;
  const E = s.episodesPerStep;
  const T = s.steps;
  const { actionSize: A, observationSize: O, deterministic: D, stochastic: S } = model.sizes;
  let environmentSeconds = 0;
  let planningSeconds = 0;
  let t0 = now();
  const envs: MujocoEnv[] = [];
  let state: RssmState | undefined;
  try {
    for (let j = 0; j < E; j++) {
      envs.push(
        await makeEnv(base.env as TaskName, {
          seed: deriveSeed(s.seed, TASK_SEED_STREAMS.ppoInitialState, k * E + j),
          actionRepeat: base.actionRepeat,
        }),
      );
    }
    const filters = envs.map(
      (_, j) => new PlanetRandom(deriveSeed(s.seed, TASK_SEED_STREAMS.ppoFilter, k * E + j)),
    );
    const observations = new Float32Array(E * O);
    envs.forEach((env, j) => {
      observations.set(env.reset(), j * O);
    });
    environmentSeconds += now() - t0;
    const filter = (actions: Float32Array) => {
      const noise = new Float32Array(E * S);
      if (base.filter === 'sample') {
        filters.forEach((f, j) => {
          noise.set(f.normals(S), j * S);
        });
      }
      const prev = state ?? model.initialState(E);
      const next = tf.tidy(() => {
        const r = model.observeStep(
          prev,
          tf.tensor2d(actions, [E, A]),
          tf.tensor2d(observations, [E, O]),
          base.filter === 'sample' ? tf.tensor2d(noise, [E, S]) : null,
        );
        return { h: r.state.h, s: r.state.s };
      });
      tf.dispose([prev.h, prev.s]);
      state = next;
    };
    t0 = now();
    filter(new Float32Array(E * A));
    planningSeconds += now() - t0;
    const alive = new Array<boolean>(E).fill(true);
    // Per episode: its samples' rows in the lockstep arrays, rewards, values and V(s_T).
    const rows: number[][] = envs.map(() => []);
    const rewards: number[][] = envs.map(() => []);
    const values: number[][] = envs.map(() => []);
    const lastValues = new Array<number>(E).fill(0);
    const hAll: Float32Array[] = [];
    const sAll: Float32Array[] = [];
    const seedAll: number[] = [];
    const actAll: Float32Array[] = [];
    const lpAll: number[] = [];
    const totals = new Array<number>(E).fill(0);
    for (let t = 0; t <= T; t++) {
      const live = alive.flatMap((a, j) => (a ? [j] : []));
      if (live.length === 0) break;
      t0 = now();
      const current = state as RssmState;
      const idx = tf.tensor1d(live, 'int32');
      const at: RssmState = tf.tidy(() => ({
        h: tf.gather(current.h, idx) as tf.Tensor2D,
        s: tf.gather(current.s, idx) as tf.Tensor2D,
      }));
      idx.dispose();
      try {
        if (t === T) {
          const v = c.value.apply(at);
          const data = v.dataSync();
          v.dispose();
          live.forEach((j, i) => {
            lastValues[j] = data[i] as number;
          });
          planningSeconds += now() - t0;
          break;
        }
        const seeds = live.map((j) =>
          deriveSeed(
            deriveSeed(s.seed, TASK_SEED_STREAMS.ppoPlanner, k * E + j),
            TASK_SEED_STREAMS.ppoPlanner,
            t,
          ),
        );
        const { mean, value } = tf.tidy(() => controllerForward(c, at, seeds));
        let drawn: ReturnType<PpoLearner['sample']>;
        let v: Float32Array;
        try {
          drawn = learner.sample(
            mean,
            deriveSeed(deriveSeed(s.seed, TASK_SEED_STREAMS.ppoAction, k), TASK_SEED_STREAMS.ppoAction, t),
          );
          v = Float32Array.from(value.dataSync());
        } finally {
          tf.dispose([mean, value]);
        }
        const hData = at.h.dataSync();
        const sData = at.s.dataSync();
        planningSeconds += now() - t0;
        t0 = now();
        const applied = new Float32Array(E * A);
        live.forEach((j, i) => {
          const action = drawn.actions.subarray(i * A, i * A + A);
          const env = envs[j] as MujocoEnv;
          const result = env.step(Float32Array.from(action, clip));
          if (
            result.diverged ||
            !Number.isFinite(result.reward) ||
            !result.observation.every(Number.isFinite)
          ) {
            // The episode ends at its last good state, bootstrapped with its value.
            alive[j] = false;
            lastValues[j] = v[i] as number;
            callbacks.log?.(
              `PPO step ${k}, episode ${j}: the simulation diverged at step ${t}; the episode ends there`,
            );
            return;
          }
          observations.set(result.observation, j * O);
          applied.set(action, j * A);
          (rows[j] as number[]).push(seedAll.length);
          (rewards[j] as number[]).push(result.reward);
          (values[j] as number[]).push(v[i] as number);
          totals[j] = (totals[j] as number) + result.reward;
          hAll.push(hData.slice(i * D, i * D + D) as Float32Array);
          sAll.push(sData.slice(i * S, i * S + S) as Float32Array);
          seedAll.push(seeds[i] as number);
          actAll.push(Float32Array.from(action));
          lpAll.push(drawn.logProbs[i] as number);
        });
        environmentSeconds += now() - t0;
        t0 = now();
        filter(applied);
        planningSeconds += now() - t0;
        callbacks.onStep?.({ iteration: k, step: t, steps: T, returns: [...totals] });
      } finally {
        tf.dispose([at.h, at.s]);
      }
    }
    // GAE per episode (a time limit ends every episode: V(s_T) bootstraps), then the samples in episode order.
    const N = seedAll.length;
    const order: number[] = [];
    const advantages = new Float64Array(N);
    const returns = new Float64Array(N);
    let at = 0;
    rows.forEach((r, j) => {
      const g = computeGae(
        {
          rewards: rewards[j] as number[],
          values: values[j] as number[],
          terminated: false,
          lastValue: lastValues[j],
        },
        { gamma: s.gamma, lambda: s.lambda },
      );
      r.forEach((row, t) => {
        order.push(row);
        advantages[at] = g.advantages[t] as number;
        returns[at] = g.returns[t] as number;
        at++;
      });
    });
    const h = new Float32Array(N * D);
    const sArr = new Float32Array(N * S);
    const actions = new Float32Array(N * A);
    const logProbs = new Float32Array(N);
    const seeds: number[] = [];
    order.forEach((row, i) => {
      h.set(hAll[row] as Float32Array, i * D);
      sArr.set(sAll[row] as Float32Array, i * S);
      actions.set(actAll[row] as Float32Array, i * A);
      logProbs[i] = lpAll[row] as number;
      seeds.push(seedAll[row] as number);
    });
    return {
      h,
      s: sArr,
      seeds,
      actions,
      logProbs,
      advantages,
      returns,
      episodeReturns: totals,
      samples: N,
      environmentSeconds,
      planningSeconds,
    };
  } finally {
    for (const env of envs) env.dispose();
    if (state !== undefined) tf.dispose([state.h, state.s]);
  }
}

/** Settings that may differ between a PPO checkpoint and the run resuming it. */
const RESUMABLE_CHANGES = new Set(['iterations']);

/**
 * PPO fine-tuning of the latent DCEM controller (the DCEM paper's §5.2.2,
 * step 3), starting from a world-model run with the latent planner
 * (`runPlanet` with `planner: 'latent'`, its checkpoint as `options.start`):
 *
 * - the policy is N(μ, σ²) around the controller's action μ(h, s): DCEM
 *   over z ∈ [−1, 1]^d through the decoder and the model's imagined
 *   return from the filtered RSSM state, the first action of the decoded
 *   plan (the base run's planner settings: N, k, iterations, τ, H); σ is
 *   fixed or learned (`ppo.std`, `ppo.learnStd`); actions are clipped to
 *   [−1, 1] in the environment, and log π is that of the unclipped draw;
 * - the value head V(h, s) is an MLP on the RSSM state;
 * - each PPO step collects `episodesPerStep` episodes on the true
 *   environment (in parallel: their filtering and planning run as one
 *   batch, every row with its own seeds), computes GAE per episode
 *   (episodes end at the time limit, so V(s_T) bootstraps), then takes one
 *   PPO update (`createPpoLearner`: `passes` passes of minibatches, each
 *   re-planning its samples under the gradient tape with the seeds they
 *   acted with);
 * - PPO trains the decoder, the model's reward module (`reward.*`) and the
 *   value head (and log σ); the rest of the model is fixed and nothing is
 *   fitted to the data (no likelihood).
 *
 * The MuJoCo rollout pool of `@dcem/mujoco` runs open-loop action
 * sequences; closed-loop episodes plan between steps on this thread, so
 * their parallelism here is the batch. Every draw is keyed by (stream,
 * index) of `TASK_SEED_STREAMS.ppo*`, and a checkpoint is taken after every
 * PPO step, so a resumed run continues bit for bit. Tensors are released on
 * return and on errors. Prints nothing.
 *
 * @param settings See {@link PlanetPpoSettings}.
 * @param callbacks Progress, PPO steps and checkpoints.
 * @param options The world-model checkpoint to start from, and/or a folder or checkpoint to resume.
 * @returns The history, the counters and the final checkpoint.
 * @throws TypeError / RangeError for bad settings or a start that is not a latent-planner run;
 *   Error when the checkpoint to resume was made with other settings (only `iterations` may change).
 * @example
 * ```ts
 * import { loadPlanetCheckpoint, runPlanetPpo } from '@dcem/tasks/planet';
 * const start = loadPlanetCheckpoint('out/planet-latent'); // a runPlanet run with planner 'latent'
 * const { history } = await runPlanetPpo({ iterations: 20, ppo: { passes: 2 } }, {}, { start, out: 'out/ppo' });
 * ```
 */
export async function runPlanetPpo(
  settings: PlanetPpoSettings,
  callbacks: PlanetPpoCallbacks = {},
  options: PlanetPpoRunOptions = {},
): Promise<PlanetPpoRunResult> {
  const begin = now();
  assertObject('callbacks', callbacks);
  assertOptionalFunctions(callbacks, ['log', 'onStep', 'onIteration', 'onCheckpoint'], 'callbacks.');
  assertOptions('runPlanetPpo options', options, ['start', 'out', 'resume']);
  if (options.out !== undefined && typeof options.out !== 'string') {
    throw new TypeError(`options.out must be a folder path, received ${describeValue(options.out)}`);
  }
  const resume =
    options.resume ?? (options.out !== undefined ? loadPlanetPpoCheckpoint(options.out) : undefined);
  let base: ResolvedPlanetSettings;
  if (resume !== undefined) {
    assertObject('options.resume', resume);
    base = resume.base;
  } else {
    if (options.start === undefined) {
      throw new TypeError(
        'options.start must be a runPlanet checkpoint (with the latent planner) when there is no PPO checkpoint to resume',
      );
    }
    assertObject('options.start', options.start);
    base = options.start.settings;
    if (base.plan.planner !== 'latent' || base.latent === undefined || options.start.decoder === undefined) {
      throw new RangeError(
        `options.start must be a run with the latent planner and its decoder (planner 'latent'), received planner ${describeValue(base.plan.planner)}`,
      );
    }
  }
  const s = resolvePlanetPpoSettings(settings, base);
  if (resume !== undefined) {
    const differ = (Object.keys(s) as (keyof ResolvedPlanetPpoSettings)[]).filter(
      (key) => !RESUMABLE_CHANGES.has(key) && JSON.stringify(s[key]) !== JSON.stringify(resume.settings[key]),
    );
    if (differ.length > 0) {
      throw new Error(
        `the PPO checkpoint to resume was made with other settings (${differ.join(', ')}); only iterations may change when resuming`,
      );
    }
  }
  const log = callbacks.log ?? (() => {});
  const latent = base.latent as NonNullable<ResolvedPlanetSettings['latent']>;
  const probe = await makeEnv(base.env as TaskName, { actionRepeat: base.actionRepeat });
  const O = probe.observationSize;
  const A = probe.actionDim;
  probe.dispose();
  const model = createRssm({ observationSize: O, actionSize: A, ...base.model }, base.seed);
  let decoder: ActionDecoder | undefined;
  let value: ValueHead | undefined;
  let learner: PpoLearner | undefined;
  try {
    decoder = createPlanetDecoder(model, base.plan.horizon, latent, 0);
    value = createValueHead(model.sizes.deterministic + model.sizes.stochastic, s.valueHidden, s.seed);
    const rewardVariables = model.variables.filter((_, i) =>
      (model.variableNames[i] as string).startsWith('reward.'),
    );
    const controller: Controller = { model, decoder, value, base };
    let batch: Collected | undefined;
    learner = createPpoLearner({
      ...s.ppo,
      variables: [...decoder.variables, ...rewardVariables, ...value.variables],
      actionSize: A,
      forward: (indices) => {
        const b = batch as Collected;
        const D = model.sizes.deterministic;
        const S = model.sizes.stochastic;
        const h = new Float32Array(indices.length * D);
        const st = new Float32Array(indices.length * S);
        const seeds: number[] = [];
        indices.forEach((row, i) => {
          h.set(b.h.subarray(row * D, row * D + D), i * D);
          st.set(b.s.subarray(row * S, row * S + S), i * S);
          seeds.push(b.seeds[row] as number);
        });
        return controllerForward(
          controller,
          { h: tf.tensor2d(h, [indices.length, D]), s: tf.tensor2d(st, [indices.length, S]) },
          seeds,
        );
      },
    });
    let counters: PlanetPpoCounters = { iterations: 0, episodes: 0, environmentSteps: 0 };
    let history: PlanetPpoRecord[] = [];
    const source = resume ?? undefined;
    if (source !== undefined) {
      checkNames(source.model.names, model.variableNames);
      model.setWeights(source.model.values);
      decoder.setWeights(source.decoder);
      learner.setState(source.ppo);
      counters = { ...source.counters };
      history = source.history.map((r) => ({ ...r, returns: [...r.returns] }));
      log(`resuming PPO after ${counters.iterations} steps (${counters.episodes} episodes)`);
    } else {
      const start = options.start as PlanetCheckpoint;
      checkNames(start.weights.names, model.variableNames);
      model.setWeights(start.weights.values);
      decoder.setWeights((start.decoder as NonNullable<PlanetCheckpoint['decoder']>).weights);
    }
    log(
      `${base.env}: PPO on the latent DCEM controller (d = ${latent.dim}, N = ${base.plan.samples}, ` +
        `k = ${base.plan.elites}, ${base.plan.iterations} iterations, H = ${base.plan.horizon}), ` +
        `${s.episodesPerStep} episodes of ${s.steps} steps per PPO step, ${s.ppo.passes} passes`,
    );
    const snapshot = (): PlanetPpoCheckpoint => ({
      version: PLANET_PPO_CHECKPOINT_VERSION,
      settings: s,
      base,
      counters: { ...counters },
      history: history.map((r) => ({ ...r, returns: [...r.returns] })),
      model: { names: [...model.variableNames], values: model.getWeights() },
      decoder: (decoder as ActionDecoder).getWeights(),
      ppo: (learner as PpoLearner).getState(),
    });
    let last: PlanetPpoCheckpoint | undefined;
    while (counters.iterations < s.iterations) {
      const k = counters.iterations;
      batch = await collect(controller, learner, s, k, callbacks);
      const t0 = now();
      const update = learner.update(
        {
          actions: batch.actions,
          logProbs: batch.logProbs,
          advantages: batch.advantages,
          returns: batch.returns,
        },
        deriveSeed(s.seed, TASK_SEED_STREAMS.ppoMinibatch, k),
      );
      const updateSeconds = now() - t0;
      const meanReturn = batch.episodeReturns.reduce((a, b) => a + b, 0) / batch.episodeReturns.length;
      counters = {
        iterations: k + 1,
        episodes: counters.episodes + s.episodesPerStep,
        environmentSteps: counters.environmentSteps + batch.samples * base.actionRepeat,
      };
      const record: PlanetPpoRecord = {
        iteration: k,
        returns: batch.episodeReturns,
        meanReturn,
        samples: batch.samples,
        environmentSteps: counters.environmentSteps,
        update,
        environmentSeconds: batch.environmentSeconds,
        planningSeconds: batch.planningSeconds,
        updateSeconds,
      };
      batch = undefined;
      history.push(record);
      callbacks.onIteration?.(record);
      log(
        `PPO step ${k}: mean return ${meanReturn.toFixed(1)} over ${s.episodesPerStep} episodes; ` +
          `policy loss ${update.policy.toFixed(4)}, value loss ${update.value.toFixed(3)}, ` +
          `KL ${update.approxKl.toFixed(4)}, clipped ${(100 * update.clipFraction).toFixed(1)} %`,
      );
      last = snapshot();
      if (options.out !== undefined) savePlanetPpoCheckpoint(options.out, last);
      await callbacks.onCheckpoint?.(last);
    }
    last ??= snapshot();
    return { settings: s, history, counters: { ...counters }, checkpoint: last, seconds: now() - begin };
  } finally {
    learner?.dispose();
    if (value !== undefined) tf.dispose(value.variables);
    decoder?.dispose();
    model.dispose();
  }
}

function checkNames(names: readonly string[], want: readonly string[]): void {
  if (names.length !== want.length || names.some((n, i) => n !== want[i])) {
    throw new Error('the checkpoint holds the weights of another model (variable names differ)');
  }
}

interface PpoManifest {
  version: number;
  settings: ResolvedPlanetPpoSettings;
  base: ResolvedPlanetSettings;
  counters: PlanetPpoCounters;
  history: PlanetPpoRecord[];
  names: string[];
  /** Lengths of the arrays in `arrays.bin`, group by group: model, decoder, PPO weights, Adam m, Adam v. */
  groups: { model: number[]; decoder: number[]; ppo: number[] };
  adamStep: number;
  ppoUpdates: number;
}

function checkEndianness(): void {
  if (endianness() !== 'LE') {
    throw new Error('PPO checkpoints are little-endian float32 files; this machine is big-endian');
  }
}

/**
 * Writes a PPO checkpoint into `dir` atomically (a temporary folder renamed
 * to `ppo-checkpoint-<steps>`, then `latest-ppo-checkpoint.json` replaced;
 * older PPO checkpoint folders are removed): `checkpoint.json` and the
 * little-endian float32 file `arrays.bin` (model, decoder, PPO weights,
 * Adam's m and v, in that order).
 *
 * @param dir The phase's folder.
 * @param checkpoint What `runPlanetPpo` handed to `onCheckpoint`.
 * @returns The checkpoint folder's path.
 */
export function savePlanetPpoCheckpoint(dir: string, checkpoint: PlanetPpoCheckpoint): string {
  assertObject('checkpoint', checkpoint);
  checkEndianness();
  mkdirSync(dir, { recursive: true });
  const name = `ppo-checkpoint-${String(checkpoint.counters.iterations).padStart(6, '0')}`;
  const tmp = join(dir, `${name}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  const arrays = [
    ...checkpoint.model.values,
    ...checkpoint.decoder,
    ...checkpoint.ppo.weights,
    ...checkpoint.ppo.adam.m,
    ...checkpoint.ppo.adam.v,
  ];
  const all = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    all.set(a, at);
    at += a.length;
  }
  const manifest: PpoManifest = {
    version: checkpoint.version,
    settings: checkpoint.settings,
    base: checkpoint.base,
    counters: checkpoint.counters,
    history: checkpoint.history,
    names: checkpoint.model.names,
    groups: {
      model: checkpoint.model.values.map((w) => w.length),
      decoder: checkpoint.decoder.map((w) => w.length),
      ppo: checkpoint.ppo.weights.map((w) => w.length),
    },
    adamStep: checkpoint.ppo.adam.step,
    ppoUpdates: checkpoint.ppo.updates,
  };
  writeFileSync(join(tmp, 'arrays.bin'), new Uint8Array(all.buffer, all.byteOffset, all.byteLength));
  writeFileSync(
    join(tmp, 'checkpoint.json'),
    `${JSON.stringify(manifest, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v))}\n`,
  );
  const final = join(dir, name);
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  const latest = join(dir, PLANET_PPO_LATEST_FILE);
  writeFileSync(`${latest}.tmp-${process.pid}`, `${JSON.stringify({ folder: name })}\n`);
  renameSync(`${latest}.tmp-${process.pid}`, latest);
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith('ppo-checkpoint-') && entry !== name && !entry.includes('.tmp-')) {
      rmSync(join(dir, entry), { recursive: true, force: true });
    }
  }
  return final;
}

/** Numbers written as strings by the saver (NaN, ±Infinity) back to numbers, at any depth. */
function revive(value: unknown): unknown {
  if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') return Number(value);
  if (Array.isArray(value)) return value.map(revive);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v)]));
  }
  return value;
}

/**
 * Reads the latest PPO checkpoint of a folder ({@link savePlanetPpoCheckpoint}).
 *
 * @param dir The phase's folder.
 * @returns The checkpoint, or `undefined` when the folder holds none.
 */
export function loadPlanetPpoCheckpoint(dir: string): PlanetPpoCheckpoint | undefined {
  const latest = join(dir, PLANET_PPO_LATEST_FILE);
  if (!existsSync(latest)) return undefined;
  checkEndianness();
  const pointer = JSON.parse(readFileSync(latest, 'utf8')) as { folder?: unknown };
  if (typeof pointer.folder !== 'string' || !pointer.folder.startsWith('ppo-checkpoint-')) {
    throw new Error(`${latest} does not name a PPO checkpoint folder: ${describeValue(pointer.folder)}`);
  }
  const folder = join(dir, pointer.folder);
  const m = JSON.parse(readFileSync(join(folder, 'checkpoint.json'), 'utf8')) as PpoManifest;
  if (m.version !== PLANET_PPO_CHECKPOINT_VERSION) {
    throw new RangeError(
      `${folder} is a version ${describeValue(m.version)} PPO checkpoint; this package reads version ${PLANET_PPO_CHECKPOINT_VERSION}`,
    );
  }
  const bytes = readFileSync(join(folder, 'arrays.bin'));
  const all = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(all.buffer).set(bytes);
  let at = 0;
  const take = (lengths: readonly number[]) =>
    lengths.map((l) => {
      const a = all.slice(at, at + l);
      at += l;
      return a;
    });
  const model = take(m.groups.model);
  const decoder = take(m.groups.decoder);
  const weights = take(m.groups.ppo);
  const adamM = take(m.groups.ppo);
  const adamV = take(m.groups.ppo);
  if (at !== all.length) {
    throw new RangeError(`${folder}/arrays.bin holds ${all.length} float32 values, the manifest says ${at}`);
  }
  return {
    version: m.version,
    settings: m.settings,
    base: m.base,
    counters: m.counters,
    history: revive(m.history) as PlanetPpoRecord[],
    model: { names: m.names, values: model },
    decoder,
    ppo: { weights, adam: { step: m.adamStep, m: adamM, v: adamV }, updates: m.ppoUpdates },
  };
}
