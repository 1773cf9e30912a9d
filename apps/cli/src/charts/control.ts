// Vega-lite specs of the control experiments (pendulum swing-up, cart-pole latent embedding).
import type { PlotSpec } from '../plot.js';
import { VEGA_LITE_SCHEMA } from './schema.js';

/** One value of one trajectory at one time step. */
export interface TrajectoryPoint {
  /** Which trajectory (0-based). */
  run: number;
  /** Time step. */
  t: number;
  /** The value. */
  value: number;
}

function linePanel(
  title: string,
  values: readonly TrajectoryPoint[],
  xTitle: string,
  yTitle: string,
  width: number,
  height: number,
  yDomain?: [number, number],
): object {
  return {
    title,
    width,
    height,
    data: { values },
    mark: { type: 'line', strokeWidth: 1.6, clip: true },
    encoding: {
      x: { field: 't', type: 'quantitative', title: xTitle },
      y: {
        field: 'value',
        type: 'quantitative',
        title: yTitle,
        ...(yDomain === undefined ? {} : { scale: { domain: yDomain, nice: false } }),
      },
      color: { field: 'run', type: 'nominal', legend: null, scale: { scheme: 'tableau20' } },
    },
  };
}

/**
 * The four panels of the DCEM notebook's pendulum figure: the planner's cost
 * per iteration, cos θ, θ̇ and the controls over time (one line per swing-up).
 */
export function pendulumSpec(options: {
  title: string;
  /** Cost per solver iteration (mean over the swing-ups), or per MPC step. */
  loss: { x: number; cost: number }[];
  lossTitle: string;
  lossXTitle: string;
  cos: TrajectoryPoint[];
  velocity: TrajectoryPoint[];
  controls: TrajectoryPoint[];
  maxTorque: number;
}): PlotSpec {
  const w = 380;
  const h = 220;
  const loss = {
    title: options.lossTitle,
    width: w,
    height: h,
    data: { values: options.loss },
    mark: { type: 'line', strokeWidth: 2, color: '#1f77b4' },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: options.lossXTitle },
      y: { field: 'cost', type: 'quantitative', title: 'cost', scale: { zero: false } },
    },
  };
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: options.title,
    vconcat: [
      {
        hconcat: [loss, linePanel('Cosine of angle', options.cos, 'time step', 'cos θ', w, h, [-1.05, 1.05])],
      },
      {
        hconcat: [
          linePanel('Angular velocity', options.velocity, 'time step', 'θ̇ (rad/s)', w, h),
          linePanel('Control signal', options.controls, 'time step', 'torque u', w, h, [
            -1.05 * options.maxTorque,
            1.05 * options.maxTorque,
          ]),
        ],
      },
    ],
  } as PlotSpec;
}

/** A point of a training or validation curve of the embedding study. */
export interface CurvePoint {
  /** Latent size d. */
  latent: number;
  /** τ as a label ("τ = 1"). */
  temperature: string;
  /** Seed of the run. */
  seed: number;
  /** 'training' or 'validation'. */
  curve: string;
  /** Update count. */
  iteration: number;
  /** The cost (−return). */
  cost: number;
}

/**
 * Training (moving average) and validation cost against updates, one column
 * per latent size, one colour per τ, with the full-space CEM validation cost
 * as a dashed line (the paper's convergence figure).
 */
export function convergenceSpec(
  points: CurvePoint[],
  fullCemCost: number,
  title: string | string[],
): PlotSpec {
  return {
    $schema: VEGA_LITE_SCHEMA,
    title,
    data: { values: points },
    facet: {
      row: { field: 'curve', type: 'nominal', title: null, sort: ['training', 'validation'] },
      column: { field: 'latent', type: 'ordinal', title: 'latent size d' },
    },
    spec: {
      width: 320,
      height: 200,
      layer: [
        {
          mark: { type: 'line', strokeWidth: 1.6, clip: true },
          encoding: {
            x: { field: 'iteration', type: 'quantitative', title: 'update' },
            y: { field: 'cost', type: 'quantitative', title: 'cost (−return)', scale: { zero: false } },
            color: { field: 'temperature', type: 'nominal', title: 'τ', scale: { scheme: 'category10' } },
            detail: { field: 'seed', type: 'nominal' },
          },
        },
        {
          data: { values: [{ cost: fullCemCost }] },
          mark: { type: 'rule', strokeDash: [6, 4], color: '#111111', strokeWidth: 1.5 },
          encoding: { y: { field: 'cost', type: 'quantitative' } },
        },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  } as PlotSpec;
}

/** A bar of the improvement-factor chart. */
export interface FactorBar {
  latent: number;
  temperature: string;
  /** Mean improvement factor over the seeds. */
  factor: number;
  /** Smallest and largest factor over the seeds (equal with one seed). */
  low: number;
  high: number;
  seeds: number;
}

/** The improvement factor (embedded DCEM return / full-space CEM return) per latent size and τ. */
export function improvementSpec(bars: FactorBar[], title: string | string[]): PlotSpec {
  return {
    $schema: VEGA_LITE_SCHEMA,
    title,
    data: { values: bars },
    width: 360,
    height: 220,
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          x: { field: 'latent', type: 'ordinal', title: 'latent size d' },
          xOffset: { field: 'temperature', type: 'nominal' },
          y: { field: 'factor', type: 'quantitative', title: 'improvement factor' },
          color: { field: 'temperature', type: 'nominal', title: 'τ', scale: { scheme: 'category10' } },
        },
      },
      {
        mark: { type: 'rule', color: '#333333', strokeWidth: 2 },
        encoding: {
          x: { field: 'latent', type: 'ordinal' },
          xOffset: { field: 'temperature', type: 'nominal' },
          y: { field: 'low', type: 'quantitative' },
          y2: { field: 'high' },
        },
      },
      {
        data: { values: [{ y: 1 }] },
        mark: { type: 'rule', strokeDash: [4, 4], color: '#666666' },
        encoding: { y: { field: 'y', type: 'quantitative' } },
      },
    ],
  } as PlotSpec;
}

