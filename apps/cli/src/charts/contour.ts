import type { Objective2D } from '@dcem/tasks/objectives';
import * as tf from '@tensorflow/tfjs';
import type { PlotSpec } from '../plot.js';
import { VEGA_LITE_SCHEMA } from './schema.js';

/** Values of f on a regular grid over the objective's box, as rectangles for a heat map. */
export function gridCells(f: (samples: tf.Tensor) => tf.Tensor, box: Objective2D['box'], size = 70) {
  const [x0, x1, y0, y1] = box;
  const dx = (x1 - x0) / size;
  const dy = (y1 - y0) / size;
  const points: number[][] = [];
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) points.push([x0 + (j + 0.5) * dx, y0 + (i + 0.5) * dy]);
  }
  const values = tf.tidy(() => f(tf.tensor3d([points])).dataSync());
  // Cells overlap by 2 % so that anti-aliasing leaves no seams between them.
  return points.map(([x, y], k) => ({
    x0: (x as number) - 0.51 * dx,
    x1: (x as number) + 0.51 * dx,
    y0: (y as number) - 0.51 * dy,
    y1: (y as number) + 0.51 * dy,
    f: values[k] as number,
  }));
}

/** Samples of one iteration, for drawing. */
export interface IterationSamples {
  iteration: number;
  samples: number[][];
  mean: number[];
}

/**
 * A contour-style heat map of f with the samples of every iteration drawn on
 * top (later iterations darker) and the path of the mean, as the figure of
 * the DCEM notebook.
 */
export function iteratesSpec(options: {
  title: string;
  cells: ReturnType<typeof gridCells>;
  box: Objective2D['box'];
  iterations: IterationSamples[];
  target?: [number, number];
  size?: number;
}): PlotSpec {
  const [x0, x1, y0, y1] = options.box;
  const size = options.size ?? 460;
  const x = { scale: { domain: [x0, x1], nice: false, zero: false }, title: 'x' };
  const y = { scale: { domain: [y0, y1], nice: false, zero: false }, title: 'y' };
  const samples = options.iterations.flatMap((it) =>
    it.samples.map(([sx, sy]) => ({ x: sx, y: sy, iteration: it.iteration + 1 })),
  );
  const means = options.iterations.map((it) => ({
    x: it.mean[0],
    y: it.mean[1],
    iteration: it.iteration + 1,
  }));
  const layers: object[] = [
    {
      data: { values: options.cells },
      mark: { type: 'rect', clip: true },
      encoding: {
        x: { field: 'x0', type: 'quantitative', ...x },
        x2: { field: 'x1' },
        y: { field: 'y0', type: 'quantitative', ...y },
        y2: { field: 'y1' },
        color: {
          field: 'f',
          type: 'quantitative',
          scale: { type: 'quantize', scheme: { name: 'blues', count: 12 }, reverse: true },
          legend: { title: 'f', orient: 'right' },
        },
      },
    },
  ];
  if (samples.length > 0) {
    layers.push(
      {
        data: { values: samples },
        mark: { type: 'circle', size: 18, clip: true, color: '#1a1a1a' },
        encoding: {
          x: { field: 'x', type: 'quantitative', ...x },
          y: { field: 'y', type: 'quantitative', ...y },
          opacity: {
            field: 'iteration',
            type: 'quantitative',
            scale: { range: [0.2, 0.85] },
            legend: { title: 'samples of iteration' },
          },
        },
      },
      {
        data: { values: means },
        mark: {
          type: 'line',
          clip: true,
          point: { filled: true, size: 40, color: '#e4572e' },
          color: '#e4572e',
          strokeWidth: 2,
        },
        encoding: {
          x: { field: 'x', type: 'quantitative', ...x },
          y: { field: 'y', type: 'quantitative', ...y },
          order: { field: 'iteration' },
        },
      },
    );
  }
  if (options.target !== undefined) {
    layers.push({
      data: { values: [{ x: options.target[0], y: options.target[1] }] },
      mark: {
        type: 'point',
        shape: 'cross',
        size: 260,
        color: '#2ca02c',
        strokeWidth: 2,
        filled: true,
        clip: true,
      },
      encoding: {
        x: { field: 'x', type: 'quantitative', ...x },
        y: { field: 'y', type: 'quantitative', ...y },
      },
    });
  }
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: options.title,
    width: size,
    height: size,
    layer: layers,
    resolve: { scale: { color: 'independent', opacity: 'independent' } },
  } as PlotSpec;
}

/** A line chart of a loss per step with a log y axis. */
export function lossSpec(title: string, losses: number[], yTitle = 'loss'): PlotSpec {
  return {
    $schema: VEGA_LITE_SCHEMA,
    title,
    width: 460,
    height: 260,
    data: { values: losses.map((loss, step) => ({ step: step + 1, loss })) },
    mark: { type: 'line', point: { size: 14 } },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'step' },
      y: { field: 'loss', type: 'quantitative', scale: { type: 'log' }, title: yTitle },
    },
  } as PlotSpec;
}
