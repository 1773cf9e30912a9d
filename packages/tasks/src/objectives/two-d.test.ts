import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMinimumMover } from './move-minimum.js';
import { BUMPS_THETA, OBJECTIVES_2D, threeBumps } from './two-d.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The three-bumps formula in float64, written out independently. */
function bumps64(theta: readonly number[], x: number, y: number): number {
  let v = 0.15 * x * Math.cos(y);
  for (let i = 0; i < 3; i++) {
    const [h, cx, cy] = theta.slice(3 * i, 3 * i + 3) as [number, number, number];
    v -= h * Math.exp(-((x - cx) ** 2) - (y - cy) ** 2);
  }
  return v;
}

const POINTS: [number, number][] = [
  [0, 0],
  [1.2, -0.7],
  [-2, 2],
  [3, 1],
];

describe('2-D objectives', () => {
  it('three bumps matches its formula (float32 accuracy)', () => {
    const f = threeBumps();
    const v = f(tf.tensor3d([POINTS])).dataSync();
    POINTS.forEach(([x, y], i) => {
      expect(v[i]).toBeCloseTo(bumps64(BUMPS_THETA, x, y), 6);
    });
  });

  it('three bumps is differentiable in θ: tf.grad matches float64 central differences', () => {
    const theta = tf.tensor1d([...BUMPS_THETA]);
    const pts = tf.tensor3d([POINTS]);
    const g = tf
      .grad((t: tf.Tensor) => tf.sum(threeBumps(t as tf.Tensor1D)(pts)))(theta)
      .dataSync();
    const h = 1e-6;
    for (let j = 0; j < 9; j++) {
      const up = [...BUMPS_THETA];
      const down = [...BUMPS_THETA];
      up[j] = (up[j] as number) + h;
      down[j] = (down[j] as number) - h;
      const fd = POINTS.reduce((s, [x, y]) => s + (bumps64(up, x, y) - bumps64(down, x, y)) / (2 * h), 0);
      expect(Math.abs((g[j] as number) - fd)).toBeLessThan(1e-5);
    }
    tf.dispose([theta, pts]);
  });

  it('Himmelblau and Rosenbrock vanish at their known minimisers; the quadratic at (1.5, −1)', () => {
    const at = (id: keyof typeof OBJECTIVES_2D, p: [number, number]) =>
      OBJECTIVES_2D[id]
        .f()(tf.tensor3d([[p]]))
        .dataSync()[0] as number;
    expect(at('himmelblau', [3, 2])).toBeCloseTo(0, 6);
    expect(at('himmelblau', [-2.805118, 3.131312])).toBeCloseTo(0, 4);
    expect(at('rosenbrock', [1, 1])).toBeCloseTo(0, 6);
    expect(at('quadratic', [1.5, -1])).toBeCloseTo(0, 6);
    expect(at('quadratic', [0, 0])).toBeGreaterThan(1);
  });
});

describe('createMinimumMover', () => {
  it('moves the DCEM minimiser towards the target and leaks nothing', () => {
    const before = tf.memory().numTensors;
    const mover = createMinimumMover({ target: [0, 1.25], seed: 0 });
    const losses = Array.from({ length: 30 }, () => mover.step().loss);
    expect(mover.theta()).toHaveLength(9);
    mover.dispose();
    expect(losses[29] as number).toBeLessThan((losses[0] as number) / 3);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects a non-finite target', () => {
    expect(() => createMinimumMover({ target: [Number.NaN, 0] })).toThrow(RangeError);
  });
});
