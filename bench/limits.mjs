#!/usr/bin/env node
// The limits of dense layers here, in GFLOP/s, at the shapes of the
// dcem_regression benchmark (a [10000, 128] batch through 128 × 128 layers):
//
//   * the peak of a 128-bit WebAssembly SIMD inner kernel (12 independent
//     4-lane multiply-adds on registers, no memory traffic) on 1 and 2
//     threads (worker_threads);
//   * tfjs-wasm's own matMul (XNNPACK, one thread in Node), with the
//     transposed products the backward pass needs;
//   * @dcem/tfjs's matMul / dense on 1 thread and on 2 threads (on one
//     thread, matMul is tf.matMul and dense runs our kernels on the calling
//     thread);
//   * a dense layer with softplus, forward and forward+backward (the
//     gradients for x, W and b: three products);
//   * PyTorch on the same shapes (/usr/bin/python3), with its BLAS named.
//
//   node bench/limits.mjs [--repeats 15] [--threads 2] [--no-torch] [--json]
//
// Needs `pnpm build`. Every case is timed once per round, the rounds
// interleave the cases (so they share the machine's conditions), and the
// table shows the median over rounds. The machine is shared: compare numbers
// from one invocation.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { mallocEnv } from './malloc.mjs';
import { median } from './timing.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const tfjsDir = join(root, 'packages', 'tfjs');
const dist = join(tfjsDir, 'dist');
if (!existsSync(join(dist, 'index.js'))) {
  console.error('limits: packages/tfjs/dist is missing; run `pnpm build` first');
  process.exit(1);
}

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const REPEATS = Number(option('--repeats', '15'));
const THREADS = Number(option('--threads', '2'));
const JSON_OUT = process.argv.includes('--json');
const TORCH = !process.argv.includes('--no-torch');
for (const [name, v] of [
  ['--repeats', REPEATS],
  ['--threads', THREADS],
]) {
  if (!Number.isInteger(v) || v < 1) {
    console.error(`limits: ${name} must be an integer ≥ 1, received ${v}`);
    process.exit(1);
  }
}

const requireFromTfjs = createRequire(join(tfjsDir, 'package.json'));
const tf = requireFromTfjs('@tensorflow/tfjs');
requireFromTfjs('@tensorflow/tfjs-backend-wasm');
const api = await import(join(dist, 'index.js'));
const threadsInternal = await import(join(dist, 'matmul', 'dense-kernels.js'));
const gemmInternal = await import(join(dist, 'threads', 'gemm.js'));
const { GEMM_WASM_BASE64 } = await import(join(dist, 'wasm', 'gemm-simd.generated.js'));
await tf.setBackend('wasm');

const M = 10000;
const H = 128;
const MAC = M * H * H; // multiply-adds of one product at these shapes
const rows = [];

function report(row) {
  rows.push(row);
  if (JSON_OUT) console.log(JSON.stringify(row));
}

