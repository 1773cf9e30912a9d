import { deriveSeed } from '@dcem/core';
import {
  assertInteger,
  assertKnownOptions,
  assertObject,
  assertOptionalFunctions,
  assertPositive,
  describeValue,
} from '@dcem/errors';
import * as tf from '@tensorflow/tfjs';
import { assertTemperature } from '../checks.js';
import {
  type Cartpole,
  cartpoleReturnFused,
  createCartpole,
  sampleCartpoleStates,
} from '../control/cartpole.js';
import { rollout } from '../control/dynamics.js';
import { createActionDecoder } from '../control/latent-decoder.js';
import {
  disposeLatentPlanResult,
  LATENT_SOLVER_DEFAULTS,
  type LatentSolverOptions,
  planLatent,
} from '../control/latent-planner.js';
import {
  type LatentTrainingStep,
  type LatentValidation,
  trainLatentEmbedding,
} from '../control/latent-trainer.js';
import { disposeTrajectoryPlan, planTrajectory } from '../control/planner.js';
import { decodeFloat32, encodeFloat32, type JobContext, type JobKind, type JobSpec } from '../jobs/jobs.js';
import { TASK_SEED_STREAMS } from '../seed-streams.js';

/** Settings of {@link runCartpoleEmbedStudy} (`dcem cartpole-embed`'s flags). */
export interface CartpoleEmbedStudySettings {
  /** Latent size d of the main study, an integer ≥ 1. */
  latent: number;
  /**
   * The DCEM temperature τ of the main study; `null`: vanilla CEM (the plan
   * is not differentiable, and training takes the gradient through the
   * decoder at ẑ only).
   */
  temperature: number | null;
  /**
   * Runs of the main study. Run i has the seed `seed + i`: run seeds are the
   * runs' names (in file names too), and every random stream of a run is
   * hashed from its seed with `deriveSeed`, so runs share no random numbers.
   */
  seeds: number;
  /** Adam updates per run of the main study. */
  iterations: number;
  /** Also train every (latent, τ) of the table. */
  table: boolean;
  /** Latent sizes of the table. */
  tableLatents: readonly number[];
  /** Temperatures of the table (`null`: vanilla CEM). */
  tableTemperatures: readonly (number | null)[];
  /** Runs per table cell (the main study's cell reuses its runs). */
  tableSeeds: number;
  /** Adam updates per table run. */
  tableIterations: number;
  /** Updates between validations. */
  validateEvery: number;
  /** Initial states per update (1: the reference). */
  batch: number;
  /** Adam's initial learning rate. */
  learningRate: number;
  /** Validation (and test) states. */
  validationCount: number;
  /** Integer seed of the whole study. */
  seed: number;
  /** Compute the data of the figures (latent cost surface, iterates, animation), default true. */
  figures?: boolean;
}

/** One training run of the study. */
export interface CartpoleEmbedRun {
  latent: number;
  /** The DCEM temperature τ (`null`: vanilla CEM). */
  temperature: number | null;
  /** The run's seed (its name). */
  seed: number;
  iterations: number;
  group: 'main' | 'table';
  /** The plan horizon H the decoder emits. */
  horizon: number;
  /** Best validation cost and the update where it was reached. */
  bestValidationCost: number;
  bestIteration: number;
  /** Best-validation cost / full-space CEM validation cost (costs are −returns). */
  improvementFactor: number;
  /** The checkpoint on fresh test states, with fresh noise: cost and factor. */
  testCost: number;
  testFactor: number;
  seconds: number;
  msPerUpdate: number;
  /** The training cost of every update. */
  trainCosts: number[];
  validations: { iteration: number; cost: number; learningRate: number }[];
  /** The best-validation checkpoint: the decoder's weights, in the order of its variables. */
  weights: Float32Array[];
  /** The shape of each entry of `weights`. */
  weightShapes: number[][];
}

/** One cell of the improvement-factor table: the runs of one (latent, τ). */
export interface CartpoleEmbedCell {
  latent: number;
  /** The DCEM temperature τ (`null`: vanilla CEM). */
  temperature: number | null;
  /** Mean improvement factor over the runs (validation states). */
  factor: number;
  /** Smallest and largest factor over the runs (equal with one run). */
  low: number;
  high: number;
  /** Mean test factor over the runs. */
  testFactor: number;
  /** Runs in the cell. */
  seeds: number;
  /** Adam updates per run. */
  iterations: number;
}

/** Plans of one solver iteration as control sequences (scalar controls). */
export interface ControlIterates {
  iteration: number;
  /** [numSamples][H]. */
  sequences: number[][];
}

