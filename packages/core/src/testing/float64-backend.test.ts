import { lml } from '@dcem/lml';
import { describe, expect, it } from 'vitest';
import { backendConformanceCases, ConformanceError } from './conformance.js';
import { createFloat64Backend, Float64Tensor } from './float64-backend.js';

const b = createFloat64Backend();
const read = (x: Float64Tensor) => Array.from(b.readSync(x));

describe('float64 backend conformance', () => {
  for (const c of backendConformanceCases) {
    it(`${c.kind}: ${c.name}`, () => c.run(b, { tolerance: 1e-12, grad: b.grad }));
  }
});

describe('conformance cases', () => {
  it('have unique names', () => {
    const names = backendConformanceCases.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('throw a ConformanceError naming the check when a backend is wrong', () => {
    const broken = { ...b, add: b.sub };
    const add = backendConformanceCases.find((c) => c.name.startsWith('add '));
    expect(add).toBeDefined();
    expect(() => add?.run(broken, { tolerance: 1e-12 })).toThrow(ConformanceError);
    expect(() => add?.run(broken, { tolerance: 1e-12 })).toThrow(/add \[2,3\] with \[3\]/);
  });

  it('catch a topkMask that breaks ties the wrong way', () => {
    const reversed = {
      ...b,
      topkMask: (x: Float64Tensor, k: number) => {
        const [rows = 0, cols = 0] = x.shape;
        const flipped = (t: Float64Tensor) =>
          b.tensor(
            Array.from({ length: rows * cols }, (_, i) => {
              const r = Math.floor(i / cols);
              return t.data[r * cols + (cols - 1 - (i % cols))] as number;
            }),
            [rows, cols],
          );
        return flipped(b.topkMask(flipped(x), k));
      },
    };
    const c = backendConformanceCases.find((cc) => cc.name.startsWith('topkMask'));
    expect(() => c?.run(reversed, { tolerance: 1e-12 })).toThrow(ConformanceError);
  });
});

describe('Float64Tensor', () => {
  it('holds a frozen copy of the shape and the data as given', () => {
    const shape = [2, 2];
    const data = new Float64Array([1, 2, 3, 4]);
    const t = new Float64Tensor(shape, data);
    shape[0] = 9;
    expect(t.shape).toEqual([2, 2]);
    expect(Object.isFrozen(t.shape)).toBe(true);
    expect(t.data).toBe(data);
    expect(t.size).toBe(4);
  });

  it('rejects data that does not fit the shape', () => {
    expect(() => new Float64Tensor([2, 3], new Float64Array(5))).toThrow(
      'Float64Tensor: 5 values do not fit shape [2, 3] (size 6)',
    );
    expect(() => new Float64Tensor([-1], new Float64Array(0))).toThrow(RangeError);
  });
});

describe('float64 backend', () => {
  it('is named float64 and reads back its own Float64Array', () => {
    expect(b.name).toBe('float64');
    const x = b.tensor([1, 2], [2]);
    expect(b.readSync(x)).toBe(x.data);
    expect(b.readSync(x)).toBeInstanceOf(Float64Array);
  });

  it('keeps full double precision', () => {
    const x = b.add(b.scalar(1), b.scalar(1e-15));
    expect(read(x)[0]).toBe(1 + 1e-15);
  });

  it('broadcasts operands of different ranks', () => {
    const x = b.tensor([1, 2, 3, 4, 5, 6], [2, 1, 3]);
    const y = b.tensor([10, 20, 30, 40], [4, 1]);
    const z = b.add(x, y);
    expect(z.shape).toEqual([2, 4, 3]);
    expect(read(z).slice(0, 6)).toEqual([11, 12, 13, 21, 22, 23]);
    expect(read(z).slice(12, 15)).toEqual([14, 15, 16]);
    const w = b.where(b.tensor([1, 0], [2, 1, 1, 1]), b.scalar(1), b.fill([3, 1], 0));
    expect(w.shape).toEqual([2, 1, 3, 1]);
    expect(read(w)).toEqual([1, 1, 1, 0, 0, 0]);
    expect(b.mul(b.fill([0, 3], 1), b.fill([3], 2)).shape).toEqual([0, 3]);
  });

  it('rejects shapes that do not broadcast', () => {
    expect(() => b.add(b.fill([2, 3], 0), b.fill([2], 0))).toThrow(
      'add: shapes [2, 3] and [2] cannot be broadcast together',
    );
    expect(() => b.where(b.fill([3], 1), b.fill([2, 3], 0), b.fill([4, 1], 0))).toThrow(RangeError);
  });

  it('names the sizes when tensor or reshape gets the wrong size', () => {
    expect(() => b.tensor([1, 2, 3], [2, 2])).toThrow(
      new RangeError('tensor: 3 values do not fit shape [2, 2] (size 4)'),
    );
    expect(() => b.reshape(b.fill([2, 3], 0), [4, 2])).toThrow(
      new RangeError('reshape: cannot reshape [2, 3] (size 6) to [4, 2] (size 8)'),
    );
    expect(() => b.fill([2, 1.5], 0)).toThrow(RangeError);
  });

  it('names both shapes when matMul gets operands that do not fit', () => {
    expect(() => b.matMul(b.fill([2, 3], 0), b.fill([2, 3], 0))).toThrow(
      new RangeError(
        'matMul: cannot multiply a [2, 3] by b [2, 3]: the columns of a (3) must equal the rows of b (2)',
      ),
    );
    expect(() => b.matMul(b.fill([3], 0), b.fill([3, 1], 0))).toThrow(/rank ≥ 2/);
    expect(() => b.matMul(b.fill([2, 1, 3], 0), b.fill([3, 3, 1], 0))).toThrow(
      /the batch axes \[2\] and \[3\] do not broadcast/,
    );
  });

  it('copies on tensor, reshape and maskToFloat', () => {
    const values = [1, 2, 3, 4];
    const x = b.tensor(values, [4]);
    values[0] = 9;
    expect(read(x)).toEqual([1, 2, 3, 4]);
    expect(b.reshape(x, [2, 2]).data).not.toBe(x.data);
    expect(b.maskToFloat(x).data).not.toBe(x.data);
  });

  it('rejects bad axes, k and column ranges', () => {
    const x = b.fill([2, 3], 1);
    expect(() => b.sum(x, 2, false)).toThrow('sum: axis 2 is out of range for rank 2');
    expect(() => b.max(x, -3, false)).toThrow(RangeError);
    expect(() => b.topkValues(x, 4)).toThrow('topkValues: k = 4 exceeds the row length 3');
    expect(() => b.topkMask(b.fill([3], 0), 1)).toThrow('topkMask: expected a 2-D tensor');
    expect(() => b.sliceColumns(x, 2, 2)).toThrow(RangeError);
    expect(() => b.sliceColumns(x, -1, 1)).toThrow(RangeError);
  });

  it('reduces the middle axis of a 3-D tensor', () => {
    const x = b.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 3, 2]);
    const s = b.sum(x, -2, true);
    expect(s.shape).toEqual([2, 1, 2]);
    expect(read(s)).toEqual([9, 12, 27, 30]);
    expect(read(b.min(x, 1, false))).toEqual([1, 2, 7, 8]);
  });

  it('sorts NaN first in topkValues and topkMask without hanging', () => {
    const x = b.tensor([1, Number.NaN, 3, Number.NaN, 2, 0], [2, 3]);
    expect(read(b.topkValues(x, 2))).toEqual([Number.NaN, 3, Number.NaN, 2]);
    expect(read(b.topkMask(x, 2))).toEqual([0, 1, 1, 1, 1, 0]);
    const y = b.tensor([Infinity, -Infinity, Number.NaN, 5], [1, 4]);
    expect(read(b.topkValues(y, 4))).toEqual([Number.NaN, Infinity, 5, -Infinity]);
  });

  it('handles k = 0 and empty rows', () => {
    expect(b.topkValues(b.fill([2, 3], 1), 0).shape).toEqual([2, 0]);
    expect(read(b.topkMask(b.fill([1, 3], 1), 0))).toEqual([0, 0, 0]);
    expect(read(b.sum(b.fill([2, 0], 1), 1, false))).toEqual([0, 0]);
  });

  it('computes sigmoid stably for large magnitudes', () => {
    const y = read(b.sigmoid(b.tensor([-800, -40, 800], [3])));
    expect(y[0]).toBe(0);
    expect(y[1]).toBeCloseTo(Math.exp(-40), 30);
    expect(y[2]).toBe(1);
  });

  it('passes tensors through customGrad, stopGradient, keep and tidy unchanged', () => {
    const x = b.tensor([1, 2], [2]);
    let saved: Float64Tensor[] = [];
    const f = b.customGrad((t, save) => {
      save([t]);
      saved = [t];
      return { value: b.mul(t, b.scalar(3)), gradient: (dy) => dy };
    });
    expect(read(f(x))).toEqual([3, 6]);
    expect(saved[0]).toBe(x);
    // stopGradient gives a new tensor over the same entries (not recorded on the tape).
    expect(b.stopGradient(x).data).toBe(x.data);
    expect(b.keep(x)).toBe(x);
    expect(b.tidy(() => x)).toBe(x);
    b.dispose(x);
    expect(read(x)).toEqual([1, 2]);
  });
});

