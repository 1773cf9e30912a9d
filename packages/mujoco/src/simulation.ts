/**
 * The engine room shared by the environment (main thread) and the rollout
 * workers: one MuJoCo model and data for one task, stepped the way the
 * DeepMind Control Suite steps it. Internal: not exported from the package.
 *
 * @module
 */
import type { DoubleBuffer, MainModule, MjData, MjModel } from '@mujoco/mujoco';
import type { Random } from './random.js';
import type { Runtime } from './runtime.js';

/** MuJoCo's bound on a sane state value (mjMAXVAL); beyond it, or NaN, the state is "bad". */
const MAX_VALUE = 1e10;
const RK4 = 1;
/** mjSTATE_INTEGRATION: everything mj_step reads (time, qpos, qvel, act, warm start, ctrl, applied forces, …). */
export const STATE_SIG = 16383;

/** How a task is drawn by {@link renderSvg}: the projection plane and the window. */
export interface ViewSpec {
  /** `'xz'`: side view (x right, z up); `'xy'`: top view (x right, y up). */
  readonly plane: 'xz' | 'xy';
  /** Width and height of the window in metres. */
  readonly size: readonly [number, number];
  /** Window centre in metres, or the body whose x the window follows (its z/y stays at `center[1]`). */
  readonly center: readonly [number, number];
  /** Body the window follows horizontally (locomotion tasks). */
  readonly track?: string;
}

/** One named part of a task's flat observation vector. */
export interface ObservationPart {
  /** Name, as in the suite's observation dictionary. */
  readonly name: string;
  /** Number of entries. */
  readonly size: number;
}

/** A DeepMind-Control-style task: its model and the Python `Task` methods, written against a {@link Simulation}. */
export interface TaskDefinition {
  readonly name: string;
  readonly domain: string;
  /** Our MJCF model. */
  readonly xml: string;
  /** The suite's control time step in seconds (a multiple of the model's time step). */
  readonly controlTimestep: number;
  readonly observation: readonly ObservationPart[];
  /** Number of task parameters set at reset and kept in the state (e.g. reacher's target position). */
  readonly paramsSize: number;
  readonly view: ViewSpec;
  /** Constant model changes the task makes (the suite makes some in `initialize_episode`). */
  setup?(sim: Simulation): void;
  /** Randomises the initial state (the suite's `initialize_episode`), between reset and `after_reset`. */
  initialize(sim: Simulation, random: Random): void;
  reward(sim: Simulation): number;
  observe(sim: Simulation, out: Float64Array): void;
  readParams?(sim: Simulation, out: Float64Array): void;
  writeParams?(sim: Simulation, params: Float64Array): void;
}

/**
 * Each task's model compiled from its MJCF once per runtime (the compiler
 * takes tens of milliseconds; copying a compiled model, under one). The
 * templates live as long as the thread.
 */
const templates = new WeakMap<Runtime, Map<string, MjModel>>();
function compiledModel(runtime: Runtime, task: TaskDefinition): MjModel {
  let byTask = templates.get(runtime);
  if (byTask === undefined) {
    byTask = new Map();
    templates.set(runtime, byTask);
  }
  let model = byTask.get(task.name);
  if (model === undefined) {
    model = runtime.mj.MjModel.from_xml_string(task.xml);
    byTask.set(task.name, model);
  }
  return model;
}

/** Live views into the data (re-created when the WebAssembly memory grows). */
interface Views {
  qpos: Float64Array;
  qvel: Float64Array;
  qacc: Float64Array;
  ctrl: Float64Array;
  xpos: Float64Array;
  xmat: Float64Array;
  geomXpos: Float64Array;
  geomXmat: Float64Array;
  siteXpos: Float64Array;
  sensordata: Float64Array;
  subtreeCom: Float64Array;
}

/** A model and its data, stepped as the suite steps them. */
export class Simulation {
  readonly mj: MainModule;
  readonly model: MjModel;
  readonly data: MjData;
  readonly task: TaskDefinition;
  /** Physics steps per control step. */
  readonly substeps: number;
  readonly nu: number;
  readonly stateSize: number;
  /** Whether the model integrates with RK4 (read once: every `model.opt` access makes a wrapper object). */
  private readonly rk4: boolean;
  private views!: Views;
  private readonly stateBuffer: DoubleBuffer;
  private disposed = false;

  constructor(runtime: Runtime, task: TaskDefinition) {
    this.mj = runtime.mj;
    this.task = task;
    this.model = new this.mj.MjModel(compiledModel(runtime, task));
    try {
      this.data = new this.mj.MjData(this.model);
    } catch (error) {
      this.model.delete();
      throw error;
    }
    // Divergence is detected here (bad qpos/qvel/qacc), so MuJoCo must not silently reset the data.
    this.model.opt.disableflags |= this.mj.mjtDisableBit.mjDSBL_AUTORESET.value;
    const ratio = task.controlTimestep / this.model.opt.timestep;
    this.substeps = Math.round(ratio);
    if (Math.abs(ratio - this.substeps) > 1e-9) {
      throw new Error(
        `${task.name}: control time step ${task.controlTimestep} is not a multiple of ${this.model.opt.timestep}`,
      );
    }
    this.rk4 = this.model.opt.integrator === RK4;
    this.nu = this.model.nu;
    this.stateSize = this.mj.mj_stateSize(this.model, STATE_SIG);
    this.stateBuffer = new this.mj.DoubleBuffer(this.stateSize);
    this.refreshViews();
    task.setup?.(this);
  }