/** The data behind the study's figures, for the best latent-2 run of the main study. */
export interface CartpoleEmbedFigures {
  /** The run drawn. */
  run: { latent: number; temperature: number | null; seed: number };
  /**
   * The cost C(decode(z); x₀) for validation state 0 on a `size` × `size` grid
   * of cell centres over z ∈ [−1, 1]², row-major from (−1, −1); `step` = 2/size.
   */
  surface: { size: number; step: number; points: { x: number; y: number; cost: number }[] };
  /** The latent DCEM samples z of iterations 0, 3, 6 and 9, [numSamples][2] each. */
  latentIterates: { iteration: number; points: [number, number][] }[];
  /** The same iterations decoded to control sequences. */
  latentControls: ControlIterates[];
  /** Full-space CEM's samples of the same iterations. */
  fullControls: ControlIterates[];
  /** Returns of the two plans for validation state 0. */
  latentReturn: number;
  fullReturn: number;
  /** The latent planner's plans from up to six validation states, rolled out. */
  animation: { states: number[][][]; controls: number[][]; returns: number[] };
}

/** What {@link runCartpoleEmbedStudy} returns (plain numbers and arrays; no tensors). */
export interface CartpoleEmbedStudyResult {
  /** Plan horizon H of every planner. */
  horizon: number;
  /** Full-space CEM's mean cost on the validation and test states, and its iterations. */
  fullCem: { validationCost: number; testCost: number; iterations: number };
  runs: CartpoleEmbedRun[];
  /** The table, one cell per (latent, τ) in the order the runs were made. */
  table: CartpoleEmbedCell[];
  /** Mean improvement factor of the main study over its runs (validation and test). */
  mainFactor: number;
  mainTestFactor: number;
  /** Undefined with `figures: false` or without a latent-2 main run. */
  figures?: CartpoleEmbedFigures;
  seconds: number;
}

/** Callbacks of {@link runCartpoleEmbedStudy}; each is optional. */
export interface CartpoleEmbedStudyCallbacks {
  /** A line for people (settings, each run's outcome, the table). */
  log?: (line: string) => void;
  /** Before run `index` (0-based) of `count`, with a label for it. */
  onRunStart?: (info: { index: number; count: number; label: string; iterations: number }) => void;
  /** After each update of run `index`. */
  onStep?: (index: number, step: LatentTrainingStep) => void;
  /** After each validation of run `index`. */
  onValidation?: (index: number, validation: LatentValidation) => void;
  /** After run `index`, with its result (for example to save its checkpoint). */
  onRunEnd?: (index: number, run: CartpoleEmbedRun) => void;
}

/** The plan horizon of the study (the paper's). */
const HORIZON = 20;
/** Full-space CEM of the paper: 100 samples, 10 elites, 30 iterations, σ₀ = 0.5 (ub − lb), μ₀ = 0. */
const FULL_CEM = { numSamples: 100, numElites: 10, numIterations: 30 } as const;
/** The latent planner's solver: the paper's, {@link LATENT_SOLVER_DEFAULTS}, at the run's temperature. */
const latentSolver = (temperature: number | null): LatentSolverOptions => ({
  ...LATENT_SOLVER_DEFAULTS,
  temperature,
});

/** The keys of {@link CartpoleEmbedStudySettings}. */
const SETTINGS_KEYS: readonly (keyof CartpoleEmbedStudySettings)[] = [
  'latent',
  'temperature',
  'seeds',
  'iterations',
  'table',
  'tableLatents',
  'tableTemperatures',
  'tableSeeds',
  'tableIterations',
  'validateEvery',
  'batch',
  'learningRate',
  'validationCount',
  'seed',
  'figures',
];

/** "τ = 1", or "no τ (CEM)" for `null`. */
function temperatureLabel(temperature: number | null): string {
  return temperature === null ? 'no τ (CEM)' : `τ = ${temperature}`;
}

/** The cost C(u; x₀) = −R of the embedding experiment for fixed initial states [B, 5]. */
function costFor(cartpole: Cartpole, x0: tf.Tensor) {
  return (u: tf.Tensor) => tf.neg(cartpoleReturnFused(cartpole, x0, u));
}

function meanOf(t: tf.Tensor): number {
  return tf.tidy(() => tf.mean(t).dataSync()[0] as number);
}

