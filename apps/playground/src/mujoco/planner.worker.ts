// The MuJoCo page's planner worker: the environment, the planner (tfjs on its
// cpu backend, as `dcem mujoco --backend cpu`) and a pool of rollout Web
// Workers. It plans step after step while the page draws.
import {
  bodyPosition,
  compileMujocoFrom,
  createWebRolloutPool,
  describeGeoms,
  type MujocoEnv,
  makeEnv,
  type RolloutPool,
  readGeomPoses,
  type TaskName,
} from '@dcem/mujoco/web';
import { TASK_SEED_STREAMS } from '@dcem/tasks';
import { mujocoPlannerConfig, PLANET_ACTION_REPEAT } from '@dcem/tasks/mujoco';
import { createPlanner, deriveSeed, disposePlanResult } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import type { FromPlanner, Path, Settings, ToPlanner } from './protocol.js';

/** The body whose predicted path the page draws, per task. */
const TRACK: Record<TaskName, string> = {
  'cartpole-swingup': 'pole_1',
  'reacher-easy': 'finger',
  'cheetah-run': 'torso',
  'finger-spin': 'distal',
  'cup-catch': 'ball',
  'walker-walk': 'torso',
};
/** Elites drawn besides the mean and the best sample. */
const ELITES_DRAWN = 3;

const scope = self as unknown as {
  postMessage(message: FromPlanner, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<ToPlanner>) => void) | null;
};
const post = (message: FromPlanner, transfer: Transferable[] = []) => scope.postMessage(message, transfer);

interface Run {
  id: number;
  settings: Settings;
  env: MujocoEnv;
  /** A second environment of the task, for the predicted paths (the episode's is never disturbed). */
  recorder: MujocoEnv;
  pool: RolloutPool;
  planner: ReturnType<typeof createPlanner>;
  warmStart: boolean;
  horizon: number;
  step: number;
  total: number;
}

let run: Run | undefined;
let running = false;
let until = Number.POSITIVE_INFINITY;
/** Serialises the messages. */
let chain: Promise<void> = Promise.resolve();
/** The loop in progress (configure waits for its step to end). */
let looping: Promise<void> = Promise.resolve();

async function release(): Promise<void> {
  const r = run;
  run = undefined;
  if (r === undefined) return;
  r.planner.dispose();
  r.env.dispose();
  r.recorder.dispose();
  await r.pool.close();
}

function solverFor(s: Settings): {
  solver: Record<string, unknown>;
  initStd: number;
  warmStart: boolean;
  rolloutsPerStep: number;
} {
  const { config, solver } = mujocoPlannerConfig(s.planner, {
    horizon: s.horizon,
    samples: s.samples,
    elites: s.elites,
    iterations: s.iterations,
  });
  if (s.selector === 'hard') Object.assign(solver, { selector: 'hard', temperature: null });
  else if (s.selector === 'lml' || s.selector === 'sparse') {
    if (!(s.temperature > 0)) throw new RangeError(`temperature must be > 0, received ${s.temperature}`);
    Object.assign(solver, { selector: s.selector, temperature: s.temperature });
  }
  return {
    solver,
    initStd: config.initStd,
    warmStart: config.warmStart,
    rolloutsPerStep: config.rolloutsPerStep,
  };
}

async function configure(s: Settings, id: number): Promise<void> {
  running = false;
  await looping;
  await release();
  const { solver, initStd, warmStart, rolloutsPerStep } = solverFor(s);
  const actionRepeat = PLANET_ACTION_REPEAT[s.task];
  // Episode 0 of `dcem mujoco --seed s`: the same seeds.
  const env = await makeEnv(s.task, {
    seed: deriveSeed(s.seed, TASK_SEED_STREAMS.mujocoInitialState, 0),
    actionRepeat,
  });
  const recorder = await makeEnv(s.task, { actionRepeat });
  let pool: RolloutPool | undefined;
  try {
    pool = await createWebRolloutPool(s.task, {
      workers: s.workers,
      actionRepeat,
      createWorker: () => new Worker(new URL('./rollout.worker.ts', import.meta.url), { type: 'module' }),
    });
    env.reset();
    const planner = createPlanner({
      horizon: s.horizon,
      actionDim: env.actionDim,
      lowerBound: -1,
      upperBound: 1,
      initMean: 0,
      initStd,
      solver: solver as never,
      seed: deriveSeed(s.seed, TASK_SEED_STREAMS.mujocoPlanner, 0),
    });
    run = { id, settings: s, env, recorder, pool, planner, warmStart, horizon: s.horizon, step: 0, total: 0 };
  } catch (error) {
    env.dispose();
    recorder.dispose();
    await pool?.close();
    throw error;
  }
  const { position, rotation } = readGeomPoses(env);
  post(
    {
      type: 'scene',
      id,
      settings: s,
      geoms: describeGeoms(env),
      position,
      rotation,
      track: bodyPosition(env, TRACK[s.task]),
      trackBody: TRACK[s.task],
      actionRepeat,
      controlTimestep: env.controlTimestep,
      episodeLength: env.episodeLength,
      workers: pool.workers,
      rolloutsPerStep,
    },
    [position.buffer, rotation.buffer],
  );
}

