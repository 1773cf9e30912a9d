import type { EnergySurface, InnerIterationAblationPoint, RegressionEvaluation } from '@dcem/tasks';
import type { PlotSpec } from '../plot.js';
import { VEGA_LITE_SCHEMA } from './schema.js';

/** Display names of the regression models. */
export const MODEL_TITLES: Record<string, string> = {
  dcem: 'DCEM',
  gd: 'Unrolled GD',
};

const COLORS = { domain: ['gd', 'dcem'], range: ['#1f77b4', '#a50f35'] };

function title(model: string): string {
  return MODEL_TITLES[model] ?? model;
}

/** Training curves: full-data MSE against Adam updates, one line per model, log y axis. */
export function lossChart(curves: { model: string; history: readonly RegressionEvaluation[] }[]): PlotSpec {
  const values = curves.flatMap(({ model, history }) =>
    history.map((h) => ({ model, label: title(model), update: h.update, mse: h.mse })),
  );
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: 'Regression: full-data MSE during training',
    width: 520,
    height: 320,
    data: { values },
    mark: { type: 'line', strokeWidth: 1.8 },
    encoding: {
      x: { field: 'update', type: 'quantitative', title: 'Adam updates' },
      y: { field: 'mse', type: 'quantitative', title: 'MSE', scale: { type: 'log' } },
      color: {
        field: 'model',
        type: 'nominal',
        title: null,
        scale: COLORS,
        legend: { labelExpr: "datum.label == 'gd' ? 'Unrolled GD' : 'DCEM'", orient: 'top-right' },
      },
    },
  };
}

/**
 * The inner-iteration ablation: MSE against test-time inner iterations, log
 * y axis, the min–max band over DCEM's noise seeds, and a rule at the
 * iteration count used in training.
 */
export function ablationChart(
  curves: { model: string; points: readonly InnerIterationAblationPoint[] }[],
  trainedIterations: number,
): PlotSpec {
  const values = curves.flatMap(({ model, points }) =>
    points.map((p) => ({ model, iterations: p.iterations, mse: p.mse, lo: p.mseMin, hi: p.mseMax })),
  );
  const color = {
    field: 'model',
    type: 'nominal' as const,
    title: null,
    scale: COLORS,
    legend: {
      labelExpr: "datum.label == 'gd' ? 'Unrolled GD' : 'DCEM'",
      orient: 'bottom' as const,
      symbolType: 'stroke',
      symbolOpacity: 1,
      symbolStrokeWidth: 2,
    },
  };
  const x = { field: 'iterations', type: 'quantitative' as const, title: 'inner iterations at test time' };
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: `Regression: MSE against inner iterations (trained with ${trainedIterations})`,
    width: 520,
    height: 320,
    data: { values },
    layer: [
      {
        mark: { type: 'area', opacity: 0.2 },
        encoding: {
          x,
          y: { field: 'lo', type: 'quantitative', scale: { type: 'log' }, title: 'MSE' },
          y2: { field: 'hi' },
          color,
        },
      },
      {
        mark: { type: 'line', point: true, strokeWidth: 1.8 },
        encoding: { x, y: { field: 'mse', type: 'quantitative', scale: { type: 'log' } }, color },
      },
      {
        data: { values: [{ iterations: trainedIterations }] },
        mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' },
        encoding: { x: { field: 'iterations', type: 'quantitative' } },
      },
    ],
  };
}

/** One panel of {@link surfaceChart}. */
export interface SurfacePanel {
  /** The model's name (`dcem`, `gd`). */
  model: string;
  /** The learned energy on a grid. */
  surface: EnergySurface;
  /** The model's predictions ŷ at the training inputs. */
  predictions: readonly number[];
}

/**
 * The learned energy surfaces, one heat map per model: colour is
 * E(x, y) − min_y E(x, y) on the grid (the energy relative to its minimum in
 * each column, on a square-root scale clipped at `clip`), with the target
 * curve y = x sin x (black), the grid minimiser of each column (white) and the
 * model's predictions (red) on top.
 */
export function surfaceChart(
  panels: readonly SurfacePanel[],
  data: { x: readonly number[]; y: readonly number[] },
  clip: number,
): PlotSpec {
  const energyColor = {
    field: 'e',
    type: 'quantitative' as const,
    title: 'E − min_y E',
    scale: { scheme: 'blues', reverse: true, type: 'sqrt' as const, domain: [0, clip] },
  };
  const charts = panels.map(({ model, surface, predictions }) => {
    const dx = ((surface.x[1] as number) - (surface.x[0] as number)) / 2;
    const dy = ((surface.y[1] as number) - (surface.y[0] as number)) / 2;
    const cells = surface.x.flatMap((x, i) => {
      const row = surface.energy[i] as number[];
      const min = Math.min(...row);
      // Each cell overlaps the next by a quarter of a half-cell (about a pixel), which hides the
      // anti-aliasing seams; the next cell is drawn over the overlap, so what shows is exact.
      return surface.y.map((y, j) => ({
        x: x - dx,
        x2: x + 1.25 * dx,
        y: y - dy,
        y2: y + 1.25 * dy,
        e: Math.min((row[j] as number) - min, clip),
      }));
    });
    const yMin = surface.y[0] as number;
    const yMax = surface.y.at(-1) as number;
    const inside = (y: number) => y >= yMin && y <= yMax;
    const xDomain = [(surface.x[0] as number) - dx, (surface.x.at(-1) as number) + dx];
    const yDomain = [yMin - dy, yMax + dy];
    const xEnc = {
      type: 'quantitative' as const,
      scale: { domain: xDomain, nice: false, zero: false },
      title: 'x',
    };
    const yEnc = {
      type: 'quantitative' as const,
      scale: { domain: yDomain, nice: false, zero: false },
      title: 'y',
    };
    return {
      title: MODEL_TITLES[model] ?? model,
      width: 380,
      height: 260,
      layer: [
        {
          data: { values: cells },
          mark: { type: 'rect' as const, clip: true },
          encoding: {
            x: { field: 'x', ...xEnc },
            x2: { field: 'x2' },
            y: { field: 'y', ...yEnc },
            y2: { field: 'y2' },
            color: energyColor,
          },
        },
        {
          data: { values: surface.x.map((x, i) => ({ x, y: surface.argminY[i] as number })) },
          mark: { type: 'point' as const, filled: true, size: 8, color: 'white', opacity: 0.9 },
          encoding: { x: { field: 'x', ...xEnc }, y: { field: 'y', ...yEnc } },
        },
        {
          data: { values: data.x.map((x, i) => ({ x, y: data.y[i] as number })) },
          mark: { type: 'line' as const, color: 'black', strokeWidth: 2 },
          encoding: { x: { field: 'x', ...xEnc }, y: { field: 'y', ...yEnc } },
        },
        {
          data: {
            values: data.x
              .map((x, i) => ({ x, y: predictions[i] as number }))
              .filter((p) => Number.isFinite(p.y) && inside(p.y)),
          },
          mark: { type: 'point' as const, filled: true, size: 14, color: '#d62728' },
          encoding: { x: { field: 'x', ...xEnc }, y: { field: 'y', ...yEnc } },
        },
      ],
    };
  });
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: {
      text: 'Learned energy surfaces',
      subtitle: 'black: target y = x sin x · red: predictions ŷ(x) · white: grid argmin_y E(x, y)',
    },
    hconcat: charts,
    resolve: { scale: { color: 'shared' } },
  } as PlotSpec;
}
