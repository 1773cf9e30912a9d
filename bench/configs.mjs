// The five benchmark configurations of ../shared/reference/bench_torch.py,
// written with TensorFlow.js ops and the built @dcem/tfjs package.
//
// Each builder returns { params, loss, info }: `loss(params)` is the scalar
// the reference times (forward), and the benchmark differentiates it with
// respect to `params` (forward + backward). Shapes and solver settings are
// those of the reference README ("Configs"); random inputs come from seeded
// tfjs generators, so the numbers differ from PyTorch's draws but the work
// is the same.

/** Names in the reference's order. */
export const CONFIGS = ['lml_small', 'lml_large', 'dcem_quadratic', 'dcem_regression', 'dcem_cartpole_embed'];

/** Iterations every DCEM config must run (the reference never exits early on them). */
export const DCEM_ITERATIONS = 10;

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

function dense(tf, x, w, b) {
  return tf.add(tf.matMul(x, w), b);
}

/**
 * The same dense layer with a custom gradient that transposes explicitly:
 * dx = dy·transpose(w), dw = transpose(x)·dy. tfjs's own matMul gradient
 * asks for transposed products instead, which the wasm backend runs about
 * 10× slower than a transpose plus a plain product (measured on
 * [10000, 128]·[128, 128]: 400 ms against 30 ms).
 */
function denseTransposedGrad(tf) {
  return tf.customGrad((x, w, b, save) => {
    save([x, w]);
    return {
      value: tf.add(tf.matMul(x, w), b),
      gradFunc: (dy, [xs, ws]) => [
        tf.matMul(dy, tf.transpose(ws)),
        tf.matMul(tf.transpose(xs), dy),
        tf.sum(dy, 0),
      ],
    };
  });
}

/** The dense layer of the objectives: plain tfjs ops, or ('tuned') the explicit-transpose gradient. */
function denseFor(tf, objectives) {
  if (objectives !== 'tuned') return (x, w, b) => dense(tf, x, w, b);
  const layer = denseTransposedGrad(tf);
  return (x, w, b) => layer(x, w, b);
}

function buildQuadratic(tf, api) {
  const B = 64;
  const nx = 32;
  const q = tf.add(tf.randomUniform([B, nx], 0, 1, 'float32', 11), 0.5);
  const p = tf.randomNormal([B, nx], 0, 1, 'float32', 1);
  const w = tf.randomNormal([B, nx], 0, 1, 'float32', 2);
  const q3 = tf.reshape(q, [B, 1, nx]);
  const loss = ([pp]) => {
    const p3 = tf.reshape(pp, [B, 1, nx]);
    const f = (x) => tf.sum(tf.add(tf.mul(tf.mul(q3, 0.5), tf.square(x)), tf.mul(p3, x)), -1);
    const r = api.dcem(f, {
      dim: nx,
      batchSize: B,
      numSamples: 100,
      numElites: 10,
      numIterations: DCEM_ITERATIONS,
      temperature: 1,
      normalize: true,
      initStd: 1,
      tolerance: 1e-4,
      seed: 0,
    });
    return { loss: tf.sum(tf.mul(w, r.solution)), iterations: r.iterations };
  };
  return { params: [p], loss, owned: [q, p, w, q3], info: { n_batch: B, nx, n_sample: 100, n_elite: 10 } };
}

function buildRegression(tf, api, objectives) {
  const layer = denseFor(tf, objectives);
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
        h = layer(h, ps[2 * i], ps[2 * i + 1]);
        if (i < 3) h = tf.softplus(h);
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
    return { loss: tf.mean(tf.square(tf.sub(yhat, target))), iterations: r.iterations };
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

function buildCartpole(tf, api, objectives) {
  const layer = denseFor(tf, objectives);
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

  const cost = (ps, z) => {
    let h = z;
    for (let i = 0; i < 4; i++) {
      h = layer(h, ps[2 * i], ps[2 * i + 1]);
      if (i < 3) h = tf.elu(h);
    }
    const forces = tf.sub(tf.mul(tf.sigmoid(h), 2 * FORCE_MAX), FORCE_MAX); // [N, T]
    const steps = tf.unstack(forces, 1); // T × [N]
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
    return { loss: tf.sum(cost(ps, r.solution)), iterations: r.iterations };
  };
  return { params, loss, owned: params, info: { horizon, latent, n_sample: 100, n_elite: 10 } };
}

/**
 * Builds a config on the active tfjs backend: `{ params, loss, owned, info }`,
 * where `loss(params)` returns `{ loss, iterations? }`. `objectives`:
 * 'plain' (default) writes the MLPs with tf.matMul as a user would;
 * 'tuned' gives their dense layers the explicit-transpose gradient.
 */
export function buildConfig(name, tf, api, objectives = 'plain') {
  switch (name) {
    case 'lml_small':
      return wrapLml(lmlConfig(tf, api, [64, 100], 10)());
    case 'lml_large':
      return wrapLml(lmlConfig(tf, api, [256, 1000], 100)());
    case 'dcem_quadratic':
      return buildQuadratic(tf, api);
    case 'dcem_regression':
      return buildRegression(tf, api, objectives);
    case 'dcem_cartpole_embed':
      return buildCartpole(tf, api, objectives);
    default:
      throw new RangeError(`unknown config ${JSON.stringify(name)}; known: ${CONFIGS.join(', ')}`);
  }
}

function wrapLml(c) {
  return { ...c, loss: (ps) => ({ loss: c.loss(ps) }) };
}
