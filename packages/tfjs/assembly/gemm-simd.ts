// Matrix-product kernels of @dcem/tfjs for the threaded path, written in
// AssemblyScript and compiled by `pnpm --filter @dcem/tfjs build:wasm` into
// src/wasm/gemm-simd.generated.ts. The module imports a shared memory so that
// several instances (the main thread and worker threads) work on the same
// arrays; each call computes one independent chunk of a product.
//
// Every output entry is a sum over the inner dimension taken in increasing
// order, c = ((a₀b₀ + a₁b₁) + a₂b₂) + …, in float32 (multiply, then add:
// WebAssembly's 128-bit SIMD has no fused multiply-add). A chunk never
// depends on how many threads run, so the result of a product does not
// either. Pointers are byte offsets; arrays are dense and row-major.

import { lmlGradRows, lmlRows } from './lml-simd';

/** No activation. */
const ACT_LINEAR = 0;
/** ReLU, max(z, 0). */
const ACT_RELU = 1;
/** softplus, log(1 + eᶻ). */
const ACT_SOFTPLUS = 2;

// Constants of the activations, each repeated in 4 lanes, read with
// v128.load (one instruction; a constant written inline costs three). The
// table is a data segment that every instance writes on instantiation (the
// same bytes each time), placed by --memoryBase below the host's arenas.
const TABLE = memory.data<f32>(
  [
    // 0: −88 (below, eᵗ is taken as 0)
    -88, -88, -88, -88,
    // 1: log₂ e
    1.44269504, 1.44269504, 1.44269504, 1.44269504,
    // 2: 1.5·2²³ + 127: adding it rounds to an integer and puts i + 127 in the low bits
    12583039, 12583039, 12583039, 12583039,
    // 3, 4: ln 2 in two parts (high part exact in float32)
    0.693145752, 0.693145752, 0.693145752, 0.693145752,
    1.42860677e-6, 1.42860677e-6, 1.42860677e-6, 1.42860677e-6,
    // 5…10: 1/7!, 1/6!, 1/5!, 1/4!, 1/3!, 1/2!
    1.0 / 5040, 1.0 / 5040, 1.0 / 5040, 1.0 / 5040,
    1.0 / 720, 1.0 / 720, 1.0 / 720, 1.0 / 720,
    1.0 / 120, 1.0 / 120, 1.0 / 120, 1.0 / 120,
    1.0 / 24, 1.0 / 24, 1.0 / 24, 1.0 / 24,
    1.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 6,
    0.5, 0.5, 0.5, 0.5,
    // 11: 1
    1, 1, 1, 1,
    // 12…20: log(1 + u)/u ≈ 1 + c₁u + … + c₉u⁹ on [0, 1], c₉ first (a Chebyshev fit; float32 error ≤ 1.7e-7 relative)
    -0.003256378462538123, -0.003256378462538123, -0.003256378462538123, -0.003256378462538123,
    0.019907161593437195, 0.019907161593437195, 0.019907161593437195, 0.019907161593437195,
    -0.057064201682806015, -0.057064201682806015, -0.057064201682806015, -0.057064201682806015,
    0.10614264756441116, 0.10614264756441116, 0.10614264756441116, 0.10614264756441116,
    -0.15311862528324127, -0.15311862528324127, -0.15311862528324127, -0.15311862528324127,
    0.19678117334842682, 0.19678117334842682, 0.19678117334842682, 0.19678117334842682,
    -0.24954558908939362, -0.24954558908939362, -0.24954558908939362, -0.24954558908939362,
    0.33330005407333374, 0.33330005407333374, 0.33330005407333374, 0.33330005407333374,
    -0.4999990463256836, -0.4999990463256836, -0.4999990463256836, -0.4999990463256836,
    // 21: −0 (the sign bit)
    -0.0, -0.0, -0.0, -0.0,
    // 22: 0
    0, 0, 0, 0,
  ],
  16,
);
/** The number of 4-lane constants in TABLE. */
const TABLE_ENTRIES = 23;

/** Constant `i` of TABLE, in 4 lanes. */
@inline
function k(i: i32): v128 {
  return v128.load(TABLE + (<usize>i << 4));
}

/** The end of the constants' data (the host checks that its arenas start above). */
export function dataEnd(): usize {
  return TABLE + (<usize>TABLE_ENTRIES << 4);
}

/**
 * eᵗ for t ≤ 0, 4 lanes: t = i·ln 2 + r with i = round(t·log₂ e), eʳ by its
 * Taylor polynomial of degree 7 (error below 2⁻²⁴ relative), times 2ⁱ built
 * from the bits of i + 127 (i ≥ −127; 2⁻¹²⁷ counts as 0, so results below
 * about 2⁻¹²⁶ may be 0). 0 below −88; NaN stays NaN.
 */
@inline
function expNeg(t: v128): v128 {
  // pmax(t, −88) is t for NaN (t < −88 is false), so NaN flows through.
  const tc = f32x4.pmax(t, k(0));
  const shifted = f32x4.add(f32x4.mul(tc, k(1)), k(2));
  const i = f32x4.sub(shifted, k(2));
  const r = f32x4.sub(f32x4.sub(tc, f32x4.mul(i, k(3))), f32x4.mul(i, k(4)));
  let p = k(5);
  p = f32x4.add(f32x4.mul(p, r), k(6));
  p = f32x4.add(f32x4.mul(p, r), k(7));
  p = f32x4.add(f32x4.mul(p, r), k(8));
  p = f32x4.add(f32x4.mul(p, r), k(9));
  p = f32x4.add(f32x4.mul(p, r), k(10));
  p = f32x4.add(f32x4.mul(p, r), k(11));
  p = f32x4.add(f32x4.mul(p, r), k(11));
  const scale = i32x4.shl(shifted, 23);
  return v128.andnot(f32x4.mul(p, scale), f32x4.lt(t, k(0)));
}