/** A cell of a cost surface over the 2-D latent square. */
export interface SurfaceCell {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  cost: number;
}

/** Samples of one solver iteration in the latent square. */
export interface LatentIterate {
  iteration: number;
  points: [number, number][];
}

/**
 * The decoder's cost C(decode(z); x₀) over z ∈ [−1, 1]² for one initial
 * state, with the DCEM samples of the chosen iterations on top (one panel each).
 */
export function latentSurfaceSpec(
  cells: SurfaceCell[],
  iterates: LatentIterate[],
  title: string | string[],
): PlotSpec {
  const axis = (t: string) => ({ scale: { domain: [-1, 1], nice: false, zero: false }, title: t });
  return {
    $schema: VEGA_LITE_SCHEMA,
    title,
    hconcat: iterates.map((it) => ({
      title: `Iteration ${it.iteration} samples`,
      width: 200,
      height: 200,
      layer: [
        {
          data: { values: cells },
          mark: { type: 'rect', clip: true },
          encoding: {
            x: { field: 'x0', type: 'quantitative', ...axis('latent z₁') },
            x2: { field: 'x1' },
            y: { field: 'y0', type: 'quantitative', ...axis('latent z₂') },
            y2: { field: 'y1' },
            color: {
              field: 'cost',
              type: 'quantitative',
              scale: { type: 'quantize', scheme: { name: 'blues', count: 10 }, reverse: true },
              legend: { title: 'cost' },
            },
          },
        },
        {
          data: { values: it.points.map(([x, y]) => ({ x, y })) },
          mark: { type: 'circle', size: 14, color: '#111111', opacity: 0.8, clip: true },
          encoding: {
            x: { field: 'x', type: 'quantitative', ...axis('latent z₁') },
            y: { field: 'y', type: 'quantitative', ...axis('latent z₂') },
          },
        },
      ],
    })),
    resolve: { scale: { color: 'shared' } },
  } as PlotSpec;
}

/** Sampled control sequences of one solver iteration. */
export interface ControlIterate {
  iteration: number;
  /** [numSamples][H]. */
  sequences: number[][];
}

/**
 * The iterates of a planner drawn as control sequences: for each chosen
 * iteration, every sample u_{0:H} as a thin line (the paper's figure
 * comparing CEM over the full action space with DCEM over the latent space).
 */
export function controlIteratesSpec(
  rows: { method: string; iterates: ControlIterate[] }[],
  maxControl: number,
  title: string,
): PlotSpec {
  return {
    $schema: VEGA_LITE_SCHEMA,
    title,
    vconcat: rows.map((row) => ({
      title: row.method,
      hconcat: row.iterates.map((it) => ({
        title: `Iteration ${it.iteration} samples`,
        width: 200,
        height: 150,
        layer: [
          {
            data: {
              values: it.sequences.flatMap((seq, sample) => seq.map((u, t) => ({ sample, t, u }))),
            },
            mark: { type: 'line', strokeWidth: 1, color: '#111111', opacity: 0.18, clip: true },
            encoding: {
              x: { field: 't', type: 'quantitative', title: 'time step' },
              y: {
                field: 'u',
                type: 'quantitative',
                title: 'control',
                scale: { domain: [-1.05 * maxControl, 1.05 * maxControl], nice: false },
              },
              detail: { field: 'sample', type: 'nominal' },
            },
          },
          {
            data: { values: [{ u: 0 }] },
            mark: { type: 'rule', strokeDash: [5, 4], color: '#444444' },
            encoding: { y: { field: 'u', type: 'quantitative' } },
          },
        ],
      })),
    })),
  } as PlotSpec;
}
