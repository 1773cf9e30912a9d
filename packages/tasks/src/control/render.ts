import { assertFiniteNumber, assertInteger, assertPositive, describeValue } from '@dcem/errors';
// Drawing states of the control tasks as SVG (plain strings; no DOM needed).

/** The systems {@link renderState} knows. */
export type RenderSystem = 'pendulum' | 'cartpole';

/** Options of {@link renderState}. */
export interface RenderOptions {
  /** Width of the picture in pixels, default 240. */
  width?: number;
  /** Height in pixels, default 240 (pendulum) or 160 (cart-pole). */
  height?: number;
  /** The control applied in this state (drawn as an arrow whose length is |u|/maxControl). */
  control?: number;
  /** |u| that draws a full-length arrow, default 2 (pendulum) or 100 (cart-pole). */
  maxControl?: number;
  /** A caption drawn in the top-left corner. */
  label?: string;
  /** Cart-pole only: the pole's half-length l in metres, default 0.5. */
  poleLength?: number;
  /** Cart-pole only: the cart positions shown, [−extent, extent] metres, default 2.4. */
  extent?: number;
}

const STATE_DIM: Record<RenderSystem, number> = { pendulum: 3, cartpole: 5 };
const BACKGROUND = '#ffffff';
const INK = '#1f2937';
const ACCENT = '#2563eb';
const FORCE = '#dc2626';

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function checkState(system: RenderSystem, state: ArrayLike<number>): void {
  const n = STATE_DIM[system];
  if (state === null || typeof state !== 'object' || typeof state.length !== 'number' || state.length !== n) {
    throw new TypeError(`state must hold ${n} numbers (${system}), received ${describeValue(state)}`);
  }
  for (let i = 0; i < n; i++) assertFiniteNumber(`state[${i}]`, state[i]);
}

/** An arrow from (x1, y1) to (x2, y2) with a head of size `head`. */
function arrow(
  x1: number,
  y1: number,
  x2: number,
  y2: number,
  color: string,
  width: number,
  head: number,
): string {
  const angle = Math.atan2(y2 - y1, x2 - x1);
  const a1 = angle + Math.PI * 0.85;
  const a2 = angle - Math.PI * 0.85;
  const p1 = `${fmt(x2 + head * Math.cos(a1))},${fmt(y2 + head * Math.sin(a1))}`;
  const p2 = `${fmt(x2 + head * Math.cos(a2))},${fmt(y2 + head * Math.sin(a2))}`;
  return (
    `<line x1="${fmt(x1)}" y1="${fmt(y1)}" x2="${fmt(x2)}" y2="${fmt(y2)}" stroke="${color}" stroke-width="${fmt(width)}" stroke-linecap="round"/>` +
    `<polygon points="${fmt(x2)},${fmt(y2)} ${p1} ${p2}" fill="${color}"/>`
  );
}

