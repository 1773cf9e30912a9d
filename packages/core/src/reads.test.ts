/**
 * Host reads during a solve, counted on the float64 reference backend with
 * its `readSync` wrapped: none unless the caller asks (early stopping,
 * `onIteration`, `debug`, the result's numbers), none at all through the
 * async API; and the same result whether the loop stops early or not.
 */
import { describe, expect, it } from 'vitest';
import type { Backend } from './backend.js';
import { cem, cemAsync, dcem, dcemAsync } from './cem.js';
import type { CemOptions } from './options.js';
import { createPlanner, disposePlanResult } from './planner.js';
import { type CemResult, disposeCemResult } from './solver.js';
import { createFloat64Backend, type Float64Tensor } from './testing/index.js';

type T = Float64Tensor;
const plain = createFloat64Backend();

/** The float64 backend with its synchronous reads counted. */
function counting(): { b: Backend<T>; reads: () => number } {
  let reads = 0;
  const b: Backend<T> = {
    ...plain,
    readSync: (x) => {
      reads++;
      return plain.readSync(x);
    },
  };
  return { b, reads: () => reads };
}

const centre = plain.tensor([0.5, -1, 2, -0.3, 0.8, 0.1], [2, 1, 3]);
const f = (b: Backend<T>) => (x: T) => b.sum(b.square(b.sub(x, centre)), -1, false);
// Converges (‖Δμ‖ < 0.05) well before 30 iterations.
const base: CemOptions<T> = {
  dim: 3,
  batchSize: 2,
  numSamples: 40,
  numElites: 8,
  numIterations: 30,
  seed: 3,
  tolerance: 0.05,
};

/** Everything a result holds, as plain numbers (reads with the uncounted backend). */
function snapshot(r: CemResult<T>) {
  const read = (x: T) => Array.from(plain.readSync(x));
  return {
    solution: read(r.solution),
    mean: read(r.mean),
    std: read(r.std),
    best: [read(r.best.sample), read(r.best.value)],
    elites: [read(r.elites.samples), read(r.elites.values), read(r.elites.weights)],
    status: read(r.status),
  };
}

describe('synchronous reads of a solve', () => {
  for (const [name, solve] of [
    ['cem', cem],
    ['dcem', dcem],
  ] as const) {
    it(`${name} with early stopping off makes none (until the result's numbers are asked for)`, () => {
      const { b, reads } = counting();
      const r = solve(b, f(b), base);
      expect(reads()).toBe(0);
      snapshot(r); // the uncounted backend
      expect(reads()).toBe(0);
      expect(r.converged).toBe(true);
      expect(r.iterations).toBeLessThan(30);
      expect(r.nonFiniteValues).toBe(0);
      expect(reads()).toBe(1); // the three numbers: one read of `status`, cached
      disposeCemResult(b, r);
    });
  }

  it('none with a tensor σ₀, tensor bounds, coloured noise and a selector function (no debug)', () => {
    const { b, reads } = counting();
    const r = dcem(b, f(b), {
      ...base,
      initStd: b.fill([2, 3], 0.5),
      lowerBound: b.fill([3], -3),
      upperBound: b.fill([3], 3),
      noiseExponent: 2,
      selector: (scores, k) => b.mul(b.topkMask(scores, k), b.scalar(1)),
    });
    expect(reads()).toBe(0);
    disposeCemResult(b, r);
  });

  it('early stopping reads once per iteration (true) or every n-th (n), and stops at the next read', () => {
    const every = counting();
    const r1 = dcem(every.b, f(every.b), { ...base, earlyStopping: true });
    const t = r1.iterations;
    expect(r1.converged).toBe(true);
    // One flag read per iteration run, then the status read.
    expect(every.reads()).toBe(t + 1);

    const third = counting();
    const r3 = dcem(third.b, f(third.b), { ...base, earlyStopping: 3 });
    const reads3 = third.reads();
    // Stops at the first multiple of 3 at or after t: ⌈t / 3⌉ flag reads.
    expect(reads3).toBe(Math.ceil(t / 3));
    const off = dcem(plain, f(plain), base);
    // The same result whichever iteration the loop stopped at.
    expect(snapshot(r3)).toEqual(snapshot(r1));
    expect(snapshot(off)).toEqual(snapshot(r1));
    expect([r3.iterations, r3.converged, off.iterations, off.converged]).toEqual([t, true, t, true]);
    for (const r of [r1, r3, off]) disposeCemResult(plain, r);
  });

  it("the same result with convergence: 'row', stopped early or not", () => {
    const options = { ...base, convergence: 'row' as const };
    const stopped = dcem(plain, f(plain), { ...options, earlyStopping: true });
    const ran = dcem(plain, f(plain), options);
    expect(snapshot(ran)).toEqual(snapshot(stopped));
    expect(stopped.converged).toBe(true);
    disposeCemResult(plain, stopped);
    disposeCemResult(plain, ran);
  });

  it('onIteration reads the flag after every iteration, and is not called once converged', () => {
    const { b, reads } = counting();
    let calls = 0;
    const r = dcem(b, f(b), { ...base, onIteration: () => void calls++ });
    expect(reads()).toBe(r.iterations); // before the status read
    expect(calls).toBe(r.iterations - 1); // the converging iteration makes no call, as the reference
    disposeCemResult(b, r);
  });

  it('debug: true reads to check tensor σ₀ and bounds and selector output', () => {
    const { b, reads } = counting();
    const r = dcem(b, f(b), {
      ...base,
      tolerance: 0,
      numIterations: 2,
      debug: true,
      initStd: b.fill([2, 3], 0.5),
      selector: (scores, k) => b.topkMask(scores, k),
    });
    expect(reads()).toBe(3); // σ₀ and one selector check per iteration
    disposeCemResult(b, r);
  });
});

