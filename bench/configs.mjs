// The five benchmark configurations of the PyTorch comparison
// (bench/torch_compare.py, the reference's benchmark protocol), written with
// TensorFlow.js ops and the built @dcem/tfjs package.
//
// Each builder returns { params, loss, info }: `loss(params)` is the scalar
// the reference times (forward), and the benchmark differentiates it with
// respect to `params` (forward + backward). Shapes and solver settings are
// those of bench/README.md ("Configurations"); random inputs come from seeded
// tfjs generators, so the numbers differ from PyTorch's draws but the work
// is the same.

/** Names in the reference's order, then ours without a PyTorch counterpart. */
export const CONFIGS = [
  'lml_small',
  'lml_large',
  'sparse_top_k',
  'dcem_quadratic',
  'dcem_regression',
  'dcem_cartpole_embed',
  'planet_imagine',
  'planet_update',
];

/**
 * Configs torch_compare.py does not have (PyTorch has no sparse soft top-k):
 * `--torch` times only ours for them.
 */
export const WITHOUT_TORCH = ['sparse_top_k'];

/** Iterations every DCEM config must run (the reference never exits early on them). */
export const DCEM_ITERATIONS = 10;

/**
 * `sparseTopK` of @dcem/tfjs on the inputs of `lml_large` (the same seeds,
 * shape and k; τ = 1), to time it next to LML.
 */
function sparseTopKConfig(tf, api, shape, k) {
  return () => {
    const x = tf.randomNormal(shape, 0, 1, 'float32', 11);
    const w = tf.randomNormal(shape, 0, 1, 'float32', 12);
    const loss = ([xx]) => tf.sum(tf.mul(api.sparseTopK(xx, k), w));
    return { params: [x], loss, owned: [x, w], info: { shape, k, temperature: 1 } };
  };
}

function lmlConfig(tf, api, shape, k) {
  return () => {
    const x = tf.randomNormal(shape, 0, 1, 'float32', 11);
    const w = tf.randomNormal(shape, 0, 1, 'float32', 12);
    // The reference's LML defaults: eps 1e-4 on the bracket of ν, 100 rounds
    // at most. Ours: the library defaults (a fixed number of Newton steps).
    const loss = ([xx]) => tf.sum(tf.mul(api.lml(xx, k), w));
    return { params: [x], loss, owned: [x, w], info: { shape, k } };
  };
}

/** PyTorch's default nn.Linear init: weight and bias ~ U(−1/√fan_in, 1/√fan_in); weight [in, out]. */
function torchLinear(tf, fanIn, fanOut, seed) {
  const bound = 1 / Math.sqrt(fanIn);
  return {
    w: tf.randomUniform([fanIn, fanOut], -bound, bound, 'float32', seed),
    b: tf.randomUniform([fanOut], -bound, bound, 'float32', seed + 1),
  };
}

/**
 * The dense layer of the MLP objectives, act(x·W + b) with act 'linear' or
 * 'softplus'. 'plain': tf.matMul plus the bias (then tf.softplus), as a user
 * who knows only tfjs writes it. 'library': `dense` of @dcem/tfjs, the same
 * values with a backward pass that transposes explicitly (tfjs's own matMul
 * gradient asks for transposed products, which the wasm backend runs
 * several times slower); builds that have thread controls (`setThreads`, or
 * `setMatMulThreads` before it was renamed) also take the
 * activation (one threaded kernel for product, bias and activation).
 */
function denseFor(tf, api, objectives) {
  if (objectives === 'library') {
    if (typeof (api.setThreads ?? api.setMatMulThreads) === 'function')
      return (x, w, b, activation = 'linear') => api.dense(x, w, b, { activation });
    return (x, w, b, activation = 'linear') => {
      const z = api.dense(x, w, b);
      return activation === 'softplus' ? tf.softplus(z) : z;
    };
  }
  return (x, w, b, activation = 'linear') => {
    const z = tf.add(tf.matMul(x, w), b);
    return activation === 'softplus' ? tf.softplus(z) : z;
  };
}

