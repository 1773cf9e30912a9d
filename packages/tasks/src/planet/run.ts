/// <reference types="node" />
/**
 * The online loop of PlaNet (the DCEM paper's Alg. 3): seed episodes with
 * random actions, then model updates interleaved with episodes planned in
 * the model.
 *
 * @module
 */
import { assertObject, assertOptionalFunctions, assertOptions, describeValue } from '@dcem/errors';
import type { MujocoEnv, TaskName } from '@dcem/mujoco';
import { deriveSeed } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import type { ActionDecoder } from '../control/latent-decoder.js';
import { makeEnv } from '../mujoco/mujoco-peer.js';
import { TASK_SEED_STREAMS } from '../seed-streams.js';
import { type Adam, createAdam } from './adam.js';
import {
  loadPlanetCheckpoint,
  PLANET_CHECKPOINT_VERSION,
  type PlanetCheckpoint,
  type PlanetCounters,
  type PlanetEpisodeRecord,
  savePlanetCheckpoint,
} from './checkpoint.js';
import { createPlanetDecoder, planetDecoderStep, replayPosteriorStates } from './latent.js';
import { createPlanetAgent, type PlanetAgent } from './plan-in-model.js';
import { PlanetRandom } from './random.js';
import { ReplayBuffer, sequenceBatchTensors } from './replay.js';
import { createRssm, type Rssm } from './rssm.js';
import { type PlanetSettings, type ResolvedPlanetSettings, resolvePlanetSettings } from './settings.js';
import { trainStep } from './train-step.js';

/** Progress of the model updates before an episode, given to {@link PlanetCallbacks.onUpdate}. */
export interface PlanetUpdateInfo {
  /** The index of the collected episode these updates precede. */
  episode: number;
  /** The update's index in the run (0-based). */
  update: number;
  /** Updates done in this block, this one included (1 … `of`). */
  done: number;
  /** Updates in this block (C). */
  of: number;
  /** Its ELBO loss (before the step). */
  loss: number;
  /** Its mean KL before the free-nats clip. */
  kl: number;
  /** With the latent planner's online training: the decoder step's planned cost (−Σ r̂, before its step). */
  decoderCost?: number;
  /** With the latent planner's online training: the decoder gradient's norm before clipping. */
  decoderGradientNorm?: number;
}

/** Progress of one agent step, given to {@link PlanetCallbacks.onStep}. */
export interface PlanetStepInfo {
  /** The episode's kind. */
  kind: PlanetEpisodeRecord['kind'];
  /** The episode's index (among collected or among evaluation episodes). */
  index: number;
  /** Agent step within the episode, 0-based; −1 once right after the reset (reward 0). */
  step: number;
  /** Agent steps per episode. */
  steps: number;
  /** This step's reward. */
  reward: number;
  /** Return so far in this episode. */
  return: number;
  /** The environment after the step (for rendering; do not step or dispose it). */
  env: MujocoEnv;
}

/** Callbacks of {@link runPlanet}; each is optional. */
export interface PlanetCallbacks {
  /** A line for people. */
  log?: (line: string) => void;
  /** After each model update. */
  onUpdate?: (info: PlanetUpdateInfo) => void;
  /** After each agent step (and once per episode after the reset, step −1). */
  onStep?: (info: PlanetStepInfo) => void;
  /** After each episode (seed, training or evaluation), with its record. */
  onEpisode?: (record: PlanetEpisodeRecord) => void;
  /**
   * After each collected episode (and its evaluation episode, if one is due):
   * the run's complete state. A returned Promise is awaited before the run
   * goes on (for example to write files with asynchronous steps, which the
   * run's synchronous work would otherwise starve); a rejection ends the run.
   */
  onCheckpoint?: (checkpoint: PlanetCheckpoint) => void | Promise<void>;
}

/** Options of {@link runPlanet} besides the settings. */
export interface PlanetRunOptions {
  /**
   * A folder: the run resumes from the latest checkpoint found there (when
   * there is one), and saves a checkpoint there after every collected
   * episode (`savePlanetCheckpoint`).
   */
  out?: string;
  /** A checkpoint to resume from (instead of one found in `out`). */
  resume?: PlanetCheckpoint;
}

