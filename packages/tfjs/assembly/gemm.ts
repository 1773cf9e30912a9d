// Matrix-product kernels of @dcem/tfjs for the threaded path, written in
// AssemblyScript and compiled by `pnpm --filter @dcem/tfjs build:wasm` into
// src/wasm/gemm.generated.ts. The module imports a shared memory so that
// several instances (the main thread and worker threads) work on the same
// arrays; each call computes one independent chunk of a product.
//
// Every output entry is a sum over the inner dimension taken in increasing
// order, c = ((a₀b₀ + a₁b₁) + a₂b₂) + …, in float32 (multiply, then add:
// WebAssembly's 128-bit SIMD has no fused multiply-add). A chunk never
// depends on how many threads run, so the result of a product does not
// either. Pointers are byte offsets; arrays are dense and row-major.

/**
 * Rows [r0, r1) of C = A·B (+ bias), A: [m, k], B: [k, n], C: [m, n];
 * bias: [n], added after the sum when `bias` is not 0. Register blocks of
 * 4 rows × 8 columns (eight 4-lane accumulators), then narrower edges.
 */
export function gemmRows(a: usize, b: usize, c: usize, bias: usize, r0: i32, r1: i32, n: i32, k: i32): void {
  const rowA = <usize>k << 2;
  const rowB = <usize>n << 2;
  let i = r0;
  for (; i + 4 <= r1; i += 4) {
    const a0 = a + <usize>i * rowA;
    const a1 = a0 + rowA;
    const a2 = a1 + rowA;
    const a3 = a2 + rowA;
    const c0 = c + <usize>i * rowB;
    let j = 0;
    for (; j + 8 <= n; j += 8) {
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
        const x0 = f32x4.splat(load<f32>(a0 + off));
        const x1 = f32x4.splat(load<f32>(a1 + off));
        s00 = f32x4.add(s00, f32x4.mul(x0, b0));
        s01 = f32x4.add(s01, f32x4.mul(x0, b1));
        s10 = f32x4.add(s10, f32x4.mul(x1, b0));
        s11 = f32x4.add(s11, f32x4.mul(x1, b1));
        const x2 = f32x4.splat(load<f32>(a2 + off));
        const x3 = f32x4.splat(load<f32>(a3 + off));
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
      const pc = c0 + (<usize>j << 2);
      v128.store(pc, s00);
      v128.store(pc, s01, 16);
      v128.store(pc + rowB, s10);
      v128.store(pc + rowB, s11, 16);
      v128.store(pc + 2 * rowB, s20);
      v128.store(pc + 2 * rowB, s21, 16);
      v128.store(pc + 3 * rowB, s30);
      v128.store(pc + 3 * rowB, s31, 16);
    }
    for (let r = 0; r < 4; r++) rowTail(a0 + <usize>r * rowA, b, c0 + <usize>r * rowB, bias, j, n, k);
  }
  for (; i < r1; i++) rowTail(a + <usize>i * rowA, b, c + <usize>i * rowB, bias, 0, n, k);
}