/**
 * dcem_quadratic's problem, shared by its tfjs and jax (bench/jax.mjs)
 * versions: the DCEM settings (B = 64 rows of nx = 32, N = 100, K = 10) and
 * the seeded tfjs draws of its inputs, q ~ U(0.5, 1.5), p and the loss
 * weights w ~ N(0, 1), each [B, nx].
 */
export const QUADRATIC_DCEM_OPTIONS = Object.freeze({
  dim: 32,
  batchSize: 64,
  numSamples: 100,
  numElites: 10,
  numIterations: DCEM_ITERATIONS,
  temperature: 1,
  normalize: true,
  initStd: 1,
  tolerance: 1e-4,
  seed: 0,
});

/** The inputs of dcem_quadratic (see {@link QUADRATIC_DCEM_OPTIONS}) and the `info` of its rows. */
export function quadraticInputs(tf) {
  const { batchSize: B, dim: nx, numSamples, numElites } = QUADRATIC_DCEM_OPTIONS;
  return {
    q: tf.add(tf.randomUniform([B, nx], 0, 1, 'float32', 11), 0.5),
    p: tf.randomNormal([B, nx], 0, 1, 'float32', 1),
    w: tf.randomNormal([B, nx], 0, 1, 'float32', 2),
    info: { n_batch: B, nx, n_sample: numSamples, n_elite: numElites },
  };
}

function buildQuadratic(tf, api) {
  const { batchSize: B, dim: nx } = QUADRATIC_DCEM_OPTIONS;
  const { q, p, w, info } = quadraticInputs(tf);
  const q3 = tf.reshape(q, [B, 1, nx]);
  const loss = ([pp]) => {
    const p3 = tf.reshape(pp, [B, 1, nx]);
    const f = (x) => tf.sum(tf.add(tf.mul(tf.mul(q3, 0.5), tf.square(x)), tf.mul(p3, x)), -1);
    const r = api.dcem(f, QUADRATIC_DCEM_OPTIONS);
    return {
      loss: tf.sum(tf.mul(w, r.solution)),
      get iterations() {
        // Read only when asked (the untimed check): a solve's numbers are a device read.
        return r.iterations;
      },
    };
  };
  return { params: [p], loss, owned: [q, p, w, q3], info };
}

function buildRegression(tf, api, objectives) {
  const layer = denseFor(tf, api, objectives);
  const hidden = 128;
  const layers = [
    torchLinear(tf, 2, hidden, 10),
    torchLinear(tf, hidden, hidden, 20),
    torchLinear(tf, hidden, hidden, 30),
    torchLinear(tf, hidden, 1, 40),
  ];
  const B = 100;
  const S = 100;
  const x = tf.reshape(tf.linspace(0, 2 * Math.PI, B), [B, 1]);
  const target = tf.reshape(tf.mul(x, tf.sin(x)), [B]);
  // x repeated for every sample: [B·S, 1].
  const xs = tf.reshape(tf.tile(tf.reshape(x, [B, 1, 1]), [1, S, 1]), [B * S, 1]);
  const params = layers.flatMap((l) => [l.w, l.b]);
  const loss = (ps) => {
    const energy = (inputs) => {
      let h = inputs;
      for (let i = 0; i < 4; i++) {
        h = layer(h, ps[2 * i], ps[2 * i + 1], i < 3 ? 'softplus' : 'linear');
      }
      return h;
    };
    const f = (y) => tf.reshape(energy(tf.concat([xs, tf.reshape(y, [B * S, 1])], 1)), [B, S]);
    const r = api.dcem(f, {
      dim: 1,
      batchSize: B,
      numSamples: S,
      numElites: 10,
      numIterations: DCEM_ITERATIONS,
      initStd: 7,
      temperature: 1,
      normalize: true,
      tolerance: 1e-4,
      seed: 0,
    });
    const yhat = tf.reshape(r.solution, [B]);
    return {
      loss: tf.mean(tf.square(tf.sub(yhat, target))),
      get iterations() {
        // Read only when asked (the untimed check): a solve's numbers are a device read.
        return r.iterations;
      },
    };
  };
  return {
    params,
    loss,
    owned: [...params, x, target, xs],
    info: { n_batch: B, nx: 1, n_sample: S, n_elite: 10, init_sigma: 7 },
  };
}

