/**
 * A float64 re-implementation of the energy MLP, its y-derivative and
 * unrolled gradient descent in plain JavaScript numbers, used by the tests as
 * an independent reference (and for finite differences free of float32 noise).
 */
import { createEnergyMlp, type EnergyMlp, type NamedWeight } from './energy-mlp.js';

export interface Float64Mlp {
  /** kernels[l][i][j] ([in][out]) and biases[l][j]. */
  kernels: number[][][];
  biases: number[][];
}

export function toFloat64(weights: readonly NamedWeight[]): Float64Mlp {
  const kernels: number[][][] = [];
  const biases: number[][] = [];
  for (const w of weights) {
    if (w.name.endsWith('/kernel')) {
      const [rows, cols] = w.shape as [number, number];
      kernels.push(Array.from({ length: rows }, (_, i) => w.values.slice(i * cols, (i + 1) * cols)));
    } else {
      biases.push([...w.values]);
    }
  }
  return { kernels, biases };
}

function softplus(a: number): number {
  return Math.max(a, 0) + Math.log1p(Math.exp(-Math.abs(a)));
}

function sigmoid(a: number): number {
  return 1 / (1 + Math.exp(-a));
}

/** E(x, y) and ∂E/∂y in float64 (forward, then reverse mode by hand). */
export function energy64(mlp: Float64Mlp, x: number, y: number): { e: number; dEdy: number } {
  const layers = mlp.kernels.length;
  const pre: number[][] = [];
  let h = [x, y];
  for (let l = 0; l < layers; l++) {
    const k = mlp.kernels[l] as number[][];
    const b = mlp.biases[l] as number[];
    const out = b.map((bj, j) => h.reduce((s, hi, i) => s + hi * ((k[i] as number[])[j] as number), bj));
    if (l === layers - 1) {
      // Backward: g = ∂E/∂h for the last hidden layer, then through each layer.
      let g = (k as number[][]).map((row) => row[0] as number);
      for (let m = layers - 2; m >= 0; m--) {
        const gPre = g.map((gi, i) => gi * sigmoid((pre[m] as number[])[i] as number));
        const km = mlp.kernels[m] as number[][];
        g = km.map((row) => row.reduce((s, w, j) => s + w * (gPre[j] as number), 0));
      }
      return { e: out[0] as number, dEdy: g[1] as number };
    }
    pre.push(out);
    h = out.map(softplus);
  }
  throw new Error('unreachable');
}

/** ŷ of T steps of y ← y − η ∂E/∂y from y₀, in float64. */
export function unrolledGd64(mlp: Float64Mlp, x: number, steps: number, stepSize: number, y0 = 0): number {
  let y = y0;
  for (let t = 0; t < steps; t++) y -= stepSize * energy64(mlp, x, y).dEdy;
  return y;
}

/**
 * The energy E(x, y) = softplus(y − x) + softplus(x − y), convex in y with its
 * minimum at y = x, as an energy MLP (one hidden layer of 2). The caller
 * disposes it.
 */
export function distanceEnergyMlp(): EnergyMlp {
  const mlp = createEnergyMlp({ hiddenSize: 2, hiddenLayers: 1 });
  mlp.setWeights([
    { name: 'layer0/kernel', shape: [2, 2], values: [-1, 1, 1, -1] },
    { name: 'layer0/bias', shape: [2], values: [0, 0] },
    { name: 'layer1/kernel', shape: [2, 1], values: [1, 1] },
    { name: 'layer1/bias', shape: [1], values: [0] },
  ]);
  return mlp;
}