/** log(1 + u) for u in [0, 1], 4 lanes: u·q(u), q a polynomial of degree 9 (no division). */
@inline
function log1pUnit(u: v128): v128 {
  let q = k(12);
  for (let j = 13; j <= 20; j++) q = f32x4.add(f32x4.mul(q, u), k(j));
  q = f32x4.add(f32x4.mul(q, u), k(11));
  return f32x4.mul(q, u);
}

/** The activation `act` of 4 pre-activations (NaN stays NaN). */
@inline
function activate(z: v128, act: i32): v128 {
  // pmax(z, 0) is z when z is NaN.
  if (act == ACT_RELU) return f32x4.pmax(z, k(22));
  if (act == ACT_SOFTPLUS) {
    // log(1 + eᶻ) = max(z, 0) + log(1 + e^−|z|); −|z| is z with the sign bit set.
    return f32x4.add(f32x4.pmax(z, k(22)), log1pUnit(expNeg(v128.or(z, k(21)))));
  }
  return z;
}

/**
 * Writes act(z) to `at` and, when `slope` is not 0, act′(z) to `slope`
 * (4 lanes): 1 where z > 0 else 0 for ReLU; σ(z) for softplus, from the
 * same e = e^−|z| as the value: 1/(1 + e) for z ≥ 0, e/(1 + e) below
 * (NaN where z is NaN).
 */
@inline
function put(at: usize, slope: usize, z: v128, act: i32): void {
  if (slope == 0) {
    v128.store(at, activate(z, act));
  } else if (act == ACT_SOFTPLUS) {
    const e = expNeg(v128.or(z, k(21)));
    v128.store(at, f32x4.add(f32x4.pmax(z, k(22)), log1pUnit(e)));
    const inv = f32x4.div(k(11), f32x4.add(k(11), e));
    v128.store(slope, v128.bitselect(inv, f32x4.mul(e, inv), f32x4.ge(z, k(22))));
  } else {
    v128.store(at, activate(z, act));
    v128.store(slope, v128.and(f32x4.gt(z, k(22)), k(11)));
  }
}

/** Stores a 4 × 8 register block (row r: s_r0, s_r1) at `pc`, rows `row` bytes apart. */
@inline
function storeBlock(
  pc: usize,
  row: usize,
  s00: v128,
  s01: v128,
  s10: v128,
  s11: v128,
  s20: v128,
  s21: v128,
  s30: v128,
  s31: v128,
): void {
  v128.store(pc, s00);
  v128.store(pc, s01, 16);
  v128.store(pc + row, s10);
  v128.store(pc + row, s11, 16);
  v128.store(pc + 2 * row, s20);
  v128.store(pc + 2 * row, s21, 16);
  v128.store(pc + 3 * row, s30);
  v128.store(pc + 3 * row, s31, 16);
}

/** Columns of B per panel of {@link gemmRows} (a multiple of 8). */
const PANEL = 64;

/**
 * Rows [r0, r1) of C = act(A·B + bias), A: [m, k], B: [k, n], C: [m, n];
 * bias: [n], added after the sum when `bias` is not 0; the slope of the
 * activation at A·B + bias goes to `slope` ([m, n]) when `slope` is not 0
 * (for the gradient: dC/dZ = act′(Z)). Register
 * blocks of 4 rows × 8 columns (eight 4-lane accumulators), then narrower
 * edges.
 */