// Cart-pole constants (mpc.pytorch's CartpoleDx).
const GRAVITY = 9.8;
const M_CART = 1.0;
const M_POLE = 0.1;
const HALF_LEN = 0.5;
const FORCE_MAX = 100;
const DT = 0.05;
const M_TOT = M_CART + M_POLE;
const ML = M_POLE * HALF_LEN;

/** One explicit-Euler step of the cart-pole; the state is five [N] tensors (p, ṗ, cos θ, sin θ, θ̇). */
function cartpoleStep(tf, [p, dp, c, s, dth], forceRaw) {
  const force = tf.clipByValue(forceRaw, -FORCE_MAX, FORCE_MAX);
  const th = tf.atan2(s, c);
  const tmp = tf.div(tf.add(force, tf.mul(tf.mul(tf.square(dth), s), ML)), M_TOT);
  const thAcc = tf.div(
    tf.sub(tf.mul(s, GRAVITY), tf.mul(c, tmp)),
    tf.mul(tf.sub(4 / 3, tf.div(tf.mul(tf.square(c), M_POLE), M_TOT)), HALF_LEN),
  );
  const pAcc = tf.sub(tmp, tf.div(tf.mul(tf.mul(thAcc, c), ML), M_TOT));
  const thNext = tf.add(th, tf.mul(dth, DT));
  return [
    tf.add(p, tf.mul(dp, DT)),
    tf.add(dp, tf.mul(pAcc, DT)),
    tf.cos(thNext),
    tf.sin(thNext),
    tf.add(dth, tf.mul(thAcc, DT)),
  ];
}

