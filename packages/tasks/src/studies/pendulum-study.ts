import {
  assertInteger,
  assertNonNegative,
  assertObject,
  assertOptionalFunctions,
  assertPositive,
} from '@dcem/errors';
import * as tf from '@tensorflow/tfjs';
import { rollout } from '../control/dynamics.js';
import { disposeMpcResult, runMpc } from '../control/mpc.js';
import {
  createPendulum,
  PENDULUM_QUADRATIC_COST,
  type PendulumCostWeights,
  pendulumSwingUpCostFused,
  samplePendulumStates,
} from '../control/pendulum.js';
import {
  disposeTrajectoryPlan,
  type PlannerName,
  plannerSolver,
  planTrajectory,
} from '../control/planner.js';

/** Settings of {@link runPendulumStudy} (`dcem pendulum`'s flags; the DCEM notebook's values by default). */
export interface PendulumStudySettings {
  /** Swing-ups solved at once (θ ~ U(−π/4, π/4), θ̇ ~ U(−4, 4)), an integer ≥ 1. */
  count: number;
  /** Plan horizon H, an integer ≥ 1. */
  horizon: number;
  /** N, sampled plans per iteration. */
  samples?: number;
  /** k, elites per iteration, 1 ≤ k < N. */
  elites?: number;
  /** Solver iterations at most (per plan). */
  iterations?: number;
  /** σ₀ of the torques, > 0; default the planner's, (ub − lb)/4 = 1. */
  initStd?: number;
  /** Stop a plan when it moves by less than this, ≥ 0. */
  tolerance?: number;
  /** τ > 0 for DCEM; `null` for vanilla CEM. */
  temperature?: number | null;
  /** `open-loop`: one plan of H steps per swing-up, as the notebook; `mpc`: re-plan every step. */
  mode: 'open-loop' | 'mpc';
  /** Closed-loop steps in `mpc` mode, an integer ≥ 1. */
  mpcSteps: number;
  /** Integer seed of the start states and of the planner's noise. */
  seed: number;
  /**
   * A named planner ({@link PLANNER_NAMES}) whose preset the other solver
   * settings override: `samples`, `elites`, `iterations`, `tolerance` and
   * `temperature` are applied over it where given (`undefined` keeps the
   * preset's value). Without `planner` they are plain CEM/DCEM settings.
   */
  planner?: PlannerName;
  /**
   * The cost planned for: `'swing-up'`, the notebook's
   * {@link pendulumSwingUpCost} (every state term weighted 1, torque 10⁻⁴),
   * or `'quadratic'`, mpc.pytorch's weights {@link PENDULUM_QUADRATIC_COST}
   * (θ̇ weighted 0.1, torque 0.001), which a short receding horizon can swing
   * up with. Default: `'swing-up'` open loop, `'quadratic'` in MPC.
   */
  cost?: 'swing-up' | 'quadratic';
}

/** Callbacks of {@link runPendulumStudy}; each is optional. */
export interface PendulumStudyCallbacks {
  /** A line for people (what is being run, and the summary). */
  log?: (line: string) => void;
  /**
   * Progress: after each solver iteration (open loop; `done` of `total`
   * iterations) or each closed-loop step (MPC), with the curve's new value.
   */
  onProgress?: (done: number, total: number, cost: number) => void;
}

/** What {@link runPendulumStudy} found (plain numbers; no tensors). */
export interface PendulumStudyResult {
  mode: 'open-loop' | 'mpc';
  /** Solver iterations (open loop: one entry) or per step (MPC). */
  iterations: number[];
  /** Whether the open-loop solve met the tolerance (null for MPC). */
  converged: boolean | null;
  /** Final cost of each swing-up's plan (open loop) or of its closed-loop trajectory. */
  costs: number[];
  /** States per swing-up and step, [count][T + 1][3] as (cos θ, sin θ, θ̇). */
  states: number[][][];
  /** Torques per swing-up and step, [count][T]. */
  controls: number[][];
  /** cos θ at the last step of each swing-up. */
  finalCos: number[];
  /** How many end upright (cos θ > {@link PENDULUM_UPRIGHT} at the last step). */
  upright: number;
  /** The cost curve: mean over swing-ups per solver iteration (open loop) or per MPC step. */
  loss: number[];
  /** Wall-clock seconds of the planning. */
  seconds: number;
}

