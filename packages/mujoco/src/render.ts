/**
 * Rendering without OpenGL: SVG frames drawn from the geoms' world poses.
 *
 * @module
 */
import { assertInteger, assertOptions } from '@dcem/errors';
import { type EnvState, type MujocoEnv, simulationOf } from './env.js';

import type { Simulation } from './simulation.js';

/** Options of {@link renderSvg}. */
export interface RenderOptions {
  /** Image width in pixels (the height follows the task's window). Default 480. */
  width?: number;
  /** Draw this state instead of the environment's current one (the environment is left as it was). */
  state?: EnvState;
}

const PLANE = 0;
const SPHERE = 2;
const CAPSULE = 3;
const ELLIPSOID = 4;
const CYLINDER = 5;
const BOX = 6;

type Point = [number, number];

/** Convex hull of 2-D points (Andrew's monotone chain), counter-clockwise. */
function hull(points: Point[]): Point[] {
  const p = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (p.length < 3) return p;
  const cross = (o: Point, a: Point, b: Point) =>
    (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: Point[] = [];
  for (const q of p) {
    while (
      lower.length >= 2 &&
      cross(lower[lower.length - 2] as Point, lower[lower.length - 1] as Point, q) <= 0
    )
      lower.pop();
    lower.push(q);
  }
  const upper: Point[] = [];
  for (const q of p.reverse()) {
    while (
      upper.length >= 2 &&
      cross(upper[upper.length - 2] as Point, upper[upper.length - 1] as Point, q) <= 0
    )
      upper.pop();
    upper.push(q);
  }
  return lower.slice(0, -1).concat(upper.slice(0, -1));
}

const fmt = (x: number) => (Math.round(x * 100) / 100).toString();

function color(rgba: Float32Array, g: number): string {
  const c = (i: number) => Math.round(255 * Math.min(1, Math.max(0, rgba[4 * g + i] as number)));
  const alpha = rgba[4 * g + 3] as number;
  return `rgb(${c(0)},${c(1)},${c(2)})${alpha < 1 ? `" fill-opacity="${fmt(alpha)}` : ''}`;
}

function draw(sim: Simulation, width: number): string {
  const view = sim.task.view;
  const m = sim.model;
  const { geomXpos: pos, geomXmat: rot, xpos } = sim.v;
  const types = m.geom_type as Int32Array;
  const sizes = m.geom_size as Float64Array;
  const rgba = m.geom_rgba as Float32Array;
  // Projection: u = x; v = z (side view, seen from −y) or y (top view, seen from +z); depth orders the drawing.
  const vAxis = view.plane === 'xz' ? 2 : 1;
  const depthAxis = view.plane === 'xz' ? 1 : 2;
  const depthSign = view.plane === 'xz' ? -1 : 1; // larger = closer to the viewer
  const [w, h] = view.size;
  let cu = view.center[0];
  if (view.track !== undefined) cu = xpos[3 * sim.id('body', view.track)] as number;
  const cv = view.center[1];
  const scale = width / w;
  const height = Math.round(h * scale);
  const toPx = (x: number, y: number, z: number): Point => {
    const v = vAxis === 2 ? z : y;
    return [(x - (cu - w / 2)) * scale, (cv + h / 2 - v) * scale];
  };
  const world = (g: number, lx: number, ly: number, lz: number): [number, number, number] => {
    const R = (r: number, c: number) => rot[9 * g + 3 * r + c] as number;
    return [
      (pos[3 * g] as number) + R(0, 0) * lx + R(0, 1) * ly + R(0, 2) * lz,
      (pos[3 * g + 1] as number) + R(1, 0) * lx + R(1, 1) * ly + R(1, 2) * lz,
      (pos[3 * g + 2] as number) + R(2, 0) * lx + R(2, 1) * ly + R(2, 2) * lz,
    ];
  };
  const px = (g: number, lx: number, ly: number, lz: number) => toPx(...world(g, lx, ly, lz));
  const order = Array.from({ length: m.ngeom }, (_, g) => g).sort((a, b) => {
    const pa = types[a] === PLANE ? -Infinity : depthSign * (pos[3 * a + depthAxis] as number);
    const pb = types[b] === PLANE ? -Infinity : depthSign * (pos[3 * b + depthAxis] as number);
    return pa - pb;
  });
  const shapes: string[] = [];
  const poly = (points: Point[], fill: string) =>
    `<polygon points="${points.map(([a, b]) => `${fmt(a)},${fmt(b)}`).join(' ')}" fill="${fill}"/>`;
  for (const g of order) {
    const type = types[g];
    const s = (i: number) => sizes[3 * g + i] as number;
    const fill = color(rgba, g);
    if (type === SPHERE || type === ELLIPSOID) {
      const [x, y] = px(g, 0, 0, 0);
      shapes.push(`<circle cx="${fmt(x)}" cy="${fmt(y)}" r="${fmt(s(0) * scale)}" fill="${fill}"/>`);
    } else if (type === CAPSULE || type === CYLINDER) {
      const [x1, y1] = px(g, 0, 0, -s(1));
      const [x2, y2] = px(g, 0, 0, s(1));
      const r = s(0) * scale;
      if (type === CYLINDER && Math.hypot(x2 - x1, y2 - y1) < 1e-6 * scale) {
        shapes.push(`<circle cx="${fmt(x1)}" cy="${fmt(y1)}" r="${fmt(r)}" fill="${fill}"/>`);
      } else {
        const cap = type === CAPSULE ? 'round' : 'butt';
        const stroke = fill.replace('" fill-opacity="', '" stroke-opacity="');
        shapes.push(
          `<line x1="${fmt(x1)}" y1="${fmt(y1)}" x2="${fmt(x2)}" y2="${fmt(y2)}" stroke="${stroke}" stroke-width="${fmt(2 * r)}" stroke-linecap="${cap}"/>`,
        );
      }
    } else if (type === BOX) {
      const corners: Point[] = [];
      for (const a of [-1, 1])
        for (const b of [-1, 1]) for (const c of [-1, 1]) corners.push(px(g, a * s(0), b * s(1), c * s(2)));
      shapes.push(poly(hull(corners), fill));
    } else if (type === PLANE) {
      // A finite rectangle of half-sizes s(0), s(1) in the plane's own x–y axes (0: unbounded).
      const ex = s(0) > 0 ? s(0) : 1e3;
      const ey = s(1) > 0 ? s(1) : 1e3;
      const corners = [px(g, -ex, -ey, 0), px(g, ex, -ey, 0), px(g, ex, ey, 0), px(g, -ex, ey, 0)];
      const outline = hull(corners);
      const area = outline.reduce((acc, p, i) => {
        const q = outline[(i + 1) % outline.length] as Point;
        return acc + p[0] * q[1] - q[0] * p[1];
      }, 0);
      if (Math.abs(area) > 1) {
        shapes.push(poly(outline, fill));
      } else {
        // Seen edge-on: a line; a floor also gets the ground below it and a tick every 0.5 m.
        const xs = corners.map((c) => c[0]);
        const ys = corners.map((c) => c[1]);
        const [x1, x2] = [Math.min(...xs), Math.max(...xs)];
        const [y1, y2] = [Math.min(...ys), Math.max(...ys)];
        const isFloor = view.plane === 'xz' && Math.abs(y2 - y1) < 1e-6 && (rot[9 * g + 8] as number) > 0.5;
        if (isFloor) {
          const left = Math.max(x1, -10);
          const right = Math.min(x2, width + 10);
          if (right > left) {
            shapes.push(
              `<rect x="${fmt(left)}" y="${fmt(y1)}" width="${fmt(right - left)}" height="${fmt(Math.max(0, height - y1))}" fill="${fill}"/>`,
            );
            const step = 0.5 * scale;
            const first = Math.ceil((cu - w / 2) / 0.5) * 0.5;
            for (let t = first; t <= cu + w / 2; t += 0.5) {
              const [tx] = toPx(t, 0, 0);
              if (tx >= left && tx <= right) {
                shapes.push(
                  `<line x1="${fmt(tx)}" y1="${fmt(y1)}" x2="${fmt(tx)}" y2="${fmt(y1 + Math.min(step / 4, 8))}" stroke="#9ab" stroke-width="1"/>`,
                );
              }
            }
          }
        } else {
          shapes.push(
            `<line x1="${fmt(x1)}" y1="${fmt(y1)}" x2="${fmt(x2)}" y2="${fmt(y2)}" stroke="${fill.split('"')[0]}" stroke-width="2"/>`,
          );
        }
      }
    }
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="${width}" height="${height}" fill="#f4f6f8"/>`,
    ...shapes,
    '</svg>',
  ].join('\n');
}

/**
 * Draws the environment as an SVG image, without OpenGL: each geom's world
 * pose (MuJoCo's `geom_xpos`, `geom_xmat`) is projected orthographically on
 * the task's plane (x–z side view; x–y top view for reacher) and drawn as
 * its silhouette: spheres as circles, capsules as round-capped strokes of
 * width 2r, cylinders as butt-capped strokes (circles end-on), boxes as the
 * convex hull of their 8 projected corners, planes as polygons or, seen
 * edge-on, lines (a floor with the ground below it and ticks every 0.5 m, so
 * that motion shows). Locomotion tasks keep the torso centred.
 *
 * @param env - An environment made by {@link makeEnv}.
 * @param options - Image width; a state to draw instead of the current one.
 * @returns The SVG document as a string.
 * @example
 * ```ts
 * import { makeEnv, renderSvg } from '@dcem/mujoco';
 * const env = await makeEnv('walker-walk', { seed: 0 });
 * const svg = renderSvg(env, { width: 320 }); // '<svg xmlns=…'
 * env.dispose();
 * ```
 */
export function renderSvg(env: MujocoEnv, options?: RenderOptions): string {
  const sim = simulationOf(env);
  assertOptions('renderSvg options', options, ['width', 'state']);
  const width = options?.width ?? 480;
  assertInteger('options.width', width, 1);
  if (options?.state === undefined) return draw(sim, width);
  const saved = env.getState();
  env.setState(options.state);
  try {
    return draw(sim, width);
  } finally {
    env.setState(saved);
  }
}
