#!/usr/bin/env node
// Updates per second of the regression study (`pnpm dcem regression`'s
// trainer, model dcem, its default protocol) with @dcem/tfjs's matrix
// products on one thread (tf.matMul: what the study ran before the threaded
// kernels) and on every core. Two trainers with the same seed run
// alternating blocks of updates (each block includes the full-data
// evaluation every `evalEvery` updates), so both share the machine's
// conditions; the medians of the blocks' rates are printed.
//
//   node bench/regression-rate.mjs [--updates 300] [--block 100] [--backend wasm] [--root DIR]
//
// Needs `pnpm build`. `--root DIR` times another checkout of this repository
// (built, with its node_modules), e.g. an older commit in a git worktree:
//
//   git worktree add /tmp/before be831c6 && (cd /tmp/before && pnpm install && pnpm build)
//   node bench/regression-rate.mjs --root /tmp/before
//
// A build without thread controls (before the threaded kernels) runs one
// setting; one from before the rename has setMatMulThreads instead of setThreads; labelled "matmul_threads": null.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './timing.mjs';

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const root = resolve(option('--root', resolve(dirname(fileURLToPath(import.meta.url)), '..')));
const tasksEntry = join(root, 'packages', 'tasks', 'dist', 'index.js');
const tfjsEntry = join(root, 'packages', 'tfjs', 'dist', 'index.js');
if (!existsSync(tasksEntry) || !existsSync(tfjsEntry)) {
  console.error(`regression-rate: ${root} is not built; run \`pnpm build\` there first`);
  process.exit(1);
}
const UPDATES = Number(option('--updates', '300'));
const BLOCK = Number(option('--block', '100'));
const BACKEND = option('--backend', 'wasm');
if (!Number.isInteger(UPDATES) || UPDATES < 1 || !Number.isInteger(BLOCK) || BLOCK < 1) {
  console.error('regression-rate: --updates and --block must be integers ≥ 1');
  process.exit(1);
}
const requireFromTasks = createRequire(join(root, 'packages', 'tasks', 'package.json'));
const tf = requireFromTasks('@tensorflow/tfjs');
requireFromTasks('@tensorflow/tfjs-backend-wasm');
const tasks = await import(tasksEntry);
const tfjsApi = await import(tfjsEntry);
await tf.setBackend(BACKEND);

// setThreads, threads and closeThreads; builds before the rename call them *MatMulThreads.
const setThreads = tfjsApi.setThreads ?? tfjsApi.setMatMulThreads;
const threadsOf = tfjsApi.threads ?? tfjsApi.matMulThreads;
const closeThreads = tfjsApi.closeThreads ?? tfjsApi.closeMatMulThreads;
const hasThreads = typeof setThreads === 'function';
const cores = hasThreads ? threadsOf() : null;
const settings = hasThreads ? [...new Set([1, cores])] : [null];
const runs = settings.map((threads) => ({
  threads,
  trainer: tasks.createRegressionTrainer({ model: 'dcem', seed: 0 }),
  rates: [],
  done: 0,
}));
while (runs.some((r) => r.done < UPDATES)) {
  for (const run of runs) {
    if (run.done >= UPDATES) continue;
    const n = Math.min(BLOCK, UPDATES - run.done);
    if (hasThreads) await setThreads(run.threads);
    const t0 = performance.now();
    run.trainer.train(n);
    const s = (performance.now() - t0) / 1000;
    run.rates.push(n / s);
    run.done += n;
  }
}
if (hasThreads) await closeThreads();
const out = runs.map((r) => ({
  root,
  backend: BACKEND,
  matmul_threads: r.threads,
  updates: r.done,
  updates_per_s: Math.round(median(r.rates) * 100) / 100,
  blocks: r.rates.map((x) => Math.round(x * 100) / 100),
  final_mse: r.trainer.history.at(-1)?.mse,
}));
for (const row of out) console.log(JSON.stringify(row));
if (out.length === 2) {
  console.error(
    `regression (dcem, batch 1, eval every 100): ${out[0].updates_per_s} updates/s on 1 thread, ${out[1].updates_per_s} on ${cores} (×${(out[1].updates_per_s / out[0].updates_per_s).toFixed(2)})`,
  );
}
for (const r of runs) r.trainer.dispose();