// ---------------------------------------------------------------------------
// 1. The SIMD peak, on 1 and on N threads at once.
const module = new WebAssembly.Module(Buffer.from(GEMM_WASM_BASE64, 'base64'));
const PEAK_ITERATIONS = 2e7; // 96 flops each: 1.92 GFLOP per thread per run
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const memory = new WebAssembly.Memory({ initial: 1, maximum: 16384, shared: true });
const { simdPeak } = new WebAssembly.Instance(workerData.module, { env: { memory } }).exports;
simdPeak(1e5, 1);
parentPort.on('message', (n) => { simdPeak(n, 1); parentPort.postMessage('done'); });
`;
const workers = Array.from(
  { length: THREADS },
  () => new Worker(WORKER, { eval: true, workerData: { module } }),
);
async function peakRun(count) {
  const t0 = performance.now();
  await Promise.all(
    workers.slice(0, count).map(
      (w) =>
        new Promise((done) => {
          w.once('message', done);
          w.postMessage(PEAK_ITERATIONS);
        }),
    ),
  );
  return performance.now() - t0;
}
const peak = { 1: [], [THREADS]: [] };
for (let r = 0; r < Math.max(5, Math.ceil(REPEATS / 3)); r++) {
  peak[1].push(await peakRun(1));
  if (THREADS > 1) peak[THREADS].push(await peakRun(THREADS));
}
await Promise.all(workers.map((w) => w.terminate()));
for (const n of Object.keys(peak)) {
  if (peak[n].length === 0) continue;
  const ms = median(peak[n]);
  report({
    case: `SIMD peak, ${n} thread${n === '1' ? '' : 's'}`,
    ms,
    gflops: (Number(n) * PEAK_ITERATIONS * 96) / ms / 1e6,
  });
}

// ---------------------------------------------------------------------------
// 2. tfjs-wasm and @dcem/tfjs at the regression shapes.
const x = tf.randomNormal([M, H], 0, 1, 'float32', 1);
const w = tf.randomNormal([H, H], 0, 0.1, 'float32', 2);
const b = tf.randomNormal([H], 0, 0.1, 'float32', 3);
const g = tf.randomNormal([M, H], 0, 1, 'float32', 4);

/**
 * Runs f and disposes everything it made; returns the wall time. The wasm
 * backend's kernels are synchronous, so nothing is read back: reading even
 * one entry of a [10000, 128] result (dataSync, or tf.slice, which reads
 * its whole input) copies it into a new 5 MB JavaScript buffer, and the
 * first touch of fresh memory costs about 15 ms here (page faults in this
 * VM), more than the product itself.
 */
function time(f) {
  const t0 = performance.now();
  tf.tidy(() => {
    f();
  });
  return performance.now() - t0;
}

// A layer's forward+backward: the gradients of act(x·W + b) with respect to
// x, W and b for the upstream gradient g (tf.grads' dy), i.e. three products.
const layerGrads = (layer) => () => tf.grads(layer)([x, w, b], g);
const tfjsSoftplusLayer = (xx, ww, bb) => tf.softplus(tf.add(tf.matMul(xx, ww), bb));
const SOFTPLUS = { activation: 'softplus' };
const cases = [
  // [label, threads (undefined: not ours), flops, fn]
  ['tfjs-wasm  X·W', 0, 2 * MAC, () => tf.matMul(x, w)],
  ['tfjs-wasm  G·Wᵀ (transposeB)', 0, 2 * MAC, () => tf.matMul(g, w, false, true)],
  ['tfjs-wasm  Xᵀ·G (transposeA)', 0, 2 * MAC, () => tf.matMul(x, g, true, false)],
  ['tfjs-wasm  transpose(X)·G', 0, 2 * MAC, () => tf.matMul(tf.transpose(x), g)],
  ['tfjs-wasm  layer X·W+b, softplus: fwd', 0, 2 * MAC, () => tfjsSoftplusLayer(x, w, b)],
  ['tfjs-wasm  layer X·W+b, softplus: fwd+bwd', 0, 6 * MAC, layerGrads(tfjsSoftplusLayer)],
];
// Our kernels on plain arrays (operands copied in and out of the shared memory).
const xa = x.dataSync();
const wa = w.dataSync();
const ga = g.dataSync();
const outNN = new Float32Array(M * H);
const outTN = new Float32Array(H * H);
for (const threads of THREADS > 1 ? [1, THREADS] : [1]) {
  cases.push(
    [
      `kernel ${threads}T  X·W (arrays)`,
      threads,
      2 * MAC,
      () => {
        gemmInternal.gemm({ a: xa, b: wa, m: M, n: H, k: H, out: outNN, threads });
        return [];
      },
    ],
    [
      `kernel ${threads}T  Xᵀ·G (arrays)`,
      threads,
      2 * MAC,
      () => {
        gemmInternal.gemmTn({ a: xa, b: ga, m: M, n: H, k: H, out: outTN, threads });
        return [];
      },
    ],
  );
}
for (const threads of THREADS > 1 ? [1, THREADS] : [1]) {
  const t = `ours ${threads}T`;
  cases.push(
    [`${t}  matMul X·W`, threads, 2 * MAC, () => api.matMul(x, w)],
    [`${t}  dense X·W+b`, threads, 2 * MAC, () => api.dense(x, w, b)],
    [`${t}  G·Wᵀ (backward, dX)`, threads, 2 * MAC, () => threadsInternal.productNN(g, tf.transpose(w))],
    [
      `${t}  Xᵀ·G (backward, dW)`,
      threads,
      2 * MAC,
      () => threadsInternal.productTN(x, g) ?? tf.matMul(tf.transpose(x), g),
    ],
    [`${t}  layer dense, softplus: fwd`, threads, 2 * MAC, () => api.dense(x, w, b, SOFTPLUS)],
    [
      `${t}  layer dense, softplus: fwd+bwd`,
      threads,
      6 * MAC,
      layerGrads((xx, ww, bb) => api.dense(xx, ww, bb, SOFTPLUS)),
    ],
  );
}
const times = cases.map(() => []);
// The one-thread cases, then the N-thread ones; within a group the rounds
// interleave the cases. A group sets the thread count once: changing it
// replaces the pool and its shared memory, and the first touch of fresh
// memory costs about as much as a product here (page faults in this VM).
const groups = [...new Set(cases.map(([, threads]) => Math.max(1, threads)))];
for (const threads of groups) {
  await api.setThreads(threads);
  // Start the pool (and its workers), and give them time to load, before timing.
  gemmInternal.gemm({ a: xa, b: wa, m: M, n: H, k: H, out: outNN, threads });
  await new Promise((done) => setTimeout(done, 200));
  for (let r = 0; r < REPEATS + 2; r++) {
    for (let i = 0; i < cases.length; i++) {
      const [, caseThreads, , fn] = cases[i];
      if (Math.max(1, caseThreads) !== threads) continue;
      const ms = time(fn);
      if (r >= 2) times[i].push(ms); // two warm-up rounds
    }
  }
}
await api.setThreads(undefined);
await api.closeThreads();
cases.forEach(([label, , flops], i) => {
  const ms = median(times[i]);
  report({ case: label, ms, gflops: flops / ms / 1e6 });
});
tf.dispose([x, w, b, g]);

// ---------------------------------------------------------------------------
// 3. PyTorch on the same shapes.
const PY = `
import json, os, statistics, sys, time
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch
def blas():
    a = torch.ones(64, 64); (a @ a).sum().item()
    paths = {l.split()[-1] for l in open("/proc/self/maps") if "/" in l}
    for p in sorted(q for q in paths if "libblas.so" in q):
        real = os.path.realpath(p)
        for name in ("openblas", "blis", "atlas", "mkl"):
            if name in real: return name
        return "netlib"
    for name in ("openblas", "blis", "atlas", "mkl"):
        if any(name in p for p in paths): return name
    return "unknown"
