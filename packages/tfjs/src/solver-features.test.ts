// The solver's iCEM / MPPI / TD-MPC2 options on TensorFlow.js: gradients
// through DCEM with momentum and kept elites (LML and sparse selectors)
// against float64 central differences, the fused fast paths against the
// generic ops, no leaks, seeds, and the same meaning of createCem and of
// "no temperature" as in @dcem/core.
import {
  type Backend,
  type CemOptions,
  createCem as coreCreateCem,
  dcem as coreDcem,
  type SelectorName,
} from '@dcem/core';
import { createFloat64Backend } from '@dcem/core/testing';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cem,
  createCem,
  createDcem,
  type DcemOptions,
  type DcemResult,
  dcem,
  disposeCemResult,
  tfjsBackend,
} from './api.js';
import { createTfjsBackend } from './backend.js';
import { presets } from './index.js';
import { askTellStep, centralDifferences, draws, quadratic } from './solver.test-utils.js';

const f64 = createFloat64Backend({ seed: 99 });

beforeAll(async () => {
  expect(await tf.setBackend('cpu')).toBe(true);
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

function readAll(r: DcemResult): number[] {
  return [
    ...r.solution.dataSync(),
    ...r.std.dataSync(),
    ...r.best.sample.dataSync(),
    ...r.best.value.dataSync(),
    ...r.elites.samples.dataSync(),
    ...r.elites.values.dataSync(),
    ...r.elites.weights.dataSync(),
  ];
}

const BATCH = 2;
const DIM = 3;

describe('gradients through dcem with momentum and kept elites vs float64 central differences', () => {
  // Fresh samples per iteration (decay 1.25 from 24, floor 2k = 12) and 3 kept
  // elites carried from iteration 1 on: the noise of iteration t is [2, Nₜ, 3].
  const iterations = 5;
  const fresh = [24, 19, 15, 12, 12];
  const settings = (selector: SelectorName, noise: (t: number) => unknown) => ({
    dim: DIM,
    batchSize: BATCH,
    numSamples: 24,
    numElites: 6,
    numIterations: iterations,
    selector,
    temperature: 0.7,
    tolerance: 0,
    momentum: 0.3,
    populationDecay: 1.25,
    keepElites: 0.5,
    addMeanToLast: true,
    lmlIterations: 60,
    initStd: 0.8,
    noise,
  });
  const eps = fresh.map((n, t) => draws(BATCH * n * DIM, 500 + t));

  for (const selector of ['lml', 'sparse'] as const) {
    it(`${selector}: tf.grads of Σ w ⊙ solution and of the best value match FD`, () => {
      const size = BATCH * DIM;
      const qv = draws(size, 11).map((v) => Math.fround(1 + 0.5 * Math.abs(v)));
      const pv = draws(size, 12, 0.7);
      const wv = draws(size, 13);
      const shape = [BATCH, DIM];
      const solveLoss = <T>(b: Backend<T>, q: T, p: T, w: T, noise: T[]): T => {
        const r = coreDcem(b, quadratic(b, q, p), settings(selector, (t) => noise[t]) as CemOptions<T>);
        expect(r.iterations).toBe(iterations);
        const s = b.sum(b.sum(b.mul(w, r.solution), 1, false), 0, false);
        return b.add(s, b.mul(b.scalar(0.1), b.sum(r.best.value, 0, false)));
      };
      const tNoise = eps.map((e, t) => tf.tensor(e, [BATCH, fresh[t] as number, DIM], 'float32'));
      const fNoise = eps.map((e, t) => f64.tensor(e, [BATCH, fresh[t] as number, DIM]));
      const w = tf.tensor(wv, shape);
      const qt = tf.tensor(qv, shape);
      const pt = tf.tensor(pv, shape);
      const grads = tf.grads(
        (q: tf.Tensor, p: tf.Tensor) => solveLoss(tfjsBackend, q, p, w, tNoise) as tf.Scalar,
      )([qt, pt]);
      const got = grads.flatMap((g) => Array.from(g.dataSync()));
      tf.dispose([...grads, ...tNoise, w, qt, pt]);

      const wf = f64.tensor(wv, shape);
      const loss64 = (params: number[]) =>
        f64.readSync(
          solveLoss(
            f64,
            f64.tensor(params.slice(0, size), shape),
            f64.tensor(params.slice(size), shape),
            wf,
            fNoise,
          ),
        )[0] as number;
      const fd = centralDifferences([...qv, ...pv], loss64, 1e-5);
      const scale = Math.max(1, ...fd.map(Math.abs));
      const rel = Math.max(...got.map((g, i) => Math.abs(g - (fd[i] as number)))) / scale;
      // Float32 forward/backward against a float64 FD: a few hundred ε₃₂ at most;
      // a missing path (momentum, kept elites, best) is off by O(1).
      expect(rel, `max |tf.grads − FD| / max(1, |FD|) = ${rel.toExponential(2)}`).toBeLessThan(1e-4);
      expect(Math.max(...fd.map(Math.abs))).toBeGreaterThan(1e-2);
    });
  }
});

describe('the fused fast paths get correct inputs', () => {
  const generic = createTfjsBackend(tf, { fused: false });
  const f = (b: Backend<tf.Tensor>) => (x: tf.Tensor) =>
    b.sum(b.square(b.sub(x, b.tensor([0.5, -1, 2, -0.3, 0.8, 0.1], [BATCH, 1, DIM]))), 2, false);
  for (const backendName of ['cpu', 'wasm'] as const) {
    it(`${backendName}: fused and generic agree with every option on`, async () => {
      expect(await tf.setBackend(backendName)).toBe(true);
      try {
        const opts: DcemOptions = {
          dim: DIM,
          batchSize: BATCH,
          numSamples: 30,
          numElites: 6,
          numIterations: 6,
          seed: 4,
          momentum: 0.2,
          maxStd: 0.9,
          populationDecay: 1.3,
          keepElites: 0.5,
          reuseEliteValues: true,
          addMeanToLast: true,
          convergence: 'row',
          tolerance: 1e-3,
          lowerBound: -1.5,
          upperBound: 2.5,
        };
        for (const selector of ['lml', 'sparse', 'softmax', 'elite-softmax', 'hard'] as const) {
          const a = coreDcem(tfjsBackend, f(tfjsBackend), { ...opts, selector });
          const b = coreDcem(generic, f(generic), { ...opts, selector });
          const x = readAll(a);
          const y = readAll(b);
          const diff = Math.max(...x.map((v, i) => Math.abs(v - (y[i] as number))));
          expect(diff, `${selector}: fused vs generic`).toBeLessThan(1e-4);
          disposeCemResult(a);
          disposeCemResult(b);
        }
      } finally {
        await tf.setBackend('cpu');
      }
    });
  }
});

describe('no tensor leaks with the new options', () => {
  const f = (x: tf.Tensor) => tf.tidy(() => tf.sum(tf.square(tf.sub(x, 0.3)), -1));
  const all: DcemOptions = {
    dim: DIM,
    batchSize: BATCH,
    numSamples: 20,
    numElites: 5,
    numIterations: 5,
    seed: 2,
    momentum: 0.1,
    maxStd: 1.5,
    populationDecay: 1.25,
    keepElites: 0.4,
    addMeanToLast: true,
    convergence: 'row',
    tolerance: 1e-2,
  };
  for (const backendName of ['cpu', 'wasm'] as const) {
    it(`${backendName}: 30 calls per selector, reused values or not, leak nothing`, async () => {
      expect(await tf.setBackend(backendName)).toBe(true);
      try {
        f(tf.ones([1, 1, DIM])).dispose(); // warm up kernels
        const before = tf.memory().numTensors;
        for (let i = 0; i < 30; i++) {
          for (const selector of ['hard', 'lml', 'sparse', 'softmax', 'elite-softmax'] as const) {
            disposeCemResult(dcem(f, { ...all, selector, reuseEliteValues: i % 2 === 0 }));
          }
        }
        expect(tf.memory().numTensors - before).toBe(0);
      } finally {
        await tf.setBackend('cpu');
      }
    });
  }

  it('warm starts, abandoned solves and a throwing selector function leak nothing', () => {
    const before = tf.memory().numTensors;
    for (let i = 0; i < 10; i++) {
      const solver = createDcem({ ...all, seed: i });
      const elites = tf.zeros([BATCH, 2, DIM]);
      const mean = tf.ones([DIM]);
      let state = solver.init({ mean, elites });
      for (let t = 0; t < 3; t++) {
        state = askTellStep(solver, state, f);
      }
      solver.release(state);
      solver.dispose();
      // The warm start's tensors stay the caller's: the solver copied them.
      expect(elites.isDisposed || mean.isDisposed).toBe(false);
      tf.dispose([elites, mean]);
      const bad = (s: tf.Tensor) => tf.mul(s, Number.NaN);
      expect(() => cem(f, { ...all, selector: bad, debug: true })).toThrow(/selector function "bad"/);
    }
    expect(tf.memory().numTensors - before).toBe(0);
  });
});

describe('seeds reproduce bit for bit', () => {
  for (const backendName of ['cpu', 'wasm'] as const) {
    it(`${backendName}: same seed, same numbers; another seed, other numbers`, async () => {
      expect(await tf.setBackend(backendName)).toBe(true);
      try {
        const f = (x: tf.Tensor) => tf.sum(tf.square(tf.sub(x, 0.3)), -1);
        const opts: DcemOptions = {
          ...presets.icem,
          dim: DIM,
          batchSize: BATCH,
          numSamples: 40,
          seed: 12,
          selector: 'sparse',
          temperature: 0.5,
        };
        const run = (o: DcemOptions) => {
          const r = cem(f, o);
          const out = readAll(r);
          disposeCemResult(r);
          return out;
        };
        const one = run(opts);
        expect(run(opts)).toEqual(one);
        expect(run({ ...opts, seed: 13 })).not.toEqual(one);
      } finally {
        await tf.setBackend('cpu');
      }
    });
  }
});

describe('one meaning per setting across @dcem/core and @dcem/tfjs', () => {
  const f = (x: tf.Tensor) => tf.tidy(() => tf.sum(tf.square(tf.sub(x, 0.3)), -1));
  const drive = (solver: ReturnType<typeof createCem>) => {
    let state = solver.init();
    while (!solver.done(state)) {
      state = askTellStep(solver, state, f);
    }
    const r = solver.result(state);
    solver.dispose();
    const out = readAll(r);
    disposeCemResult(r);
    return out;
  };
  const opts: DcemOptions = { dim: DIM, batchSize: BATCH, numSamples: 30, numElites: 6, seed: 3 };

  it('createCem is vanilla CEM in both packages; createDcem is LML with τ = 1 in both', () => {
    expect(createCem(opts).options.selector).toBe('hard');
    expect(createCem(opts).options.temperature).toBeNull();
    expect(createDcem(opts).options.selector).toBe('lml');
    expect(createDcem(opts).options.temperature).toBe(1);
    const tfjsCem = drive(createCem(opts));
    expect(drive(coreCreateCem(tfjsBackend, opts))).toEqual(tfjsCem);
    expect(drive(createCem({ ...opts, selector: 'hard' }))).toEqual(tfjsCem);
    expect(drive(createCem({ ...opts, temperature: null }))).toEqual(tfjsCem);
    const tfjsDcem = drive(createDcem(opts));
    expect(drive(createCem({ ...opts, temperature: 1 }))).toEqual(tfjsDcem);
    expect(tfjsDcem).not.toEqual(tfjsCem);
  });

  it('temperature 0 is a RangeError that says to write temperature: null, everywhere', () => {
    const message = /write `temperature: null` \(or `selector: 'hard'`\)/;
    expect(() => dcem(f, { ...opts, temperature: 0 })).toThrow(RangeError);
    expect(() => dcem(f, { ...opts, temperature: 0 })).toThrow(message);
    expect(() => cem(f, { ...opts, temperature: 0 })).toThrow(message);
    expect(() => createCem({ ...opts, temperature: 0 })).toThrow(message);
    expect(() => createDcem({ ...opts, temperature: 0 })).toThrow(message);
  });

  it('an unknown option name is a TypeError with the nearest valid name', () => {
    expect(() => dcem(f, { ...opts, numElite: 4 } as DcemOptions)).toThrow(
      /unknown CEM option "numElite"; did you mean "numElites"\?/,
    );
  });
});

describe('batchGather on tfjs', () => {
  for (const backendName of ['cpu', 'wasm'] as const) {
    it(`${backendName}: the gradient scatters back, adding up repeated indices`, async () => {
      expect(await tf.setBackend(backendName)).toBe(true);
      try {
        const x = tf.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 3, 2]);
        const idx = tfjsBackend.tensor([0, 0, 2, 1, 2, 1], [2, 3]);
        const w = tf.tensor([1, 10, 100, 1000, 1e4, 1e5, 1, 2, 3, 4, 5, 6], [2, 3, 2]);
        const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(w, tfjsBackend.batchGather(a, idx))))(x);
        // Row 0 takes x[0,0] twice and x[0,2] once; row 1 takes x[1,1] twice and x[1,2] once.
        expect(Array.from(g.dataSync())).toEqual([101, 1010, 0, 0, 1e4, 1e5, 0, 0, 6, 8, 3, 4]);
        const y = tfjsBackend.batchGather(x, idx);
        expect(Array.from(y.dataSync())).toEqual([1, 2, 1, 2, 5, 6, 9, 10, 11, 12, 9, 10]);
        tf.dispose([x, idx, w, g, y]);
      } finally {
        await tf.setBackend('cpu');
      }
    });
  }
});
