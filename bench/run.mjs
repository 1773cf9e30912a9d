#!/usr/bin/env node
// Benchmark of @dcem/tfjs on the five configurations of the DCEM and LML
// reference benchmark (bench/README.md), on the tfjs cpu and wasm backends
// (or webgpu, tensorflow, tensorflow-gpu with --backends), optionally side by
// side with PyTorch (bench/torch_compare.py, or another script given with
// --torch-script) in the same invocation.
//
//   node bench/run.mjs [--backends cpu,wasm|webgpu|jax|…] [--configs a,b] [--repeats 9]
//                      [--warmup 2] [--rounds 1] [--budget-s 120]
//                      [--objectives library|plain] [--fused on|off]
//                      [--tfjs-dist DIR] [--label L] [--torch]
//                      [--torch-script FILE] [--profile] [--malloc keep|default]
//
// Needs the packages built (`pnpm build`). Prints one JSON line per
// (configuration, backend) with `config`, `backend`, `fwd_ms`, `fwd_bwd_ms`
// (medians), their minima, and with --torch the PyTorch medians and the
// ratios ours/PyTorch; then a summary table on stderr. See bench/README.md.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildConfig, CONFIGS, DCEM_ITERATIONS, OBJECTIVES, WITHOUT_TORCH } from './configs.mjs';
import { benchJaxConfig, JAX_CONFIGS } from './jax.mjs';
import { currentMalloc, MALLOC_MODES, mallocEnv, runUnderMalloc } from './malloc.mjs';
import { benchMujocoRollout } from './mujoco.mjs';
import { makeRunners, median, peakRss, resetPeakRss, timed } from './timing.mjs';

// --malloc keep|default: both processes, ours and PyTorch's, run under the
// same glibc setting (bench/malloc.mjs); 'keep' by default. Read before
// anything is loaded, since a change means running this script again.
const mallocArg = process.argv.indexOf('--malloc');
const MALLOC = mallocArg >= 0 ? process.argv[mallocArg + 1] : 'keep';
if (!MALLOC_MODES.includes(MALLOC)) {
  console.error(
    `bench: --malloc must be one of ${MALLOC_MODES.join(', ')}, received ${JSON.stringify(MALLOC)}`,
  );
  process.exit(1);
}
runUnderMalloc(MALLOC);

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
// --tfjs-dist DIR times another build of @dcem/tfjs (DIR holds its package.json and dist/).
const distArg = process.argv.indexOf('--tfjs-dist');
const otherBuild = distArg >= 0 ? process.argv[distArg + 1] : undefined;
const tfjsDir = otherBuild === undefined ? join(root, 'packages', 'tfjs') : resolve(otherBuild);
const distEntry = join(tfjsDir, 'dist', 'index.js');
if (!existsSync(distEntry)) {
  console.error(`bench: ${distEntry} is missing; run \`pnpm build\` first`);
  process.exit(1);
}
// Load tfjs exactly as @dcem/tfjs resolves it, so that both share one engine.
const requireFromTfjs = createRequire(join(tfjsDir, 'package.json'));
const tf = requireFromTfjs('@tensorflow/tfjs');
requireFromTfjs('@tensorflow/tfjs-backend-wasm');
const tfjsApi = await import(distEntry);
const core = await import(join(tfjsDir, 'node_modules', '@dcem', 'core', 'dist', 'index.js'));
// @dcem/tasks (the cart-pole of the 'library' objectives) is always this repo's build.
const tasksEntry = join(root, 'packages', 'tasks', 'dist', 'index.js');
if (!existsSync(tasksEntry)) {
  console.error(`bench: ${tasksEntry} is missing; run \`pnpm build\` first`);
  process.exit(1);
}
const tasks = await import(tasksEntry);

/**
 * The PlaNet model's functions (createRssm, createAdam, elbo, trainStep,
 * imagineReturns) from this repo's build of @dcem/tasks/planet, for the
 * planet configs; loaded only when one of them runs.
 */