function buildCartpole(tf, api, objectives, tasks) {
  const layer = denseFor(tf, api, objectives);
  const latent = 2;
  const hidden = 256;
  const horizon = 20;
  const sizes = [latent, hidden, hidden, hidden, horizon];
  const params = [];
  for (let i = 0; i < 4; i++) {
    const fanIn = sizes[i];
    const fanOut = sizes[i + 1];
    params.push(tf.randomNormal([fanIn, fanOut], 0, 2 / Math.sqrt(fanIn + fanOut), 'float32', 100 + i));
    params.push(tf.zeros([fanOut]));
  }
  // Start state: p, ṗ ~ U(−0.5, 0.5), θ ~ U(−π, π), θ̇ ~ U(−1, 1).
  const u = Array.from(tf.randomUniform([4], 0, 1, 'float32', 1).dataSync());
  const th0 = (2 * u[2] - 1) * Math.PI;
  const x0 = [u[0] - 0.5, u[1] - 0.5, Math.cos(th0), Math.sin(th0), 2 * u[3] - 1];

  const forcesOf = (ps, z) => {
    let h = z;
    for (let i = 0; i < 4; i++) {
      h = layer(h, ps[2 * i], ps[2 * i + 1]);
      if (i < 3) h = tf.elu(h);
    }
    return tf.sub(tf.mul(tf.sigmoid(h), 2 * FORCE_MAX), FORCE_MAX); // [N, T]
  };
  // 'plain': the rollout written with tfjs ops, step by step, as the
  // reference writes it with torch ops.
  const plainCost = (ps, z) => {
    const steps = tf.unstack(forcesOf(ps, z), 1); // T × [N]
    let state = x0.map((v) => tf.scalar(v));
    let total = tf.scalar(0);
    for (const f of steps) {
      const [p, , c] = state;
      const reward = tf.sub(tf.sub(c, tf.mul(tf.square(p), 0.1)), tf.mul(tf.square(f), 1e-5));
      total = tf.add(total, reward);
      state = cartpoleStep(tf, state, f);
    }
    return tf.neg(total); // [N]
  };
  // 'library': the same cost with @dcem/tasks' cart-pole (the same Euler
  // steps and reward, rolled out in one fused op with its exact adjoint).
  const cartpole = tasks?.createCartpole();
  const start = tf.tensor2d([x0], [1, 5]);
  const libraryCost = (ps, z) => {
    const forces = forcesOf(ps, z);
    const [n, t] = forces.shape;
    return tf.neg(
      tf.reshape(tasks.cartpoleReturnFused(cartpole, start, tf.reshape(forces, [1, n, t, 1])), [n]),
    );
  };
  const cost = objectives === 'library' ? libraryCost : plainCost;
  if (objectives === 'library') {
    // Both costs must agree (float32 rounding): checked once per build.
    const gap = tf.tidy(() => {
      const z = tf.randomUniform([64, latent], -1, 1, 'float32', 5);
      const a = plainCost(params, z);
      const b = libraryCost(params, z);
      return tf.max(tf.div(tf.abs(tf.sub(a, b)), tf.add(tf.abs(a), 1))).dataSync()[0];
    });
    if (!(gap < 1e-4)) throw new Error(`cart-pole: the library cost differs from the plain one by ${gap}`);
  }
  const loss = (ps) => {
    const f = (zs) => tf.reshape(cost(ps, tf.reshape(zs, [-1, latent])), [1, -1]);
    const r = api.dcem(f, {
      dim: latent,
      batchSize: 1,
      numSamples: 100,
      numElites: 10,
      numIterations: DCEM_ITERATIONS,
      initStd: 0.5,
      temperature: 1,
      lowerBound: -1,
      upperBound: 1,
      normalize: true,
      tolerance: 1e-4,
      seed: 0,
    });
    return {
      loss: tf.sum(cost(ps, r.solution)),
      get iterations() {
        // Read only when asked (the untimed check): a solve's numbers are a device read.
        return r.iterations;
      },
    };
  };
  return { params, loss, owned: [...params, start], info: { horizon, latent, n_sample: 100, n_elite: 10 } };
}

/** How the objectives are written: see {@link buildConfig}. */
export const OBJECTIVES = ['library', 'plain'];

// --------------------------------------------------------------------------
// PlaNet's RSSM (@dcem/tasks/planet) at PlaNet's sizes on cheetah-run's
// observation (17) and action (6) vectors; bench/torch_compare.py has the
// same model in PyTorch. These configs bring their own runners (`runners`,
// `check`): planet_imagine is forward only (no fwd_bwd), planet_update's
// forward is the ELBO and its forward+backward the whole training update.
// --------------------------------------------------------------------------
/** The sizes and settings of the PlaNet configs (those of torch_compare.py's PLANET). */
export const PLANET = Object.freeze({
  observationSize: 17,
  actionSize: 6,
  batch: 50,
  length: 50,
  candidates: 1000,
  horizon: 12,
});

/** planet_imagine: one planner iteration, 1000 candidates × 12 steps of the prior and the reward model from one start state. */
function buildPlanetImagine(tf, planet) {
  const { observationSize, actionSize, candidates: n, horizon } = PLANET;
  const model = planet.createRssm({ observationSize, actionSize }, 0);
  const { deterministic: D, stochastic: S } = model.sizes;
  const start = {
    h: tf.randomNormal([1, D], 0, 1, 'float32', 1),
    s: tf.randomNormal([1, S], 0, 1, 'float32', 2),
  };
  const actions = tf.randomUniform([n, horizon, actionSize], -1, 1, 'float32', 3);
  const noise = tf.randomNormal([horizon, n, S], 0, 1, 'float32', 4);
  const total = () => tf.tidy(() => tf.sum(planet.imagineReturns(model, start, actions, noise)));
  const fwd = () => {
    const v = total();
    v.dataSync();
    v.dispose();
  };
  const check = () => {
    const v = total();
    const loss = v.dataSync()[0];
    v.dispose();
    return { loss, gradNorm: null };
  };
  return {
    runners: { fwd, fwdBwd: null },
    check,
    owned: [start.h, start.s, actions, noise],
    dispose: () => model.dispose(),
    info: { ...model.sizes, candidates: n, horizon },
  };
}

