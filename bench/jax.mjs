// The `jax` rows of bench/run.mjs: the configurations of configs.mjs on
// @dcem/jax (createJaxBackend over @jax-js/jax, its WebAssembly device in
// Node), with the same inputs as the tfjs rows (drawn by the same seeded
// tfjs generators, then copied), so that losses compare.
//
// Timed as for tfjs: forward = the loss inside the backend's tidy, read back;
// forward+backward = the gradient of the loss (jax-js's grad through
// `backend.grad`, which also computes the forward pass), read back.
// dcem_regression and dcem_cartpole_embed are not ported (their objectives
// are MLPs and a cart-pole over tfjs layers, with gradients to many
// parameters): `--backends jax` times the other four.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DCEM_ITERATIONS, QUADRATIC_DCEM_OPTIONS, quadraticInputs } from './configs.mjs';
import { timed } from './timing.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Configurations with a jax port. */
export const JAX_CONFIGS = ['lml_small', 'lml_large', 'sparse_top_k', 'dcem_quadratic'];

const loaded = new Map();
async function load(fused) {
  if (loaded.has(fused)) return loaded.get(fused);
  const entry = join(root, 'packages', 'jax', 'dist', 'index.js');
  if (!existsSync(entry)) throw new Error(`bench: ${entry} is missing; run \`pnpm build\` first`);
  const jaxApi = await import(entry);
  const core = await import(join(root, 'packages', 'core', 'dist', 'index.js'));
  const out = { jaxApi, core, backend: jaxApi.createJaxBackend({ fused }) };
  loaded.set(fused, out);
  return out;
}

/** A tfjs tensor's values as a jax-js array of the backend. */
const copy = (b, t) => b.tensor(t.dataSync(), t.shape);

function build(name, tf, b, core) {
  if (name === 'lml_small' || name === 'lml_large' || name === 'sparse_top_k') {
    const [shape, k] = name === 'lml_small' ? [[64, 100], 10] : [[256, 1000], 100];
    const x = tf.randomNormal(shape, 0, 1, 'float32', 11);
    const w = tf.randomNormal(shape, 0, 1, 'float32', 12);
    const params = b.keep(copy(b, x));
    const weights = b.keep(copy(b, w));
    tf.dispose([x, w]);
    const op = name === 'sparse_top_k' ? (t) => core.sparseTopK(b, t, k) : (t) => core.lml(b, t, k);
    return {
      params,
      loss: (t) => ({ loss: b.sum(b.reshape(b.mul(op(t), weights), [shape[0] * shape[1]]), 0, false) }),
      owned: [params, weights],
      info: { shape, k },
    };
  }
  if (name === 'dcem_quadratic') {
    const { batchSize: B, dim: nx } = QUADRATIC_DCEM_OPTIONS;
    const { q, p, w, info } = quadraticInputs(tf);
    const q3 = b.keep(b.reshape(copy(b, q), [B, 1, nx]));
    const params = b.keep(copy(b, p));
    const weights = b.keep(copy(b, w));
    tf.dispose([q, p, w]);
    const half = b.keep(b.scalar(0.5));
    const loss = (pp) => {
      const p3 = b.reshape(pp, [B, 1, nx]);
      const f = (x) => b.sum(b.add(b.mul(b.mul(q3, half), b.square(x)), b.mul(p3, x)), -1, false);
      const r = core.dcem(b, f, QUADRATIC_DCEM_OPTIONS);
      return {
        loss: b.sum(b.reshape(b.mul(weights, r.solution), [B * nx]), 0, false),
        iterations: r.iterations,
      };
    };
    return { params, loss, owned: [q3, params, weights, half], info };
  }
  throw new RangeError(`${name} has no jax port (ported: ${JAX_CONFIGS.join(', ')})`);
}

/**
 * Times one configuration on @dcem/jax: the same protocol as benchConfig of
 * run.mjs (a checked warm-up run, more warm-up, then `repeats` interleaved
 * forward and forward+backward runs within `budgetS`), and checks that the
 * backend holds no more arrays afterwards.
 */
export async function benchJaxConfig(opts, name, tf) {
  const { core, backend: b } = await load(opts.fused);
  const cfg = build(name, tf, b, core);
  try {
    const fwd = () => b.tidy(() => b.readSync(cfg.loss(cfg.params).loss)) && undefined;
    const grad = () => b.grad((t) => cfg.loss(t).loss, cfg.params);
    const fwdBwd = () => {
      b.tidy(() => {
        b.readSync(grad());
        return undefined;
      });
    };
    const start = performance.now();
    const spent = () => (performance.now() - start) / 1000;
    let iterations;
    let loss;
    let gradNorm;
    b.tidy(() => {
      const out = cfg.loss(cfg.params);
      iterations = out.iterations;
      loss = b.readSync(out.loss)[0];
      const g = b.readSync(grad());
      gradNorm = Math.sqrt(Array.from(g).reduce((s, v) => s + v * v, 0));
      return undefined;
    });
    if (iterations !== undefined && iterations !== DCEM_ITERATIONS) {
      throw new Error(`${name}: DCEM ran ${iterations} iterations on jax, expected ${DCEM_ITERATIONS}`);
    }
    for (let i = 1; i < opts.warmup && spent() < opts.budgetS / 4; i++) fwdBwd();
    const arraysBefore = b.liveArrays();
    const fwdT = [];
    const fbT = [];
    const timingStart = performance.now();
    for (let r = 0; r < opts.repeats; r++) {
      if (r >= 3 && (performance.now() - timingStart) / 1000 > opts.budgetS) break;
      fwdT.push(timed(fwd));
      fbT.push(timed(fwdBwd));
    }
    if (b.liveArrays() !== arraysBefore) {
      throw new Error(`${name}: ${b.liveArrays() - arraysBefore} jax arrays left per run`);
    }
    return {
      fwdT,
      fbT,
      row: {
        config: name,
        backend: 'jax',
        loss,
        grad_norm: gradNorm,
        ...(iterations === undefined ? {} : { iterations }),
        device: b.name,
        fused: opts.fused,
        ...(opts.label === undefined ? {} : { label: opts.label }),
        info: cfg.info,
      },
    };
  } finally {
    for (const t of cfg.owned) b.dispose(t);
  }
}