/** What {@link runPlanet} returns. */
export interface PlanetRunResult {
  /** The settings with defaults. */
  settings: ResolvedPlanetSettings;
  /** Every episode of the run, resumed ones included, in order. */
  history: PlanetEpisodeRecord[];
  /** Where the run stands. */
  counters: PlanetCounters;
  /** The final state (as saved in the last checkpoint). */
  checkpoint: PlanetCheckpoint;
  /** Wall seconds of this call. */
  seconds: number;
}

/**
 * Settings that may differ between a checkpoint and the run resuming it:
 * `episodes` and `evaluateEvery` do not change what is learned; the planner
 * (`plan`, `latent`) may change between phases (e.g. phase 1 with `cem`,
 * then phase 2 with `latent`).
 */
const RESUMABLE_CHANGES = new Set(['episodes', 'evaluateEvery', 'plan', 'latent']);

function sameSettings(a: ResolvedPlanetSettings, b: ResolvedPlanetSettings): string[] {
  const differ: string[] = [];
  for (const key of Object.keys(a) as (keyof ResolvedPlanetSettings)[]) {
    if (RESUMABLE_CHANGES.has(key)) continue;
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) differ.push(key);
  }
  return differ;
}

interface EpisodeOutcome {
  rows: { observations: number[]; actions: number[]; rewards: number[] };
  record: PlanetEpisodeRecord;
}

interface Machine {
  settings: ResolvedPlanetSettings;
  model: Rssm;
  adam: Adam;
  replay: ReplayBuffer;
  counters: PlanetCounters;
  history: PlanetEpisodeRecord[];
  /** The latent planner's decoder and its Adam (with `planner: 'latent'`). */
  decoder?: { decoder: ActionDecoder; adam: Adam };
  /** A decoder of the resumed checkpoint that this run's planner does not use: saved again unchanged. */
  keptDecoder?: PlanetCheckpoint['decoder'];
}

function now(): number {
  return performance.now() / 1000;
}

/**
 * Runs one episode: `choose(step)` returns the action to apply (the agent's
 * or random), the environment steps it; the agent (when there is one)
 * filters every row. Ends early (without the bad row) when the simulation
 * diverges.
 */
async function runEpisode(
  machine: Machine,
  kind: PlanetEpisodeRecord['kind'],
  index: number,
  envSeed: number,
  agent: PlanetAgent | undefined,
  choose: (planned: Float32Array | undefined) => Float32Array,
  callbacks: PlanetCallbacks,
  updateSeconds: number,
  loss: number,
): Promise<EpisodeOutcome> {
  const s = machine.settings;
  let envSeconds = 0;
  let planSeconds = 0;
  let t0 = now();
  const env = await makeEnv(s.env as TaskName, { seed: envSeed, actionRepeat: s.actionRepeat });
  try {
    const A = env.actionDim;
    const first = env.reset();
    envSeconds += now() - t0;
    const observations: number[] = Array.from(first);
    const actions: number[] = new Array(A).fill(0);
    const rewards: number[] = [0];
    const applied: number[][] = [];
    if (agent !== undefined) {
      t0 = now();
      agent.observe(new Float32Array(A), first);
      planSeconds += now() - t0;
    }
    callbacks.onStep?.({ kind, index, step: -1, steps: s.steps, reward: 0, return: 0, env });
    let total = 0;
    let steps = 0;
    for (let t = 0; t < s.steps; t++) {
      t0 = now();
      const planned = agent?.act();
      planSeconds += now() - t0;
      const action = choose(planned);
      t0 = now();
      const result = env.step(action);
      envSeconds += now() - t0;
      if (result.diverged || !Number.isFinite(result.reward) || !result.observation.every(Number.isFinite)) {
        callbacks.log?.(
          `${kind} episode ${index}: the simulation diverged at step ${t}; the episode ends there`,
        );
        break;
      }
      observations.push(...result.observation);
      actions.push(...action);
      rewards.push(result.reward);
      applied.push(Array.from(action));
      total += result.reward;
      steps++;
      if (agent !== undefined && t + 1 < s.steps) {
        t0 = now();
        agent.observe(action, result.observation);
        planSeconds += now() - t0;
      }
      callbacks.onStep?.({ kind, index, step: t, steps: s.steps, reward: result.reward, return: total, env });
    }
    const environmentSteps =
      machine.counters.environmentSteps + (kind === 'eval' ? 0 : steps * s.actionRepeat);
    const record: PlanetEpisodeRecord = {
      kind,
      index,
      return: total,
      steps,
      environmentSteps,
      updates: machine.counters.updates,
      envSeed,
      ...(kind === 'eval' ? { actions: applied } : {}),
      environmentSeconds: envSeconds,
      planningSeconds: planSeconds,
      updateSeconds,
      loss,
    };
    return { rows: { observations, actions, rewards }, record };
  } finally {
    env.dispose();
  }
}