async function loadPlanet() {
  const dir = join(root, 'packages', 'tasks', 'dist', 'planet');
  const files = ['rssm.js', 'adam.js', 'elbo.js', 'train-step.js', 'imagine.js'];
  const missing = files.filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) {
    throw new Error(`bench: ${join(dir, missing[0])} is missing; run \`pnpm build\` first`);
  }
  const mods = await Promise.all(files.map((f) => import(join(dir, f))));
  return Object.assign({}, ...mods);
}
let planet;
if (typeof tfjsApi.dense !== 'function' && !process.argv.includes('plain')) {
  console.error(`bench: ${distEntry} has no \`dense\`; time it with --objectives plain`);
  process.exit(1);
}

/**
 * What the configs call: the bound API of @dcem/tfjs, or with `--fused off`
 * the same functions over a backend that composes generic tfjs ops only.
 */
function makeApi(fused) {
  if (fused) return tfjsApi;
  const backend = tfjsApi.createTfjsBackend(tf, { fused: false });
  return {
    ...tfjsApi,
    dcem: (f, o) => core.dcem(backend, f, o),
    lml: (x, k, o) => core.lml(backend, x, k, o),
    lmlWithDiagnostics: (x, k, o) => core.lmlWithDiagnostics(backend, x, k, o),
    sparseTopK: (x, k, o) => core.sparseTopK(backend, x, k, o),
  };
}
let api = tfjsApi;

// --------------------------------------------------------------------------
// Options
// --------------------------------------------------------------------------
function parseArgs(argv) {
  const opts = {
    backends: ['cpu', 'wasm'],
    configs: [...CONFIGS, 'mujoco_rollout'],
    repeats: 9,
    warmup: 2,
    rounds: 1,
    torch: false,
    profile: false,
    python: '/usr/bin/python3',
    torchScript: join(here, 'torch_compare.py'),
    torchThreads: 2,
    budgetS: 120,
    objectives: 'library',
    fused: true,
    label: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new RangeError(`${arg} needs a value`);
      return v;
    };
    const int = (min) => {
      const v = Number(value());
      if (!Number.isInteger(v) || v < min) throw new RangeError(`${arg} must be an integer ≥ ${min}`);
      return v;
    };
    switch (arg) {
      case '--backends':
        opts.backends = value().split(',');
        break;
      case '--configs':
      case '--only':
        opts.configs = value().split(',');
        break;
      case '--repeats':
        opts.repeats = int(1);
        break;
      case '--warmup':
        opts.warmup = int(0);
        break;
      case '--rounds':
        opts.rounds = int(1);
        break;
      case '--torch':
        opts.torch = true;
        break;
      case '--fused':
        opts.fused = value() !== 'off';
        break;
      case '--tfjs-dist':
      case '--malloc':
        value(); // read before parsing (see the top of the file)
        break;
      case '--label':
        opts.label = value();
        break;
      case '--budget-s':
        opts.budgetS = int(1);
        break;
      case '--objectives':
        opts.objectives = value();
        if (!OBJECTIVES.includes(opts.objectives)) {
          throw new RangeError(`--objectives must be one of ${OBJECTIVES.join(', ')}`);
        }
        break;
      case '--profile':
        opts.profile = true;
        break;
      case '--python':
        opts.python = value();
        break;
      case '--torch-script':
        opts.torchScript = resolve(value());
        if (!existsSync(opts.torchScript)) {
          throw new RangeError(`--torch-script: no file ${opts.torchScript}`);
        }
        opts.torch = true;
        break;
      case '--torch-threads':
        opts.torchThreads = int(1);
        break;
      case '--help':
      case '-h':
        console.log(
          readFileSync(fileURLToPath(import.meta.url), 'utf8')
            .split('\n')
            .slice(1, 16)
            .join('\n'),
        );
        process.exit(0);
        break;
      default:
        throw new RangeError(`unknown argument ${arg}`);
    }
  }
  for (const c of opts.configs) {
    if (!CONFIGS.includes(c) && c !== 'mujoco_rollout') {
      throw new RangeError(`unknown config ${c}; known: ${CONFIGS.join(', ')}, mujoco_rollout`);
    }
  }
  for (const b of opts.backends) {
    if (!BENCH_BACKENDS.includes(b)) {
      throw new RangeError(`backend must be one of ${BENCH_BACKENDS.join(', ')}, received ${b}`);
    }
  }
  return opts;
}

