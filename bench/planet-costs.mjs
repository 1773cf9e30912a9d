#!/usr/bin/env node
// What each step of the DCEM paper's locomotion experiment costs on this
// machine (bench/README.md, "What the PlaNet experiment costs"): PlaNet's
// world model at PlaNet's sizes (@dcem/tasks/planet) for one task, on one
// tfjs backend. Times the medians of a few runs of each step the online loop
// (runPlanet), PPO (runPlanetPpo) and the comparison (runPlanetComparison)
// repeat, then derives from them what an episode, a PPO step and the paper's
// whole run cost.
//
//   node bench/planet-costs.mjs [--env cartpole-swingup] [--backend wasm]
//                               [--repeats 5] [--warmup 1] [--json]
//                               [--ppo-minibatch derive|time] [--tiny]
//
// Needs `pnpm build`. Prints the machine facts, a table of the measured
// steps and a table of the derived costs (markdown, on stdout); with --json
// also one JSON line per measured step and per derived cost.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, peakRss, timed } from './timing.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');

/** The paper's fixed counts: about 2 M environment steps of 1000-step episodes, 10 episodes per PPO step, 100 evaluation episodes per planner. */
export const PAPER = Object.freeze({
  environmentSteps: 2_000_000,
  controlStepsPerEpisode: 1000,
  evaluationEpisodes: 100,
});

const BACKENDS = ['wasm', 'cpu', 'webgpu', 'tensorflow', 'tensorflow-gpu'];
const MINIBATCH_MODES = ['derive', 'time'];

/**
 * Reads the options; every error names the option and the value. `tasks`:
 * the valid `--env` values; `assertKnownOptions`: @dcem/errors' check (its
 * did-you-mean message for an unknown option).
 */
export function parseArgs(argv, tasks, assertKnownOptions) {
  const opts = {
    env: 'cartpole-swingup',
    backend: 'wasm',
    repeats: 5,
    warmup: 1,
    json: false,
    tiny: false,
    ppoMinibatch: 'derive',
  };
  const known = [
    '--env',
    '--backend',
    '--repeats',
    '--warmup',
    '--json',
    '--tiny',
    '--ppo-minibatch',
    '--help',
  ];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new RangeError(`${arg} needs a value`);
      return v;
    };
    const int = (min) => {
      const raw = value();
      const v = Number(raw);
      if (!Number.isInteger(v) || v < min) {
        throw new RangeError(`${arg} must be an integer ≥ ${min}, received ${JSON.stringify(raw)}`);
      }
      return v;
    };
    const oneOf = (valid) => {
      const v = value();
      if (!valid.includes(v)) {
        throw new RangeError(`${arg} must be one of ${valid.join(', ')}, received ${JSON.stringify(v)}`);
      }
      return v;
    };
    switch (arg) {
      case '--env':
        opts.env = oneOf(tasks);
        break;
      case '--backend':
        opts.backend = oneOf(BACKENDS);
        break;
      case '--repeats':
        opts.repeats = int(1);
        break;
      case '--warmup':
        opts.warmup = int(0);
        break;
      case '--json':
        opts.json = true;
        break;
      case '--tiny':
        opts.tiny = true;
        break;
      case '--ppo-minibatch':
        opts.ppoMinibatch = oneOf(MINIBATCH_MODES);
        break;
      case '--help':
      case '-h':
        opts.help = true;
        break;
      default:
        assertKnownOptions('planet-costs option', { [arg.split('=')[0]]: true }, known);
        throw new RangeError(`${arg}: give the value after a space (${arg.split('=')[0]} VALUE)`);
    }
  }
  return opts;
}

function load(path) {
  if (!existsSync(path)) {
    console.error(`planet-costs: ${path} is missing; run \`pnpm build\` first`);
    process.exit(1);
  }
  return import(path);
}