/** C updates: update u trains on `replay.sample(B, L, deriveSeed(seed, planetBatch, u))` with ELBO noise seed `deriveSeed(seed, planetLatentNoise, u)`. */
function runUpdates(
  machine: Machine,
  callbacks: PlanetCallbacks,
): { seconds: number; loss: number; decoderCost: number } {
  const s = machine.settings;
  const t0 = now();
  let lossSum = 0;
  let decoderSum = 0;
  const C = s.updatesPerEpisode;
  for (let i = 0; i < C; i++) {
    const u = machine.counters.updates;
    const data = machine.replay.sample(
      s.batchSize,
      s.sequenceLength,
      deriveSeed(s.seed, TASK_SEED_STREAMS.planetBatch, u),
    );
    const batch = sequenceBatchTensors(data);
    let result: ReturnType<typeof trainStep>;
    try {
      result = trainStep(
        machine.model,
        machine.adam,
        batch,
        deriveSeed(s.seed, TASK_SEED_STREAMS.planetLatentNoise, u),
        {
          freeNats: s.freeNats,
          clipNorm: s.clipNorm,
        },
      );
    } finally {
      batch.observations.dispose();
      batch.actions.dispose();
      batch.rewards.dispose();
    }
    const step = decoderStep(machine, u);
    machine.counters.updates = u + 1;
    lossSum += result.loss;
    if (step !== undefined) decoderSum += step.cost;
    callbacks.onUpdate?.({
      episode: machine.counters.episodes,
      update: u,
      done: i + 1,
      of: C,
      loss: result.loss,
      kl: result.kl,
      ...(step === undefined ? {} : { decoderCost: step.cost, decoderGradientNorm: step.gradientNorm }),
    });
  }
  const trained = machine.decoder !== undefined && machine.settings.latent?.train === true;
  return {
    seconds: now() - t0,
    loss: C === 0 ? Number.NaN : lossSum / C,
    decoderCost: C === 0 || !trained ? Number.NaN : decoderSum / C,
  };
}

/**
 * The online decoder step after model update u (phase 2 of the DCEM paper's
 * Alg. 3), with base seed b = `deriveSeed(seed, planetDecoderStep, u)`:
 * `latent.batchSize` replay posterior states (`replayPosteriorStates` over
 * L rows, base b), then `planetDecoderStep` (base b). Nothing without a
 * trained decoder.
 */
function decoderStep(machine: Machine, u: number): { cost: number; gradientNorm: number } | undefined {
  const s = machine.settings;
  const latent = s.latent;
  if (machine.decoder === undefined || latent === undefined || !latent.train) return undefined;
  const base = deriveSeed(s.seed, TASK_SEED_STREAMS.planetDecoderStep, u);
  const start = replayPosteriorStates(
    machine.model,
    machine.replay,
    latent.batchSize,
    s.sequenceLength,
    base,
    s.filter,
  );
  try {
    return planetDecoderStep(machine.model, machine.decoder.decoder, machine.decoder.adam, start, {
      plan: s.plan,
      seed: base,
      imagination: s.imagination,
      clipNorm: latent.clipNorm,
    });
  } finally {
    tf.dispose([start.h, start.s]);
  }
}

function clip(x: number): number {
  return Math.min(1, Math.max(-1, x));
}