// --------------------------------------------------------------------------
// Helpers
// --------------------------------------------------------------------------
const round3 = (x) => Math.round(x * 1000) / 1000;
/** The median of the round medians, or null where there is none (a forward-only config's fwd_bwd). */
const medianOrNull = (xs) => (xs.length === 0 ? null : round3(median(xs)));
/** A minimum, or null where nothing was timed. */
const minOrNull = (x) => (Number.isFinite(x) ? round3(x) : null);
/** ours / PyTorch, or null where either is missing. */
const ratio = (a, b) => (a === null || b === null || b === undefined ? null : round3(a / b));

function torchAvailable(opts) {
  if (!existsSync(opts.torchScript)) return `no comparison script ${opts.torchScript}`;
  const r = spawnSync(opts.python, ['-c', 'import torch'], { encoding: 'utf8' });
  if (r.error) return `${opts.python}: ${r.error.message}`;
  if (r.status !== 0) return `${opts.python} cannot import torch (apt-get install python3-torch)`;
  return null;
}

/** Runs the comparison script with --dtype float32 for one config; returns its JSON row. */
function runTorch(opts, config) {
  const script = opts.torchScript;
  const args = [
    script,
    '--dtype',
    'float32',
    '--configs',
    config,
    '--repeats',
    String(Math.max(7, opts.repeats)),
    '--warmup',
    String(opts.warmup),
    '--threads',
    String(opts.torchThreads),
    '--malloc',
    MALLOC,
  ];
  const r = spawnSync(opts.python, args, { cwd: dirname(script), encoding: 'utf8', env: mallocEnv(MALLOC) });
  if (r.status !== 0) throw new Error(`${script} failed (${r.status}): ${r.stderr}`);
  const rows = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
  const row = rows.find((x) => x.config === config);
  if (row === undefined) throw new Error(`${script} printed no row for ${config}`);
  return row;
}

// --------------------------------------------------------------------------
// Timing one configuration on the active backend
// --------------------------------------------------------------------------

/** Loss, gradient norm and DCEM iterations of one run (untimed). */
function check(cfg) {
  if (cfg.check !== undefined) return cfg.check();
  return tf.tidy(() => {
    let iterations;
    const { value, grads } = tf.valueAndGrads((...ps) => {
      const r = cfg.loss(ps);
      iterations = r.iterations;
      return r.loss;
    })(cfg.params);
    const sq = grads.reduce((acc, g) => acc + tf.sum(tf.square(g)).dataSync()[0], 0);
    return { loss: value.dataSync()[0], gradNorm: Math.sqrt(sq), iterations };
  });
}

/**
 * cpu and wasm are registered with tfjs; webgpu (a software adapter is fine
 * here: it is asked for by name), tensorflow and tensorflow-gpu are set up
 * by @dcem/tfjs's useBackend (see docs/gpu.md). `jax` is not a tfjs backend:
 * it times @dcem/jax (bench/jax.mjs) on the configurations it has a port of.
 */
const BENCH_BACKENDS = ['cpu', 'wasm', 'webgpu', 'tensorflow', 'tensorflow-gpu', 'jax'];

async function setBackend(name) {
  if (name === 'cpu' || name === 'wasm') {
    if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') failed`);
  } else {
    await tfjsApi.useBackend(name, tf);
  }
  await tf.ready();
}

/**
 * Times one configuration on one backend: warm-up runs (the first also
 * checks the loss, the gradient norm and the DCEM iteration count), then
 * `repeats` interleaved forward and forward+backward runs, fewer (at least
 * 3) once `budgetS` seconds are spent on this configuration and backend.
 */
