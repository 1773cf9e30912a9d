// No tensor leaks: tf.memory().numTensors is the same before and after every
// public entry point, also when it throws (DESIGN.md, "Memory and randomness
// explicit").
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cem, createCem, createDcem, dcem, disposeCemResult, lml, lmlWithDiagnostics } from './api.js';
import { createPlanner, disposePlanResult } from './planner.js';
import { askTellStep } from './solver.test-utils.js';

const CALLS = 50;

/** Tensors alive now. */
function live(): number {
  return tf.memory().numTensors;
}

/** How many tensors `times` calls of `fn` leave behind (after one warm-up call). */
function leakOf(fn: () => void, times = CALLS): number {
  fn();
  const before = live();
  for (let i = 0; i < times; i++) fn();
  return live() - before;
}

/** How many tensors a call of `fn` that must throw `error` leaves behind. */
function leakOfThrow(fn: () => unknown, error: RegExp): number {
  const before = live();
  expect(fn).toThrow(error);
  return live() - before;
}

const BATCH = 2;
const DIM = 3;

/** Tensors the tests share; created once, disposed in afterAll. */
let target: tf.Tensor;
let lower: tf.Tensor;
let upper: tf.Tensor;
let x: tf.Tensor;

/** f(x) = Σ (x − c)², c [dim] (broadcast over batch and samples). */
const objective = (samples: tf.Tensor) => tf.sum(tf.square(tf.sub(samples, target)), -1);

function setup(): void {
  target = tf.tensor1d([0.5, -0.25, 2]);
  lower = tf.tensor1d([-1, -1, -1]);
  upper = tf.tensor1d([1, 1, 1.5]);
  x = tf.tensor2d([
    [3, 1, 2, 0, -1, 0.5, 4, -2],
    [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8],
  ]);
}

function teardown(): void {
  tf.dispose([target, lower, upper, x]);
}