export function gemmRows(
  a: usize,
  b: usize,
  c: usize,
  bias: usize,
  r0: i32,
  r1: i32,
  n: i32,
  k: i32,
  act: i32 = ACT_LINEAR,
  slope: usize = 0,
): void {
  const rowA = <usize>k << 2;
  const rowB = <usize>n << 2;
  const n8 = n & ~7;
  const rows4 = r0 + ((r1 - r0) & ~3);
  // Panels of PANEL columns: a panel of B (k × PANEL floats) stays in the
  // second-level cache while every 4-row block of the chunk passes over it.
  for (let j0 = 0; j0 < n8; j0 += PANEL) {
    const j1 = min(n8, j0 + PANEL);
    for (let i = r0; i < rows4; i += 4) {
      const a0 = a + <usize>i * rowA;
      const a1 = a0 + rowA;
      const a2 = a1 + rowA;
      const a3 = a2 + rowA;
      for (let j = j0; j < j1; j += 8) {
        let s00 = f32x4.splat(0);
        let s01 = f32x4.splat(0);
        let s10 = f32x4.splat(0);
        let s11 = f32x4.splat(0);
        let s20 = f32x4.splat(0);
        let s21 = f32x4.splat(0);
        let s30 = f32x4.splat(0);
        let s31 = f32x4.splat(0);
        let pb = b + (<usize>j << 2);
        for (let p = 0; p < k; p++) {
          const off = <usize>p << 2;
          const b0 = v128.load(pb);
          const b1 = v128.load(pb, 16);
          const x0 = v128.load32_splat(a0 + off);
          const x1 = v128.load32_splat(a1 + off);
          s00 = f32x4.add(s00, f32x4.mul(x0, b0));
          s01 = f32x4.add(s01, f32x4.mul(x0, b1));
          s10 = f32x4.add(s10, f32x4.mul(x1, b0));
          s11 = f32x4.add(s11, f32x4.mul(x1, b1));
          const x2 = v128.load32_splat(a2 + off);
          const x3 = v128.load32_splat(a3 + off);
          s20 = f32x4.add(s20, f32x4.mul(x2, b0));
          s21 = f32x4.add(s21, f32x4.mul(x2, b1));
          s30 = f32x4.add(s30, f32x4.mul(x3, b0));
          s31 = f32x4.add(s31, f32x4.mul(x3, b1));
          pb += rowB;
        }
        if (bias != 0) {
          const v0 = v128.load(bias + (<usize>j << 2));
          const v1 = v128.load(bias + (<usize>j << 2), 16);
          s00 = f32x4.add(s00, v0);
          s01 = f32x4.add(s01, v1);
          s10 = f32x4.add(s10, v0);
          s11 = f32x4.add(s11, v1);
          s20 = f32x4.add(s20, v0);
          s21 = f32x4.add(s21, v1);
          s30 = f32x4.add(s30, v0);
          s31 = f32x4.add(s31, v1);
        }
        const pc = c + <usize>i * rowB + (<usize>j << 2);
        storeBlock(pc, rowB, s00, s01, s10, s11, s20, s21, s30, s31);
      }
    }
  }
  for (let i = r0; i < rows4; i += 4) {
    const a0 = a + <usize>i * rowA;
    for (let r = 0; r < 4; r++) {
      rowTail(a0 + <usize>r * rowA, b, c + <usize>(i + r) * rowB, bias, n8, n, k);
    }
    // The 4 rows just completed through the activation.
    if (act != ACT_LINEAR) activateRows(c + <usize>i * rowB, slope == 0 ? 0 : slope + <usize>i * rowB, 4 * n, act);
  }
  for (let i = rows4; i < r1; i++) {
    const off = <usize>i * rowB;
    rowTail(a + <usize>i * rowA, b, c + off, bias, 0, n, k);
    if (act != ACT_LINEAR) activateRows(c + off, slope == 0 ? 0 : slope + off, n, act);
  }
}

/** Columns [j0, n) of one row of C = A·B + bias: 4 lanes, then one at a time. */
function rowTail(ar: usize, b: usize, cr: usize, bias: usize, j0: i32, n: i32, k: i32): void {
  const rowB = <usize>n << 2;
  let j = j0;
  for (; j + 4 <= n; j += 4) {
    let s = f32x4.splat(0);
    let pb = b + (<usize>j << 2);
    for (let p = 0; p < k; p++) {
      s = f32x4.add(s, f32x4.mul(v128.load32_splat(ar + (<usize>p << 2)), v128.load(pb)));
      pb += rowB;
    }
    if (bias != 0) s = f32x4.add(s, v128.load(bias + (<usize>j << 2)));
    v128.store(cr + (<usize>j << 2), s);
  }
  for (; j < n; j++) {
    let s: f32 = 0;
    let pb = b + (<usize>j << 2);
    for (let p = 0; p < k; p++) {
      s += load<f32>(ar + (<usize>p << 2)) * load<f32>(pb);
      pb += rowB;
    }
    if (bias != 0) s += load<f32>(bias + (<usize>j << 2));
    store<f32>(cr + (<usize>j << 2), s);
  }
}

/**
 * The activation over `count` consecutive entries of C, in place (C holds
 * pre-activations z on entry, act(z) on exit), and act′(z) to `slope` when
 * it is not 0. One loop per case, so that no test runs per entry.
 */
function activateRows(c: usize, slope: usize, count: i32, act: i32): void {
  if (act == ACT_SOFTPLUS) {
    if (slope == 0) activateLoop(c, 0, count, ACT_SOFTPLUS);
    else activateLoop(c, slope, count, ACT_SOFTPLUS);
  } else if (slope == 0) {
    activateLoop(c, 0, count, ACT_RELU);
  } else {
    activateLoop(c, slope, count, ACT_RELU);
  }
}

/** {@link activateRows} for one activation: 8 entries per step (two independent vectors), then 4, then one at a time. */
@inline
function activateLoop(c: usize, slope: usize, count: i32, act: i32): void {
  let e = 0;
  for (; e + 8 <= count; e += 8) {
    const off = <usize>e << 2;
    const z0 = v128.load(c + off);
    const z1 = v128.load(c + off, 16);
    put(c + off, slope == 0 ? 0 : slope + off, z0, act);
    put(c + off + 16, slope == 0 ? 0 : slope + off + 16, z1, act);
  }
  for (; e + 4 <= count; e += 4) {
    const off = <usize>e << 2;
    put(c + off, slope == 0 ? 0 : slope + off, v128.load(c + off), act);
  }
  for (; e < count; e++) {
    const off = <usize>e << 2;
    const z = f32x4.splat(load<f32>(c + off));
    if (slope != 0) store<f32>(slope + off, f32x4.extract_lane(activationSlope(z, act), 0));
    store<f32>(c + off, f32x4.extract_lane(activate(z, act), 0));
  }
}

