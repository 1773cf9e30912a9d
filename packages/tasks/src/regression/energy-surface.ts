import { assertFiniteNumber, assertInteger, assertObject } from '@dcem/errors';
import * as tf from '@tensorflow/tfjs';
import type { EnergyMlp } from './energy-mlp.js';

/** Options of {@link energySurface}. */
export interface EnergySurfaceOptions {
  /** [min, max] of x. Default [0, 2π]. */
  xRange?: readonly [number, number];
  /** [min, max] of y. Default [−6, 6]. */
  yRange?: readonly [number, number];
  /** Grid points along x (both ends included), an integer ≥ 2. Default 100. */
  xSteps?: number;
  /** Grid points along y (both ends included), an integer ≥ 2. Default 121. */
  ySteps?: number;
}

/** E_θ on a regular grid, with the grid's minimiser in y for every x. */
export interface EnergySurface {
  /** The grid's x values, [xSteps], increasing. */
  x: number[];
  /** The grid's y values, [ySteps], increasing. */
  y: number[];
  /** energy[i][j] = E_θ(x[i], y[j]), [xSteps][ySteps]. */
  energy: number[][];
  /** argminY[i] = the y[j] with the lowest energy[i][j]: the grid's estimate of argmin_y E(x[i], y). */
  argminY: number[];
}

function grid(name: string, range: readonly [number, number], steps: number): number[] {
  if (!Array.isArray(range) || range.length !== 2) {
    throw new TypeError(`${name} must be a [min, max] pair`);
  }
  assertFiniteNumber(`${name}[0]`, range[0]);
  assertFiniteNumber(`${name}[1]`, range[1]);
  if (!(range[0] < range[1]))
    throw new RangeError(`${name} must have min < max, received [${range.join(', ')}]`);
  return Array.from({ length: steps }, (_, i) => range[0] + ((range[1] - range[0]) * i) / (steps - 1));
}

/**
 * Evaluates a learned energy E_θ(x, y) on an `xSteps` × `ySteps` grid over
 * `xRange` × `yRange` (one batch: x [xSteps], y [xSteps, ySteps]) and reads
 * it back, for heat maps of the energy landscape like the paper's Figure 2.
 *
 * @param mlp The energy.
 * @param options Grid ranges and sizes; default [0, 2π] × [−6, 6], 100 × 121.
 * @example
 * ```ts
 * const { x, y, energy, argminY } = energySurface(mlp, { xSteps: 50, ySteps: 61 });
 * ```
 */
export function energySurface(mlp: EnergyMlp, options: EnergySurfaceOptions = {}): EnergySurface {
  assertObject('options', options);
  const xSteps = options.xSteps ?? 100;
  const ySteps = options.ySteps ?? 121;
  assertInteger('xSteps', xSteps, 2);
  assertInteger('ySteps', ySteps, 2);
  const x = grid('xRange', options.xRange ?? [0, 2 * Math.PI], xSteps);
  const y = grid('yRange', options.yRange ?? [-6, 6], ySteps);
  const e = tf.tidy(() => mlp.energy(tf.tensor1d(x), tf.tile(tf.tensor2d([y]), [xSteps, 1])));
  const flat = e.dataSync();
  e.dispose();
  const energy: number[][] = [];
  const argminY: number[] = [];
  for (let i = 0; i < xSteps; i++) {
    const row = Array.from(flat.subarray(i * ySteps, (i + 1) * ySteps));
    energy.push(row);
    let best = 0;
    for (let j = 1; j < ySteps; j++) if ((row[j] as number) < (row[best] as number)) best = j;
    argminY.push(y[best] as number);
  }
  return { x, y, energy, argminY };
}