function checkSettings(s: CartpoleEmbedStudySettings): void {
  assertObject('settings', s);
  assertKnownOptions('settings option', s, SETTINGS_KEYS);
  assertInteger('settings.latent', s.latent, 1);
  assertInteger('settings.seeds', s.seeds, 1);
  assertInteger('settings.iterations', s.iterations, 0);
  assertInteger('settings.tableSeeds', s.tableSeeds, 1);
  assertInteger('settings.tableIterations', s.tableIterations, 0);
  assertInteger('settings.validationCount', s.validationCount, 1);
  assertInteger('settings.seed', s.seed, Number.MIN_SAFE_INTEGER);
  assertPositive('settings.learningRate', s.learningRate);
  assertTemperature('settings.temperature', s.temperature);
  if (!Array.isArray(s.tableTemperatures)) {
    throw new TypeError('settings.tableTemperatures must be an array of temperatures (numbers > 0 or null)');
  }
  s.tableTemperatures.forEach((t, i) => {
    assertTemperature(`settings.tableTemperatures[${i}]`, t);
  });
  if (!Array.isArray(s.tableLatents)) {
    throw new TypeError('settings.tableLatents must be an array of integers ≥ 1');
  }
  s.tableLatents.forEach((d, i) => {
    assertInteger(`settings.tableLatents[${i}]`, d, 1);
  });
}

/**
 * The cart-pole latent-action-embedding study of the DCEM paper (§5.2) as a
 * function: trains action decoders with Algorithm 2 ({@link trainLatentEmbedding})
 * for the main (latent, τ) and, with `table`, for every other cell of the
 * table; compares each best-validation latent DCEM controller with CEM over
 * the full control space (100 samples, 10 elites, 30 iterations) on the same
 * validation states (the improvement factor, the paper reports ≈ 1.08) and on
 * fresh test states; and computes the data of the figures. It prints and
 * writes nothing: `dcem cartpole-embed` shows its progress and writes what it
 * returns.
 *
 * Seeds: validation and test states, the baseline's noise, each run's test
 * noise and the figures' planners each draw from their own stream of
 * `deriveSeed` (`TASK_SEED_STREAMS.validationStates`, `testStates`, `baseline`,
 * `testPlan`, `figures`).
 *
 * @param settings See {@link CartpoleEmbedStudySettings}.
 * @param callbacks Optional log and progress callbacks.
 * @returns See {@link CartpoleEmbedStudyResult}.
 * @example
 * ```ts
 * const r = runCartpoleEmbedStudy({
 *   latent: 2, temperature: 1, seeds: 1, iterations: 300, table: false, tableLatents: [], tableTemperatures: [],
 *   tableSeeds: 1, tableIterations: 0, validateEvery: 100, batch: 1, learningRate: 5e-4,
 *   validationCount: 100, seed: 0,
 * }, { log: console.log });
 * console.log(r.mainFactor);
 * ```
 */
export function runCartpoleEmbedStudy(
  settings: CartpoleEmbedStudySettings,
  callbacks: CartpoleEmbedStudyCallbacks = {},
): CartpoleEmbedStudyResult {
  const s = settings;
  checkSettings(s);
  assertObject('callbacks', callbacks);
  assertOptionalFunctions(
    callbacks,
    ['log', 'onRunStart', 'onStep', 'onValidation', 'onRunEnd'],
    'callbacks.',
  );
  const log = callbacks.log ?? (() => {});
  const start = Date.now();
  const baseline = cartpoleEmbedBaseline(s, log);
  const jobs = cartpoleEmbedJobs(s);
  log(trainingLine(s, jobs.length));
  const runs: CartpoleEmbedRun[] = [];
  for (const [index, job] of jobs.entries()) {
    const p = job.spec.params;
    const label = `run ${index + 1}/${jobs.length} ${CARTPOLE_EMBED_RUN_JOB.describe(p)}`;
    callbacks.onRunStart?.({ index, count: jobs.length, label, iterations: p.iterations });
    const result = runCartpoleEmbedRun(p, {
      onStep: (step) => callbacks.onStep?.(index, step),
      onValidation: (v) => callbacks.onValidation?.(index, v),
    });
    const run = embedRun(job.group, p, result, baseline);
    runs.push(run);
    log(runLine(label, run));
    callbacks.onRunEnd?.(index, run);
  }
  return assembleCartpoleEmbedStudy(s, baseline, runs, { log, start });
}