/** Rows of A and B per pass over the output blocks in {@link gemmTnPartial} (2 × 32 × 128 floats: 32 KiB). */
const TN_BLOCK = 32;

/** Loads 4 lanes of P, or zeros when `first` (the first row block of a partial). */
@inline
function acc(at: usize, first: bool): v128 {
  return first ? f32x4.splat(0) : v128.load(at);
}

/**
 * Rows [r0, r1) of A and B added to rows [q0, q1) of the partial
 * P = A[·]ᵀ·B[·] ([k, n]), which start from zero when `first`. Register
 * blocks of 4 × 8 outputs (q0 a multiple of 4).
 */
function tnRowBlock(a: usize, b: usize, p: usize, r0: i32, r1: i32, n: i32, k: i32, first: bool, q0: i32, q1: i32): void {
  const rowA = <usize>k << 2;
  const rowB = <usize>n << 2;
  let i = q0;
  for (; i + 4 <= q1; i += 4) {
    let j = 0;
    for (; j + 8 <= n; j += 8) {
      const pc = p + <usize>i * rowB + (<usize>j << 2);
      let s00 = acc(pc, first);
      let s01 = acc(pc + 16, first);
      let s10 = acc(pc + rowB, first);
      let s11 = acc(pc + rowB + 16, first);
      let s20 = acc(pc + 2 * rowB, first);
      let s21 = acc(pc + 2 * rowB + 16, first);
      let s30 = acc(pc + 3 * rowB, first);
      let s31 = acc(pc + 3 * rowB + 16, first);
      let pa = a + <usize>r0 * rowA + (<usize>i << 2);
      let pb = b + <usize>r0 * rowB + (<usize>j << 2);
      for (let r = r0; r < r1; r++) {
        const b0 = v128.load(pb);
        const b1 = v128.load(pb, 16);
        const x0 = v128.load32_splat(pa);
        const x1 = v128.load32_splat(pa, 4);
        s00 = f32x4.add(s00, f32x4.mul(x0, b0));
        s01 = f32x4.add(s01, f32x4.mul(x0, b1));
        s10 = f32x4.add(s10, f32x4.mul(x1, b0));
        s11 = f32x4.add(s11, f32x4.mul(x1, b1));
        const x2 = v128.load32_splat(pa, 8);
        const x3 = v128.load32_splat(pa, 12);
        s20 = f32x4.add(s20, f32x4.mul(x2, b0));
        s21 = f32x4.add(s21, f32x4.mul(x2, b1));
        s30 = f32x4.add(s30, f32x4.mul(x3, b0));
        s31 = f32x4.add(s31, f32x4.mul(x3, b1));
        pa += rowA;
        pb += rowB;
      }
      storeBlock(pc, rowB, s00, s01, s10, s11, s20, s21, s30, s31);
    }
    for (let q = i; q < i + 4; q++) tnTail(a, b, p, r0, r1, n, k, q, j, first);
  }
  for (; i < q1; i++) tnTail(a, b, p, r0, r1, n, k, i, 0, first);
}

/**
 * One partial sum of C = Aᵀ·B over the rows [r0, r1) of A and B:
 * P = A[r0:r1]ᵀ · B[r0:r1], A: [m, k], B: [m, n], P: [k, n] (overwritten);
 * with `colSums`, also the column sums of B[r0:r1] in the row after P
 * (P is then [k + 1, n]: [A | 1]ᵀ·B). The partials of consecutive row
 * ranges are added in order by {@link sumPartials}. Register blocks of 4 × 8
 * outputs. With q0, q1: only P's rows [q0, q1) (and the column sums when
 * q1 = k), each entry computed as in the whole product.
 */
export function gemmTnPartial(
  a: usize,
  b: usize,
  p: usize,
  r0: i32,
  r1: i32,
  n: i32,
  k: i32,
  colSums: bool = false,
  q0: i32 = 0,
  q1: i32 = -1,
): void {
  const rowB = <usize>n << 2;
  const last = q1 < 0 ? k : q1;
  // Blocks of TN_BLOCK rows of A and B stay in the first-level cache while
  // every output block passes over them; an output block's sums are kept in
  // P between row blocks, so each entry is still one sum in row order.
  for (let rb = r0; rb < r1; rb += TN_BLOCK) {
    tnRowBlock(a, b, p, rb, min(r1, rb + TN_BLOCK), n, k, rb == r0, q0, last);
  }
  if (colSums && last == k) {
    const out = p + <usize>k * rowB;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      let s = f32x4.splat(0);
      let pb = b + <usize>r0 * rowB + (<usize>j << 2);
      for (let r = r0; r < r1; r++) {
        s = f32x4.add(s, v128.load(pb));
        pb += rowB;
      }
      v128.store(out + (<usize>j << 2), s);
    }
    for (; j < n; j++) {
      let s: f32 = 0;
      let pb = b + <usize>r0 * rowB + (<usize>j << 2);
      for (let r = r0; r < r1; r++) {
        s += load<f32>(pb);
        pb += rowB;
      }
      store<f32>(out + (<usize>j << 2), s);
    }
  }
}

/**
 * Rows [r0, r1) of C = act(A·Bᵀ + bias) for few output columns: A: [m, k],
 * Bt: [n, k] (row j is column j of B), C: [m, n]; each entry a dot product
 * of two rows, 4 lanes of partial sums (lane l adds the products p ≡ l
 * mod 4 in order), added pairwise, then the k mod 4 last products one at a
 * time. `bias` and `slope` as in {@link gemmRows}.
 */
