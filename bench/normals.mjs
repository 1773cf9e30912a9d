#!/usr/bin/env node
// Standard-normal draws: @dcem/tfjs's generator (randomNormal of its backend)
// against tf.randomNormal, 204 800 draws (one sampling step of
// dcem_quadratic), median of 30 runs each, interleaved, on the tfjs cpu
// backend. Needs `pnpm build`.
//
//   node bench/normals.mjs
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, timed } from './timing.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const requireFromTfjs = createRequire(join(root, 'packages', 'tfjs', 'package.json'));
const tf = requireFromTfjs('@tensorflow/tfjs');
const { createTfjsBackend } = await import(join(root, 'packages', 'tfjs', 'dist', 'index.js'));
await tf.setBackend('cpu');
const backend = createTfjsBackend(tf);
const size = 204800;
const ours = [];
const theirs = [];
for (let i = 0; i < 35; i++) {
  const a = timed(() => tf.dispose(backend.randomNormal([size], i + 1)));
  const b = timed(() => tf.dispose(tf.randomNormal([size], 0, 1, 'float32', i + 1)));
  if (i >= 5) {
    ours.push(a);
    theirs.push(b);
  }
}
console.log(
  JSON.stringify({
    draws: size,
    dcem_ms: median(ours),
    tf_random_normal_ms: median(theirs),
    speedup: median(theirs) / median(ours),
  }),
);