async function benchConfig(opts, name, backend) {
  await setBackend(backend);
  const cfg = buildConfig(name, tf, api, opts.objectives, tasks, planet);
  try {
    const { fwd, fwdBwd } = makeRunners(tf, cfg);
    const start = performance.now();
    const spent = () => (performance.now() - start) / 1000;
    const checked = check(cfg);
    if (checked.iterations !== undefined && checked.iterations !== DCEM_ITERATIONS) {
      throw new Error(`${name}: DCEM ran ${checked.iterations} iterations, expected ${DCEM_ITERATIONS}`);
    }
    for (let i = 1; i < opts.warmup && spent() < opts.budgetS / 4; i++) (fwdBwd ?? fwd)();
    const tensorsBefore = tf.memory().numTensors;
    const fwdT = [];
    const fbT = [];
    let peak;
    if (name === 'dcem_cartpole_embed') {
      // Peak memory of forward+backward: tensors (tf.profile's peak of
      // tf.memory().numBytes) and the process (VmHWM, reset first).
      resetPeakRss();
      const rssBefore = process.memoryUsage().rss;
      const bytesBefore = tf.memory().numBytes;
      const prof = await tf.profile(() => fwdBwd());
      peak = {
        peak_tensor_bytes: prof.peakBytes,
        peak_tensor_bytes_above_start: prof.peakBytes - bytesBefore,
        rss_bytes_before: rssBefore,
      };
    }
    const timingStart = performance.now();
    for (let r = 0; r < opts.repeats; r++) {
      if (r >= 3 && (performance.now() - timingStart) / 1000 > opts.budgetS) break;
      fwdT.push(timed(fwd));
      if (fwdBwd !== null) fbT.push(timed(fwdBwd));
    }
    if (peak !== undefined) {
      peak.peak_rss_bytes = peakRss();
      // The wasm backend's heap (it grows, never shrinks): its size bounds the tensor memory it ever held.
      const heap = backend === 'wasm' ? tf.backend().wasm?.HEAPU8?.length : undefined;
      if (heap !== undefined) peak.wasm_heap_bytes = heap;
    }
    if (tf.memory().numTensors !== tensorsBefore) {
      throw new Error(`${name}: ${tf.memory().numTensors - tensorsBefore} tensors leaked per run`);
    }
    return {
      fwdT,
      fbT,
      row: {
        config: name,
        backend,
        loss: checked.loss,
        grad_norm: checked.gradNorm,
        ...(checked.iterations === undefined ? {} : { iterations: checked.iterations }),
        ...(peak ?? {}),
        objectives: opts.objectives,
        fused: opts.fused,
        malloc: currentMalloc(),
        ...(opts.label === undefined ? {} : { label: opts.label }),
        ...(otherBuild === undefined ? {} : { build: tfjsDir }),
        info: cfg.info,
      },
    };
  } finally {
    tf.dispose(cfg.owned);
    cfg.dispose?.();
  }
}

// --------------------------------------------------------------------------
// Per-kernel profile
// --------------------------------------------------------------------------
async function profileConfig(opts, name, backend) {
  await setBackend(backend);
  const cfg = buildConfig(name, tf, api, opts.objectives, tasks, planet);
  try {
    const { fwd, fwdBwd } = makeRunners(tf, cfg);
    (fwdBwd ?? fwd)();
    const out = [];
    for (const [phase, fn] of [
      ['fwd', fwd],
      ['fwd_bwd', fwdBwd],
    ]) {
      if (fn === null) continue;
      const t0 = performance.now();
      const prof = await tf.profile(() => fn());
      const wall = performance.now() - t0;
      const byName = new Map();
      let kernelMs = 0;
      let launches = 0;
      for (const k of prof.kernels) {
        // customGrad scopes are listed too and include their inner kernels.
        if (tf.getKernel(k.name, backend) === undefined) continue;
        const e = byName.get(k.name) ?? { ms: 0, count: 0 };
        e.ms += k.kernelTimeMs;
        e.count += 1;
        byName.set(k.name, e);
        kernelMs += k.kernelTimeMs;
        launches += 1;
      }
      const top = [...byName.entries()]
        .sort((a, b) => b[1].ms - a[1].ms)
        .slice(0, 12)
        .map(([k, e]) => [k, round3(e.ms), e.count]);
      out.push({
        profile: name,
        backend,
        phase,
        wall_ms_profiled: round3(wall),
        kernel_ms: round3(kernelMs),
        kernel_launches: launches,
        top_kernels: top,
      });
    }
    return out;
  } finally {
    tf.dispose(cfg.owned);
    cfg.dispose?.();
  }
}