export function gemmNt(
  a: usize,
  bt: usize,
  c: usize,
  bias: usize,
  r0: i32,
  r1: i32,
  n: i32,
  k: i32,
  act: i32,
  slope: usize,
): void {
  const rowA = <usize>k << 2;
  const k4 = k & ~3;
  for (let i = r0; i < r1; i++) {
    const ar = a + <usize>i * rowA;
    for (let j = 0; j < n; j++) {
      const br = bt + <usize>j * rowA;
      let v = f32x4.splat(0);
      for (let p = 0; p < k4; p += 4) {
        const off = <usize>p << 2;
        v = f32x4.add(v, f32x4.mul(v128.load(ar + off), v128.load(br + off)));
      }
      let s: f32 =
        f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
      for (let p = k4; p < k; p++) s += load<f32>(ar + (<usize>p << 2)) * load<f32>(br + (<usize>p << 2));
      if (bias != 0) s += load<f32>(bias + (<usize>j << 2));
      const at = <usize>i * (<usize>n << 2) + (<usize>j << 2);
      if (slope != 0) store<f32>(slope + at, f32x4.extract_lane(activationSlope(f32x4.splat(s), act), 0));
      store<f32>(c + at, f32x4.extract_lane(activate(f32x4.splat(s), act), 0));
    }
  }
}

/** act′(z) in 4 lanes, as {@link put} writes it (for the one-at-a-time edges). */
function activationSlope(z: v128, act: i32): v128 {
  if (act == ACT_RELU) return v128.and(f32x4.gt(z, k(22)), k(11));
  const e = expNeg(v128.or(z, k(21)));
  const inv = f32x4.div(k(11), f32x4.add(k(11), e));
  return v128.bitselect(inv, f32x4.mul(e, inv), f32x4.ge(z, k(22)));
}

/**
 * Entries [e0, e1) of G ⊙ S (S the slopes of the activation, from the
 * forward pass), written over G: 4 at a time, then one at a time.
 */
export function scaleBySlope(g: usize, slope: usize, e0: i32, e1: i32): void {
  let e = e0;
  for (; e + 4 <= e1; e += 4) {
    const off = <usize>e << 2;
    v128.store(g + off, f32x4.mul(v128.load(g + off), v128.load(slope + off)));
  }
  for (; e < e1; e++) {
    const off = <usize>e << 2;
    store<f32>(g + off, load<f32>(g + off) * load<f32>(slope + off));
  }
}

/** Columns [j0, n) of row q of a partial of Aᵀ·B: 4 at a time, then one at a time. */
function tnTail(a: usize, b: usize, p: usize, r0: i32, r1: i32, n: i32, k: i32, q: i32, j0: i32, first: bool): void {
  const rowA = <usize>k << 2;
  const rowB = <usize>n << 2;
  let j = j0;
  for (; j + 4 <= n; j += 4) {
    const pc = p + <usize>q * rowB + (<usize>j << 2);
    let s = acc(pc, first);
    let pa = a + <usize>r0 * rowA + (<usize>q << 2);
    let pb = b + <usize>r0 * rowB + (<usize>j << 2);
    for (let r = r0; r < r1; r++) {
      s = f32x4.add(s, f32x4.mul(v128.load32_splat(pa), v128.load(pb)));
      pa += rowA;
      pb += rowB;
    }
    v128.store(pc, s);
  }
  for (; j < n; j++) {
    const pc = p + <usize>q * rowB + (<usize>j << 2);
    let s: f32 = first ? 0 : load<f32>(pc);
    let pa = a + <usize>r0 * rowA + (<usize>q << 2);
    let pb = b + <usize>r0 * rowB + (<usize>j << 2);
    for (let r = r0; r < r1; r++) {
      s += load<f32>(pa) * load<f32>(pb);
      pa += rowA;
      pb += rowB;
    }
    store<f32>(pc, s);
  }
}

/**
 * Entries [e0, e1) of C = P₀ + P₁ + … + P_{count−1}, summed in that order;
 * the partials lie `stride` bytes apart.
 */
export function sumPartials(p: usize, count: i32, stride: usize, c: usize, e0: i32, e1: i32): void {
  let e = e0;
  for (; e + 4 <= e1; e += 4) {
    const off = <usize>e << 2;
    let s = v128.load(p + off);
    for (let q = 1; q < count; q++) s = f32x4.add(s, v128.load(p + <usize>q * stride + off));
    v128.store(c + off, s);
  }
  for (; e < e1; e++) {
    const off = <usize>e << 2;
    let s = load<f32>(p + off);
    for (let q = 1; q < count; q++) s += load<f32>(p + <usize>q * stride + off);
    store<f32>(c + off, s);
  }
}

// ---------------------------------------------------------------------------
// The GRU cell (PyTorch's GRUCell, gates ordered r, z, n), by rows:
//   gx = x·Wx + bx, gh = h·Wh + bh (each [m, 3D]: r, z, n blocks)
//   r = σ(gx_r + gh_r), z = σ(gx_z + gh_z), n = tanh(gx_n + r ⊙ gh_n)
//   h' = (1 − z) ⊙ n + z ⊙ h
// The forward chunk writes h' and the gates (r, z, n, gh_n) [m, 4D] that the
// backward chunk reads.