describe('the async API makes no synchronous read', () => {
  for (const [name, solve, solveAsync] of [
    ['cemAsync', cem, cemAsync],
    ['dcemAsync', dcem, dcemAsync],
  ] as const) {
    for (const earlyStopping of [false, true, 2]) {
      it(`${name}, earlyStopping ${earlyStopping}: the result of the synchronous solve, with plain numbers`, async () => {
        const { b, reads } = counting();
        let calls = 0;
        const options = { ...base, earlyStopping, onIteration: () => void calls++ };
        const r = await solveAsync(b, f(b), options);
        expect(reads()).toBe(0);
        const expected = solve(plain, f(plain), options);
        expect(snapshot(r)).toEqual(snapshot(expected));
        expect({ ...r }).toMatchObject({
          iterations: expected.iterations,
          converged: true,
          nonFiniteValues: 0,
        });
        expect(calls).toBe(2 * (expected.iterations - 1));
        disposeCemResult(b, r);
        disposeCemResult(plain, expected);
      });
    }
  }

  it('accepts an objective that returns a Promise', async () => {
    const { b, reads } = counting();
    const r = await dcemAsync(b, async (x) => f(b)(x), base);
    expect(reads()).toBe(0);
    expect(r.converged).toBe(true);
    disposeCemResult(b, r);
  });

  it("planAsync (action 'elite', keepElites, coloured noise): none; plan: none until its numbers are read", async () => {
    const { b, reads } = counting();
    const options = {
      horizon: 5,
      actionDim: 2,
      lowerBound: -1,
      upperBound: 1,
      seed: 1,
      action: 'elite' as const,
      solver: {
        numSamples: 20,
        numElites: 4,
        numIterations: 4,
        keepElites: 0.5,
        noiseExponent: 1,
        temperature: 1,
      },
    };
    const cost = (u: T) => b.sum(b.sum(b.square(u), -1, false), -1, false);
    const planner = createPlanner(b, options);
    for (let t = 0; t < 2; t++) {
      const step = await planner.planAsync(cost);
      expect(step.iterations).toBe(4);
      disposePlanResult(b, step);
    }
    expect(reads()).toBe(0);
    planner.dispose();
    const sync = createPlanner(b, { ...options, action: 'mean' });
    const step = sync.plan(cost);
    expect(reads()).toBe(0);
    expect(step.converged).toBe(false);
    expect(reads()).toBe(1);
    disposePlanResult(b, step);
    sync.dispose();
  });
});
