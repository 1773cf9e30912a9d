#!/usr/bin/env node
// Benchmark `mujoco_rollout`: rollout throughput of @dcem/mujoco's worker pool
// on cheetah-run at PlaNet's planning batch (1000 sequences × horizon 12,
// action repeat 4), with 1 and 2 workers.
//
//   node bench/mujoco.mjs [--repeats 5] [--sequences 1000] [--workers 1,2]
//
// Needs `pnpm build`. Prints one JSON line: physics steps per second per
// worker count, the ratio 2 workers / 1 worker, and the pool's overhead (the
// share of each call's wall time outside the slowest worker's simulation
// loop: validation, copies, messages, scheduling). Also run by `pnpm bench`
// (bench/run.mjs) as the configuration `mujoco_rollout`.
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './timing.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Runs the benchmark and returns its JSON row. */
export async function benchMujocoRollout({ repeats = 5, sequences = 1000, workers = [1, 2] } = {}) {
  const entry = join(root, 'packages', 'mujoco', 'dist', 'index.js');
  if (!existsSync(entry)) throw new Error(`bench: ${entry} is missing; run \`pnpm build\` first`);
  const { createRolloutPool, makeEnv } = await import(entry);
  const task = 'cheetah-run';
  const horizon = 12;
  const actionRepeat = 4;
  const env = await makeEnv(task, { seed: 0, actionRepeat });
  env.reset();
  const state = env.getState();
  const m = env.actionDim;
  const actions = Float32Array.from({ length: sequences * horizon * m }, (_, i) => Math.sin(0.61 * i));
  const row = {
    config: 'mujoco_rollout',
    task,
    sequences,
    horizon,
    action_repeat: actionRepeat,
    physics_steps_per_call: sequences * horizon * actionRepeat,
    repeats,
    cores: availableParallelism(),
    load_avg_1min_before: Math.round(loadavg()[0] * 100) / 100,
  };
  const checksums = [];
  for (const w of workers) {
    const pool = await createRolloutPool(task, { workers: w, actionRepeat });
    try {
      await pool.rollout([state], actions.slice(), { horizon }); // warm-up (JIT, first touch)
      const walls = [];
      const overheads = [];
      let sum = 0;
      for (let i = 0; i < repeats; i++) {
        const before = pool.stats();
        const t0 = performance.now();
        const returns = await pool.rollout([state], actions.slice(), { horizon });
        const wall = performance.now() - t0;
        walls.push(wall);
        const after = pool.stats();
        // Everything the caller waits for beyond the slowest worker's simulation loop.
        overheads.push((wall - (after.simulatorMs - before.simulatorMs)) / wall);
        sum = returns.reduce((a, b) => a + b, 0);
      }
      checksums.push(sum);
      // Latency of a call with almost no simulation: one sequence of one action per worker.
      const tiny = new Float32Array(w * m);
      const tinyWalls = [];
      for (let i = 0; i < 20; i++) {
        const t0 = performance.now();
        await pool.rollout([state], tiny, { horizon: 1 });
        tinyWalls.push(performance.now() - t0);
      }
      row[`tiny_call_ms_${w}`] = Math.round(median(tinyWalls) * 1000) / 1000;
      const wall = median(walls);
      row[`call_ms_${w}`] = Math.round(wall * 10) / 10;
      row[`steps_per_s_${w}`] = Math.round((row.physics_steps_per_call / wall) * 1000);
      row[`overhead_${w}`] = Math.round(median(overheads) * 1e4) / 1e4;
    } finally {
      await pool.close();
    }
  }
  // Baseline: the same sequences stepped by an environment in the main thread (a tenth of them).
  {
    const n = Math.max(1, Math.floor(sequences / 10));
    const t0 = performance.now();
    for (let q = 0; q < n; q++) {
      env.setState(state);
      for (let h = 0; h < horizon; h++)
        env.step(actions.subarray((q * horizon + h) * m, (q * horizon + h + 1) * m));
    }
    row.steps_per_s_main_thread = Math.round(
      ((n * horizon * actionRepeat) / (performance.now() - t0)) * 1000,
    );
  }
  env.dispose();
  if (row.steps_per_s_1 !== undefined && row.steps_per_s_2 !== undefined) {
    row.ratio_2_over_1 = Math.round((row.steps_per_s_2 / row.steps_per_s_1) * 1000) / 1000;
  }
  row.returns_identical_across_worker_counts = checksums.every((c) => c === checksums[0]);
  row.load_avg_1min_after = Math.round(loadavg()[0] * 100) / 100;
  return row;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const get = (name, fallback) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : fallback;
  };
  const row = await benchMujocoRollout({
    repeats: Number(get('--repeats', 5)),
    sequences: Number(get('--sequences', 1000)),
    workers: String(get('--workers', '1,2')).split(',').map(Number),
  });
  console.log(JSON.stringify(row));
}