for (const backendName of ['cpu', 'wasm'] as const) {
  describe(`no tensor leaks on the tfjs ${backendName} backend`, () => {
    beforeAll(async () => {
      expect(await tf.setBackend(backendName)).toBe(true);
      setup();
    });
    afterAll(async () => {
      teardown();
      await tf.setBackend('cpu');
    });

    it(`dcem: ${CALLS} calls with tensor bounds, onIteration and tolerance > 0 leak nothing`, () => {
      let callbacks = 0;
      let converged = 0;
      const leak = leakOf(() => {
        const r = dcem(objective, {
          dim: DIM,
          batchSize: BATCH,
          numSamples: 30,
          numElites: 6,
          numIterations: 25,
          tolerance: 1e-2,
          lowerBound: lower,
          upperBound: upper,
          initStd: 0.5,
          seed: 3,
          onIteration: (info) => {
            callbacks++;
            // The callback's own tensors are released by the solver (it runs inside tidy).
            tf.sum(info.weights).dataSync();
            expect(info.mean.shape).toEqual([BATCH, DIM]);
          },
        });
        if (r.converged) converged++;
        disposeCemResult(r);
      });
      // The early-exit branch (a host read of ‖μ' − μ‖ that stops the loop) really ran.
      expect(converged).toBe(CALLS + 1);
      expect(callbacks).toBeGreaterThan(CALLS);
      expect(leak, `${leak} tensors left after ${CALLS} dcem calls`).toBe(0);
    });

    it(`tf.grad through dcem: ${CALLS} calls leak nothing`, () => {
      const p = tf.tensor2d([
        [0.3, -0.2, 0.1],
        [-0.5, 0.4, 0.2],
      ]);
      const w = tf.tensor2d([
        [1, -2, 0.5],
        [0.25, 1, -1],
      ]);
      const loss = (pp: tf.Tensor) => {
        const r = dcem((s) => tf.sum(tf.square(tf.sub(s, tf.reshape(pp, [BATCH, 1, DIM]))), -1), {
          dim: DIM,
          batchSize: BATCH,
          numSamples: 20,
          numElites: 5,
          numIterations: 5,
          tolerance: 1e-4,
          lowerBound: lower,
          upperBound: upper,
          seed: 1,
        });
        return tf.sum(tf.mul(w, r.solution)) as tf.Scalar;
      };
      const grad = tf.grad(loss);
      const leak = leakOf(() => {
        const g = grad(p);
        expect(g.shape).toEqual([BATCH, DIM]);
        g.dispose();
      });
      tf.dispose([p, w]);
      expect(leak).toBe(0);
    });

    it(`lml and lmlWithDiagnostics: ${CALLS} calls each (and their gradients) leak nothing`, () => {
      const leakLml = leakOf(() => {
        const y = lml(x, 3, { temperature: 0.5 });
        const z = lml(x, 9); // k ≥ n: the degenerate branch
        tf.dispose([y, z]);
      });
      const leakDiag = leakOf(() => {
        const d = lmlWithDiagnostics(x, 3, { temperature: 2 });
        expect(d.converged).toEqual([true, true]);
        const e = lmlWithDiagnostics(x, 8); // k ≥ n
        tf.dispose([d.value, d.nu, e.value, e.nu]);
      });
      const upstream = tf.randomNormal([2, 8], 0, 1, 'float32', 5);
      const grad = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(upstream, lml(xx, 2))));
      const leakGrad = leakOf(() => grad(x).dispose());
      upstream.dispose();
      expect({ leakLml, leakDiag, leakGrad }).toEqual({ leakLml: 0, leakDiag: 0, leakGrad: 0 });
    });

    it('calls that throw on bad options leak nothing', () => {
      // Argument tensors are made before measuring and disposed after.
      const zeroStd = tf.tensor1d([1, 0, 1]);
      const tallMean = tf.zeros([3, DIM]);
      const nanBound = tf.tensor1d([0, Number.NaN, 0]);
      const longBound = tf.zeros([DIM + 1]);
      const vector = tf.zeros([8]);
      const run = (extra: Record<string, unknown>) => () =>
        dcem(objective, { dim: DIM, batchSize: BATCH, numSamples: 10, numElites: 3, ...extra });
      const leaks = {
        numElites: leakOfThrow(run({ numElites: 10 }), /numElites must be < numSamples/),
        temperature: leakOfThrow(run({ temperature: -1 }), /temperature must be > 0/),
        initStd: leakOfThrow(run({ initStd: zeroStd, debug: true }), /initStd must be > 0/),
        initMeanShape: leakOfThrow(run({ initMean: tallMean }), /initMean must have shape/),
        boundsOrder: leakOfThrow(
          run({ lowerBound: upper, upperBound: lower, debug: true }),
          /lowerBound must be </,
        ),
        nanBound: leakOfThrow(run({ lowerBound: nanBound, debug: true }), /lowerBound must not contain NaN/),
        nanUpperBound: leakOfThrow(
          run({ lowerBound: lower, upperBound: nanBound, debug: true }),
          /NaN|lowerBound must be </,
        ),
        lowerBoundShape: leakOfThrow(run({ lowerBound: longBound }), /lowerBound must have shape/),
        lmlK: leakOfThrow(() => lml(x, 0), /k must be/),
        lmlRank: leakOfThrow(() => lmlWithDiagnostics(vector, 2), /2-D/),
      };
      tf.dispose([zeroStd, tallMean, nanBound, longBound, vector]);
      expect(leaks).toEqual(Object.fromEntries(Object.keys(leaks).map((k) => [k, 0])));
    });

    it('a bad upperBound after a valid lowerBound tensor leaks nothing', () => {
      const badUpper = tf.zeros([DIM + 1]);
      const leak = leakOfThrow(
        () =>
          dcem(objective, { dim: DIM, batchSize: BATCH, lowerBound: lower, upperBound: badUpper, seed: 0 }),
        /upperBound must have shape \[3\], \[1, 3\] or \[2, 3\], received \[4\]/,
      );
      badUpper.dispose();
      expect(
        leak,
        'resolveCemOptions (@dcem/core) keeps the lowerBound tensor, then throws on upperBound without disposing it',
      ).toBe(0);
    });

    it('calls whose objective, noise or project misbehave leak nothing', () => {
      const base = { dim: DIM, batchSize: BATCH, numSamples: 10, numElites: 3, lowerBound: lower, seed: 2 };
      const leaks = {
        wrongShape: leakOfThrow(
          () => dcem((s) => tf.sum(s, -1, true), base),
          /objective\(samples\) must have shape \[2, 10\], received \[2, 10, 1\]/,
        ),
        notATensor: leakOfThrow(() => dcem(() => 3 as unknown as tf.Tensor, base), /objective\(samples\)/),
        throwsLater: leakOfThrow(() => {
          let calls = 0;
          return dcem((s) => {
            if (++calls === 3) throw new Error('objective failed');
            return objective(s);
          }, base);
        }, /objective failed/),
        callbackThrows: leakOfThrow(
          () =>
            dcem(objective, {
              ...base,
              onIteration: (info) => {
                if (info.iteration === 1) throw new Error('callback failed');
              },
            }),
          /callback failed/,
        ),
        noiseShape: leakOfThrow(
          () => dcem(objective, { ...base, noise: () => tf.zeros([BATCH, 10, DIM + 1]) }),
          /noise\(0\) must have shape/,
        ),
        projectShape: leakOfThrow(
          () => dcem(objective, { ...base, project: (s) => tf.sum(s, -1) }),
          /project\(samples\) must have shape/,
        ),
      };
      expect(leaks).toEqual({
        wrongShape: 0,
        notATensor: 0,
        throwsLater: 0,
        callbackThrows: 0,
        noiseShape: 0,
        projectShape: 0,
      });
    });

    it('createDcem: a solve driven by hand through result() leaks nothing', () => {
      const leak = leakOf(() => {
        const solver = createDcem({
          dim: DIM,
          batchSize: BATCH,
          numSamples: 20,
          numElites: 5,
          numIterations: 8,
          lowerBound: lower,
          upperBound: upper,
          seed: 4,
        });
        let state = solver.init();
        while (!solver.done(state)) {
          state = askTellStep(solver, state, objective);
        }
        const r = solver.result(state);
        expect(r.iterations).toBeGreaterThan(0);
        disposeCemResult(r);
        solver.dispose();
      }, 10);
      expect(
        leak,
        `${leak} tensors left after 10 solves: result() hands out its tensors, disposeCemResult frees them, result() releases the rest of the state`,
      ).toBe(0);
    });

    it('createCem: an abandoned solve released with release() and dispose() leaks nothing', () => {
      const leak = leakOf(() => {
        const solver = createCem({
          dim: DIM,
          batchSize: BATCH,
          lowerBound: lower,
          upperBound: upper,
          seed: 5,
        });
        let state = solver.init();
        for (let i = 0; i < 3; i++) {
          state = askTellStep(solver, state, objective);
        }
        expect(state.iteration).toBe(3);
        solver.release(state);
        solver.dispose();
      }, 10);
      expect(leak).toBe(0);
    });

    // The README's promise: a result is freed by one call, whatever fields it holds.
    it('a result is freed by one call: tf.dispose(result) or disposeCemResult / disposePlanResult', () => {
      const options = { dim: DIM, batchSize: BATCH, numSamples: 16, numElites: 4, numIterations: 3, seed: 7 };
      expect(leakOf(() => tf.dispose(dcem(objective, options)), 10)).toBe(0);
      expect(leakOf(() => tf.dispose(cem(objective, options)), 10)).toBe(0);
      // Freeing only solution, mean and std leaves status, best (2 tensors) and elites (3) behind.
      const partial = leakOf(() => {
        const r = dcem(objective, options);
        tf.dispose([r.solution, r.mean, r.std]);
      }, 10);
      expect(partial).toBe(10 * 6);
      const cost = (u: tf.Tensor) => tf.sum(tf.square(tf.sub(u, 0.25)), [-2, -1]);
      const planner = createPlanner({
        horizon: 3,
        actionDim: 1,
        seed: 3,
        solver: { numSamples: 16, numElites: 4 },
      });
      expect(leakOf(() => tf.dispose(planner.plan(cost)), 10)).toBe(0);
      expect(leakOf(() => disposePlanResult(planner.plan(cost)), 10)).toBe(0);
      planner.dispose();
    });
  });
}