// --------------------------------------------------------------------------
// LML root-finder iterations on (256, 1000), k = 100
// --------------------------------------------------------------------------
/**
 * Root-finder iterations of LML on x ~ N(0, 1) of shape (256, 1000),
 * k = 100: the generic float32 path (lmlWithDiagnostics: iterations until
 * every row's Newton step is below tolerance·(1 + |ν|)) and the fused kernel
 * (float64, per row until |Σy − k| ≤ 1e-9 or a step below 1e-7·(1 + |ν|)),
 * and the forward time of each. The reference brackets ν in 6 rounds of 10
 * points at eps 1e-4.
 */
async function lmlIterations(opts, backend) {
  await setBackend(backend);
  const x = tf.randomNormal([256, 1000], 0, 1, 'float32', 11);
  const genericBackend = api.createTfjsBackend(tf, { fused: false });
  const fusedMath = await import(join(tfjsDir, 'dist', 'kernels', 'math.js'));
  try {
    const diag = (tolerance) => {
      const d = api.lmlWithDiagnostics(x, 100, { tolerance, maxIterations: 50 });
      tf.dispose([d.value, d.nu]);
      return d.iterations;
    };
    const steps = new Int32Array(256);
    fusedMath.lmlForward({
      x: x.dataSync(),
      rows: 256,
      n: 1000,
      k: 100,
      temperature: 1,
      maxIterations: 16,
      y: new Float32Array(256 * 1000),
      steps,
    });
    const time = (fn) => {
      const times = [];
      for (let i = 0; i < opts.warmup + opts.repeats; i++) {
        const t = timed(() => {
          const y = fn();
          y.dataSync();
          y.dispose();
        });
        if (i >= opts.warmup) times.push(t);
      }
      return round3(median(times));
    };
    // max over rows of |Σy − k|, summed in float64 on the host.
    const rowSumError = (y) => {
      const v = y.dataSync();
      let worst = 0;
      for (let r = 0; r < 256; r++) {
        let sum = 0;
        for (let i = 0; i < 1000; i++) sum += v[r * 1000 + i];
        worst = Math.max(worst, Math.abs(sum - 100));
      }
      return worst;
    };
    const yFused = api.lml(x, 100);
    const yGeneric = core.lml(genericBackend, x, 100);
    const out = {
      config: 'lml_iterations',
      backend,
      shape: [256, 1000],
      k: 100,
      generic_iterations_tol_1e4: diag(1e-4),
      generic_iterations_tol_1e6: diag(1e-6),
      generic_max_abs_rowsum_minus_k: rowSumError(yGeneric),
      fused_steps_max: Math.max(...steps),
      fused_steps_mean: round3(steps.reduce((a, b) => a + b, 0) / steps.length),
      fused_max_abs_rowsum_minus_k: rowSumError(yFused),
      fused_vs_generic_max_abs_diff: tf.tidy(() => tf.max(tf.abs(tf.sub(yFused, yGeneric))).dataSync()[0]),
      fwd_ms_fused: time(() => api.lml(x, 100)),
      fwd_ms_generic_16_iterations: time(() => core.lml(genericBackend, x, 100)),
      reference_rounds_eps_1e4: 6,
    };
    tf.dispose([yFused, yGeneric]);
    return out;
  } finally {
    x.dispose();
  }
}