function gitCommit() {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

const round = (x, digits = 1) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** Bytes in MiB or GiB for people ('–' for null). */
export function gb(bytes) {
  if (bytes === null) return '–';
  return bytes < 2 ** 30 ? `${round(bytes / 2 ** 20, 1)} MiB` : `${round(bytes / 2 ** 30, 2)} GiB`;
}

/** A duration in ms for people: ms, s, min, h or days. */
export function human(ms) {
  const s = ms / 1000;
  if (s < 1) return `${round(ms, 1)} ms`;
  if (s < 120) return `${round(s, 2)} s`;
  if (s < 7200) return `${round(s / 60, 1)} min`;
  if (s < 3 * 86400) return `${round(s / 3600, 1)} h`;
  return `${round(s / 86400, 1)} days`;
}

async function main() {
  const tfjsDir = join(root, 'packages', 'tfjs');
  const mujoco = await load(join(root, 'packages', 'mujoco', 'dist', 'index.js'));
  const errors = await load(join(root, 'packages', 'errors', 'dist', 'index.js'));
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2), mujoco.TASK_NAMES, errors.assertKnownOptions);
  } catch (e) {
    console.error(`planet-costs: ${e.message}`);
    process.exit(2);
  }
  if (opts.help) {
    console.log(
      readFileSync(fileURLToPath(import.meta.url), 'utf8')
        .split('\n')
        .slice(1, 16)
        .join('\n'),
    );
    return;
  }
  const requireFromTfjs = createRequire(join(tfjsDir, 'package.json'));
  const tf = requireFromTfjs('@tensorflow/tfjs');
  requireFromTfjs('@tensorflow/tfjs-backend-wasm');
  const api = await load(join(tfjsDir, 'dist', 'index.js'));
  const tasks = await load(join(root, 'packages', 'tasks', 'dist', 'index.js'));
  const planet = await load(join(root, 'packages', 'tasks', 'dist', 'planet', 'index.js'));
  if (opts.backend === 'cpu' || opts.backend === 'wasm') {
    if (!(await tf.setBackend(opts.backend))) throw new Error(`tf.setBackend('${opts.backend}') failed`);
  } else {
    await api.useBackend(opts.backend, tf);
  }
  await tf.ready();
  tf.env().set('PROD', true);

  const loadBefore = loadavg();
  const commit = gitCommit();
  const started = performance.now();

  // ------------------------------------------------------------------------
  // The settings: the planet settings' defaults (PlaNet's), the task's sizes
  // from @dcem/mujoco. --tiny shrinks every size (for the smoke test).
  // ------------------------------------------------------------------------
  const tiny = opts.tiny;
  const model = tiny ? { deterministic: 8, stochastic: 4, hidden: 8 } : {};
  const small = tiny
    ? { batchSize: 2, sequenceLength: 5, horizon: 3, model, steps: 10, updatesPerEpisode: 100 }
    : { model };
  const base = planet.resolvePlanetSettings({ env: opts.env, ...small });
  const latentRun = planet.resolvePlanetSettings({
    env: opts.env,
    ...small,
    planner: 'latent',
    ...(tiny ? { samples: 10, elites: 2, iterations: 2, latent: { hiddenSizes: [8], batchSize: 2 } } : {}),
  });
  const fullPlan = tiny
    ? planet.planetPlannerConfig('cem', { horizon: base.plan.horizon, samples: 20, elites: 4, iterations: 2 })
    : base.plan;
  const icemPlan = planet.planetPlannerConfig('icem', {
    horizon: base.plan.horizon,
    samples: tiny ? 20 : 100,
    iterations: tiny ? 2 : 10,
  });
  const latentPlan = latentRun.plan;
  const latent = latentRun.latent;
  // The PPO phase's defaults (PLANET_PPO_DEFAULTS over PPO_DEFAULTS).
  const ppo = planet.resolvePlanetPpoSettings(tiny ? { valueHidden: 8, episodesPerStep: 10 } : {}, base);
  const probe = await mujoco.makeEnv(opts.env, { seed: 0, actionRepeat: base.actionRepeat });
  const O = probe.observationSize;
  const A = probe.actionDim;
  const first = probe.reset();

  const rssm = planet.createRssm({ observationSize: O, actionSize: A, ...base.model }, 0);
  const adam = planet.createAdam(rssm.variables, {
    learningRate: base.learningRate,
    epsilon: base.adamEpsilon,
  });
  // A synthetic replay buffer of the run's sizes: the seed episodes' count of
  // full episodes (steps + 1 rows each), seeded draws.
  const replay = new planet.ReplayBuffer(O, A);
  const rows = base.steps + 1;
  let draw = 1;
  const uniform = (n, lo, hi) => {
    const t = tf.randomUniform([n], lo, hi, 'float32', draw++);
    const v = t.dataSync().slice();
    t.dispose();
    return v;
  };
  for (let e = 0; e < base.seedEpisodes; e++) {
    replay.addEpisode({
      observations: uniform(rows * O, -1, 1),
      actions: uniform(rows * A, -1, 1),
      rewards: uniform(rows, 0, 1),
    });
  }

  const measured = [];
  /** Times `fn` (warm-up runs first), checks no tensor leaked, and records the median. */
  const measure = async (key, what, fn, { repeats = opts.repeats, per = 1 } = {}) => {
    // Tensors are counted after the first run (a planner keeps its state from then on).
    // The first warm-up run is profiled: the peak of the bytes of live tensors above those before it.
    let peakTensorBytes = null;
    let before;
    for (let i = 0; i < opts.warmup; i++) {
      if (i === 0) {
        const bytes = tf.memory().numBytes;
        const { peakBytes } = await tf.profile(fn);
        // tf.profile reports -Infinity where no kernel ran (the environment step).
        peakTensorBytes = Number.isFinite(peakBytes) ? Math.max(0, peakBytes - bytes) : 0;
      } else fn();
      before ??= tf.memory().numTensors;
    }
    const times = [];
    for (let r = 0; r < repeats; r++) {
      times.push(timed(fn) / per);
      before ??= tf.memory().numTensors;
    }
    const leaked = tf.memory().numTensors - before;
    if (leaked !== 0) {
      throw new Error(`planet-costs: ${key} leaked ${leaked} tensors over ${opts.warmup + repeats - 1} runs`);
    }
    const row = {
      kind: 'measured',
      key,
      what,
      ms: round(median(times), 3),
      ms_min: round(Math.min(...times), 3),
      repeats,
      peak_tensor_bytes: peakTensorBytes,
    };
    measured.push(row);
    if (opts.json) console.log(JSON.stringify(row));
    return row.ms;
  };

  const env = await mujoco.makeEnv(opts.env, { seed: 1, actionRepeat: base.actionRepeat });
  const decoders = [];
  const agents = [];
  let learnerSample;
  let learnerMinibatch;
  const valueVars = [];
  try {
    // 1. One model update (runPlanet's runUpdates: sample, tensors, trainStep).
    let u = 0;
    const update = () => {
      const data = replay.sample(base.batchSize, base.sequenceLength, u);
      const batch = planet.sequenceBatchTensors(data);
      try {
        planet.trainStep(rssm, adam, batch, u, { freeNats: base.freeNats, clipNorm: base.clipNorm });
      } finally {
        tf.dispose([batch.observations, batch.actions, batch.rewards]);
      }
      u++;
    };
    const tUpdate = await measure(
      'update',
      `one model update, B = ${base.batchSize}, L = ${base.sequenceLength} (replay sample, trainStep)`,
      update,
    );

    // 2. One decision from one filtered state, per planner (createPlanetAgent's act).
    const agentFor = (plan, decoder) => {
      const agent = planet.createPlanetAgent(rssm, {
        plan,
        plannerSeed: 1,
        filterSeed: 2,
        imagination: base.imagination,
        filter: base.filter,
        ...(decoder === undefined ? {} : { decoder }),
      });
      agents.push(agent);
      agent.observe(new Float32Array(A), first);
      return agent;
    };
    const decoder = planet.createPlanetDecoder(rssm, latentPlan.horizon, latent, 0);
    decoders.push(decoder);
    const budget = (p) =>
      `${p.samples} samples, ${p.elites} elites, ${p.iterations} iterations, H = ${p.horizon}`;
    const cem = agentFor(fullPlan);
    const tCem = await measure('decision_full_cem', `one decision, full CEM (${budget(fullPlan)})`, () =>
      cem.act(),
    );
    const icem = agentFor(icemPlan);
    const tIcem = await measure('decision_icem', `one decision, icem preset (${budget(icemPlan)})`, () =>
      icem.act(),
    );
    const lat = agentFor(latentPlan, decoder);
    const tLatent = await measure(
      'decision_latent',
      `one decision, latent DCEM (${budget(latentPlan)}, τ = ${latentPlan.solver.temperature}, d = ${latent.dim}, decoder ${latent.hiddenSizes.join('×')})`,
      () => lat.act(),
    );

    // 3. One decoder step of phase 2 (runPlanet's decoderStep: replay posterior states, planetDecoderStep).
    const decoderAdam = planet.createAdam(decoder.variables, {
      learningRate: latent.learningRate,
      epsilon: latent.adamEpsilon,
    });
    let d = 0;
    const tDecoder = await measure(
      'decoder_step',
      `one decoder step (replayPosteriorStates of ${latent.batchSize} × ${base.sequenceLength} rows, planetDecoderStep through DCEM)`,
      () => {
        const start = planet.replayPosteriorStates(
          rssm,
          replay,
          latent.batchSize,
          base.sequenceLength,
          d,
          base.filter,
        );
        try {
          planet.planetDecoderStep(rssm, decoder, decoderAdam, start, {
            plan: latentPlan,
            seed: d,
            imagination: base.imagination,
            clipNorm: latent.clipNorm,
          });
        } finally {
          tf.dispose([start.h, start.s]);
        }
        d++;
      },
    );
    decoderAdam.dispose();

    // 4. PPO (ppo-planet.ts): the controller is latent DCEM from the RSSM state,
    // the value head an MLP of two hidden layers on [h, s]; PPO trains the
    // decoder, the reward module and the value head.
    const { deterministic: D, stochastic: S } = rssm.sizes;
    const widths = [D + S, ppo.valueHidden, ppo.valueHidden, 1];
    for (let l = 0; l + 1 < widths.length; l++) {
      const limit = Math.sqrt(6 / (widths[l] + widths[l + 1]));
      valueVars.push(
        tf.tidy(() =>
          tf.variable(tf.randomUniform([widths[l], widths[l + 1]], -limit, limit, 'float32', 50 + l)),
        ),
        tf.variable(tf.zeros([widths[l + 1]])),
      );
    }
    const valueHead = (state) =>
      tf.tidy(() => {
        let x = tf.concat([state.h, state.s], 1);
        for (let l = 0; l < 3; l++) {
          x = api.dense(x, valueVars[2 * l], valueVars[2 * l + 1], { activation: l < 2 ? 'relu' : 'linear' });
        }
        return tf.reshape(x, [-1]);
      });
    const controller = (state, seed) => {
      const n = state.h.shape[0];
      const r = tasks.planLatent(decoder, planet.planetLatentCost(rssm, state, seed, base.imagination), n, {
        solver: { ...latentPlan.solver, seed },
      });
      const mean = tf.reshape(tf.slice(r.controls, [0, 0, 0], [n, 1, A]), [n, A]);
      tf.dispose([r.latent, r.cost, r.controls]);
      return { mean, value: valueHead(state) };
    };
    const rewardVars = rssm.variables.filter((_, i) => rssm.variableNames[i].startsWith('reward.'));
    const filtered = lat.state;
    const statesOf = (n) =>
      tf.tidy(() => ({ h: tf.tile(filtered.h, [n, 1]), s: tf.tile(filtered.s, [n, 1]) }));
    const makeLearner = (minibatchSize) =>
      planet.createPpoLearner({
        ...ppo.ppo,
        passes: 1,
        minibatchSize,
        variables: [...decoder.variables, ...rewardVars, ...valueVars],
        actionSize: A,
        forward: (indices) => {
          const state = statesOf(indices.length);
          try {
            return controller(state, 7);
          } finally {
            tf.dispose([state.h, state.s]);
          }
        },
      });
    const ppoBatch = (n) => ({
      actions: uniform(n * A, -1, 1),
      logProbs: uniform(n, -3, -1),
      advantages: uniform(n, -1, 1),
      returns: uniform(n, 0, 10),
    });
    learnerSample = makeLearner(1);
    const oneSample = ppoBatch(2);
    const tPpoSample = await measure(
      'ppo_sample',
      'PPO: the gradient step of one sample re-planned under the tape (latent DCEM, value head, clipped loss, Adam)',
      () => learnerSample.update(oneSample, 3),
      { per: 2 },
    );
    const M = ppo.ppo.minibatchSize;
    let tPpoMinibatch;
    if (opts.ppoMinibatch === 'time') {
      learnerMinibatch = makeLearner(M);
      const batch = ppoBatch(M);
      tPpoMinibatch = await measure(
        'ppo_minibatch',
        `PPO: the gradient step of one minibatch of ${M} samples under the tape`,
        () => learnerMinibatch.update(batch, 3),
      );
    }
    // PPO's collection: one lockstep agent step of the E episodes, planned and filtered as one batch (no tape).
    const E = ppo.episodesPerStep;
    const states = statesOf(E);
    const obsE = tf.tensor2d(new Float32Array(E * O).fill(0.1), [E, O]);
    const actE = tf.tensor2d(new Float32Array(E * A), [E, A]);
    const noiseE = tf.zeros([E, S]);
    let c = 0;
    const tCollect = await measure(
      'ppo_collect_step',
      `PPO collection: one agent step of ${E} episodes in lockstep (controller and value on ${E} states, action draws, filtering ${E} rows)`,
      () => {
        const { mean, value } = tf.tidy(() => controller(states, c));
        try {
          learnerSample.sample(mean, c++);
          value.dataSync();
        } finally {
          tf.dispose([mean, value]);
        }
        const next = tf.tidy(() => {
          const r = rssm.observeStep(states, actE, obsE, noiseE);
          return [r.state.h, r.state.s];
        });
        tf.dispose(next);
      },
    );
    tf.dispose([states.h, states.s, obsE, actE, noiseE]);

    // 5. Filtering one real observation (createPlanetAgent's observe).
    const action = new Float32Array(A).fill(0.1);
    const tFilter = await measure('filter', 'filtering one real observation (observeStep of the agent)', () =>
      cem.observe(action, first),
    );

    // 6. One agent step of the environment (action repeat control steps of MuJoCo).
    env.reset();
    let envSteps = 0;
    const tEnv = await measure(
      'env_step',
      `one agent step of the environment (${base.actionRepeat} control steps of MuJoCo)`,
      () => {
        if (envSteps++ % base.steps === 0) env.reset();
        env.step(action);
      },
      { repeats: Math.max(opts.repeats, 20) },
    );

    // ----------------------------------------------------------------------
    // Derived: products and sums of the measured medians.
    // ----------------------------------------------------------------------
    const T = base.steps;
    const C = base.updatesPerEpisode;
    const episodes = PAPER.environmentSteps / PAPER.controlStepsPerEpisode;
    const samples = E * T;
    const derived = [];
    const derive = (key, what, formula, ms) => {
      const row = { kind: 'derived', key, what, formula, ms: round(ms, 3) };
      derived.push(row);
      if (opts.json) console.log(JSON.stringify(row));
      return ms;
    };
    const step = (tDecision) => tDecision + tFilter + tEnv;
    const ep1Cem = derive(
      'phase1_episode_full_cem',
      'phase 1 episode, full CEM',
      `${T} × (decision_full_cem + filter + env_step) + ${C} × update`,
      T * step(tCem) + C * tUpdate,
    );
    const ep1Icem = derive(
      'phase1_episode_icem',
      'phase 1 episode, icem at a tenth',
      `${T} × (decision_icem + filter + env_step) + ${C} × update`,
      T * step(tIcem) + C * tUpdate,
    );
    const ep2 = derive(
      'phase2_episode',
      'phase 2 episode, latent DCEM, decoder trained online',
      `${T} × (decision_latent + filter + env_step) + ${C} × (update + decoder_step)`,
      T * step(tLatent) + C * (tUpdate + tDecoder),
    );
    const full = Math.floor(samples / M);
    const rest = samples - full * M;
    if (tPpoMinibatch === undefined) {
      derive('ppo_minibatch', `PPO: one minibatch of ${M} samples`, `${M} × ppo_sample`, M * tPpoSample);
    }
    const ppoUpdate =
      tPpoMinibatch === undefined
        ? derive(
            'ppo_update',
            `PPO update: ${ppo.ppo.passes} passes over ${samples} samples (${E} × ${T})`,
            `${ppo.ppo.passes} × ${samples} × ppo_sample`,
            ppo.ppo.passes * samples * tPpoSample,
          )
        : derive(
            'ppo_update',
            `PPO update: ${ppo.ppo.passes} passes over ${samples} samples (${E} × ${T}) in minibatches of ${M}`,
            `${ppo.ppo.passes} × (${full} × ppo_minibatch + ${rest} × ppo_sample)`,
            ppo.ppo.passes * (full * tPpoMinibatch + rest * tPpoSample),
          );
    const ppoCollect = derive(
      'ppo_collect',
      `PPO collection: ${E} episodes of ${T} steps in lockstep`,
      `${T} × (ppo_collect_step + ${E} × env_step)`,
      T * (tCollect + E * tEnv),
    );
    const ppoStep = derive('ppo_step', 'one PPO step', 'ppo_collect + ppo_update', ppoCollect + ppoUpdate);
    const evalCem = derive(
      'compare_episode_full_cem',
      'comparison episode, full CEM',
      `${T} × (decision_full_cem + filter + env_step)`,
      T * step(tCem),
    );
    const evalLatent = derive(
      'compare_episode_latent',
      'comparison episode, latent DCEM (latent-ppo the same)',
      `${T} × (decision_latent + filter + env_step)`,
      T * step(tLatent),
    );
    const evalIcem = derive(
      'compare_episode_icem',
      'comparison episode, icem at the latent budget',
      `${T} × (decision_icem + filter + env_step)`,
      T * step(tIcem),
    );
    const Ne = PAPER.evaluationEpisodes;
    derive(
      'compare_all',
      `comparison, ${Ne} episodes each of full CEM, latent, latent + PPO, icem`,
      `${Ne} × (compare_episode_full_cem + 2 × compare_episode_latent + compare_episode_icem)`,
      Ne * (evalCem + 2 * evalLatent + evalIcem),
    );
    const seeds = base.seedEpisodes;
    const seedEpisode = T * tEnv;
    derive(
      'paper_phase1_full_cem',
      `phase 1 for the paper's ${episodes} episodes (2 M environment steps; ${seeds} seed episodes of random actions), full CEM`,
      `${seeds} × ${T} × env_step + ${episodes - seeds} × phase1_episode_full_cem`,
      seeds * seedEpisode + (episodes - seeds) * ep1Cem,
    );
    derive(
      'paper_phase1_icem',
      `phase 1 for the paper's ${episodes} episodes, icem at a tenth`,
      `${seeds} × ${T} × env_step + ${episodes - seeds} × phase1_episode_icem`,
      seeds * seedEpisode + (episodes - seeds) * ep1Icem,
    );
    derive(
      'paper_phase2',
      `phase 2 for the paper's ${episodes} episodes`,
      `${episodes} × phase2_episode`,
      episodes * ep2,
    );
    derive(
      'paper_ppo',
      `PPO for the paper's ${episodes} episodes (${episodes / E} PPO steps)`,
      `${episodes / E} × ppo_step`,
      (episodes / E) * ppoStep,
    );

    // ----------------------------------------------------------------------
    // Output
    // ----------------------------------------------------------------------
    const loadAfter = loadavg();
    const facts = {
      kind: 'facts',
      env: opts.env,
      backend: tf.getBackend(),
      tiny,
      observation_size: O,
      action_size: A,
      action_repeat: base.actionRepeat,
      agent_steps_per_episode: T,
      updates_per_episode: C,
      model: rssm.sizes,
      ppo: { episodes_per_step: E, passes: ppo.ppo.passes, minibatch_size: M, value_hidden: ppo.valueHidden },
      dcem_threads_env: process.env.DCEM_THREADS ?? null,
      threads: typeof api.threads === 'function' ? api.threads() : null,
      cores: cpus().length,
      loadavg_before: loadBefore.map((x) => round(x, 2)),
      loadavg_after: loadAfter.map((x) => round(x, 2)),
      node: process.version,
      commit,
      peak_rss_bytes: peakRss(),
      wall_s: round((performance.now() - started) / 1000, 1),
      repeats: opts.repeats,
      warmup: opts.warmup,
    };
    if (opts.json) console.log(JSON.stringify(facts));
    const out = [];
    out.push(
      `## What the PlaNet experiment costs: ${opts.env} on tfjs-${facts.backend}${tiny ? ' (--tiny sizes)' : ''}`,
    );
    out.push('');
    out.push(
      `Model D = ${rssm.sizes.deterministic}, S = ${rssm.sizes.stochastic}, hidden ${rssm.sizes.hidden}; ` +
        `observation ${O}, action ${A}, action repeat ${base.actionRepeat} (${T} agent steps per episode), ` +
        `${C} updates per episode. PPO defaults (PLANET_PPO_DEFAULTS over PPO_DEFAULTS): ${E} episodes per step, ` +
        `${ppo.ppo.passes} passes, minibatches of ${M}, value head ${ppo.valueHidden}.`,
    );
    out.push(
      `Machine: ${facts.cores} cores, node ${facts.node}, commit ${facts.commit ?? 'unknown'}, ` +
        `DCEM_THREADS=${facts.dcem_threads_env ?? 'unset'}, matMul/dense threads ${facts.threads ?? 'unknown'}, ` +
        `load average before ${facts.loadavg_before.join(' ')}, after ${facts.loadavg_after.join(' ')}; ` +
        `median of ${opts.repeats} runs after ${opts.warmup} warm-up (env_step: ${Math.max(opts.repeats, 20)}); ` +
        `${facts.wall_s} s and ${gb(facts.peak_rss_bytes)} of peak RSS in all.`,
    );
    out.push('');
    out.push('| measured | median | min | peak tensors | what |');
    out.push('|---|---|---|---|---|');
    for (const r of measured) {
      out.push(`| ${r.key} | ${human(r.ms)} | ${human(r.ms_min)} | ${gb(r.peak_tensor_bytes)} | ${r.what} |`);
    }
    out.push('');
    out.push(
      'Derived (sums and products of the measured medians; the counts are the settings and the paper):',
    );
    out.push('');
    out.push('| derived | time | formula | what |');
    out.push('|---|---|---|---|');
    for (const r of derived) out.push(`| ${r.key} | ${human(r.ms)} | ${r.formula} | ${r.what} |`);
    console.log(out.join('\n'));
  } finally {
    for (const a of agents) a.dispose();
    for (const dec of decoders) dec.dispose();
    learnerSample?.dispose();
    learnerMinibatch?.dispose();
    tf.dispose(valueVars);
    adam.dispose();
    rssm.dispose();
    env.dispose();
    probe.dispose();
    api.closeThreads?.();
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