M, H, R = 10000, 128, int(sys.argv[1])
g_ = torch.Generator().manual_seed(0)
x = torch.randn(M, H, generator=g_); w = torch.randn(H, H, generator=g_) * 0.1
b = torch.zeros(H); g = torch.randn(M, H, generator=g_)
lib = blas()
def layer_fb():
    ww = w.clone().requires_grad_(); bb = b.clone().requires_grad_(); xx = x.clone().requires_grad_()
    torch.nn.functional.softplus(torch.addmm(bb, xx, ww)).backward(g)
cases = [("X·W", 2, lambda: x @ w), ("G·Wᵀ", 2, lambda: g @ w.t()), ("Xᵀ·G", 2, lambda: x.t() @ g),
         ("layer X·W+b, softplus: fwd", 2, lambda: torch.nn.functional.softplus(torch.addmm(b, x, w))),
         ("layer X·W+b, softplus: fwd+bwd", 6, layer_fb)]
for threads in sorted({1, int(sys.argv[2])}):
    torch.set_num_threads(threads)
    ts = [[] for _ in cases]
    for r in range(R + 2):
        for i, (_, _, f) in enumerate(cases):
            t0 = time.perf_counter(); f(); dt = (time.perf_counter() - t0) * 1e3
            if r >= 2: ts[i].append(dt)
    for (label, k, _), t in zip(cases, ts):
        ms = statistics.median(t)
        print(json.dumps({"case": f"PyTorch {threads}T  {label}", "ms": ms, "gflops": k * M * H * H / ms / 1e6, "blas": lib}))
`;
if (TORCH) {
  // glibc keeps freed memory (as bench/torch_compare.py --malloc keep, its
  // default): otherwise each of PyTorch's fresh tensors pays page faults.
  const env = mallocEnv('keep');
  const py = spawnSync('/usr/bin/python3', ['-c', PY, String(REPEATS), String(THREADS)], {
    encoding: 'utf8',
    env,
  });
  if (py.status !== 0) {
    console.error(`limits: PyTorch run failed (${py.stderr.trim().split('\n').pop()}); --no-torch skips it`);
    process.exit(1);
  }
  for (const line of py.stdout.trim().split('\n')) report(JSON.parse(line));
}

// ---------------------------------------------------------------------------
const peakN = rows.find((r) => r.case === `SIMD peak, ${THREADS} threads`) ?? rows[0];
const lines = [
  `GFLOP/s at the dcem_regression shapes ([${M}, ${H}]·[${H}, ${H}]; fwd+bwd of a layer counts 3 products), median of ${REPEATS}`,
  `${THREADS} threads; wasm backend; tfjs-wasm's own kernels run on one thread in Node.`,
  '',
  '| case | ms | GFLOP/s | % of the SIMD peak on N threads |',
  '| --- | ---: | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${r.case}${r.blas ? ` (BLAS: ${r.blas})` : ''} | ${r.ms.toFixed(2)} | ${r.gflops.toFixed(1)} | ${((100 * r.gflops) / peakN.gflops).toFixed(0)} % |`,
  ),
];
(JSON_OUT ? console.error : console.log)(lines.join('\n'));