function snapshot(machine: Machine): PlanetCheckpoint {
  return {
    version: PLANET_CHECKPOINT_VERSION,
    settings: machine.settings,
    counters: { ...machine.counters },
    history: machine.history.map((r) => ({ ...r })),
    weights: { names: [...machine.model.variableNames], values: machine.model.getWeights() },
    adam: machine.adam.getState(),
    replay: machine.replay.getState(),
    ...(machine.decoder !== undefined
      ? {
          decoder: {
            weights: machine.decoder.decoder.getWeights(),
            adam: machine.decoder.adam.getState(),
          },
        }
      : machine.keptDecoder !== undefined
        ? { decoder: machine.keptDecoder }
        : {}),
  };
}

/**
 * PlaNet's online loop on a MuJoCo task (Hafner et al. 2019, Alg. 1; the
 * DCEM paper's Alg. 3 with CEM as the planner):
 *
 * 1. `seedEpisodes` episodes with uniform random actions in [−1, 1]^A
 *    (episode e's from `deriveSeed(seed, planetSeedActions, e)`) fill the
 *    replay buffer;
 * 2. then, until `episodes` episodes are collected: C = `updatesPerEpisode`
 *    model updates (`trainStep` on B × L sequences of the buffer: update u
 *    samples with `deriveSeed(seed, planetBatch, u)` and draws the ELBO's
 *    noise with `deriveSeed(seed, planetLatentNoise, u)`), then one episode
 *    acting with the planner in the model (`createPlanetAgent`, seeds
 *    `deriveSeed(seed, planetPlanner | planetFilter, e)`) plus Gaussian
 *    exploration noise of σ = `explorationNoise` (from
 *    `deriveSeed(seed, planetExploration, e)`), clipped to [−1, 1]; the
 *    episode's rows join the buffer;
 *    with the latent planner (`planner: 'latent'`) and `latent.train`, each
 *    model update u is followed by one decoder step (phase 2 of the DCEM
 *    paper's Alg. 3: `replayPosteriorStates` and `planetDecoderStep`, base
 *    seed `deriveSeed(seed, planetDecoderStep, u)`); the decoder starts from
 *    `deriveSeed(seed, planetDecoderWeights, 0)`;
 * 3. every `evaluateEvery` collected episodes (after the seed episodes), an
 *    evaluation episode with the planner and no noise (index k's seeds
 *    derive from `deriveSeed(seed, planetEvaluation, k)`); its data are not
 *    stored.
 *
 * Episode e of the environment starts from `makeEnv(env, { seed:
 * deriveSeed(seed, planetInitialState, e), actionRepeat })`. The streams
 * are those of `TASK_SEED_STREAMS`; every draw is keyed by (stream, index),
 * so a run resumed from a checkpoint (taken after every collected episode)
 * continues bit for bit as if it had never stopped. The weights start from
 * `createRssm(…, seed)`.
 *
 * A simulation that diverges ends its episode at the last good row. Tensors
 * are released on return and on errors. Prints nothing.
 *
 * @param settings See `PlanetSettings` (PlaNet's defaults).
 * @param callbacks Progress, episodes and checkpoints.
 * @param options A folder to resume from and save to, or a checkpoint to resume from.
 * @returns The history, the counters and the final checkpoint.
 * @throws TypeError / RangeError for bad settings; Error when the checkpoint to
 *   resume from was made with other settings (only `episodes`,
 *   `evaluateEvery` and the planner, `plan` and `latent`, may change: a
 *   phase switch, e.g. `cem` then `latent`, which starts a fresh decoder;
 *   a decoder the new planner does not use is kept in later checkpoints).
 * @example
 * ```ts
 * import { runPlanet } from '@dcem/tasks/planet';
 * const { history } = await runPlanet({
 *   env: 'cartpole-swingup', episodes: 2, seedEpisodes: 1, steps: 10, updatesPerEpisode: 2,
 *   batchSize: 2, sequenceLength: 5, horizon: 3, samples: 16, elites: 4, iterations: 2,
 *   model: { deterministic: 8, stochastic: 4, hidden: 8 },
 * });
 * console.log(history.map((r) => r.return));
 * ```
 */