/** The pendulum in the box (x, y, w, h): pivot in the middle, θ = 0 up. */
function drawPendulum(
  state: ArrayLike<number>,
  x: number,
  y: number,
  w: number,
  h: number,
  o: RenderOptions,
) {
  const cos = state[0] as number;
  const sin = state[1] as number;
  const norm = Math.hypot(cos, sin) || 1;
  const cx = x + w / 2;
  const cy = y + h / 2;
  const r = 0.36 * Math.min(w, h);
  const bx = cx + (r * sin) / norm;
  const by = cy - (r * cos) / norm;
  const s = Math.min(w, h) / 240;
  let out =
    `<circle cx="${fmt(cx)}" cy="${fmt(cy)}" r="${fmt(r)}" fill="none" stroke="#e5e7eb" stroke-width="${fmt(s)}" stroke-dasharray="${fmt(3 * s)} ${fmt(3 * s)}"/>` +
    `<line x1="${fmt(cx)}" y1="${fmt(cy)}" x2="${fmt(cx)}" y2="${fmt(cy - r)}" stroke="#d1d5db" stroke-width="${fmt(s)}"/>` +
    `<line x1="${fmt(cx)}" y1="${fmt(cy)}" x2="${fmt(bx)}" y2="${fmt(by)}" stroke="${INK}" stroke-width="${fmt(6 * s)}" stroke-linecap="round"/>` +
    `<circle cx="${fmt(bx)}" cy="${fmt(by)}" r="${fmt(11 * s)}" fill="${ACCENT}"/>` +
    `<circle cx="${fmt(cx)}" cy="${fmt(cy)}" r="${fmt(4 * s)}" fill="${INK}"/>`;
  if (o.control !== undefined && o.control !== 0) {
    // Torque: an arc around the pivot, clockwise on screen for u > 0 (u > 0 increases θ̇, and θ grows clockwise here).
    const frac = Math.max(-1, Math.min(1, o.control / (o.maxControl ?? 2)));
    const rr = 0.16 * Math.min(w, h);
    const start = -Math.PI / 2;
    const end = start + frac * 1.5 * Math.PI;
    const p = (a: number) => [cx + rr * Math.cos(a), cy + rr * Math.sin(a)] as const;
    const [sx, sy] = p(start);
    const [ex, ey] = p(end);
    const large = Math.abs(end - start) > Math.PI ? 1 : 0;
    const sweep = frac > 0 ? 1 : 0;
    out += `<path d="M ${fmt(sx)} ${fmt(sy)} A ${fmt(rr)} ${fmt(rr)} 0 ${large} ${sweep} ${fmt(ex)} ${fmt(ey)}" fill="none" stroke="${FORCE}" stroke-width="${fmt(3 * s)}"/>`;
    const tangent = end + (frac > 0 ? Math.PI / 2 : -Math.PI / 2);
    out += arrow(ex - Math.cos(tangent), ey - Math.sin(tangent), ex, ey, FORCE, 3 * s, 8 * s);
  }
  return out;
}

/** The cart-pole in the box (x, y, w, h). θ = 0 is the pole up; θ > 0 leans it towards +p. */
function drawCartpole(
  state: ArrayLike<number>,
  x: number,
  y: number,
  w: number,
  h: number,
  o: RenderOptions,
) {
  const p = state[0] as number;
  const cos = state[2] as number;
  const sin = state[3] as number;
  const norm = Math.hypot(cos, sin) || 1;
  const extent = o.extent ?? 2.4;
  const pole = 2 * (o.poleLength ?? 0.5);
  const scale = Math.min((0.45 * w) / extent, (0.55 * h) / pole);
  const ground = y + 0.8 * h;
  const cx = x + w / 2 + Math.max(-1.2 * extent, Math.min(1.2 * extent, p)) * scale;
  const cartW = 0.4 * scale;
  const cartH = 0.22 * scale;
  const top = ground - cartH - 0.04 * scale;
  const tipX = cx + (pole * scale * sin) / norm;
  const tipY = top - (pole * scale * cos) / norm;
  const s = Math.min(w, h) / 160;
  const left = x + w / 2 - extent * scale;
  const right = x + w / 2 + extent * scale;
  let out =
    `<line x1="${fmt(left)}" y1="${fmt(ground)}" x2="${fmt(right)}" y2="${fmt(ground)}" stroke="#9ca3af" stroke-width="${fmt(2 * s)}"/>` +
    `<line x1="${fmt(left)}" y1="${fmt(ground - 6 * s)}" x2="${fmt(left)}" y2="${fmt(ground + 6 * s)}" stroke="#9ca3af" stroke-width="${fmt(2 * s)}"/>` +
    `<line x1="${fmt(right)}" y1="${fmt(ground - 6 * s)}" x2="${fmt(right)}" y2="${fmt(ground + 6 * s)}" stroke="#9ca3af" stroke-width="${fmt(2 * s)}"/>` +
    `<line x1="${fmt(x + w / 2)}" y1="${fmt(ground + 4 * s)}" x2="${fmt(x + w / 2)}" y2="${fmt(ground + 10 * s)}" stroke="#9ca3af" stroke-width="${fmt(s)}"/>` +
    `<rect x="${fmt(cx - cartW / 2)}" y="${fmt(ground - cartH - 0.04 * scale)}" width="${fmt(cartW)}" height="${fmt(cartH)}" rx="${fmt(3 * s)}" fill="${INK}"/>` +
    `<line x1="${fmt(cx)}" y1="${fmt(top)}" x2="${fmt(tipX)}" y2="${fmt(tipY)}" stroke="${ACCENT}" stroke-width="${fmt(5 * s)}" stroke-linecap="round"/>` +
    `<circle cx="${fmt(cx)}" cy="${fmt(top)}" r="${fmt(3 * s)}" fill="#ffffff"/>`;
  if (o.control !== undefined && o.control !== 0) {
    const frac = Math.max(-1, Math.min(1, o.control / (o.maxControl ?? 100)));
    const ay = ground - cartH / 2 - 0.04 * scale;
    const start = cx + Math.sign(frac) * (cartW / 2 + 2 * s);
    out += arrow(start, ay, start + frac * 0.5 * scale, ay, FORCE, 3 * s, 7 * s);
  }
  return out;
}