/** The line that announces the training runs. */
function trainingLine(s: CartpoleEmbedStudySettings, count: number): string {
  return (
    `Training ${count} decoders (d → 256 → 256 → 256 → ${HORIZON}, Adam ${s.learningRate}, clip 1, batch ${s.batch}); ` +
    `latent DCEM: ${LATENT_SOLVER_DEFAULTS.numSamples} samples, ${LATENT_SOLVER_DEFAULTS.numElites} elites, ${LATENT_SOLVER_DEFAULTS.numIterations} iterations, σ₀ = ${LATENT_SOLVER_DEFAULTS.initStd}`
  );
}

/** A run's outcome as one line. */
function runLine(label: string, run: CartpoleEmbedRun): string {
  return (
    `${label}: best validation return ${(-run.bestValidationCost).toFixed(3)} at update ${run.bestIteration} ` +
    `(factor ${run.improvementFactor.toFixed(3)}), test return ${(-run.testCost).toFixed(3)} ` +
    `(factor ${run.testFactor.toFixed(3)}); ${run.seconds.toFixed(0)} s, ${run.msPerUpdate.toFixed(0)} ms/update incl. validation`
  );
}

/** The baseline of the cart-pole embedding study: full-space CEM's mean cost on its validation and test states. */
export interface CartpoleEmbedBaseline {
  validationCost: number;
  testCost: number;
  /** The solver's iterations on the validation states. */
  iterations: number;
}

/**
 * The baseline of the cart-pole embedding study: CEM over the full control
 * space (100 samples, 10 elites, 30 iterations, σ₀ = the force range) on the
 * study's validation and test states, with the noise streams
 * `deriveSeed(seed, TASK_SEED_STREAMS.baseline, 0 | 1)`.
 *
 * @param settings The study's settings (`seed` and `validationCount` matter).
 * @param log Optional: receives one line with the baseline's returns.
 * @returns The mean costs (−returns).
 * @example
 * ```ts
 * const b = cartpoleEmbedBaseline(settings);
 * console.log(-b.validationCost);
 * ```
 */
export function cartpoleEmbedBaseline(
  settings: CartpoleEmbedStudySettings,
  log: (line: string) => void = () => {},
): CartpoleEmbedBaseline {
  const s = settings;
  checkSettings(s);
  const cartpole = createCartpole();
  const { maxForce } = cartpole.params;
  const { validation, test } = studyStates(s.seed, s.validationCount);
  try {
    const full = (x0: tf.Tensor, seed: number) => {
      const r = planTrajectory({
        dynamics: cartpole,
        initialState: x0,
        controlCost: (x) => costFor(cartpole, x),
        planner: { horizon: HORIZON, solver: FULL_CEM, initStd: 0.5 * 2 * maxForce, seed },
      });
      const cost = meanOf(r.cost);
      const iterations = r.iterations;
      disposeTrajectoryPlan(r);
      return { cost, iterations };
    };
    const fullVal = full(validation, deriveSeed(s.seed, TASK_SEED_STREAMS.baseline, 0));
    const fullTest = full(test, deriveSeed(s.seed, TASK_SEED_STREAMS.baseline, 1));
    log(
      `Full-space CEM (${FULL_CEM.numSamples} samples, ${FULL_CEM.numElites} elites, ${FULL_CEM.numIterations} iterations, ` +
        `σ₀ = ${maxForce}): mean return ${(-fullVal.cost).toFixed(3)} on ${s.validationCount} validation states, ` +
        `${(-fullTest.cost).toFixed(3)} on ${s.validationCount} test states`,
    );
    return { validationCost: fullVal.cost, testCost: fullTest.cost, iterations: fullVal.iterations };
  } finally {
    tf.dispose([validation, test]);
  }
}

/** The validation and test states of a study seed. */
function studyStates(seed: number, count: number): { validation: tf.Tensor; test: tf.Tensor } {
  return {
    validation: sampleCartpoleStates(count, deriveSeed(seed, TASK_SEED_STREAMS.validationStates)),
    test: sampleCartpoleStates(count, deriveSeed(seed, TASK_SEED_STREAMS.testStates)),
  };
}

/**
 * The parameters of one training run of the cart-pole embedding study (a
 * job of kind `cartpole-embed-run`).
 */
export interface CartpoleEmbedRunParams {
  latent: number;
  /** τ, or null for vanilla CEM. */
  temperature: number | null;
  /** The run's seed (its name). */
  seed: number;
  iterations: number;
  /** The study's seed (validation and test states). */
  studySeed: number;
  validateEvery: number;
  batch: number;
  learningRate: number;
  validationCount: number;
}

