/**
 * The environment API: one task, one MuJoCo model and data, stepped with an
 * action repeat.
 *
 * @module
 */
import { assertInteger, assertOptions, describeValue } from '@dcem/errors';
import { assertActions } from './errors.js';
import { Random } from './random.js';
import { loadRuntime } from './runtime.js';
import { Simulation, type TaskDefinition } from './simulation.js';
import { type TaskName, taskDefinition } from './tasks/index.js';

/** The suite's episode length in control steps (every task: 1000). */
export const EPISODE_STEPS = 1000;

/** Options of {@link makeEnv}. */
export interface EnvOptions {
  /** Seed of the initial-state randomisation (each `reset()` draws the next initial state). Default 0. */
  seed?: number;
  /** Control steps per `step()`, the action held fixed; must divide 1000. Default 1. */
  actionRepeat?: number;
}

/**
 * A snapshot of an environment, enough to continue it exactly (bit for bit)
 * in another environment or a rollout worker of the same task.
 */
export interface EnvState {
  /** The task it belongs to. */
  readonly task: TaskName;
  /** MuJoCo's integration state (`mj_getState` with `mjSTATE_INTEGRATION`: time, qpos, qvel, act, warm start, ctrl, …). */
  readonly physics: Float64Array;
  /** Task parameters drawn at reset (reacher-easy: the target's x and y; others: empty). */
  readonly params: Float64Array;
  /** Control steps taken since the reset (the episode ends at 1000). */
  readonly controlSteps: number;
}

/** What `step()` returns. */
export interface StepResult {
  /** The observation after the step (layout: the environment's `observationSpec`). */
  readonly observation: Float64Array;
  /** Sum of the rewards of the `actionRepeat` control steps (each in [0, 1]); NaN when the simulation diverged. */
  readonly reward: number;
  /** True once 1000 control steps have been taken. */
  readonly done: boolean;
  /** True when the state went bad (NaN or |x| > 1e10 in qpos, qvel or qacc) during this step. */
  readonly diverged: boolean;
}

/** A named slice of the flat observation. */
export interface ObservationSlice {
  /** Name, as in the suite's observation dictionary. */
  readonly name: string;
  /** Number of entries. */
  readonly size: number;
  /** Index of its first entry. */
  readonly offset: number;
}

/** A DeepMind-Control-style environment (see {@link makeEnv}). */
export interface MujocoEnv {
  /** The task's name. */
  readonly name: TaskName;
  /** Number of actuators (action entries, each in [−1, 1]). */
  readonly actionDim: number;
  /** Length of the flat observation. */
  readonly observationSize: number;
  /** The named parts of the observation, in order (as the suite's observation dictionary). */
  readonly observationSpec: readonly ObservationSlice[];
  /** The physics time step in seconds. */
  readonly timestep: number;
  /** The suite's control time step in seconds (physics steps per control step: `controlTimestep / timestep`). */
  readonly controlTimestep: number;
  /** Control steps per `step()`. */
  readonly actionRepeat: number;
  /** Number of `step()` calls in an episode: 1000 / `actionRepeat`. */
  readonly episodeLength: number;
  /** Number of steps so far (since creation) whose simulation diverged. */
  readonly divergences: number;
  /** Starts an episode from a random initial state (the suite's distribution) and returns its observation. */
  reset(): Float64Array;
  /**
   * Applies `action` (length `actionDim`, finite, in [−1, 1]) for `actionRepeat`
   * control steps. Invalid actions throw and leave the simulation untouched.
   */
  step(action: ArrayLike<number>): StepResult;
  /** The current observation. */
  observe(): Float64Array;
  /** A snapshot of the state (copies). */
  getState(): EnvState;
  /** Restores a snapshot of the same task; invalid states throw and leave the simulation untouched. */
  setState(state: EnvState): void;
  /** Frees the WebAssembly memory of the model and data; the environment is unusable afterwards. */
  dispose(): void;
}

/** Checks that `state` is a valid {@link EnvState} for `task` with the given sizes. */
export function assertState(
  name: string,
  state: unknown,
  task: TaskDefinition,
  physicsSize: number,
): asserts state is EnvState {
  if (state === null || typeof state !== 'object') {
    throw new TypeError(`${name} must be an EnvState object, received ${describeValue(state)}`);
  }
  const s = state as Partial<EnvState>;
  if (s.task !== task.name) {
    throw new RangeError(
      `${name}.task must be ${JSON.stringify(task.name)}, received ${describeValue(s.task)}`,
    );
  }
  for (const [field, size] of [
    ['physics', physicsSize],
    ['params', task.paramsSize],
  ] as const) {
    const a = s[field];
    if (!(a instanceof Float64Array)) {
      throw new TypeError(`${name}.${field} must be a Float64Array, received ${describeValue(a)}`);
    }
    if (a.length !== size) {
      throw new RangeError(`${name}.${field} must have length ${size}, received length ${a.length}`);
    }
    for (let i = 0; i < a.length; i++) {
      if (!Number.isFinite(a[i])) {
        throw new RangeError(`${name}.${field}[${i}] must be finite, received ${describeValue(a[i])}`);
      }
    }
  }
  assertInteger(`${name}.controlSteps`, s.controlSteps, 0);
}

/** Validates `actionRepeat` (an integer ≥ 1 dividing 1000). */
export function checkActionRepeat(name: string, value: unknown): number {
  if (value === undefined) return 1;
  assertInteger(name, value, 1);
  if (EPISODE_STEPS % value !== 0) {
    throw new RangeError(`${name} must divide ${EPISODE_STEPS} (the episode length), received ${value}`);
  }
  return value;
}

