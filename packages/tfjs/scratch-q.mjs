import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { dcem } from './dist/index.js';
for (const be of ['cpu', 'wasm']) {
  await tf.setBackend(be);
  for (const seed of [0, 1, 2, 3, 4, 5, 6, 7]) {
    const p = tf.tensor2d([[0.15, -0.05], [-0.12, 0.08]]);
    const t0 = performance.now();
    const r = dcem((x) => tf.sum(tf.add(tf.mul(0.5, tf.square(x)), tf.mul(tf.reshape(p, [2, 1, 2]), x)), -1), {
      dim: 2, batchSize: 2, numSamples: 100, numElites: 50, numIterations: 40, temperature: 1, tolerance: 0, seed,
    });
    const err = tf.max(tf.abs(tf.add(r.solution, p))).dataSync()[0];
    console.log(be, seed, err, r.iterations, Array.from(r.std.dataSync()).map(v=>v.toExponential(2)).join(' '), (performance.now()-t0).toFixed(0)+'ms');
  }
}
