import { describe, expect, it } from 'vitest';
import { colouredNoise, colouredNoiseInternals } from './coloured-noise.js';
import { createFloat64Backend } from './testing/index.js';

const b = createFloat64Backend({ seed: 5 });
const read = (x: ReturnType<typeof b.tensor>): number[] => Array.from(b.readSync(x));

/** Lines along `axis` of a row-major array of `shape`. */
function lines(values: readonly number[], shape: readonly number[], axis: number): number[][] {
  const n = shape[axis] as number;
  const inner = shape.slice(axis + 1).reduce((a, c) => a * c, 1);
  const outer = shape.slice(0, axis).reduce((a, c) => a * c, 1);
  const out: number[][] = [];
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      out.push(Array.from({ length: n }, (_, t) => values[o * n * inner + i + t * inner] as number));
    }
  }
  return out;
}

/** Mean periodogram |DFT(line)|²/n over lines, bins 0 … ⌊n/2⌋ (plain DFT). */
function meanPeriodogram(ls: readonly number[][]): number[] {
  const n = (ls[0] as number[]).length;
  const psd = new Array<number>(Math.floor(n / 2) + 1).fill(0);
  for (const line of ls) {
    for (let f = 0; f < psd.length; f++) {
      let re = 0;
      let im = 0;
      for (let t = 0; t < n; t++) {
        const a = (2 * Math.PI * ((f * t) % n)) / n;
        re += (line[t] as number) * Math.cos(a);
        im -= (line[t] as number) * Math.sin(a);
      }
      psd[f] = (psd[f] as number) + (re * re + im * im) / n / ls.length;
    }
  }
  return psd;
}

/** Least-squares slope of log psd against log f over f = 1 … ⌊n/2⌋. */
function logLogSlope(psd: readonly number[], n: number): number {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let f = 1; f < psd.length; f++) {
    xs.push(Math.log(f / n));
    ys.push(Math.log(psd[f] as number));
  }
  const mx = xs.reduce((a, c) => a + c, 0) / xs.length;
  const my = ys.reduce((a, c) => a + c, 0) / ys.length;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    sxx += ((xs[i] as number) - mx) ** 2;
  }
  return sxy / sxx;
}