export async function runPlanet(
  settings: PlanetSettings,
  callbacks: PlanetCallbacks = {},
  options: PlanetRunOptions = {},
): Promise<PlanetRunResult> {
  const begin = now();
  const resolved = resolvePlanetSettings(settings);
  assertObject('callbacks', callbacks);
  assertOptionalFunctions(
    callbacks,
    ['log', 'onUpdate', 'onStep', 'onEpisode', 'onCheckpoint'],
    'callbacks.',
  );
  assertOptions('runPlanet options', options, ['out', 'resume']);
  if (options.out !== undefined && typeof options.out !== 'string') {
    throw new TypeError(`options.out must be a folder path, received ${describeValue(options.out)}`);
  }
  const resume =
    options.resume ?? (options.out !== undefined ? loadPlanetCheckpoint(options.out) : undefined);
  if (resume !== undefined) {
    assertObject('options.resume', resume);
    const differ = sameSettings(resolved, resume.settings);
    if (differ.length > 0) {
      throw new Error(
        `the checkpoint to resume was made with other settings (${differ.join(', ')}); ` +
          'only episodes, evaluateEvery and the planner may change when resuming (use another out folder for a new run)',
      );
    }
  }
  const s = resolved;
  const log = callbacks.log ?? (() => {});
  const probe = await makeEnv(s.env, { actionRepeat: s.actionRepeat });
  const O = probe.observationSize;
  const A = probe.actionDim;
  probe.dispose();
  const model = createRssm({ observationSize: O, actionSize: A, ...s.model }, s.seed);
  let adam: Adam | undefined;
  let machineDecoder: Machine['decoder'];
  try {
    adam = createAdam(model.variables, { learningRate: s.learningRate, epsilon: s.adamEpsilon });
    const machine: Machine = {
      settings: s,
      model,
      adam,
      replay: new ReplayBuffer(O, A),
      counters: { episodes: 0, updates: 0, evaluations: 0, environmentSteps: 0 },
      history: [],
    };
    if (s.latent !== undefined) {
      const decoder = createPlanetDecoder(
        model,
        s.plan.horizon,
        s.latent,
        deriveSeed(s.seed, TASK_SEED_STREAMS.planetDecoderWeights, 0),
      );
      machineDecoder = { decoder, adam: undefined as unknown as Adam };
      machineDecoder.adam = createAdam(decoder.variables, {
        learningRate: s.latent.learningRate,
        epsilon: s.latent.adamEpsilon,
      });
      machine.decoder = machineDecoder;
    }
    if (resume !== undefined) {
      const names = resume.weights.names;
      if (names.length !== model.variableNames.length || names.some((n, i) => n !== model.variableNames[i])) {
        throw new Error(
          'the checkpoint to resume holds the weights of another model (variable names differ)',
        );
      }
      model.setWeights(resume.weights.values);
      adam.setState(resume.adam);
      if (resume.decoder !== undefined) {
        if (machine.decoder === undefined) {
          machine.keptDecoder = resume.decoder;
        } else {
          try {
            machine.decoder.decoder.setWeights(resume.decoder.weights);
            machine.decoder.adam.setState(resume.decoder.adam);
          } catch (error) {
            throw new Error(
              `the checkpoint to resume holds a decoder of other sizes than settings.latent (${(error as Error).message})`,
            );
          }
        }
      }
      machine.replay = ReplayBuffer.fromState(resume.replay);
      machine.counters = { ...resume.counters };
      machine.history = resume.history.map((r) => ({ ...r }));
      log(
        `resuming after ${resume.counters.episodes} episodes, ${resume.counters.updates} updates, ` +
          `${resume.counters.environmentSteps} environment steps`,
      );
    }
    log(
      `${s.env}: ${s.plan.planner} (H = ${s.plan.horizon}, N = ${s.plan.samples}, k = ${s.plan.elites}, ` +
        `${s.plan.iterations} iterations), action repeat ${s.actionRepeat}, ${s.steps} steps per episode; ` +
        `${s.episodes} episodes (${s.seedEpisodes} seed), ${s.updatesPerEpisode} updates of ${s.batchSize} × ${s.sequenceLength} per episode`,
    );
    let last: PlanetCheckpoint | undefined;
    while (machine.counters.episodes < s.episodes) {
      const e = machine.counters.episodes;
      const envSeed = deriveSeed(s.seed, TASK_SEED_STREAMS.planetInitialState, e);
      let outcome: EpisodeOutcome;
      if (e < s.seedEpisodes) {
        const random = new PlanetRandom(deriveSeed(s.seed, TASK_SEED_STREAMS.planetSeedActions, e));
        outcome = await runEpisode(
          machine,
          'seed',
          e,
          envSeed,
          undefined,
          () => {
            const a = new Float32Array(A);
            for (let i = 0; i < A; i++) a[i] = random.uniform(-1, 1);
            return a;
          },
          callbacks,
          0,
          Number.NaN,
        );
      } else {
        const updates = runUpdates(machine, callbacks);
        const noise = new PlanetRandom(deriveSeed(s.seed, TASK_SEED_STREAMS.planetExploration, e));
        const agent = createPlanetAgent(model, {
          plan: s.plan,
          plannerSeed: deriveSeed(s.seed, TASK_SEED_STREAMS.planetPlanner, e),
          filterSeed: deriveSeed(s.seed, TASK_SEED_STREAMS.planetFilter, e),
          imagination: s.imagination,
          filter: s.filter,
          ...(machine.decoder === undefined ? {} : { decoder: machine.decoder.decoder }),
        });
        try {
          outcome = await runEpisode(
            machine,
            'train',
            e,
            envSeed,
            agent,
            (planned) => {
              const a = new Float32Array(A);
              for (let i = 0; i < A; i++) {
                a[i] = clip(((planned as Float32Array)[i] as number) + s.explorationNoise * noise.normal());
              }
              return a;
            },
            callbacks,
            updates.seconds,
            updates.loss,
          );
        } finally {
          agent.dispose();
        }
        if (!Number.isNaN(updates.decoderCost)) outcome.record.decoderCost = updates.decoderCost;
      }
      machine.replay.addEpisode(outcome.rows);
      machine.counters.episodes = e + 1;
      machine.counters.environmentSteps = outcome.record.environmentSteps;
      machine.history.push(outcome.record);
      callbacks.onEpisode?.(outcome.record);
      log(
        `${outcome.record.kind} episode ${e}: return ${outcome.record.return.toFixed(1)} ` +
          `(${machine.counters.environmentSteps} environment steps, ${machine.counters.updates} updates)`,
      );
      if (s.evaluateEvery > 0 && e >= s.seedEpisodes && (e + 1) % s.evaluateEvery === 0) {
        const k = machine.counters.evaluations;
        const base = deriveSeed(s.seed, TASK_SEED_STREAMS.planetEvaluation, k);
        const agent = createPlanetAgent(model, {
          plan: s.plan,
          plannerSeed: deriveSeed(base, TASK_SEED_STREAMS.planetPlanner, 0),
          filterSeed: deriveSeed(base, TASK_SEED_STREAMS.planetFilter, 0),
          imagination: s.imagination,
          filter: s.filter,
          ...(machine.decoder === undefined ? {} : { decoder: machine.decoder.decoder }),
        });
        let evaluation: EpisodeOutcome;
        try {
          evaluation = await runEpisode(
            machine,
            'eval',
            k,
            deriveSeed(base, TASK_SEED_STREAMS.planetInitialState, 0),
            agent,
            (planned) => planned as Float32Array,
            callbacks,
            0,
            Number.NaN,
          );
        } finally {
          agent.dispose();
        }
        machine.counters.evaluations = k + 1;
        machine.history.push(evaluation.record);
        callbacks.onEpisode?.(evaluation.record);
        log(`eval episode ${k}: return ${evaluation.record.return.toFixed(1)}`);
      }
      last = snapshot(machine);
      if (options.out !== undefined) savePlanetCheckpoint(options.out, last);
      await callbacks.onCheckpoint?.(last);
    }
    last ??= snapshot(machine);
    return {
      settings: s,
      history: machine.history,
      counters: { ...machine.counters },
      checkpoint: last,
      seconds: now() - begin,
    };
  } finally {
    adam?.dispose();
    if (machineDecoder !== undefined) {
      machineDecoder.adam?.dispose();
      machineDecoder.decoder.dispose();
    }
    model.dispose();
  }
}