/** planet_update: one training update (filtering, ELBO with free nats, backward, clip, Adam) at B = 50, L = 50. */
function buildPlanetUpdate(tf, planet) {
  const { observationSize, actionSize, batch: b, length: l } = PLANET;
  const model = planet.createRssm({ observationSize, actionSize }, 0);
  const optimizer = planet.createAdam(model.variables);
  const batch = {
    observations: tf.randomNormal([b, l, observationSize], 0, 1, 'float32', 1),
    actions: tf.randomUniform([b, l, actionSize], -1, 1, 'float32', 2),
    rewards: tf.randomUniform([b, l], 0, 1, 'float32', 3),
  };
  let seed = 0;
  const fwd = () => {
    const v = tf.tidy(() => {
      const noise = tf.randomNormal([l, b, model.sizes.stochastic], 0, 1, 'float32', seed++);
      return planet.elbo(model, batch, noise).loss;
    });
    v.dataSync();
    v.dispose();
  };
  const fwdBwd = () => planet.trainStep(model, optimizer, batch, seed++);
  const check = () => {
    const r = planet.trainStep(model, optimizer, batch, seed++);
    return { loss: r.loss, gradNorm: r.gradNorm };
  };
  return {
    runners: { fwd, fwdBwd },
    check,
    owned: [batch.observations, batch.actions, batch.rewards],
    dispose: () => {
      optimizer.dispose();
      model.dispose();
    },
    info: { ...model.sizes, batch: b, length: l },
  };
}

/**
 * Builds a config on the active tfjs backend: `{ params, loss, owned, info }`,
 * where `loss(params)` returns `{ loss, iterations? }`. `objectives`:
 * 'library' (default) writes the objectives with what our packages offer
 * (`dense` of @dcem/tfjs for the MLPs, @dcem/tasks' fused cart-pole
 * rollout); 'plain' writes them with tfjs ops only, the way the reference
 * writes them with torch ops. `tasks` is the @dcem/tasks module ('library');
 * `planet` the PlaNet model's functions (createRssm, createAdam, elbo,
 * trainStep, imagineReturns) for the planet configs, which are always
 * written with the library (they have no 'plain' form).
 */
export function buildConfig(name, tf, api, objectives = 'library', tasks = undefined, planet = undefined) {
  if (!OBJECTIVES.includes(objectives)) {
    throw new RangeError(
      `objectives must be one of ${OBJECTIVES.join(', ')}, received ${JSON.stringify(objectives)}`,
    );
  }
  switch (name) {
    case 'lml_small':
      return wrapLml(lmlConfig(tf, api, [64, 100], 10)());
    case 'lml_large':
      return wrapLml(lmlConfig(tf, api, [256, 1000], 100)());
    case 'sparse_top_k':
      return wrapLml(sparseTopKConfig(tf, api, [256, 1000], 100)());
    case 'dcem_quadratic':
      return buildQuadratic(tf, api);
    case 'dcem_regression':
      return buildRegression(tf, api, objectives);
    case 'dcem_cartpole_embed':
      return buildCartpole(tf, api, objectives, tasks);
    case 'planet_imagine':
      return buildPlanetImagine(tf, planet);
    case 'planet_update':
      return buildPlanetUpdate(tf, planet);
    default:
      throw new RangeError(`unknown config ${JSON.stringify(name)}; known: ${CONFIGS.join(', ')}`);
  }
}

function wrapLml(c) {
  return { ...c, loss: (ps) => ({ loss: c.loss(ps) }) };
}