/** σ(a) in 4 lanes from e = e^−|a|: 1/(1 + e) for a ≥ 0, e/(1 + e) below. */
@inline
function sigmoid4(a: v128): v128 {
  const e = expNeg(v128.or(a, k(21)));
  const inv = f32x4.div(k(11), f32x4.add(k(11), e));
  return v128.bitselect(inv, f32x4.mul(e, inv), f32x4.ge(a, k(22)));
}

/** tanh(a) in 4 lanes: sign(a)·(1 − e)/(1 + e), e = e^−2|a|. */
@inline
function tanh4(a: v128): v128 {
  const neg = v128.or(a, k(21));
  const e = expNeg(f32x4.add(neg, neg));
  const t = f32x4.div(f32x4.sub(k(11), e), f32x4.add(k(11), e));
  return v128.or(t, v128.and(a, k(21)));
}

/** One 4-lane group of the gates: entry `off` (bytes) of the gate blocks of one row. */
@inline
function gruGroup(gx: usize, gh: usize, h: usize, out: usize, gates: usize, blk: usize, off: usize): void {
  const r = sigmoid4(f32x4.add(v128.load(gx + off), v128.load(gh + off)));
  const z = sigmoid4(f32x4.add(v128.load(gx + blk + off), v128.load(gh + blk + off)));
  const hn = v128.load(gh + 2 * blk + off);
  const n = tanh4(f32x4.add(v128.load(gx + 2 * blk + off), f32x4.mul(r, hn)));
  const hv = v128.load(h + off);
  v128.store(out + off, f32x4.add(f32x4.mul(f32x4.sub(k(11), z), n), f32x4.mul(z, hv)));
  if (gates != 0) {
    v128.store(gates + off, r);
    v128.store(gates + blk + off, z);
    v128.store(gates + 2 * blk + off, n);
    v128.store(gates + 3 * blk + off, hn);
  }
}

/** Reads 4 lanes at `at` whose first `count` (< 4) are in bounds (the others zero). */
@inline
function loadPart(at: usize, count: i32): v128 {
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(at));
  if (count > 1) v = f32x4.replace_lane(v, 1, load<f32>(at, 4));
  if (count > 2) v = f32x4.replace_lane(v, 2, load<f32>(at, 8));
  return v;
}

/** Writes the first `count` (< 4) lanes of v at `at`. */
@inline
function storePart(at: usize, v: v128, count: i32): void {
  store<f32>(at, f32x4.extract_lane(v, 0));
  if (count > 1) store<f32>(at, f32x4.extract_lane(v, 1), 4);
  if (count > 2) store<f32>(at, f32x4.extract_lane(v, 2), 8);
}

/**
 * Rows [r0, r1) of the GRU cell. `params` holds 10 i32 byte offsets: x [m, I],
 * h [m, D], Wx [I, 3D], Wh [D, 3D], bx [3D], bh [3D], gx and gh (scratch,
 * [m, 3D]), h' [m, D] and the gates [m, 4D] (0: not written).
 */
export function gruRows(params: usize, r0: i32, r1: i32, d: i32, inputs: i32): void {
  const x = <usize>load<i32>(params);
  const h = <usize>load<i32>(params, 4);
  const wx = <usize>load<i32>(params, 8);
  const wh = <usize>load<i32>(params, 12);
  const bx = <usize>load<i32>(params, 16);
  const bh = <usize>load<i32>(params, 20);
  const gx = <usize>load<i32>(params, 24);
  const gh = <usize>load<i32>(params, 28);
  const out = <usize>load<i32>(params, 32);
  const gates = <usize>load<i32>(params, 36);
  gemmRows(x, wx, gx, bx, r0, r1, 3 * d, inputs);
  gemmRows(h, wh, gh, bh, r0, r1, 3 * d, d);
  const blk = <usize>d << 2;
  const d4 = d & ~3;
  for (let i = r0; i < r1; i++) {
    const gxr = gx + <usize>i * 3 * blk;
    const ghr = gh + <usize>i * 3 * blk;
    const hr = h + <usize>i * blk;
    const outr = out + <usize>i * blk;
    const gr = gates == 0 ? 0 : gates + <usize>i * 4 * blk;
    for (let j = 0; j < d4; j += 4) gruGroup(gxr, ghr, hr, outr, gr, blk, <usize>j << 2);
    if (d4 < d) {
      // The last d mod 4 entries, through 4-lane registers.
      const off = <usize>d4 << 2;
      const c = d - d4;
      const r = sigmoid4(f32x4.add(loadPart(gxr + off, c), loadPart(ghr + off, c)));
      const z = sigmoid4(f32x4.add(loadPart(gxr + blk + off, c), loadPart(ghr + blk + off, c)));
      const hn = loadPart(ghr + 2 * blk + off, c);
      const n = tanh4(f32x4.add(loadPart(gxr + 2 * blk + off, c), f32x4.mul(r, hn)));
      const hv = loadPart(hr + off, c);
      storePart(outr + off, f32x4.add(f32x4.mul(f32x4.sub(k(11), z), n), f32x4.mul(z, hv)), c);
      if (gr != 0) {
        storePart(gr + off, r, c);
        storePart(gr + blk + off, z, c);
        storePart(gr + 2 * blk + off, n, c);
        storePart(gr + 3 * blk + off, hn, c);
      }
    }
  }
}