/** Columns [j0, n) of one row of C = A·B (+ bias): 4 lanes, then one at a time. */
function rowTail(ar: usize, b: usize, cr: usize, bias: usize, j0: i32, n: i32, k: i32): void {
  const rowB = <usize>n << 2;
  let j = j0;
  for (; j + 4 <= n; j += 4) {
    let s = f32x4.splat(0);
    let pb = b + (<usize>j << 2);
    for (let p = 0; p < k; p++) {
      s = f32x4.add(s, f32x4.mul(f32x4.splat(load<f32>(ar + (<usize>p << 2))), v128.load(pb)));
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
 * One partial sum of C = Aᵀ·B over the rows [r0, r1) of A and B:
 * P = A[r0:r1]ᵀ · B[r0:r1], A: [m, k], B: [m, n], P: [k, n] (overwritten).
 * The partials of consecutive row ranges are added in order by
 * {@link sumPartials}. Register blocks of 4 × 8 outputs.
 */
export function gemmTnPartial(a: usize, b: usize, p: usize, r0: i32, r1: i32, n: i32, k: i32): void {
  const rowA = <usize>k << 2;
  const rowB = <usize>n << 2;
  let i = 0;
  for (; i + 4 <= k; i += 4) {
    let j = 0;
    for (; j + 8 <= n; j += 8) {
      let s00 = f32x4.splat(0);
      let s01 = f32x4.splat(0);
      let s10 = f32x4.splat(0);
      let s11 = f32x4.splat(0);
      let s20 = f32x4.splat(0);
      let s21 = f32x4.splat(0);
      let s30 = f32x4.splat(0);
      let s31 = f32x4.splat(0);
      let pa = a + <usize>r0 * rowA + (<usize>i << 2);
      let pb = b + <usize>r0 * rowB + (<usize>j << 2);
      for (let r = r0; r < r1; r++) {
        const b0 = v128.load(pb);
        const b1 = v128.load(pb, 16);
        const x0 = f32x4.splat(load<f32>(pa));
        const x1 = f32x4.splat(load<f32>(pa, 4));
        s00 = f32x4.add(s00, f32x4.mul(x0, b0));
        s01 = f32x4.add(s01, f32x4.mul(x0, b1));
        s10 = f32x4.add(s10, f32x4.mul(x1, b0));
        s11 = f32x4.add(s11, f32x4.mul(x1, b1));
        const x2 = f32x4.splat(load<f32>(pa, 8));
        const x3 = f32x4.splat(load<f32>(pa, 12));
        s20 = f32x4.add(s20, f32x4.mul(x2, b0));
        s21 = f32x4.add(s21, f32x4.mul(x2, b1));
        s30 = f32x4.add(s30, f32x4.mul(x3, b0));
        s31 = f32x4.add(s31, f32x4.mul(x3, b1));
        pa += rowA;
        pb += rowB;
      }
      const pc = p + <usize>i * rowB + (<usize>j << 2);
      v128.store(pc, s00);
      v128.store(pc, s01, 16);
      v128.store(pc + rowB, s10);
      v128.store(pc + rowB, s11, 16);
      v128.store(pc + 2 * rowB, s20);
      v128.store(pc + 2 * rowB, s21, 16);
      v128.store(pc + 3 * rowB, s30);
      v128.store(pc + 3 * rowB, s31, 16);
    }
    for (let q = i; q < i + 4; q++) tnTail(a, b, p, r0, r1, n, k, q, j);
  }
  for (; i < k; i++) tnTail(a, b, p, r0, r1, n, k, i, 0);
}

/** Columns [j0, n) of row q of a partial of Aᵀ·B, one at a time. */
function tnTail(a: usize, b: usize, p: usize, r0: i32, r1: i32, n: i32, k: i32, q: i32, j0: i32): void {
  const rowA = <usize>k << 2;
  const rowB = <usize>n << 2;
  for (let j = j0; j < n; j++) {
    let s: f32 = 0;
    let pa = a + <usize>r0 * rowA + (<usize>q << 2);
    let pb = b + <usize>r0 * rowB + (<usize>j << 2);
    for (let r = r0; r < r1; r++) {
      s += load<f32>(pa) * load<f32>(pb);
      pa += rowA;
      pb += rowB;
    }
    store<f32>(p + <usize>q * rowB + (<usize>j << 2), s);
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

/** C = A·B (+ bias) by rows: chunk t is rows [t·chunk, (t+1)·chunk). */
const OP_ROWS = 1;
/** Partials of C = Aᵀ·B: chunk t sums rows [t·chunk, (t+1)·chunk) of A and B. */
const OP_TN = 2;
/** C = sum of `count` partials: chunk t is entries [t·chunk, (t+1)·chunk). */
const OP_SUM = 3;

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
    gemmRows(a, b, c, <usize>slot(job, BIAS), r0, r1, n, k);
  } else if (op == OP_TN) {
    const p = <usize>slot(job, PARTIALS);
    gemmTnPartial(a, b, p + <usize>t * ((<usize>k * <usize>n) << 2), r0, r1, n, k);
  } else if (op == OP_SUM) {
    const p = <usize>slot(job, PARTIALS);
    sumPartials(p, slot(job, COUNT), (<usize>k * <usize>n) << 2, c, r0, r1);
  } else {
    unreachable();
  }
}