/** What one training run computes (JSON: the checkpoint's weights are base64 float32, {@link encodeFloat32}). */
export interface CartpoleEmbedRunResult {
  bestValidationCost: number;
  bestIteration: number;
  /** The checkpoint's cost on fresh test states, with fresh noise. */
  testCost: number;
  seconds: number;
  trainCosts: number[];
  validations: { iteration: number; cost: number; learningRate: number }[];
  /** The best-validation checkpoint, one base64 text per decoder variable. */
  weights: string[];
  weightShapes: number[][];
}

/** A job of the cart-pole embedding study: its group and its specification. */
export interface CartpoleEmbedJob {
  group: 'main' | 'table';
  spec: JobSpec<CartpoleEmbedRunParams>;
}

/**
 * The training runs of the cart-pole embedding study, in its order: the
 * main study's seeds, then (with `table`) every other (latent, τ) cell.
 *
 * @param settings See {@link CartpoleEmbedStudySettings}.
 * @param backend The tfjs backend the runs use (part of their ids), if any.
 * @returns One job per run, of kind `cartpole-embed-run` ({@link CARTPOLE_EMBED_RUN_JOB}).
 * @example
 * ```ts
 * const jobs = cartpoleEmbedJobs(settings);
 * console.log(jobs.length);
 * ```
 */
export function cartpoleEmbedJobs(
  settings: CartpoleEmbedStudySettings,
  backend?: string,
): CartpoleEmbedJob[] {
  const s = settings;
  checkSettings(s);
  const common = {
    studySeed: s.seed,
    validateEvery: s.validateEvery,
    batch: s.batch,
    learningRate: s.learningRate,
    validationCount: s.validationCount,
  };
  const job = (group: 'main' | 'table', params: CartpoleEmbedRunParams): CartpoleEmbedJob => ({
    group,
    spec: {
      kind: CARTPOLE_EMBED_RUN_JOB.kind,
      version: CARTPOLE_EMBED_RUN_JOB.version,
      ...(backend !== undefined ? { backend } : {}),
      params,
    },
  });
  const jobs: CartpoleEmbedJob[] = [];
  for (let i = 0; i < s.seeds; i++) {
    jobs.push(
      job('main', {
        latent: s.latent,
        temperature: s.temperature,
        seed: s.seed + i,
        iterations: s.iterations,
        ...common,
      }),
    );
  }
  if (s.table) {
    for (const latent of s.tableLatents) {
      for (const temperature of s.tableTemperatures) {
        if (latent === s.latent && temperature === s.temperature) continue;
        for (let i = 0; i < s.tableSeeds; i++) {
          jobs.push(
            job('table', { latent, temperature, seed: s.seed + i, iterations: s.tableIterations, ...common }),
          );
        }
      }
    }
  }
  return jobs;
}

const RUN_KEYS = [
  'latent',
  'temperature',
  'seed',
  'iterations',
  'studySeed',
  'validateEvery',
  'batch',
  'learningRate',
  'validationCount',
];

function checkRun(p: unknown): CartpoleEmbedRunParams {
  assertObject('params', p);
  assertKnownOptions('cartpole-embed-run parameter', p, RUN_KEYS);
  const r = p as unknown as CartpoleEmbedRunParams;
  assertInteger('params.latent', r.latent, 1);
  assertTemperature('params.temperature', r.temperature);
  assertInteger('params.seed', r.seed, Number.MIN_SAFE_INTEGER);
  assertInteger('params.iterations', r.iterations, 0);
  assertInteger('params.studySeed', r.studySeed, Number.MIN_SAFE_INTEGER);
  assertInteger('params.validateEvery', r.validateEvery, 1);
  assertInteger('params.batch', r.batch, 1);
  assertPositive('params.learningRate', r.learningRate);
  assertInteger('params.validationCount', r.validationCount, 1);
  return { ...r };
}

/**
 * One training run of the cart-pole embedding study: trains a decoder with
 * Algorithm 2 ({@link trainLatentEmbedding}) and evaluates its
 * best-validation checkpoint on fresh test states with fresh noise.
 *
 * @param params The run ({@link cartpoleEmbedJobs} makes them).
 * @param callbacks Optional progress per update and per validation.
 * @returns The run's costs, curves and checkpoint (JSON).
 * @example
 * ```ts
 * const [job] = cartpoleEmbedJobs(settings);
 * const result = runCartpoleEmbedRun(job!.spec.params);
 * ```
 */