/** One 4-lane group of the GRU's backward pass (see {@link gruGradRows}). */
@inline
function gruGradGroup(
  dy: v128,
  hv: v128,
  r: v128,
  z: v128,
  n: v128,
  hn: v128,
  dgx: usize,
  dgh: usize,
  dhd: usize,
  blk: usize,
  off: usize,
  count: i32,
): void {
  const one = k(11);
  // h' = (1 − z) n + z h: dn = dy (1 − z), dz = dy (h − n), dh (direct) = dy z.
  const dan = f32x4.mul(f32x4.mul(dy, f32x4.sub(one, z)), f32x4.sub(one, f32x4.mul(n, n)));
  const daz = f32x4.mul(f32x4.mul(f32x4.mul(dy, f32x4.sub(hv, n)), z), f32x4.sub(one, z));
  const dar = f32x4.mul(f32x4.mul(f32x4.mul(dan, hn), r), f32x4.sub(one, r));
  const dhn = f32x4.mul(dan, r);
  const direct = f32x4.mul(dy, z);
  if (count == 4) {
    v128.store(dgx + off, dar);
    v128.store(dgx + blk + off, daz);
    v128.store(dgx + 2 * blk + off, dan);
    v128.store(dgh + off, dar);
    v128.store(dgh + blk + off, daz);
    v128.store(dgh + 2 * blk + off, dhn);
    v128.store(dhd + off, direct);
  } else {
    storePart(dgx + off, dar, count);
    storePart(dgx + blk + off, daz, count);
    storePart(dgx + 2 * blk + off, dan, count);
    storePart(dgh + off, dar, count);
    storePart(dgh + blk + off, daz, count);
    storePart(dgh + 2 * blk + off, dhn, count);
    storePart(dhd + off, direct, count);
  }
}

/**
 * Rows [r0, r1) of the GRU cell's backward pass up to the products: from the
 * upstream gradient dy [m, D], h [m, D] and the gates [m, 4D] (r, z, n,
 * gh_n), the gradients of the pre-activations: dgx [m, 3D] (of gx) and dgh
 * [m, 3D] (of gh), and the direct part of dh, dy ⊙ z [m, D]. `params`: 6 i32
 * byte offsets dy, h, gates, dgx, dgh, dh.
 */
export function gruGradRows(params: usize, r0: i32, r1: i32, d: i32): void {
  const dyp = <usize>load<i32>(params);
  const h = <usize>load<i32>(params, 4);
  const gates = <usize>load<i32>(params, 8);
  const dgx = <usize>load<i32>(params, 12);
  const dgh = <usize>load<i32>(params, 16);
  const dhd = <usize>load<i32>(params, 20);
  const blk = <usize>d << 2;
  for (let i = r0; i < r1; i++) {
    const row = <usize>i * blk;
    const gr = gates + 4 * row;
    for (let j = 0; j < d; j += 4) {
      const off = <usize>j << 2;
      const count = min(4, d - j);
      if (count == 4) {
        gruGradGroup(
          v128.load(dyp + row + off),
          v128.load(h + row + off),
          v128.load(gr + off),
          v128.load(gr + blk + off),
          v128.load(gr + 2 * blk + off),
          v128.load(gr + 3 * blk + off),
          dgx + 3 * row,
          dgh + 3 * row,
          dhd + row,
          blk,
          off,
          4,
        );
      } else {
        gruGradGroup(
          loadPart(dyp + row + off, count),
          loadPart(h + row + off, count),
          loadPart(gr + off, count),
          loadPart(gr + blk + off, count),
          loadPart(gr + 2 * blk + off, count),
          loadPart(gr + 3 * blk + off, count),
          dgx + 3 * row,
          dgh + 3 * row,
          dhd + row,
          blk,
          off,
          count,
        );
      }
    }
  }
}

/**
 * The peak of this machine's 128-bit WebAssembly SIMD: `iterations` rounds of
 * 12 independent 4-lane multiply-adds on registers (96 floating-point
 * operations per round), no memory traffic. Returns a sum so that nothing is
 * optimised away.
 */
export function simdPeak(iterations: i32, seed: f32): f32 {
  const m = f32x4.splat(0.999999);
  const d = f32x4.splat(1e-7);
  let s0 = f32x4.splat(seed);
  let s1 = f32x4.add(s0, d);
  let s2 = f32x4.add(s1, d);
  let s3 = f32x4.add(s2, d);
  let s4 = f32x4.add(s3, d);
  let s5 = f32x4.add(s4, d);
  let s6 = f32x4.add(s5, d);
  let s7 = f32x4.add(s6, d);
  let s8 = f32x4.add(s7, d);
  let s9 = f32x4.add(s8, d);
  let s10 = f32x4.add(s9, d);
  let s11 = f32x4.add(s10, d);
  for (let t = 0; t < iterations; t++) {
    s0 = f32x4.add(f32x4.mul(s0, m), d);
    s1 = f32x4.add(f32x4.mul(s1, m), d);
    s2 = f32x4.add(f32x4.mul(s2, m), d);
    s3 = f32x4.add(f32x4.mul(s3, m), d);
    s4 = f32x4.add(f32x4.mul(s4, m), d);
    s5 = f32x4.add(f32x4.mul(s5, m), d);
    s6 = f32x4.add(f32x4.mul(s6, m), d);
    s7 = f32x4.add(f32x4.mul(s7, m), d);
    s8 = f32x4.add(f32x4.mul(s8, m), d);
    s9 = f32x4.add(f32x4.mul(s9, m), d);
    s10 = f32x4.add(f32x4.mul(s10, m), d);
    s11 = f32x4.add(f32x4.mul(s11, m), d);
  }
  const s = f32x4.add(
    f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)),
    f32x4.add(f32x4.add(f32x4.add(s4, s5), f32x4.add(s6, s7)), f32x4.add(f32x4.add(s8, s9), f32x4.add(s10, s11))),
  );
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}