  private refreshViews(): void {
    const d = this.data;
    this.views = {
      qpos: d.qpos,
      qvel: d.qvel,
      qacc: d.qacc,
      ctrl: d.ctrl,
      xpos: d.xpos,
      xmat: d.xmat,
      geomXpos: d.geom_xpos,
      geomXmat: d.geom_xmat,
      siteXpos: d.site_xpos,
      sensordata: d.sensordata,
      subtreeCom: d.subtree_com,
    };
  }

  /** The data's live views, re-created if the WebAssembly memory has grown since. */
  get v(): Views {
    if (this.views.qpos.byteLength === 0) this.refreshViews();
    return this.views;
  }

  /** Index of a named object (`type`: an mjtObj value), throwing if absent. */
  id(type: 'body' | 'geom' | 'site' | 'joint' | 'sensor', name: string): number {
    const objects = this.mj.mjtObj;
    const code = {
      body: objects.mjOBJ_BODY,
      geom: objects.mjOBJ_GEOM,
      site: objects.mjOBJ_SITE,
      joint: objects.mjOBJ_JOINT,
      sensor: objects.mjOBJ_SENSOR,
    }[type].value;
    const id = this.mj.mj_name2id(this.model, code, name);
    if (id < 0) throw new Error(`${this.task.name}: the model has no ${type} named ${JSON.stringify(name)}`);
    return id;
  }

  /** mj_forward with actuation disabled (the suite's `after_reset`). */
  forwardWithoutActuation(): void {
    const opt = this.model.opt;
    const flags = opt.disableflags;
    opt.disableflags = flags | this.mj.mjtDisableBit.mjDSBL_ACTUATION.value;
    this.mj.mj_forward(this.model, this.data);
    opt.disableflags = flags;
  }

  /**
   * Advances `n` physics steps with the current controls, leaving position- and
   * velocity-dependent quantities in sync with the new state (dm_control's
   * legacy step: mj_step2 finishes a step whose mj_step1 ran before, then
   * mj_step, then mj_step1; RK4 runs mj_step n times, then mj_step1).
   */
  physicsSteps(n: number): void {
    const { mj, model, data } = this;
    if (!this.rk4) {
      mj.mj_step2(model, data);
      for (let i = 1; i < n; i++) mj.mj_step(model, data);
    } else {
      for (let i = 0; i < n; i++) mj.mj_step(model, data);
    }
    mj.mj_step1(model, data);
  }

  /** The suite's reset: mj_resetData, forward, the task's randomisation, forward. */
  reset(random: Random): void {
    this.mj.mj_resetData(this.model, this.data);
    this.forwardWithoutActuation();
    this.task.initialize(this, random);
    this.forwardWithoutActuation();
  }

  /**
   * One control step of the suite: sets the controls to `actions[offset .. offset + nu)`
   * (already validated), advances `substeps` physics steps and returns the reward,
   * or NaN when the state went bad (NaN or beyond 1e10 in qpos, qvel or qacc).
   */
  controlStep(actions: ArrayLike<number>, offset: number): number {
    const ctrl = this.v.ctrl;
    for (let i = 0; i < this.nu; i++) ctrl[i] = actions[offset + i] as number;
    this.physicsSteps(this.substeps);
    if (this.diverged()) return Number.NaN;
    return this.task.reward(this);
  }

  /** Whether qpos, qvel or qacc hold a NaN or a value beyond MuJoCo's 1e10 bound. */
  diverged(): boolean {
    const { qpos, qvel, qacc } = this.v;
    return bad(qpos) || bad(qvel) || bad(qacc);
  }

  /** Copies MuJoCo's integration state into a new array. */
  readPhysics(): Float64Array {
    this.mj.mj_getState(this.model, this.data, this.stateBuffer, STATE_SIG);
    return Float64Array.from(this.stateBuffer.GetView() as Float64Array);
  }

  /** Restores an integration state and recomputes the derived quantities (mj_step1). */
  writePhysics(physics: Float64Array): void {
    this.mj.mj_setState(this.model, this.data, physics as unknown as number[], STATE_SIG);
    this.mj.mj_step1(this.model, this.data);
  }

  /**
   * Whether joint `j` is limited. (The bindings cannot read `jnt_limited`, a
   * boolean array; every limited joint of our models has a non-zero range and
   * MuJoCo keeps the range of an unlimited joint at [0, 0].)
   */
  limited(j: number): boolean {
    const range = this.model.jnt_range as Float64Array;
    return range[2 * j] !== 0 || range[2 * j + 1] !== 0;
  }

  readParams(): Float64Array {
    const out = new Float64Array(this.task.paramsSize);
    this.task.readParams?.(this, out);
    return out;
  }

  writeParams(params: Float64Array): void {
    this.task.writeParams?.(this, params);
  }

  /** Frees the model and data (idempotent). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.stateBuffer.delete();
    this.data.delete();
    this.model.delete();
  }
}

/** Whether an array holds a NaN or a value beyond ±1e10 (MuJoCo's `mju_isBad`). */
function bad(a: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    if (!(x <= MAX_VALUE && x >= -MAX_VALUE)) return true;
  }
  return false;
}

/** Reads the 3×3 rotation matrix entry (row r, column c) of object `id` from a flat xmat array. */
export function mat(xmat: Float64Array, id: number, r: number, c: number): number {
  return xmat[9 * id + 3 * r + c] as number;
}