describe('colouredNoise', () => {
  for (const beta of [0, 1, 2, 0.5]) {
    it(`β = ${beta}: the fitted log-log PSD slope along the axis is −β within 0.2 (many draws)`, () => {
      // 4 × 500 sequences of length 32 along axis 1, 2 actions: 4000 lines.
      const shape = [4, 32, 500, 2];
      const ls = lines(read(colouredNoise(b, shape, 1, beta, 7)), shape, 1);
      expect(ls.length).toBe(4000);
      const slope = logLogSlope(meanPeriodogram(ls), 32);
      expect(Math.abs(slope + beta)).toBeLessThan(0.2);
      // The other axes stay white: along axis 2 the slope is ~0 whatever β is.
      const across = lines(read(colouredNoise(b, [64, 40], 0, beta, 8)), [64, 40], 1);
      expect(Math.abs(logLogSlope(meanPeriodogram(across), 40))).toBeLessThan(0.2);
    });
  }

  it('fits the slope for an odd length and on the FFT path (n > 256)', () => {
    for (const [n, count, beta] of [
      [25, 3000, 2],
      [300, 200, 1],
    ] as const) {
      const ls = lines(read(colouredNoise(b, [count, n], -1, beta, n)), [count, n], 1);
      expect(Math.abs(logLogSlope(meanPeriodogram(ls), n) + beta)).toBeLessThan(0.2);
    }
  });

  it('has unit variance and zero mean at every position along the axis', () => {
    for (const beta of [1, 2, 3]) {
      const shape = [20000, 16];
      const values = read(colouredNoise(b, shape, 1, beta, 3));
      for (let t = 0; t < 16; t++) {
        const column = Array.from({ length: 20000 }, (_, r) => values[r * 16 + t] as number);
        const mean = column.reduce((a, c) => a + c, 0) / column.length;
        const variance = column.reduce((a, c) => a + (c - mean) ** 2, 0) / (column.length - 1);
        // Standard errors: 1/√20000 ≈ 0.007 for the mean, √(2/20000) ≈ 0.01 for the variance.
        expect(Math.abs(mean)).toBeLessThan(0.04);
        expect(Math.abs(variance - 1)).toBeLessThan(0.05);
      }
    }
  });

  it('filters with a kernel of unit norm, the same on the direct and the FFT path', () => {
    const { circulantKernel, directFilter, fftFilter } = colouredNoiseInternals;
    for (const n of [2, 3, 16, 31, 100]) {
      for (const beta of [0.5, 2]) {
        const kernel = circulantKernel(n, beta);
        expect(Math.abs(kernel.reduce((a, c) => a + c * c, 0) - 1)).toBeLessThan(1e-12);
        const x = Float64Array.from(read(b.randomNormal([n], n)));
        const direct = new Float64Array(n);
        const viaFft = new Float64Array(n);
        directFilter(kernel).apply(x, direct);
        fftFilter(kernel).apply(x, viaFft);
        for (let t = 0; t < n; t++)
          expect(Math.abs((direct[t] as number) - (viaFft[t] as number))).toBeLessThan(1e-12);
      }
    }
    // β = 0: the kernel is the unit impulse.
    const white = circulantKernel(8, 0);
    expect(Array.from(white).map((v) => Math.round(v * 1e12) / 1e12 + 0)).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('is deterministic for a seed, differs across seeds, and β = 0 is the white draws', () => {
    const shape = [3, 10, 2];
    const a = read(colouredNoise(b, shape, 1, 2, 42));
    const c = read(colouredNoise(createFloat64Backend({ seed: 99 }), shape, 1, 2, 42));
    expect(a).toEqual(c);
    expect(read(colouredNoise(b, shape, 1, 2, 43))).not.toEqual(a);
    expect(read(colouredNoise(b, shape, 1, 0, 42))).toEqual(read(b.randomNormal(shape, 42)));
    // Without a seed the backend picks one: fresh draws, still the right shape.
    const u = colouredNoise(b, shape, -2, 1);
    expect(b.shape(u)).toEqual(shape);
    expect(read(u).every(Number.isFinite)).toBe(true);
  });

  it('colours the given axis only: the same draws, filtered along axis 0 or axis 1', () => {
    const { circulantKernel, directFilter } = colouredNoiseInternals;
    const white = read(b.randomNormal([6, 5], 11));
    const got = read(colouredNoise(b, [6, 5], 0, 1.5, 11));
    const filter = directFilter(circulantKernel(6, 1.5));
    for (let col = 0; col < 5; col++) {
      const line = Float64Array.from({ length: 6 }, (_, t) => white[t * 5 + col] as number);
      const out = new Float64Array(6);
      filter.apply(line, out);
      for (let t = 0; t < 6; t++) expect(got[t * 5 + col]).toBeCloseTo(out[t] as number, 14);
    }
  });

  it('handles length-1 axes and empty shapes', () => {
    expect(read(colouredNoise(b, [4, 1], 1, 2, 1))).toEqual(read(b.randomNormal([4, 1], 1)));
    expect(b.shape(colouredNoise(b, [0, 7], 1, 2, 1))).toEqual([0, 7]);
  });

  it('rejects bad arguments with typed errors naming them', () => {
    expect(() => colouredNoise(b, [2, 3], 2, 1)).toThrow(RangeError);
    expect(() => colouredNoise(b, [2, 3], 2, 1)).toThrow(/axis must be an integer in \[-2, 1\].*received 2/);
    expect(() => colouredNoise(b, [2, 3], -3, 1)).toThrow(/axis must be an integer ≥ -2, received -3/);
    expect(() => colouredNoise(b, [2, 3], 0.5, 1)).toThrow(TypeError);
    expect(() => colouredNoise(b, [2, 3], 1, -1)).toThrow(RangeError);
    expect(() => colouredNoise(b, [2, 3], 1, -1)).toThrow(/exponent must be ≥ 0, received -1/);
    expect(() => colouredNoise(b, [2, 3], 1, Number.NaN)).toThrow(
      /exponent must be a finite number, received NaN/,
    );
    expect(() => colouredNoise(b, [2, 3], 1, 1, Number.NaN)).toThrow(
      /seed must be a finite number, received NaN/,
    );
    expect(() => colouredNoise(b, [2, 1.5], 1, 1)).toThrow(/shape\[1\] must be an integer, received 1\.5/);
    expect(() => colouredNoise(b, [2, -1], 1, 1)).toThrow(/shape\[1\] must be an integer ≥ 0, received -1/);
    expect(() => colouredNoise(b, [], 0, 1)).toThrow(/shape must have at least one dimension/);
    expect(() => colouredNoise(b, 3 as unknown as number[], 0, 1)).toThrow(TypeError);
  });
});