describe('float64 randomNormal', () => {
  it('gives the same draws for the same seed on any backend instance', () => {
    const other = createFloat64Backend({ seed: 99 });
    b.randomNormal([10]); // advancing the internal generator does not matter
    expect(read(b.randomNormal([5, 3], 12))).toEqual(
      Array.from(other.readSync(other.randomNormal([5, 3], 12))),
    );
  });

  it('distinguishes nearby and non-integer seeds', () => {
    const draw = (seed: number) => read(b.randomNormal([4], seed));
    const seeds = [0, 1, 2, 1.5, -1, 2 ** 40, 1e-9];
    const draws = seeds.map((s) => draw(s).join(','));
    expect(new Set(draws).size).toBe(seeds.length);
  });

  it('replays the unseeded sequence of a backend with the same options.seed', () => {
    const sequence = (seed?: number) => {
      const backend = seed === undefined ? createFloat64Backend() : createFloat64Backend({ seed });
      return [backend.randomNormal([3]), backend.randomNormal([2, 2])].map((t) => Array.from(t.data));
    };
    expect(sequence(5)).toEqual(sequence(5));
    expect(sequence()).toEqual(sequence());
    expect(sequence(5)).not.toEqual(sequence(6));
    const [first, second] = sequence(5);
    expect(first).not.toEqual(second?.slice(0, 3));
  });

  it('fills odd sizes and rejects bad seeds', () => {
    const x = b.randomNormal([3, 3], 1);
    expect(read(x).every(Number.isFinite)).toBe(true);
    expect(b.randomNormal([0], 1).shape).toEqual([0]);
    expect(() => b.randomNormal([2], Number.NaN)).toThrow(RangeError);
    expect(() => createFloat64Backend({ seed: Infinity })).toThrow(RangeError);
  });

  it('has standard normal moments over many draws', () => {
    const v = read(b.randomNormal([200000], 3));
    const mean = v.reduce((a, x) => a + x, 0) / v.length;
    const variance = v.reduce((a, x) => a + (x - mean) ** 2, 0) / v.length;
    const fourth = v.reduce((a, x) => a + (x - mean) ** 4, 0) / v.length;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(variance - 1)).toBeLessThan(0.02);
    expect(Math.abs(fourth / variance ** 2 - 3)).toBeLessThan(0.1);
    expect(v.filter((x) => x > 1.96).length / v.length).toBeCloseTo(0.025, 2);
  });
});

describe('float64 backend with @dcem/lml', () => {
  it('runs the LML projection: rows in (0, 1) summing to k', () => {
    const x = b.tensor([0.3, -1.2, 2.5, 0.1, 0.7, 1, 1, 1, 1, 1], [2, 5]);
    const y = lml(b, x, 2);
    expect(y.shape).toEqual([2, 5]);
    const sums = read(b.sum(y, 1, false));
    expect(sums[0]).toBeCloseTo(2, 10);
    expect(sums[1]).toBeCloseTo(2, 10);
    expect(read(y).every((v) => v > 0 && v < 1)).toBe(true);
    expect(read(y).slice(5)).toEqual(new Array(5).fill(read(y)[5]));
  });
});
