import * as tf from '@tensorflow/tfjs';

/** Maps plot coordinates to canvas pixels and back. */
export interface View {
  box: [number, number, number, number];
  width: number;
  height: number;
}

export function toPixel(view: View, x: number, y: number): [number, number] {
  const [x0, x1, y0, y1] = view.box;
  return [((x - x0) / (x1 - x0)) * view.width, (1 - (y - y0) / (y1 - y0)) * view.height];
}

export function toPoint(view: View, px: number, py: number): [number, number] {
  const [x0, x1, y0, y1] = view.box;
  return [x0 + (px / view.width) * (x1 - x0), y0 + (1 - py / view.height) * (y1 - y0)];
}

const BANDS = 18;

function colour(t: number): [number, number, number] {
  // A light blue → sand → light red ramp (low values are blue).
  const stops: [number, number, number][] = [
    [49, 104, 171],
    [123, 176, 216],
    [240, 236, 214],
    [245, 180, 120],
    [205, 80, 70],
  ];
  const s = Math.min(0.9999, Math.max(0, t)) * (stops.length - 1);
  const i = Math.floor(s);
  const f = s - i;
  const a = stops[i] as [number, number, number];
  const b = stops[i + 1] as [number, number, number];
  return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
}

/**
 * Evaluates f on a grid covering the view and paints filled contour bands
 * with their boundaries as lines.
 */
export async function renderSurface(
  view: View,
  f: (samples: tf.Tensor) => tf.Tensor,
  resolution = 260,
): Promise<ImageData> {
  const [x0, x1, y0, y1] = view.box;
  const g = resolution;
  const values = tf.tidy(() => {
    const xs = tf.linspace(x0, x1, g);
    const ys = tf.linspace(y1, y0, g);
    const [gx, gy] = tf.meshgrid(xs, ys);
    const pts = tf.reshape(tf.stack([gx as tf.Tensor, gy as tf.Tensor], -1), [1, g * g, 2]);
    return f(pts);
  });
  // An awaited read: the page reads nothing synchronously (WebGPU in a browser cannot).
  const data = await values.data();
  values.dispose();
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of data) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const band = (v: number) => Math.floor(((v - lo) / (hi - lo || 1)) * BANDS);
  const image = new ImageData(view.width, view.height);
  for (let py = 0; py < view.height; py++) {
    for (let px = 0; px < view.width; px++) {
      const gi = Math.min(g - 1, Math.floor((py / view.height) * g));
      const gj = Math.min(g - 1, Math.floor((px / view.width) * g));
      const v = data[gi * g + gj] as number;
      const b = band(v);
      const right = data[gi * g + Math.min(g - 1, gj + 1)] as number;
      const down = data[Math.min(g - 1, gi + 1) * g + gj] as number;
      const edge = band(right) !== b || band(down) !== b;
      const [r, gg, bb] = colour(b / BANDS);
      const k = (py * view.width + px) * 4;
      const shade = edge ? 0.8 : 1;
      image.data[k] = r * shade;
      image.data[k + 1] = gg * shade;
      image.data[k + 2] = bb * shade;
      image.data[k + 3] = 255;
    }
  }
  return image;
}

/** What one frame shows on top of the surface. */
export interface Overlay {
  samples?: Float32Array | number[];
  weights?: Float32Array | number[];
  mean?: number[];
  std?: number[];
  trail?: number[][];
  target?: [number, number];
}

/** Draws the surface, then samples, elites, the Gaussian, the mean's trail and the target. */
export function drawFrame(ctx: CanvasRenderingContext2D, view: View, surface: ImageData, o: Overlay): void {
  ctx.putImageData(surface, 0, 0);
  const s = o.samples;
  if (s !== undefined) {
    const maxW = o.weights === undefined ? 1 : Math.max(1e-12, ...Array.from(o.weights));
    for (let i = 0; i < s.length / 2; i++) {
      const [px, py] = toPixel(view, s[2 * i] as number, s[2 * i + 1] as number);
      const w = o.weights === undefined ? 0 : (o.weights[i] as number) / maxW;
      ctx.beginPath();
      if (w > 0.05) {
        ctx.fillStyle = '#e4572e';
        ctx.arc(px, py, 2.5 + 3.5 * w, 0, 2 * Math.PI);
      } else {
        ctx.fillStyle = 'rgba(60, 72, 100, 0.75)';
        ctx.arc(px, py, 2.2, 0, 2 * Math.PI);
      }
      ctx.fill();
    }
  }
  if (o.trail !== undefined && o.trail.length > 1) {
    ctx.strokeStyle = '#111';
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    o.trail.forEach(([x, y], i) => {
      const [px, py] = toPixel(view, x as number, y as number);
      if (i === 0) ctx.moveTo(px, py);
      else ctx.lineTo(px, py);
    });
    ctx.stroke();
  }
  if (o.mean !== undefined && o.std !== undefined) {
    const [mx, my] = o.mean as [number, number];
    const [sx, sy] = o.std as [number, number];
    const [cx, cy] = toPixel(view, mx, my);
    const [x0, x1, y0, y1] = view.box;
    const rx = (sx / (x1 - x0)) * view.width;
    const ry = (sy / (y1 - y0)) * view.height;
    ctx.strokeStyle = '#1b998b';
    for (const k of [1, 2]) {
      ctx.lineWidth = k === 1 ? 2 : 1;
      ctx.beginPath();
      ctx.ellipse(cx, cy, Math.max(1, k * rx), Math.max(1, k * ry), 0, 0, 2 * Math.PI);
      ctx.stroke();
    }
    ctx.fillStyle = '#111';
    ctx.beginPath();
    ctx.arc(cx, cy, 4, 0, 2 * Math.PI);
    ctx.fill();
  }
  if (o.target !== undefined) {
    const [tx, ty] = toPixel(view, o.target[0], o.target[1]);
    ctx.strokeStyle = '#111';
    ctx.lineWidth = 3;
    ctx.beginPath();
    ctx.moveTo(tx - 7, ty - 7);
    ctx.lineTo(tx + 7, ty + 7);
    ctx.moveTo(tx + 7, ty - 7);
    ctx.lineTo(tx - 7, ty + 7);
    ctx.stroke();
  }
}