// --------------------------------------------------------------------------
async function main() {
  const opts = parseArgs(process.argv.slice(2));
  // mujoco_rollout (bench/mujoco.mjs) times @dcem/mujoco's worker pool, not a tfjs backend: it runs last, once.
  const runMujoco = opts.configs.includes('mujoco_rollout');
  opts.configs = opts.configs.filter((c) => c !== 'mujoco_rollout');
  api = makeApi(opts.fused);
  if (opts.configs.some((c) => c.startsWith('planet_'))) planet = await loadPlanet();
  tf.env().set('PROD', true);
  let torchReason = null;
  if (opts.torch) {
    torchReason = torchAvailable(opts);
    if (torchReason !== null) console.error(`bench: PyTorch comparison skipped: ${torchReason}`);
  }
  const useTorch = opts.torch && torchReason === null;

  const ours = new Map(); // `${config}/${backend}` → { fwd: [round medians], fb, fwdMin, fbMin, row }
  const torch = new Map(); // config → { fwd: [], fb: [], row }
  for (let round = 0; round < opts.rounds; round++) {
    for (const name of opts.configs) {
      if (useTorch && !WITHOUT_TORCH.includes(name)) {
        const t = runTorch(opts, name);
        const e = torch.get(name) ?? { fwd: [], fb: [], fwdMin: Infinity, fbMin: Infinity, row: t };
        e.fwd.push(t.fwd_ms);
        if (t.fwd_bwd_ms !== null) e.fb.push(t.fwd_bwd_ms);
        e.fwdMin = Math.min(e.fwdMin, t.fwd_ms_min);
        if (t.fwd_bwd_ms_min !== null) e.fbMin = Math.min(e.fbMin, t.fwd_bwd_ms_min);
        torch.set(name, e);
      }
      for (const backend of opts.backends) {
        if (backend === 'jax' && !JAX_CONFIGS.includes(name)) continue;
        const r =
          backend === 'jax' ? await benchJaxConfig(opts, name, tf) : await benchConfig(opts, name, backend);
        const key = `${name}/${backend}`;
        const e = ours.get(key) ?? {
          fwd: [],
          fb: [],
          fwdMin: Infinity,
          fbMin: Infinity,
          repeats: 0,
          row: r.row,
        };
        e.repeats += r.fwdT.length;
        e.fwd.push(median(r.fwdT));
        if (r.fbT.length > 0) e.fb.push(median(r.fbT));
        e.fwdMin = Math.min(e.fwdMin, ...r.fwdT);
        e.fbMin = Math.min(e.fbMin, ...r.fbT);
        ours.set(key, e);
      }
    }
  }

  const summary = [];
  for (const name of opts.configs) {
    const t = torch.get(name);
    if (t !== undefined) {
      const row = {
        config: name,
        backend: 'pytorch',
        fwd_ms: round3(median(t.fwd)),
        fwd_bwd_ms: medianOrNull(t.fb),
        fwd_ms_min: t.fwdMin,
        fwd_bwd_ms_min: minOrNull(t.fbMin),
        repeats: t.row.repeats,
        rounds: opts.rounds,
        threads: t.row.threads,
        omp_wait_policy: t.row.omp_wait_policy,
        malloc: t.row.malloc ?? 'default',
        blas: t.row.blas ?? 'unknown',
        loss: t.row.loss,
        grad_norm: t.row.grad_norm,
      };
      console.log(JSON.stringify(row));
    }
    for (const backend of opts.backends) {
      const e = ours.get(`${name}/${backend}`);
      if (e === undefined) {
        console.error(`bench: ${name} has no port to ${backend} (bench/jax.mjs: ${JAX_CONFIGS.join(', ')})`);
        continue;
      }
      const row = {
        config: name,
        backend,
        fwd_ms: round3(median(e.fwd)),
        fwd_bwd_ms: medianOrNull(e.fb),
        fwd_ms_min: round3(e.fwdMin),
        fwd_bwd_ms_min: minOrNull(e.fbMin),
        repeats: e.repeats,
        rounds: opts.rounds,
        ...e.row,
      };
      if (t !== undefined) {
        row.torch_fwd_ms = round3(median(t.fwd));
        row.torch_fwd_bwd_ms = medianOrNull(t.fb);
        row.ratio_fwd = ratio(row.fwd_ms, row.torch_fwd_ms);
        row.ratio_fwd_bwd = ratio(row.fwd_bwd_ms, row.torch_fwd_bwd_ms);
        row.torch_blas = t.row.blas ?? 'unknown';
        row.torch_threads = t.row.threads;
        row.torch_malloc = t.row.malloc ?? 'default';
      }
      const threadsOf = tfjsApi.threads ?? tfjsApi.matMulThreads; // builds before setThreads have the old name
      if (typeof threadsOf === 'function') row.matmul_threads = threadsOf();
      console.log(JSON.stringify(row));
      summary.push(row);
    }
  }
  if (opts.configs.includes('lml_large') && otherBuild === undefined) {
    for (const backend of opts.backends) {
      if (backend !== 'jax') console.log(JSON.stringify(await lmlIterations(opts, backend)));
    }
  }
  if (opts.profile) {
    for (const name of opts.configs) {
      for (const backend of opts.backends) {
        if (backend === 'jax') continue; // tf.profile sees tfjs kernels only
        for (const line of await profileConfig(opts, name, backend)) console.log(JSON.stringify(line));
      }
    }
  }

  const pad = (s, n) => String(s).padEnd(n);
  const lines = [
    `${pad('config', 22)}${pad('backend', 9)}${pad('fwd ms', 11)}${pad('fwd+bwd ms', 12)}${useTorch ? `${pad('torch fwd', 11)}${pad('torch f+b', 11)}${pad('torch BLAS, threads, malloc', 30)}${pad('ratio fwd', 11)}ratio f+b` : ''}`,
  ];
  for (const r of summary) {
    const blas =
      r.torch_blas === undefined ? '-' : `${r.torch_blas}, ${r.torch_threads ?? '?'}T, ${r.torch_malloc}`;
    lines.push(
      `${pad(r.config, 22)}${pad(r.backend, 9)}${pad(r.fwd_ms, 11)}${pad(r.fwd_bwd_ms ?? '-', 12)}${useTorch ? `${pad(r.torch_fwd_ms ?? '-', 11)}${pad(r.torch_fwd_bwd_ms ?? '-', 11)}${pad(blas, 30)}${pad(r.ratio_fwd ?? '-', 11)}${r.ratio_fwd_bwd ?? '-'}` : ''}`,
    );
  }
  const threadsOf = tfjsApi.threads ?? tfjsApi.matMulThreads;
  if (typeof threadsOf === 'function') lines.push(`ours: matMul/dense/LML on ${threadsOf()} thread(s)`);
  lines.push(
    `malloc: ${currentMalloc()} (ours${useTorch ? ' and PyTorch' : ''}; --malloc, see bench/malloc.mjs)`,
  );
  if (runMujoco) {
    const m = await benchMujocoRollout({ repeats: Math.min(opts.repeats, 5) });
    if (opts.label !== undefined) m.label = opts.label;
    console.log(JSON.stringify(m));
    lines.push(
      `mujoco_rollout (cheetah-run, ${m.sequences} × H ${m.horizon}, repeat ${m.action_repeat}): ` +
        `${m.steps_per_s_1} physics steps/s on 1 worker, ${m.steps_per_s_2} on 2 (×${m.ratio_2_over_1}); ` +
        `pool overhead ${(100 * m.overhead_1).toFixed(1)} % / ${(100 * m.overhead_2).toFixed(1)} %; load ${m.load_avg_1min_before}`,
    );
  }
  console.error(lines.join('\n'));
}

await main();
