import * as tf from '@tensorflow/tfjs';
import { dcem } from './dist/index.js';
await tf.setBackend('cpu');
const p = tf.tensor2d([[0.15, -0.05], [-0.12, 0.08]]);
for (const iters of [40, 60, 80]) {
  const errs = []; let rat = 0;
  for (let seed = 0; seed < 20; seed++) {
    const r = dcem((x) => tf.sum(tf.add(tf.mul(0.5, tf.square(x)), tf.mul(tf.reshape(p, [2, 1, 2]), x)), -1), {
      dim: 2, batchSize: 2, numSamples: 100, numElites: 50, numIterations: iters, temperature: 1, tolerance: 0, seed,
    });
    const err = tf.max(tf.abs(tf.add(r.solution, p))).dataSync()[0];
    const smax = tf.max(r.std).dataSync()[0];
    rat = Math.max(rat, err / smax);
    errs.push(err);
  }
  errs.sort((a,b)=>a-b);
  console.log(iters, 'median', errs[10].toExponential(2), 'max', errs[19].toExponential(2), 'frac<1e-4', errs.filter(e=>e<1e-4).length/20, 'max err/σmax', rat.toFixed(2));
}