export function runCartpoleEmbedRun(
  params: CartpoleEmbedRunParams,
  callbacks: {
    onStep?: (step: LatentTrainingStep) => void;
    onValidation?: (validation: LatentValidation) => void;
  } = {},
): CartpoleEmbedRunResult {
  const p = checkRun(params);
  const cartpole = createCartpole();
  const { maxForce } = cartpole.params;
  const { validation, test } = studyStates(p.studySeed, p.validationCount);
  const decoder = createActionDecoder({
    latentDim: p.latent,
    horizon: HORIZON,
    lowerBound: -maxForce,
    upperBound: maxForce,
    seed: p.seed,
  });
  const runStart = Date.now();
  try {
    const solver = latentSolver(p.temperature);
    const r = trainLatentEmbedding(decoder, {
      iterations: p.iterations,
      sampleInitialStates: sampleCartpoleStates,
      cost: (x0) => costFor(cartpole, x0),
      validationStates: validation,
      planner: { solver },
      batchSize: p.batch,
      learningRate: p.learningRate,
      validateEvery: p.validateEvery,
      seed: p.seed,
      ...(callbacks.onStep !== undefined ? { onStep: callbacks.onStep } : {}),
      ...(callbacks.onValidation !== undefined ? { onValidation: callbacks.onValidation } : {}),
    });
    const seconds = (Date.now() - runStart) / 1000;
    // The checkpoint (restored by trainLatentEmbedding) on fresh test states with fresh noise.
    const t = planLatent(decoder, costFor(cartpole, test), p.validationCount, {
      solver: { ...solver, seed: deriveSeed(p.seed, TASK_SEED_STREAMS.testPlan) },
    });
    const testCost = meanOf(t.cost);
    disposeLatentPlanResult(t);
    return {
      bestValidationCost: r.best.cost,
      bestIteration: r.best.iteration,
      testCost,
      seconds,
      trainCosts: r.trainCosts,
      validations: r.validations.map(({ iteration, cost, learningRate }) => ({
        iteration,
        cost,
        learningRate,
      })),
      weights: r.bestWeights.map((w) => encodeFloat32(w)),
      weightShapes: decoder.variables.map((v) => [...v.shape]),
    };
  } finally {
    decoder.dispose();
    tf.dispose([validation, test]);
  }
}

/** A run of the study from its job and result, against the baseline. */
function embedRun(
  group: 'main' | 'table',
  p: CartpoleEmbedRunParams,
  r: CartpoleEmbedRunResult,
  baseline: CartpoleEmbedBaseline,
): CartpoleEmbedRun {
  return {
    latent: p.latent,
    temperature: p.temperature,
    seed: p.seed,
    iterations: p.iterations,
    group,
    horizon: HORIZON,
    bestValidationCost: r.bestValidationCost,
    bestIteration: r.bestIteration,
    improvementFactor: r.bestValidationCost / baseline.validationCost,
    testCost: r.testCost,
    testFactor: r.testCost / baseline.testCost,
    seconds: r.seconds,
    msPerUpdate: p.iterations > 0 ? (1000 * r.seconds) / p.iterations : 0,
    trainCosts: r.trainCosts,
    validations: r.validations,
    weights: r.weights.map((w) => decodeFloat32(w)),
    weightShapes: r.weightShapes,
  };
}

/**
 * The study's runs from its jobs' results (in the order of {@link cartpoleEmbedJobs}).
 *
 * @param jobs The study's jobs.
 * @param results Their results, in the same order.
 * @param baseline {@link cartpoleEmbedBaseline} of the study.
 * @returns The runs, with their improvement factors.
 * @example
 * ```ts
 * const runs = cartpoleEmbedRuns(jobs, results, cartpoleEmbedBaseline(settings));
 * ```
 */
export function cartpoleEmbedRuns(
  jobs: readonly CartpoleEmbedJob[],
  results: readonly CartpoleEmbedRunResult[],
  baseline: CartpoleEmbedBaseline,
): CartpoleEmbedRun[] {
  if (!Array.isArray(results) || results.length !== jobs.length) {
    throw new RangeError(
      `results must hold one result per job (${jobs.length}), received ${describeValue(results)}`,
    );
  }
  return jobs.map((job, i) =>
    embedRun(job.group, job.spec.params, results[i] as CartpoleEmbedRunResult, baseline),
  );
}

/**
 * The cart-pole embedding study's result from its runs: the table of
 * improvement factors, the main study's factor and the figures' data (the
 * best latent-2 run of the main study).
 *
 * @param settings The study's settings.
 * @param baseline {@link cartpoleEmbedBaseline} of the study.
 * @param runs The runs ({@link cartpoleEmbedRuns}).
 * @param options `log` receives the table as lines; `start` is the study's start time (ms) for its wall time.
 * @returns What {@link runCartpoleEmbedStudy} returns.
 * @example
 * ```ts
 * const result = assembleCartpoleEmbedStudy(settings, baseline, runs, { log: console.log });
 * ```
 */
