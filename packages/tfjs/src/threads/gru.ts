// The GRU cell on the thread pool (pool.ts): the forward pass as one job
// (both products and the gates, chunk by chunk of rows) and the backward
// pass as a job for the gates' gradients followed by the products
// (dx = dgx·Wxᵀ, dh = dgh·Whᵀ + dy ⊙ z, dWx = xᵀ·dgx, dWh = hᵀ·dgh, the
// biases' gradients as column sums). The kernels are gruRows and
// gruGradRows of assembly/gemm-simd.ts. Results do not depend on the number
// of threads (each row's outputs are computed alike in any chunk; the
// partial sums of the weights' gradients cover fixed row ranges).
import { ROWS_PER_CHUNK, tnJobs, tnPartialCount } from './gemm.js';
import {
  A,
  ACT,
  ARENA,
  align,
  B,
  BIAS,
  C,
  CHUNK,
  chunkCopier,
  getPool,
  K,
  M,
  N,
  OP,
  OP_GRU,
  OP_GRU_GRAD,
  OP_ROWS,
  type Pool,
  SLOPE,
} from './pool.js';

/** Bytes of the parameter block (byte offsets, i32) at the start of the arena. */
const PARAMS_BYTES = 64;

/** Rows per chunk of a job over m rows on `threads` threads: a multiple of 4, at most {@link ROWS_PER_CHUNK}. */
function rowsPerChunk(m: number, threads: number): number {
  if (threads <= 1) return Math.max(m, 1);
  const share = Math.ceil(m / threads);
  return Math.min(ROWS_PER_CHUNK, Math.max(4, Math.ceil(share / 4) * 4));
}

/** Lays out consecutive arrays of the given float counts after the parameter block; returns their offsets and the end. */
function layout(counts: readonly number[]): { at: number[]; end: number } {
  const at: number[] = [];
  let next = ARENA + PARAMS_BYTES;
  for (const count of counts) {
    at.push(next);
    next += align(count * 4);
  }
  return { at, end: next };
}

/** A forward pass for {@link gruForward}. */
export interface GruForwardJob {
  /** The input x, [m, inputs]. */
  x: Float32Array;
  /** The state h, [m, d]. */
  h: Float32Array;
  /** Wx, [inputs, 3d] (gate blocks r, z, n). */
  wx: Float32Array;
  /** Wh, [d, 3d]. */
  wh: Float32Array;
  /** bx, [3d]. */
  bx: Float32Array;
  /** bh, [3d]. */
  bh: Float32Array;
  /** Rows. */
  m: number;
  /** State size D. */
  d: number;
  /** Input size. */
  inputs: number;
  /** Receives h', [m, d]. */
  out: Float32Array;
  /** Receives the gates (r, z, n, h·Whn + bhn), [m, 4d], for the backward pass; undefined: not kept. */
  gates: Float32Array | undefined;
  /** Threads to run on. */
  threads: number;
}

/** The GRU cell's forward pass (see the file's comment); false when the operands do not fit the shared memory. */
export function gruForward(job: GruForwardJob): boolean {
  const { x, h, wx, wh, bx, bh, m, d, inputs, out, gates, threads } = job;
  const p = getPool(threads);
  const g3 = 3 * d;
  const { at, end } = layout([
    m * inputs,
    m * d,
    inputs * g3,
    d * g3,
    g3,
    g3,
    m * g3,
    m * g3,
    m * d,
    m * 4 * d,
  ]);
  const [px, ph, pwx, pwh, pbx, pbh, pgx, pgh, pout, pgates] = at as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (!p.reserve(end)) return false;
  p.f32(pwx, inputs * g3).set(wx.subarray(0, inputs * g3));
  p.f32(pwh, d * g3).set(wh.subarray(0, d * g3));
  p.f32(pbx, g3).set(bx.subarray(0, g3));
  p.f32(pbh, g3).set(bh.subarray(0, g3));
  p.i32(ARENA, 10).set([px, ph, pwx, pwh, pbx, pbh, pgx, pgh, pout, gates === undefined ? 0 : pgates]);
  const rows = rowsPerChunk(m, threads);
  p.setJob({ [OP]: OP_GRU, [A]: ARENA, [M]: m, [N]: d, [K]: inputs, [CHUNK]: rows });
  // x's and h's rows go in chunk by chunk while the workers start on the first ones.
  p.parallel(
    Math.ceil(m / rows),
    chunkCopier([
      [p.f32(px, m * inputs), x, rows * inputs],
      [p.f32(ph, m * d), h, rows * d],
    ]),
  );
  out.set(p.f32(pout, m * d));
  if (gates !== undefined) gates.set(p.f32(pgates, m * 4 * d));
  return true;
}