function drawCell(
  system: RenderSystem,
  state: ArrayLike<number>,
  x: number,
  y: number,
  w: number,
  h: number,
  o: RenderOptions,
) {
  const body =
    system === 'pendulum' ? drawPendulum(state, x, y, w, h, o) : drawCartpole(state, x, y, w, h, o);
  const fontSize = Math.max(9, Math.round(Math.min(w, h) / 14));
  const label =
    o.label === undefined
      ? ''
      : `<text x="${fmt(x + 6)}" y="${fmt(y + fontSize + 3)}" font-family="DejaVu Sans, sans-serif" font-size="${fontSize}" fill="${INK}">${escapeText(o.label)}</text>`;
  return body + label;
}

function resolveSize(system: RenderSystem, o: RenderOptions): [number, number] {
  const width = o.width ?? 240;
  const height = o.height ?? (system === 'pendulum' ? 240 : 160);
  assertPositive('width', width);
  assertPositive('height', height);
  return [width, height];
}

function checkOptions(o: RenderOptions): void {
  if (o === null || typeof o !== 'object')
    throw new TypeError(`options must be an object, received ${describeValue(o)}`);
  if (o.control !== undefined) assertFiniteNumber('control', o.control);
  if (o.maxControl !== undefined) assertPositive('maxControl', o.maxControl);
  if (o.poleLength !== undefined) assertPositive('poleLength', o.poleLength);
  if (o.extent !== undefined) assertPositive('extent', o.extent);
}

/**
 * Draws one state of a control task as a standalone SVG picture: the
 * pendulum (x = (cos θ, sin θ, θ̇), θ = 0 up) or the cart-pole
 * (x = (p, ṗ, cos θ, sin θ, θ̇)), with the applied control as a red arrow.
 *
 * @param system `'pendulum'` or `'cartpole'`.
 * @param state The state, 3 or 5 numbers (for example one row of `states.arraySync()`).
 * @param options Size, control, label (see {@link RenderOptions}).
 * @returns SVG text.
 * @example
 * ```ts
 * writeFileSync('upright.svg', renderState('pendulum', [1, 0, 0], { label: 'goal' }));
 * ```
 */
export function renderState(
  system: RenderSystem,
  state: ArrayLike<number>,
  options: RenderOptions = {},
): string {
  if (system !== 'pendulum' && system !== 'cartpole') {
    throw new TypeError(`system must be 'pendulum' or 'cartpole', received ${describeValue(system)}`);
  }
  checkState(system, state);
  checkOptions(options);
  const [width, height] = resolveSize(system, options);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${fmt(width)}" height="${fmt(height)}" viewBox="0 0 ${fmt(width)} ${fmt(height)}">` +
    `<rect width="100%" height="100%" fill="${BACKGROUND}"/>` +
    drawCell(system, state, 0, 0, width, height, options) +
    '</svg>'
  );
}

