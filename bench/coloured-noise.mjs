#!/usr/bin/env node
// iCEM's coloured noise on the tfjs cpu backend: colouredNoise with the
// backend's matMul (tf.matMul) against the same backend whose matMul is
// completeBackend's derivation (the broadcast mul + sum the filter used
// before Backend.matMul), one draw of a 12-row pendulum planner iteration
// ([12, 100, 20, 1], β = 2, coloured along H = 20), median of 20 runs each,
// interleaved. Needs `pnpm build`.
//
//   node bench/coloured-noise.mjs
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, timed } from './timing.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const requireFromTfjs = createRequire(join(root, 'packages', 'tfjs', 'package.json'));
const tf = requireFromTfjs('@tensorflow/tfjs');
const { createTfjsBackend } = await import(join(root, 'packages', 'tfjs', 'dist', 'index.js'));
const { colouredNoise, completeBackend } = await import(join(root, 'packages', 'core', 'dist', 'index.js'));
await tf.setBackend('cpu');
const native = createTfjsBackend(tf);
const derived = completeBackend({ ...native, name: 'tfjs-cpu-derived', matMul: undefined });
const shape = [12, 100, 20, 1];
const check = tf.tidy(() =>
  tf
    .max(tf.abs(tf.sub(colouredNoise(native, shape, 2, 2, 7), colouredNoise(derived, shape, 2, 2, 7))))
    .dataSync(),
);
const withMatMul = [];
const broadcast = [];
for (let i = 0; i < 25; i++) {
  const a = timed(() => tf.tidy(() => colouredNoise(native, shape, 2, 2, i).dataSync()));
  const b = timed(() => tf.tidy(() => colouredNoise(derived, shape, 2, 2, i).dataSync()));
  if (i >= 5) {
    withMatMul.push(a);
    broadcast.push(b);
  }
}
console.log(
  JSON.stringify({
    shape,
    max_abs_difference: check[0],
    matmul_ms: median(withMatMul),
    broadcast_mul_sum_ms: median(broadcast),
    speedup: median(broadcast) / median(withMatMul),
  }),
);