// The job block that the host writes before it hands out chunks (i32 slots,
// at byte offset `job`): what to compute and on which arrays.
const OP = 8;
const A = 9;
const B = 10;
const C = 11;
const BIAS = 12;
const M = 13;
const N = 14;
const K = 15;
const CHUNK = 16;
const PARTIALS = 17;
const COUNT = 18;
const ACT = 19;
const SLOPE = 20;
const COLSUMS = 21;
const STRIDE = 22;
/** τ of OP_LML, a float64 in slots 24 and 25. */
const TEMPERATURE = 24;
const MAX_ITERATIONS = 26;
/** Scratch of OP_LML: 3·n float64 per chunk. */
const WORK = 27;

/** C = A·B (+ bias) by rows: chunk t is rows [t·chunk, (t+1)·chunk). */
const OP_ROWS = 1;
/** Partials of C = Aᵀ·B: chunk t sums rows [t·chunk, (t+1)·chunk) of A and B. */
const OP_TN = 2;
/** C = sum of `count` partials: chunk t is entries [t·chunk, (t+1)·chunk). */
const OP_SUM = 3;
/** C ⊙= A (entries; C the upstream gradient, A the activation's slopes): chunk t is entries [t·chunk, (t+1)·chunk). */
const OP_SCALE = 4;
/** C = act(A·Bᵀ + bias) by rows, B given as Bᵀ (few output columns): chunk t is rows [t·chunk, (t+1)·chunk). */
const OP_NT = 5;
/** C = LML_k(A/τ) by rows (A, C: [m, n], k in K): chunk t is rows [t·chunk, (t+1)·chunk). */
const OP_LML = 6;
/** C = the VJP of LML at A for the upstream gradient B, by rows (A, B, C: [m, n]): chunk t is rows [t·chunk, (t+1)·chunk). */
const OP_LML_GRAD = 7;
/** C = Aᵀ·B in one partial (all rows of A and B), chunk t its output rows [t·chunk, (t+1)·chunk) (and the column sums of B with COLSUMS in the last). */
const OP_TN_SPLIT = 10;
/** The GRU cell by rows (A: its parameter block, M = m, N = D, K = inputs): chunk t is rows [t·chunk, (t+1)·chunk). */
const OP_GRU = 8;
/** The GRU cell's backward pass up to its products, by rows (A: its parameter block, M = m, N = D). */
const OP_GRU_GRAD = 9;

@inline
function slot(job: usize, i: i32): i32 {
  return load<i32>(job + (<usize>i << 2));
}

/**
 * Runs chunk `t` of the job described at `job`. Every thread calls this for
 * the chunks it takes; chunks write disjoint outputs.
 */
export function runChunk(job: usize, t: i32): void {
  const op = slot(job, OP);
  const chunk = slot(job, CHUNK);
  const m = slot(job, M);
  const n = slot(job, N);
  const k = slot(job, K);
  const r0 = t * chunk;
  const r1 = min(m, r0 + chunk);
  const a = <usize>slot(job, A);
  const b = <usize>slot(job, B);
  const c = <usize>slot(job, C);
  if (op == OP_ROWS) {
    gemmRows(a, b, c, <usize>slot(job, BIAS), r0, r1, n, k, slot(job, ACT), <usize>slot(job, SLOPE));
  } else if (op == OP_TN) {
    const p = <usize>slot(job, PARTIALS);
    gemmTnPartial(a, b, p + <usize>t * <usize>slot(job, STRIDE), r0, r1, n, k, slot(job, COLSUMS) != 0);
  } else if (op == OP_SUM) {
    const p = <usize>slot(job, PARTIALS);
    sumPartials(p, slot(job, COUNT), <usize>slot(job, STRIDE), c, r0, r1);
  } else if (op == OP_NT) {
    gemmNt(a, b, c, <usize>slot(job, BIAS), r0, r1, n, k, slot(job, ACT), <usize>slot(job, SLOPE));
  } else if (op == OP_SCALE) {
    scaleBySlope(c, a, r0, r1);
  } else if (op == OP_LML) {
    const work = <usize>slot(job, WORK) + <usize>t * (<usize>n * 24);
    lmlRows(a, c, r0, r1, n, k, load<f64>(job + (<usize>TEMPERATURE << 2)), slot(job, MAX_ITERATIONS), work);
  } else if (op == OP_LML_GRAD) {
    lmlGradRows(a, b, c, r0, r1, n, load<f64>(job + (<usize>TEMPERATURE << 2)));
  } else if (op == OP_TN_SPLIT) {
    gemmTnPartial(a, b, c, 0, m, n, k, slot(job, COLSUMS) != 0, r0 < k ? r0 : k, min(k, r0 + chunk));
  } else if (op == OP_GRU) {
    gruRows(a, r0, r1, n, k);
  } else if (op == OP_GRU_GRAD) {
    gruGradRows(a, r0, r1, n);
  } else {
    unreachable();
  }
}