export function assembleCartpoleEmbedStudy(
  settings: CartpoleEmbedStudySettings,
  baseline: CartpoleEmbedBaseline,
  runs: readonly CartpoleEmbedRun[],
  options: { log?: (line: string) => void; start?: number } = {},
): CartpoleEmbedStudyResult {
  const s = settings;
  checkSettings(s);
  const log = options.log ?? (() => {});
  const start = options.start ?? Date.now();
  let bestMain: CartpoleEmbedRun | undefined;
  for (const run of runs) {
    if (
      run.group === 'main' &&
      run.latent === 2 &&
      (bestMain === undefined || run.bestValidationCost < bestMain.bestValidationCost)
    ) {
      bestMain = run;
    }
  }
  // The table: mean (and range) of the improvement factor per (latent, τ).
  const cells = new Map<string, CartpoleEmbedRun[]>();
  for (const run of runs) {
    const key = `${run.latent}|${run.temperature}`;
    cells.set(key, [...(cells.get(key) ?? []), run]);
  }
  const table: CartpoleEmbedCell[] = [...cells.values()].map((group) => {
    const factors = group.map((r) => r.improvementFactor);
    const first = group[0] as CartpoleEmbedRun;
    return {
      latent: first.latent,
      temperature: first.temperature,
      factor: factors.reduce((a, b) => a + b, 0) / factors.length,
      low: Math.min(...factors),
      high: Math.max(...factors),
      testFactor: group.reduce((a, r) => a + r.testFactor, 0) / group.length,
      seeds: factors.length,
      iterations: first.iterations,
    };
  });
  const mainRuns = runs.filter((r) => r.group === 'main');
  const mainFactor = mainRuns.reduce((a, r) => a + r.improvementFactor, 0) / Math.max(1, mainRuns.length);
  const mainTestFactor = mainRuns.reduce((a, r) => a + r.testFactor, 0) / Math.max(1, mainRuns.length);
  log('');
  log(
    `Main study (d = ${s.latent}, ${temperatureLabel(s.temperature)}, ${mainRuns.length} seeds, ${s.iterations} updates): mean improvement ` +
      `factor ${mainFactor.toFixed(3)} on validation (bar: ≥ 0.95; paper ≈ 1.08), ${mainTestFactor.toFixed(3)} on test states`,
  );
  log('latent  τ             seeds  updates  improvement factor (validation)   test factor');
  for (const cell of table) {
    const range = cell.seeds > 1 ? ` [${cell.low.toFixed(3)}, ${cell.high.toFixed(3)}]` : '';
    log(
      `${String(cell.latent).padEnd(8)}${temperatureLabel(cell.temperature).padEnd(14)}${String(cell.seeds).padEnd(7)}` +
        `${String(cell.iterations).padEnd(9)}${`${cell.factor.toFixed(3)}${range}`.padEnd(34)}` +
        `${cell.testFactor.toFixed(3)}`,
    );
  }
  let figures: CartpoleEmbedFigures | undefined;
  if ((s.figures ?? true) && bestMain !== undefined) {
    const { validation, test } = studyStates(s.seed, s.validationCount);
    try {
      figures = latentFigures(createCartpole(), validation, bestMain, s.seed);
    } finally {
      tf.dispose([validation, test]);
    }
  }
  const seconds = (Date.now() - start) / 1000;
  log(`total ${(seconds / 60).toFixed(1)} min`);
  return {
    horizon: HORIZON,
    fullCem: {
      validationCost: baseline.validationCost,
      testCost: baseline.testCost,
      iterations: baseline.iterations,
    },
    runs: [...runs],
    table,
    mainFactor,
    mainTestFactor,
    ...(figures === undefined ? {} : { figures }),
    seconds,
  };
}

/**
 * The job kind `cartpole-embed-run`: one training run of the cart-pole
 * embedding study ({@link runCartpoleEmbedRun}).
 */
export const CARTPOLE_EMBED_RUN_JOB: JobKind<CartpoleEmbedRunParams, CartpoleEmbedRunResult> = Object.freeze({
  kind: 'cartpole-embed-run',
  version: 1,
  check: checkRun,
  describe: (p: CartpoleEmbedRunParams) => `d=${p.latent} ${temperatureLabel(p.temperature)} seed ${p.seed}`,
  run: (p: CartpoleEmbedRunParams, context: JobContext) =>
    runCartpoleEmbedRun(p, {
      onStep: (step) => context.onProgress?.(step.iteration / Math.max(1, p.iterations)),
    }),
});

