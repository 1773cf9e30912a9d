import { assertInteger } from '@dcem/errors';

/** The training set of the regression study: points (xᵢ, yᵢ) on the curve y = x·sin x. */
export interface RegressionData {
  /** xᵢ = 2π·i/(n − 1), i = 0…n−1 (evenly spaced on [0, 2π], both ends included). */
  x: number[];
  /** yᵢ = xᵢ·sin xᵢ. */
  y: number[];
}

/** The target function of the regression study, f(x) = x·sin x. */
export function regressionTarget(x: number): number {
  return x * Math.sin(x);
}

/**
 * The data of the DCEM paper's regression study (Amos & Yarats 2020, §5.1):
 * `numPoints` points x = linspace(0, 2π, numPoints) with targets y = x·sin x.
 * Values are rounded to float32, the precision the models see.
 *
 * @param numPoints n ≥ 2, default 100 (the paper's).
 * @returns Two arrays of length n.
 * @example
 * ```ts
 * const { x, y } = regressionData(); // 100 points, x[0] = 0, x[99] = 2π
 * ```
 */
export function regressionData(numPoints = 100): RegressionData {
  assertInteger('numPoints', numPoints, 2);
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < numPoints; i++) {
    const xi = Math.fround((2 * Math.PI * i) / (numPoints - 1));
    x.push(xi);
    y.push(Math.fround(regressionTarget(xi)));
  }
  return { x, y };
}