/** The tracked body's path when `sequence` ([H × m]) is applied from `state`. */
function predictPath(r: Run, state: ReturnType<MujocoEnv['getState']>, sequence: Float32Array): Path {
  const m = r.env.actionDim;
  const body = TRACK[r.settings.task];
  r.recorder.setState(state);
  const path: Path = [bodyPosition(r.env, body)];
  for (let h = 0; h < r.horizon; h++) {
    const { diverged } = r.recorder.step(sequence.subarray(h * m, (h + 1) * m));
    if (diverged) break;
    path.push(bodyPosition(r.recorder, body));
  }
  return path;
}

async function stepOnce(r: Run): Promise<void> {
  const t0 = performance.now();
  const { env, pool, planner } = r;
  const m = env.actionDim;
  const H = r.horizon;
  const state = env.getState();
  // The last cost call's candidates and returns: its best few are the elites drawn.
  let last: { controls: Float32Array; returns: Float64Array } | undefined;
  const cost = async (controls: tf.Tensor): Promise<tf.Tensor> => {
    const [batch, n] = controls.shape as [number, number];
    const data = (await controls.data()) as Float32Array;
    const copy = data.slice();
    const returns = await pool.rollout([state], data, { horizon: H, actionDim: m });
    last = { controls: copy, returns: returns.slice() };
    const costs = new Float32Array(returns.length);
    for (let i = 0; i < returns.length; i++) costs[i] = -(returns[i] as number);
    return tf.tensor2d(costs, [batch, n]);
  };
  if (!r.warmStart) planner.reset();
  const result = await planner.planAsync(cost);
  let action: Float32Array;
  let mean: Float32Array;
  let best: Float32Array;
  try {
    action = (await result.action.data()) as Float32Array;
    mean = (await result.controls.data()) as Float32Array;
    best = (await result.best.controls.data()) as Float32Array;
  } finally {
    disposePlanResult(result);
  }
  const elites: Path[] = [];
  if (last !== undefined) {
    const { controls, returns } = last;
    const order = Array.from(returns.keys())
      .filter((i) => Number.isFinite(returns[i]))
      .sort((a, b) => (returns[b] as number) - (returns[a] as number));
    for (const i of order.slice(0, ELITES_DRAWN)) {
      elites.push(predictPath(r, state, controls.subarray(i * H * m, (i + 1) * H * m)));
    }
  }
  const plans = { mean: predictPath(r, state, mean), best: predictPath(r, state, best), elites };
  const { reward } = env.step(action);
  r.step++;
  r.total += reward;
  const { position, rotation } = readGeomPoses(env);
  post(
    {
      type: 'step',
      id: r.id,
      step: r.step,
      controlSteps: r.step * env.actionRepeat,
      reward,
      return: r.total,
      track: bodyPosition(env, TRACK[r.settings.task]),
      position,
      rotation,
      plans,
      ms: performance.now() - t0,
      action: Array.from(action),
    },
    [position.buffer, rotation.buffer],
  );
}

async function loop(): Promise<void> {
  while (running && run !== undefined) {
    const r = run;
    if (r.step >= r.env.episodeLength || r.step >= until) {
      running = false;
      post({ type: r.step >= r.env.episodeLength ? 'done' : 'paused', id: r.id, step: r.step });
      return;
    }
    await stepOnce(r);
  }
  if (run !== undefined) post({ type: 'paused', id: run.id, step: run.step });
}

function fail(error: unknown): void {
  running = false;
  post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
}

scope.onmessage = (event) => {
  const message = event.data;
  if (message.type === 'pause') {
    running = false;
    return;
  }
  chain = chain.then(async () => {
    try {
      if (message.type === 'init') {
        await tf.setBackend('cpu');
        await tf.ready();
        await compileMujocoFrom(new URL(message.wasmUrl, self.location.href).href);
        post({ type: 'ready' });
      } else if (message.type === 'configure') {
        await configure(message.settings, message.id);
      } else if (message.type === 'run') {
        until = message.until ?? Number.POSITIVE_INFINITY;
        // The loop runs outside the chain, so that 'pause' and 'configure' are heard between steps.
        if (!running) {
          await looping;
          running = true;
          looping = loop().catch(fail);
        }
      }
    } catch (error) {
      fail(error);
    }
  });
};