/** The latent cost surface with the DCEM iterates, full-space vs latent iterates, and the animation's rollouts. */
function latentFigures(
  cartpole: Cartpole,
  validation: tf.Tensor,
  run: CartpoleEmbedRun,
  seed: number,
): CartpoleEmbedFigures {
  const { maxForce } = cartpole.params;
  const decoder = createActionDecoder({
    latentDim: 2,
    horizon: HORIZON,
    lowerBound: -maxForce,
    upperBound: maxForce,
    seed: run.seed,
  });
  const x0 = tf.slice(validation, [0, 0], [1, 5]);
  try {
    decoder.setWeights(run.weights);
    const cost = costFor(cartpole, x0);
    // Cost surface over z ∈ [−1, 1]².
    const size = 60;
    const step = 2 / size;
    const grid: [number, number][] = [];
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < size; j++) grid.push([-1 + (j + 0.5) * step, -1 + (i + 0.5) * step]);
    }
    const values = tf.tidy(() => Array.from(cost(decoder.decode(tf.tensor3d([grid]))).dataSync()));
    const surface = {
      size,
      step,
      points: grid.map(([x, y], k) => ({ x, y, cost: values[k] as number })),
    };
    const shown = [0, 3, 6, 9];
    const latentIterates: CartpoleEmbedFigures['latentIterates'] = [];
    const latentControls: ControlIterates[] = [];
    const latent = planLatent(decoder, cost, 1, {
      solver: {
        ...latentSolver(run.temperature),
        seed: deriveSeed(seed, TASK_SEED_STREAMS.figures, 0),
        onIteration: (info) => {
          if (!shown.includes(info.iteration)) return;
          const z = (info.samples.arraySync() as number[][][])[0] as number[][];
          latentIterates.push({
            iteration: info.iteration,
            points: z.map((p) => [p[0] as number, p[1] as number]),
          });
          const u = tf.tidy(() => decoder.decode(info.samples).arraySync() as number[][][][]);
          latentControls.push({
            iteration: info.iteration,
            sequences: (u[0] as number[][][]).map((seq) => seq.map((v) => v[0] as number)),
          });
        },
      },
    });
    const fullControls: ControlIterates[] = [];
    const fullPlan = planTrajectory({
      dynamics: cartpole,
      initialState: x0,
      controlCost: () => cost,
      planner: {
        horizon: HORIZON,
        initStd: maxForce,
        seed: deriveSeed(seed, TASK_SEED_STREAMS.figures, 1),
        solver: {
          ...FULL_CEM,
          onIteration: (info) => {
            if (!shown.includes(info.iteration)) return;
            // The samples are flat plans [1, N, H·m] (m = 1).
            const u = info.samples.arraySync() as number[][][];
            fullControls.push({
              iteration: info.iteration,
              sequences: (u[0] as number[][]).map((seq) => seq.slice()),
            });
          },
        },
      },
    });
    const latentReturn = -meanOf(latent.cost);
    const fullReturn = -meanOf(fullPlan.cost);
    disposeLatentPlanResult(latent);
    disposeTrajectoryPlan(fullPlan);
    // The latent planner's plans from six validation states, rolled out.
    const count = Math.min(6, validation.shape[0] as number);
    const starts = tf.slice(validation, [0, 0], [count, 5]);
    const planned = planLatent(decoder, costFor(cartpole, starts), count, {
      solver: { ...latentSolver(run.temperature), seed: deriveSeed(seed, TASK_SEED_STREAMS.figures, 2) },
    });
    try {
      const states = tf.tidy(() => rollout(cartpole, starts, planned.controls).arraySync() as number[][][]);
      const controls = (planned.controls.arraySync() as number[][][]).map((row) =>
        row.map((u) => u[0] as number),
      );
      const returns = Array.from(planned.cost.dataSync(), (c) => -c);
      return {
        run: { latent: run.latent, temperature: run.temperature, seed: run.seed },
        surface,
        latentIterates,
        latentControls,
        fullControls,
        latentReturn,
        fullReturn,
        animation: { states, controls, returns },
      };
    } finally {
      starts.dispose();
      disposeLatentPlanResult(planned);
    }
  } finally {
    x0.dispose();
    decoder.dispose();
  }
}
