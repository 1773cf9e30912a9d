// Independent float64 re-derivations of the control tasks, written from the
// equations of mpc.pytorch's PendulumDx and CartpoleDx (the dynamics of the
// DCEM control experiments, written out in the doc comments of pendulum.ts
// and cartpole.ts), for the tests: plain JavaScript numbers, no tfjs.

/** Pendulum constants (simple pendulum by default). */
export interface Pendulum64 {
  g: number;
  m: number;
  l: number;
  dt: number;
  uMax: number;
  d: number;
  b: number;
}

export const PENDULUM64: Pendulum64 = { g: 10, m: 1, l: 1, dt: 0.05, uMax: 2, d: 0, b: 0 };

/** One pendulum step on (cos θ, sin θ, θ̇) in float64. */
export function pendulumStep64(x: readonly number[], u: number, c: Pendulum64 = PENDULUM64): number[] {
  const [cos, sin, dth] = x as [number, number, number];
  const uc = Math.min(Math.max(u, -c.uMax), c.uMax);
  const th = Math.atan2(sin, cos);
  const newDth =
    dth + c.dt * (((3 * c.g) / (2 * c.l)) * Math.sin(th + c.b) + (3 * uc) / (c.m * c.l * c.l) - c.d * th);
  const newTh = th + c.dt * newDth;
  return [Math.cos(newTh), Math.sin(newTh), newDth];
}

/** States x_0 … x_T of a pendulum rollout. */
export function pendulumRollout64(
  x0: readonly number[],
  us: readonly number[],
  c: Pendulum64 = PENDULUM64,
): number[][] {
  const out = [x0.slice()];
  let x = x0.slice();
  for (const u of us) {
    x = pendulumStep64(x, u, c);
    out.push(x);
  }
  return out;
}

/** The notebook's swing-up cost: mean over (T+1)·3 of (x − (1,0,0))² + 1e-4 mean(u²). */
export function pendulumCost64(x0: readonly number[], us: readonly number[]): number {
  const xs = pendulumRollout64(x0, us);
  let s = 0;
  for (const [c, si, w] of xs as [number, number, number][]) s += (c - 1) ** 2 + si ** 2 + w ** 2;
  let q = 0;
  for (const u of us) q += u * u;
  return s / (3 * xs.length) + (1e-4 * q) / us.length;
}

/** Cart-pole constants. */
export const CARTPOLE64 = { g: 9.8, mc: 1, mp: 0.1, l: 0.5, dt: 0.05, fMax: 100 };

/** One cart-pole step on (p, ṗ, cos θ, sin θ, θ̇) in float64 (sin θ, cos θ on the right are the state's). */
export function cartpoleStep64(x: readonly number[], force: number): number[] {
  const { g, mc, mp, l, dt, fMax } = CARTPOLE64;
  const [p, dp, cos, sin, dth] = x as [number, number, number, number, number];
  const f = Math.min(Math.max(force, -fMax), fMax);
  const th = Math.atan2(sin, cos);
  const M = mc + mp;
  const a = (f + mp * l * dth * dth * sin) / M;
  const thAcc = (g * sin - cos * a) / (l * (4 / 3 - (mp * cos * cos) / M));
  const pAcc = a - (mp * l * thAcc * cos) / M;
  const newTh = th + dt * dth;
  return [p + dt * dp, dp + dt * pAcc, Math.cos(newTh), Math.sin(newTh), dth + dt * thAcc];
}

/** States x_0 … x_T of a cart-pole rollout. */
export function cartpoleRollout64(x0: readonly number[], us: readonly number[]): number[][] {
  const out = [x0.slice()];
  let x = x0.slice();
  for (const u of us) {
    x = cartpoleStep64(x, u);
    out.push(x);
  }
  return out;
}

/** The embedding experiment's return Σ_{t<T} cos θ_t − 0.1 p_t² − 1e-5 u_t². */
export function cartpoleReturn64(x0: readonly number[], us: readonly number[]): number {
  const xs = cartpoleRollout64(x0, us);
  let r = 0;
  us.forEach((u, t) => {
    const x = xs[t] as number[];
    r += (x[2] as number) - 0.1 * (x[0] as number) ** 2 - 1e-5 * u * u;
  });
  return r;
}

/** Central finite differences of f at x (float64), step h. */
export function centralDifferences(f: (x: number[]) => number, x: readonly number[], h: number): number[] {
  return x.map((_, i) => {
    const plus = x.slice();
    const minus = x.slice();
    plus[i] = (plus[i] as number) + h;
    minus[i] = (minus[i] as number) - h;
    return (f(plus) - f(minus)) / (2 * h);
  });
}

/** Largest |a − b|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/** Largest |a|. */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] as number));
  return m;
}