/** cos θ above which a swing-up counts as upright. */
export const PENDULUM_UPRIGHT = 0.95;

/**
 * The pendulum swing-up of the DCEM repository's notebook as a function:
 * plans torques for `count` random start states with CEM (or DCEM, τ set),
 * either one open-loop plan of H steps per swing-up or receding-horizon MPC
 * ({@link runMpc}, whose step t draws with `deriveSeed(seed, SEED_STREAMS.mpcStep, t)`),
 * and returns the trajectories, the torques, the cost curve and how many
 * swing-ups end upright. It prints nothing and writes nothing; `dcem pendulum`
 * draws and saves what it returns.
 *
 * @param settings See {@link PendulumStudySettings}.
 * @param callbacks Optional log and progress callbacks.
 * @returns See {@link PendulumStudyResult}.
 * @example
 * ```ts
 * const r = runPendulumStudy({
 *   count: 12, horizon: 50, samples: 250, elites: 10, iterations: 300, initStd: 3,
 *   tolerance: 1e-6, temperature: null, mode: 'open-loop', mpcSteps: 50, seed: 0,
 * });
 * console.log(`${r.upright}/12 upright`);
 * ```
 */
export function runPendulumStudy(
  settings: PendulumStudySettings,
  callbacks: PendulumStudyCallbacks = {},
): PendulumStudyResult {
  const s = settings;
  assertObject('settings', s);
  assertObject('callbacks', callbacks);
  assertInteger('settings.count', s.count, 1);
  assertInteger('settings.mpcSteps', s.mpcSteps, 1);
  if (s.initStd !== undefined) assertPositive('settings.initStd', s.initStd);
  if (s.tolerance !== undefined) assertNonNegative('settings.tolerance', s.tolerance);
  if (s.mode !== 'open-loop' && s.mode !== 'mpc') {
    throw new TypeError(`settings.mode must be 'open-loop' or 'mpc', received ${JSON.stringify(s.mode)}`);
  }
  assertOptionalFunctions(callbacks, ['log', 'onProgress'], 'callbacks.');
  const log = callbacks.log ?? (() => {});
  const progress = callbacks.onProgress ?? (() => {});
  const pendulum = createPendulum();
  const maxTorque = pendulum.params.maxTorque;
  const x0 = samplePendulumStates(s.count, s.seed);
  const start = Date.now();
  const loss: number[] = [];
  let iterations: number[];
  let converged: boolean | null = null;
  let states: number[][][];
  let controls: number[][];
  let costs: number[];
  const costName = s.cost ?? (s.mode === 'mpc' ? 'quadratic' : 'swing-up');
  if (costName !== 'swing-up' && costName !== 'quadratic') {
    throw new TypeError(
      `settings.cost must be 'swing-up' or 'quadratic', received ${JSON.stringify(s.cost)}`,
    );
  }
  const weights: PendulumCostWeights =
    costName === 'quadratic'
      ? { state: PENDULUM_QUADRATIC_COST.weights, control: PENDULUM_QUADRATIC_COST.controlPenalty }
      : { state: [1, 1, 1], control: 1e-4 };
  const overrides = Object.fromEntries(
    Object.entries({
      numSamples: s.samples,
      numElites: s.elites,
      numIterations: s.iterations,
      tolerance: s.tolerance,
      temperature: s.temperature,
    }).filter(([, v]) => v !== undefined),
  );
  const solver = { ...(s.planner === undefined ? {} : plannerSolver(s.planner)), ...overrides };
  const planner = {
    horizon: s.horizon,
    ...(s.initStd === undefined ? {} : { initStd: s.initStd }),
    seed: s.seed,
    solver,
  };
  const method =
    s.planner !== undefined
      ? `the ${s.planner} planner`
      : s.temperature === null
        ? 'CEM'
        : `DCEM (τ = ${s.temperature})`;
  const sizes = `horizon ${s.horizon}, ${solver.numSamples} samples, ${solver.numElites} elites, up to ${solver.numIterations} iterations`;
  try {
    if (s.mode === 'open-loop') {
      log(
        `Planning ${s.count} pendulum swing-ups open loop: ${method}, ${sizes}, σ₀ = ${s.initStd ?? 1}, tolerance ${solver.tolerance}, ${costName} cost`,
      );
      const cost = (u: tf.Tensor) => pendulumSwingUpCostFused(pendulum, x0, u, weights);
      const total = solver.numIterations ?? 0;
      const r = planTrajectory({
        dynamics: pendulum,
        initialState: x0,
        controlCost: () => cost,
        planner: {
          ...planner,
          solver: {
            ...solver,
            onIteration: (info) => {
              // The cost of the current plan μ' (clamped to the bounds), averaged over the swing-ups.
              const value = tf.tidy(() => {
                const u = tf.clipByValue(
                  tf.reshape(info.mean, [s.count, 1, s.horizon, 1]),
                  -maxTorque,
                  maxTorque,
                );
                return tf.mean(cost(u)).dataSync()[0] as number;
              });
              loss.push(value);
              progress(info.iteration + 1, total, value);
            },
          },
        },
      });
      try {
        iterations = [r.iterations];
        converged = r.converged;
        costs = Array.from(r.cost.dataSync());
        states = tf.tidy(() => rollout(pendulum, x0, r.controls).arraySync() as number[][][]);
        controls = (r.controls.arraySync() as number[][][]).map((row) => row.map((u) => u[0] as number));
      } finally {
        disposeTrajectoryPlan(r);
      }
    } else {
      log(
        `Swinging up ${s.count} pendulums with MPC for ${s.mpcSteps} steps: ${method} re-plans every step ` +
          `(${sizes}, σ₀ = ${s.initStd ?? 1}, ${costName} cost, warm start, one batched planner call per step)`,
      );
      const r = runMpc({
        dynamics: pendulum,
        initialState: x0,
        steps: s.mpcSteps,
        controlCost: (x) => (u) => pendulumSwingUpCostFused(pendulum, x, u, weights),
        planner,
        onStep: (info) => {
          const value = tf.tidy(() => tf.mean(info.planCost).dataSync()[0] as number);
          loss.push(value);
          progress(info.step + 1, s.mpcSteps, value);
        },
      });
      try {
        iterations = r.iterations;
        states = r.states.arraySync() as number[][][];
        controls = (r.actions.arraySync() as number[][][]).map((row) => row.map((u) => u[0] as number));
        // The cost of each closed-loop trajectory under the planned cost's weights.
        costs = tf.tidy(() => {
          const actions = r.actions;
          const u = tf.reshape(actions, [s.count, 1, s.mpcSteps, 1]);
          return Array.from(pendulumSwingUpCostFused(pendulum, x0, u, weights).dataSync());
        });
      } finally {
        disposeMpcResult(r);
      }
    }
  } finally {
    x0.dispose();
  }
  const seconds = (Date.now() - start) / 1000;
  const finalCos = states.map((row) => (row.at(-1) as number[])[0] as number);
  const upright = finalCos.filter((c) => c > PENDULUM_UPRIGHT).length;
  const steps = (states[0]?.length ?? 1) - 1;
  log(
    `${upright}/${s.count} swing-ups end upright (cos θ > ${PENDULUM_UPRIGHT} at step ${steps}); ` +
      `cos θ_${steps} = [${finalCos.map((c) => c.toFixed(3)).join(', ')}]`,
  );
  log(
    s.mode === 'open-loop'
      ? `solver: ${iterations[0]} iterations (${converged ? 'met the tolerance' : 'did not meet the tolerance'}), ${seconds.toFixed(1)} s`
      : `MPC: ${iterations.reduce((a, b) => a + b, 0)} solver iterations over ${iterations.length} steps, ${seconds.toFixed(1)} s`,
  );
  log(`costs per swing-up: [${costs.map((c) => c.toFixed(3)).join(', ')}]`);
  return { mode: s.mode, iterations, converged, costs, states, controls, finalCos, upright, loss, seconds };
}
