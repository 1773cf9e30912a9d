#!/usr/bin/env node
// A configuration of bench/run.mjs timed with @dcem/tfjs's products on one
// thread (setThreads(1): matMul is tf.matMul, dense runs its fused
// kernels on the calling thread) and on every core, alternating run by run
// in one process so that both see the same machine conditions. Prints the
// medians and their ratio.
//
//   node bench/threads-ab.mjs [--config dcem_regression] [--repeats 9] [--backend wasm]
//
// Needs `pnpm build`.
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildConfig, CONFIGS } from './configs.mjs';
import { makeRunners, median, timed } from './timing.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const CONFIG = option('--config', 'dcem_regression');
const REPEATS = Number(option('--repeats', '9'));
const BACKEND = option('--backend', 'wasm');
if (!CONFIGS.includes(CONFIG)) {
  console.error(`threads-ab: --config must be one of ${CONFIGS.join(', ')}, received ${CONFIG}`);
  process.exit(1);
}
if (!Number.isInteger(REPEATS) || REPEATS < 1) {
  console.error(`threads-ab: --repeats must be an integer ≥ 1, received ${REPEATS}`);
  process.exit(1);
}
const tfjsDir = join(root, 'packages', 'tfjs');
const requireFromTfjs = createRequire(join(tfjsDir, 'package.json'));
const tf = requireFromTfjs('@tensorflow/tfjs');
requireFromTfjs('@tensorflow/tfjs-backend-wasm');
const api = await import(join(tfjsDir, 'dist', 'index.js'));
const tasks = await import(join(root, 'packages', 'tasks', 'dist', 'index.js'));
await tf.setBackend(BACKEND);

const cfg = buildConfig(CONFIG, tf, api, 'library', tasks);
const { fwd, fwdBwd } = makeRunners(tf, cfg);
const cores = api.threads();
const settings = [1, cores];
const t = settings.map(() => ({ fwd: [], fb: [] }));
for (let r = -1; r < REPEATS; r++) {
  for (let i = 0; i < settings.length; i++) {
    // A new thread count replaces the pool and its shared memory: one
    // untimed run first touches the fresh memory (page faults cost about as
    // much as the products here) and starts the workers.
    await api.setThreads(settings[i]);
    fwdBwd();
    if (r < 0) {
      await new Promise((done) => setTimeout(done, 200));
      continue;
    }
    t[i].fwd.push(timed(fwd));
    t[i].fb.push(timed(fwdBwd));
  }
}
await api.closeThreads();
const rows = settings.map((threads, i) => ({
  config: CONFIG,
  backend: BACKEND,
  matmul_threads: threads,
  fwd_ms: Math.round(median(t[i].fwd) * 10) / 10,
  fwd_bwd_ms: Math.round(median(t[i].fb) * 10) / 10,
  fwd_bwd_ms_min: Math.round(Math.min(...t[i].fb) * 10) / 10,
}));
for (const row of rows) console.log(JSON.stringify(row));
if (rows.length === 2) {
  console.error(
    `${CONFIG}: fwd+bwd ${rows[0].fwd_bwd_ms} ms on 1 thread, ${rows[1].fwd_bwd_ms} ms on ${cores} (×${(rows[0].fwd_bwd_ms / rows[1].fwd_bwd_ms).toFixed(2)} faster); fwd ×${(rows[0].fwd_ms / rows[1].fwd_ms).toFixed(2)}`,
  );
}