/** Options of {@link renderRollout}. */
export interface RolloutRenderOptions {
  /** Trajectories per row of the grid, default ⌈√count⌉. */
  columns?: number;
  /** Width of one cell in pixels, default 160. */
  cellWidth?: number;
  /** Height of one cell, default = width (pendulum) or 2/3 of it (cart-pole). */
  cellHeight?: number;
  /** Seconds per frame in the animation, default 0.05 (the systems' Δt: real time). */
  frameDuration?: number;
  /** Simulated seconds per step, for the clock, default `frameDuration` (set it when playing slowed down). */
  timeStep?: number;
  /** Controls per trajectory and step, [count][T] (scalar controls), drawn as arrows. */
  controls?: readonly (readonly number[])[];
  /** |u| of a full-length arrow. */
  maxControl?: number;
  /** A caption per trajectory. */
  labels?: readonly string[];
  /** Cart-pole: half-length of the pole (default 0.5). */
  poleLength?: number;
  /** Cart-pole: the track's half-width in metres (default 2.4). */
  extent?: number;
  /** Add the time t = k·frameDuration under the grid, default true. */
  clock?: boolean;
}

/** What {@link renderRollout} returns. */
export interface RolloutRendering {
  /** One standalone SVG per time step, the whole grid in each. */
  frames: string[];
  /** One animated SVG (SMIL, loops forever) showing the frames in turn. */
  animation: string;
  /** Size of every frame in pixels. */
  width: number;
  /** Height of every frame in pixels. */
  height: number;
}

/**
 * Draws rollouts of a control task as a grid of cells, one per trajectory:
 * a list of SVG frames (to rasterise, for example into a GIF) and one
 * animated SVG that plays them in a loop in any browser.
 *
 * @param system `'pendulum'` or `'cartpole'`.
 * @param trajectories States per trajectory and time, [count][T + 1][n_x]
 *   (for example `rollout(...).arraySync()`); all of the same length.
 * @param options Layout, timing, controls and labels (see {@link RolloutRenderOptions}).
 * @returns The frames, the animation and the frame size.
 * @example
 * ```ts
 * const states = rollout(pendulum, x0, controls).arraySync() as number[][][];
 * const { animation } = renderRollout('pendulum', states, { columns: 4 });
 * writeFileSync('swing-up.svg', animation);
 * ```
 */
