import { dcem } from '@dcem/core';
import { createFloat64Backend } from '@dcem/core/testing';
const b = createFloat64Backend();
const p = b.tensor([0.15, -0.05, -0.12, 0.08], [2, 2]);
const errs = [];
for (let seed = 0; seed < 40; seed++) {
  for (const iters of [40]) {
    const r = dcem(b, (x) => b.sum(b.add(b.mul(b.scalar(0.5), b.square(x)), b.mul(b.reshape(p, [2, 1, 2]), x)), -1), {
      dim: 2, batchSize: 2, numSamples: 100, numElites: 50, numIterations: iters, temperature: 1, tolerance: 0, seed, lmlIterations: 30,
    });
    const s = r.solution.data; let e = 0; for (let i = 0; i < 4; i++) e = Math.max(e, Math.abs(s[i] + p.data[i]));
    errs.push(e);
    if (seed < 3) console.log(seed, e, Array.from(r.std.data).map(v=>v.toExponential(2)).join(' '));
  }
}
errs.sort((a,b)=>a-b); console.log('median', errs[20], 'min', errs[0], 'max', errs[39], 'frac<1e-4', errs.filter(e=>e<1e-4).length/40);