/** Builds the observation slices of a task. */
export function observationSlices(task: TaskDefinition): ObservationSlice[] {
  let offset = 0;
  return task.observation.map((p) => {
    const slice = { name: p.name, size: p.size, offset };
    offset += p.size;
    return slice;
  });
}

class Env implements MujocoEnv {
  readonly name: TaskName;
  readonly actionDim: number;
  readonly observationSize: number;
  readonly observationSpec: readonly ObservationSlice[];
  readonly timestep: number;
  readonly controlTimestep: number;
  readonly actionRepeat: number;
  readonly episodeLength: number;
  divergences = 0;
  /** @internal */
  readonly sim: Simulation;
  private readonly random: Random;
  private controlSteps = 0;
  private disposed = false;

  constructor(sim: Simulation, seed: number, actionRepeat: number) {
    this.sim = sim;
    this.name = sim.task.name as TaskName;
    this.actionDim = sim.nu;
    this.observationSpec = observationSlices(sim.task);
    this.observationSize = this.observationSpec.reduce((n, p) => n + p.size, 0);
    this.timestep = sim.model.opt.timestep;
    this.controlTimestep = sim.task.controlTimestep;
    this.actionRepeat = actionRepeat;
    this.episodeLength = EPISODE_STEPS / actionRepeat;
    this.random = new Random(seed);
    sim.reset(this.random);
  }

  private live(method: string): Simulation {
    if (this.disposed) throw new Error(`${this.name}: ${method}() called after dispose()`);
    return this.sim;
  }

  reset(): Float64Array {
    this.live('reset').reset(this.random);
    this.controlSteps = 0;
    return this.observe();
  }

  step(action: ArrayLike<number>): StepResult {
    const sim = this.live('step');
    if (action === null || typeof action !== 'object' || typeof action.length !== 'number') {
      throw new TypeError(
        `action must be an array of ${this.actionDim} numbers, received ${describeValue(action)}`,
      );
    }
    if (action.length !== this.actionDim) {
      throw new RangeError(
        `action must have length ${this.actionDim} for ${this.name}, received length ${action.length}`,
      );
    }
    assertActions(action, 0, this.actionDim, (i) => `action[${i}]`);
    let reward = 0;
    for (let r = 0; r < this.actionRepeat; r++) reward += sim.controlStep(action, 0);
    this.controlSteps += this.actionRepeat;
    const diverged = Number.isNaN(reward);
    if (diverged) this.divergences++;
    return { observation: this.observe(), reward, done: this.controlSteps >= EPISODE_STEPS, diverged };
  }

  observe(): Float64Array {
    const out = new Float64Array(this.observationSize);
    this.live('observe').task.observe(this.sim, out);
    return out;
  }

  getState(): EnvState {
    const sim = this.live('getState');
    return {
      task: this.name,
      physics: sim.readPhysics(),
      params: sim.readParams(),
      controlSteps: this.controlSteps,
    };
  }

  setState(state: EnvState): void {
    const sim = this.live('setState');
    assertState('state', state, sim.task, sim.stateSize);
    sim.writeParams(state.params);
    sim.writePhysics(state.physics);
    this.controlSteps = state.controlSteps;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.sim.dispose();
  }
}

/**
 * Creates an environment for a task of the DeepMind Control Suite, written as
 * our own MJCF and run on MuJoCo's WebAssembly build. The first call loads
 * MuJoCo (about a second); the environment is reset once, ready to step.
 *
 * An episode is 1000 control steps of the suite, so `episodeLength` =
 * 1000 / `actionRepeat` calls of `step()`; each returns the sum of the
 * `actionRepeat` rewards (the convention of PlaNet's action repeat).
 *
 * @param name - One of {@link TASK_NAMES}.
 * @param options - Seed and action repeat.
 * @returns A promise of the environment; call `dispose()` when done.
 * @throws RangeError for an unknown task name (the message lists the valid ones) or an action repeat not dividing 1000; TypeError for unknown options.
 * @example
 * ```ts
 * import { makeEnv } from '@dcem/mujoco';
 * const env = await makeEnv('cheetah-run', { seed: 0, actionRepeat: 4 });
 * env.reset();
 * const { reward } = env.step(new Float64Array(env.actionDim)); // zero torques
 * env.dispose();
 * ```
 * @see Tassa et al., "DeepMind Control Suite", 2018 (arXiv:1801.00690).
 */
export async function makeEnv(name: TaskName, options?: EnvOptions): Promise<MujocoEnv> {
  const task = taskDefinition(name);
  assertOptions('makeEnv options', options, ['seed', 'actionRepeat']);
  const seed = options?.seed ?? 0;
  assertInteger('options.seed', seed, 0);
  const actionRepeat = checkActionRepeat('options.actionRepeat', options?.actionRepeat);
  const runtime = await loadRuntime();
  const sim = new Simulation(runtime, task);
  try {
    return new Env(sim, seed, actionRepeat);
  } catch (error) {
    sim.dispose();
    throw error;
  }
}

/** The simulation behind an environment made by {@link makeEnv} (internal). */
export function simulationOf(env: MujocoEnv): Simulation {
  if (!(env instanceof Env)) throw new TypeError('expected an environment made by makeEnv');
  return env.sim;
}