/** A backward pass for {@link gruBackward}. */
export interface GruBackwardJob {
  /** The input x, [m, inputs]. */
  x: Float32Array;
  /** The state h, [m, d]. */
  h: Float32Array;
  /** Wxᵀ, [3d, inputs]. */
  wxT: Float32Array;
  /** Whᵀ, [3d, d]. */
  whT: Float32Array;
  /** The gates of the forward pass, [m, 4d]. */
  gates: Float32Array;
  /** The upstream gradient of h', [m, d]. */
  dy: Float32Array;
  /** Rows. */
  m: number;
  /** State size D. */
  d: number;
  /** Input size. */
  inputs: number;
  /** Receive the gradients: dx [m, inputs], dh [m, d], dWx [inputs, 3d], dWh [d, 3d], dbx [3d], dbh [3d]. */
  dx: Float32Array;
  dh: Float32Array;
  dwx: Float32Array;
  dwh: Float32Array;
  dbx: Float32Array;
  dbh: Float32Array;
  /**
   * Where set, the weights' gradients are not computed (dwx … dbh are not
   * written); instead the gates' pre-activation gradients go here: dgx
   * [m, 3d] (of x·Wx + bx) and dgh [m, 3d] (of h·Wh + bh), so that a caller
   * can form the weights' gradients of many steps as one product.
   */
  gateGrads?: { dgx: Float32Array; dgh: Float32Array };
  /** Threads to run on. */
  threads: number;
}

/** Runs C = A·B ([m, k]·[k, n], all in the pool's memory) by rows. */
function rowsProduct(
  p: Pool,
  a: number,
  b: number,
  c: number,
  m: number,
  n: number,
  k: number,
  rows: number,
): void {
  p.setJob({
    [OP]: OP_ROWS,
    [A]: a,
    [B]: b,
    [C]: c,
    [BIAS]: 0,
    [M]: m,
    [N]: n,
    [K]: k,
    [CHUNK]: rows,
    [ACT]: 0,
    [SLOPE]: 0,
  });
  p.parallel(Math.ceil(m / rows));
}

/** The GRU cell's backward pass (see the file's comment); false when the operands do not fit the shared memory. */
export function gruBackward(job: GruBackwardJob): boolean {
  const { x, h, wxT, whT, gates, dy, m, d, inputs, threads } = job;
  const p = getPool(threads);
  const g3 = 3 * d;
  const partials = tnPartialCount(m);
  const { at, end } = layout([
    m * d, // dy
    m * d, // h
    m * 4 * d, // gates
    m * g3, // dgx
    m * g3, // dgh
    m * d, // dy ⊙ z
    m * inputs, // x
    g3 * inputs, // Wxᵀ
    g3 * d, // Whᵀ
    m * inputs, // dx
    m * d, // dgh·Whᵀ
    partials * (Math.max(inputs, d) + 1) * g3, // partial sums of the weights' gradients
    (inputs + 1) * g3, // dWx and dbx
    (d + 1) * g3, // dWh and dbh
  ]);
  const [pdy, ph, pgates, pdgx, pdgh, pdhd, px, pwxt, pwht, pdx, pdhm, pp, pcx, pch] = at as number[] as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (!p.reserve(end)) return false;
  const rows = rowsPerChunk(m, threads);
  p.i32(ARENA, 6).set([pdy, ph, pgates, pdgx, pdgh, pdhd]);
  p.setJob({ [OP]: OP_GRU_GRAD, [A]: ARENA, [M]: m, [N]: d, [CHUNK]: rows });
  p.parallel(
    Math.ceil(m / rows),
    chunkCopier([
      [p.f32(pdy, m * d), dy, rows * d],
      [p.f32(ph, m * d), h, rows * d],
      [p.f32(pgates, m * 4 * d), gates, rows * 4 * d],
    ]),
  );
  p.f32(pwxt, g3 * inputs).set(wxT.subarray(0, g3 * inputs));
  p.f32(pwht, g3 * d).set(whT.subarray(0, g3 * d));
  rowsProduct(p, pdgx, pwxt, pdx, m, inputs, g3, rows);
  rowsProduct(p, pdgh, pwht, pdhm, m, d, g3, rows);
  job.dx.set(p.f32(pdx, m * inputs));
  const dh = job.dh;
  const dhm = p.f32(pdhm, m * d);
  const dhd = p.f32(pdhd, m * d);
  for (let i = 0; i < m * d; i++) dh[i] = (dhd[i] as number) + (dhm[i] as number);
  if (job.gateGrads !== undefined) {
    job.gateGrads.dgx.set(p.f32(pdgx, m * g3));
    job.gateGrads.dgh.set(p.f32(pdgh, m * g3));
    return true;
  }
  p.f32(px, m * inputs).set(x.subarray(0, m * inputs));
  tnJobs(p, { pa: px, pb: pdgx, pp, pc: pcx, m, n: g3, k: inputs, colSums: true });
  job.dwx.set(p.f32(pcx, inputs * g3));
  job.dbx.set(p.f32(pcx + inputs * g3 * 4, g3));
  tnJobs(p, { pa: ph, pb: pdgh, pp, pc: pch, m, n: g3, k: d, colSums: true });
  job.dwh.set(p.f32(pch, d * g3));
  job.dbh.set(p.f32(pch + d * g3 * 4, g3));
  return true;
}