export function renderRollout(
  system: RenderSystem,
  trajectories: readonly (readonly ArrayLike<number>[])[],
  options: RolloutRenderOptions = {},
): RolloutRendering {
  if (system !== 'pendulum' && system !== 'cartpole') {
    throw new TypeError(`system must be 'pendulum' or 'cartpole', received ${describeValue(system)}`);
  }
  if (!Array.isArray(trajectories) || trajectories.length === 0) {
    throw new TypeError(`trajectories must be a non-empty array, received ${describeValue(trajectories)}`);
  }
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`options must be an object, received ${describeValue(options)}`);
  }
  const count = trajectories.length;
  const steps = trajectories[0]?.length ?? 0;
  trajectories.forEach((trajectory, i) => {
    if (!Array.isArray(trajectory) || trajectory.length !== steps || steps === 0) {
      throw new RangeError(
        `trajectories must all hold the same number (≥ 1) of states, trajectory ${i} has ${describeValue(trajectory)} (expected ${steps})`,
      );
    }
    trajectory.forEach((state) => {
      checkState(system, state);
    });
  });
  const columns = options.columns ?? Math.ceil(Math.sqrt(count));
  assertInteger('columns', columns, 1);
  const rows = Math.ceil(count / columns);
  const cellWidth = options.cellWidth ?? 160;
  assertPositive('cellWidth', cellWidth);
  const cellHeight =
    options.cellHeight ?? (system === 'pendulum' ? cellWidth : Math.round((2 * cellWidth) / 3));
  assertPositive('cellHeight', cellHeight);
  const frameDuration = options.frameDuration ?? 0.05;
  assertPositive('frameDuration', frameDuration);
  const timeStep = options.timeStep ?? frameDuration;
  assertPositive('timeStep', timeStep);
  if (
    options.controls !== undefined &&
    (!Array.isArray(options.controls) || options.controls.length !== count)
  ) {
    throw new TypeError(
      `controls must hold one array per trajectory (${count}), received ${describeValue(options.controls)}`,
    );
  }
  if (options.labels !== undefined && (!Array.isArray(options.labels) || options.labels.length !== count)) {
    throw new TypeError(
      `labels must hold one string per trajectory (${count}), received ${describeValue(options.labels)}`,
    );
  }
  const cellOptions: RenderOptions = {};
  if (options.maxControl !== undefined) cellOptions.maxControl = options.maxControl;
  if (options.poleLength !== undefined) cellOptions.poleLength = options.poleLength;
  if (options.extent !== undefined) cellOptions.extent = options.extent;
  checkOptions(cellOptions);
  const clock = options.clock ?? true;
  const clockHeight = clock ? 22 : 0;
  const width = columns * cellWidth;
  const height = rows * cellHeight + clockHeight;

  const bodies: string[] = [];
  for (let t = 0; t < steps; t++) {
    let body = '';
    trajectories.forEach((trajectory, i) => {
      const x = (i % columns) * cellWidth;
      const y = Math.floor(i / columns) * cellHeight;
      const control = options.controls?.[i]?.[t];
      const label = options.labels?.[i];
      body += `<rect x="${fmt(x + 0.5)}" y="${fmt(y + 0.5)}" width="${fmt(cellWidth - 1)}" height="${fmt(cellHeight - 1)}" fill="none" stroke="#f3f4f6"/>`;
      body += drawCell(system, trajectory[t] as ArrayLike<number>, x, y, cellWidth, cellHeight, {
        ...cellOptions,
        ...(control === undefined ? {} : { control }),
        ...(label === undefined ? {} : { label }),
      });
    });
    if (clock) {
      body += `<text x="${fmt(width / 2)}" y="${fmt(height - 6)}" text-anchor="middle" font-family="DejaVu Sans, sans-serif" font-size="13" fill="${INK}">t = ${(t * timeStep).toFixed(2)} s (step ${t})</text>`;
    }
    bodies.push(body);
  }
  const open = `<svg xmlns="http://www.w3.org/2000/svg" width="${fmt(width)}" height="${fmt(height)}" viewBox="0 0 ${fmt(width)} ${fmt(height)}"><rect width="100%" height="100%" fill="${BACKGROUND}"/>`;
  const frames = bodies.map((body) => `${open}${body}</svg>`);
  // Each frame is a group shown during [t/n, (t+1)/n) of the loop (discrete
  // SMIL animation of `display`); without SMIL the first frame shows.
  const total = steps * frameDuration;
  const groups = bodies.map((body, t) => {
    if (steps === 1) return `<g>${body}</g>`;
    const a = t / steps;
    const b = (t + 1) / steps;
    let values: string;
    let keyTimes: string;
    if (t === 0) {
      values = 'inline;none';
      keyTimes = `0;${b.toFixed(6)}`;
    } else if (t === steps - 1) {
      values = 'none;inline';
      keyTimes = `0;${a.toFixed(6)}`;
    } else {
      values = 'none;inline;none';
      keyTimes = `0;${a.toFixed(6)};${b.toFixed(6)}`;
    }
    return `<g display="${t === 0 ? 'inline' : 'none'}"><animate attributeName="display" values="${values}" keyTimes="${keyTimes}" dur="${total.toFixed(3)}s" calcMode="discrete" repeatCount="indefinite"/>${body}</g>`;
  });
  return { frames, animation: `${open}${groups.join('')}</svg>`, width, height };
}
