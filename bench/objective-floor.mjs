#!/usr/bin/env node
// What the objective of `dcem_quadratic` alone costs: its 10 evaluations
// (one per DCEM iteration) on [64, 100, 32] samples, forward and
// forward+backward (the vector–Jacobian product to p and to the samples, as
// the backward pass through DCEM needs it), written with the same ops as
// bench/configs.mjs, on the tfjs backends and, with --torch, in PyTorch in the
// same invocation. No DCEM runs here: the numbers are a floor under the
// config's time that the solver cannot remove.
//
//   node bench/objective-floor.mjs [--backends cpu,wasm] [--repeats 9] [--torch]
//                                  [--malloc keep|default]
//
// Both sides run under the same glibc malloc setting (bench/malloc.mjs;
// 'keep' by default).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { currentMalloc, MALLOC_MODES, mallocEnv, runUnderMalloc } from './malloc.mjs';
import { median, timed } from './timing.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const requireFromTfjs = createRequire(join(root, 'packages', 'tfjs', 'package.json'));
const tf = requireFromTfjs('@tensorflow/tfjs');
requireFromTfjs('@tensorflow/tfjs-backend-wasm');

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const malloc = option('--malloc', 'keep');
if (!MALLOC_MODES.includes(malloc)) {
  console.error(
    `objective-floor: --malloc must be one of ${MALLOC_MODES.join(', ')}, received ${JSON.stringify(malloc)}`,
  );
  process.exit(1);
}
runUnderMalloc(malloc);
const backends = option('--backends', 'cpu,wasm').split(',');
const repeats = Number(option('--repeats', '9'));
const B = 64;
const S = 100;
const NX = 32;
const ITERATIONS = 10;

function timeTfjs() {
  const q3 = tf.reshape(tf.add(tf.randomUniform([B, NX], 0, 1, 'float32', 11), 0.5), [B, 1, NX]);
  const p = tf.randomNormal([B, NX], 0, 1, 'float32', 1);
  const xs = Array.from({ length: ITERATIONS }, (_, t) =>
    tf.randomNormal([B, S, NX], 0, 1, 'float32', 20 + t),
  );
  const w = tf.randomNormal([B, S], 0, 1, 'float32', 3);
  // The objective of bench/configs.mjs, and a scalar of its values to differentiate.
  const loss = (pp, samples) => {
    const p3 = tf.reshape(pp, [B, 1, NX]);
    let total = tf.scalar(0);
    for (const x of samples) {
      const f = tf.sum(tf.add(tf.mul(tf.mul(q3, 0.5), tf.square(x)), tf.mul(p3, x)), -1);
      total = tf.add(total, tf.sum(tf.mul(f, w)));
    }
    return total;
  };
  const fwd = () => tf.tidy(() => loss(p, xs).dataSync());
  const fwdBwd = () => {
    const { value, grads } = tf.valueAndGrads((pp, ...samples) => loss(pp, samples))([p, ...xs]);
    // The cpu and wasm backends compute synchronously: reading the value and
    // p's gradient is enough. Reading the samples' gradients back too would
    // time ten fresh 800 KB JavaScript copies (and their page faults), which
    // DCEM never makes and PyTorch's side does not pay.
    value.dataSync();
    grads[0].dataSync();
    tf.dispose([value, ...grads]);
  };
  for (let i = 0; i < 2; i++) {
    fwd();
    fwdBwd();
  }
  const f = [];
  const fb = [];
  for (let i = 0; i < repeats; i++) {
    f.push(timed(fwd));
    fb.push(timed(fwdBwd));
  }
  tf.dispose([q3, p, w, ...xs]);
  return { fwd_ms: median(f), fwd_bwd_ms: median(fb) };
}

const PYTHON = `
import json, sys, time, torch
torch.set_num_threads(2)
B, S, NX, IT, R = 64, 100, 32, 10, int(sys.argv[1])
q3 = (torch.rand(B, NX) + 0.5).unsqueeze(1)
p = torch.randn(B, NX, requires_grad=True)
xs = [torch.randn(B, S, NX, requires_grad=True) for _ in range(IT)]
w = torch.randn(B, S)
def loss():
    p3 = p.unsqueeze(1)
    total = 0
    for x in xs:
        total = total + ((0.5 * q3 * x ** 2 + p3 * x).sum(-1) * w).sum()
    return total
def fwd():
    loss().item()
def fwd_bwd():
    g = torch.autograd.grad(loss(), [p] + xs)
def timed(fn):
    t0 = time.perf_counter(); fn(); return (time.perf_counter() - t0) * 1e3
for _ in range(2): fwd(); fwd_bwd()
f, fb = [], []
for _ in range(R): f.append(timed(fwd)); fb.append(timed(fwd_bwd))
f.sort(); fb.sort()
print(json.dumps({"fwd_ms": f[len(f) // 2], "fwd_bwd_ms": fb[len(fb) // 2]}))
`;

const rows = [];
if (args.includes('--torch')) {
  const out = spawnSync('/usr/bin/python3', ['-c', PYTHON, String(repeats)], {
    encoding: 'utf8',
    // OMP_WAIT_POLICY=PASSIVE: torch_compare.py's default.
    env: { ...mallocEnv(malloc), OMP_WAIT_POLICY: 'PASSIVE' },
  });
  if (out.status !== 0) throw new Error(`PyTorch run failed: ${out.stderr}`);
  rows.push({ backend: 'pytorch', ...JSON.parse(out.stdout) });
}
for (const backend of backends) {
  if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend('${backend}') failed`);
  rows.push({ backend, ...timeTfjs() });
}
for (const row of rows) {
  console.log(
    JSON.stringify({
      config: 'dcem_quadratic_objective_only',
      iterations: ITERATIONS,
      malloc: currentMalloc(),
      ...row,
    }),
  );
}
