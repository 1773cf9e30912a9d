// WebAssembly kernels of @dcem/tfjs, written in AssemblyScript and compiled
// by `pnpm --filter @dcem/tfjs build:wasm` into src/wasm/fused-simd.generated.ts.
//
// Each function is a port of its JavaScript twin (src/kernels/ziggurat.ts,
// src/kernels/math.ts) that performs the same IEEE operations in the same order,
// so both give bit-identical results; the tests check that. Float64 pairs are
// processed with 128-bit SIMD (f64x2) where the lanes are independent columns,
// which keeps every column's order of operations unchanged.
//
// Memory: the host copies inputs into this module's memory and reads outputs
// back; pointers are byte offsets, every array is dense and row-major.

// The host's exp and log, so that the rare slow paths of the normal generator
// round exactly as the JavaScript twin does.
@external("host", "exp")
declare function hostExp(x: f64): f64;
@external("host", "log")
declare function hostLog(x: f64): f64;

/** Right edge of the base layer of the 256-layer ziggurat (tail start). */
const R: f64 = 3.6541528853610088;
const TWO_POW_M32: f64 = 2.3283064365386963e-10;

// The generator state of one lane while it takes the slow path.
let sa: u32 = 0;
let sb: u32 = 0;
let sc: u32 = 0;
let sd: u32 = 0;

@inline
function nextWord(): u32 {
  const r = rotl<u32>(sb * 5, 7) * 9;
  const t = sb << 9;
  sc ^= sa;
  sd ^= sb;
  sb ^= sc;
  sa ^= sd;
  sc ^= t;
  sd = rotl<u32>(sd, 11);
  return r;
}

/**
 * The ziggurat's slow path for one draw whose first word `r` (already taken
 * from the lane's stream in sa…sd) missed the fast acceptance: the tail, the
 * wedges and, on rejection, fresh words from the same stream. Returns the
 * signed float32 deviate.
 */
function slowDraw(r: u32, width: usize, edge: usize, accept: usize): f32 {
  let layer = <usize>(r & 255);
  let u = r >>> 9;
  let v: f64 = 0;
  while (true) {
    const x = <f64>u * load<f64>(width + (layer << 3));
    if (layer == 0) {
      // The tail beyond R (Marsaglia's exponential rejection).
      let xx: f64 = 0;
      let yy: f64 = 0;
      do {
        xx = -hostLog((<f64>nextWord() + 0.5) * TWO_POW_M32) / R;
        yy = -hostLog((<f64>nextWord() + 0.5) * TWO_POW_M32);
      } while (yy + yy < xx * xx);
      v = R + xx;
      break;
    }
    // The wedge of the layer: accept under the density.
    const lo = load<f64>(edge + (layer << 3));
    const hi = load<f64>(edge + ((layer + 1) << 3));
    if (lo + (<f64>nextWord() + 0.5) * TWO_POW_M32 * (hi - lo) < hostExp(-0.5 * x * x)) {
      v = x;
      break;
    }
    // Rejected: start over with a fresh word.
    r = nextWord();
    layer = <usize>(r & 255);
    u = r >>> 9;
    if (u < load<u32>(accept + (layer << 2))) {
      v = <f64>u * load<f64>(width + (layer << 3));
      break;
    }
  }
  return <f32>((r & 256) != 0 ? -v : v);
}

/**
 * `n` standard-normal draws as float32 at `out`, from four xoshiro128**
 * streams run side by side in SIMD lanes (draw i comes from stream i mod 4)
 * and a 256-layer ziggurat. `states` holds the four streams' words as
 * a[4], b[4], c[4], d[4] (u32); the tables sit at `tables`: width[256] f64
 * (x_i·2⁻²³), edge[257] f64 (f(x_i)), accept[256] u32 (⌊x_{i+1}/x_i·2²³⌋).
 * The states are not written back; `spill` is scratch space for 112 bytes.
 */
export function normals(out: usize, n: i32, states: usize, tables: usize, spill: usize): void {
  const width = tables;
  const edge = tables + 256 * 8;
  const accept = edge + 257 * 8;
  let a = v128.load(states);
  let b = v128.load(states + 16);
  let c = v128.load(states + 32);
  let d = v128.load(states + 48);
  const five = i32x4.splat(5);
  const nine = i32x4.splat(9);
  const low8 = i32x4.splat(255);
  const bit8 = i32x4.splat(256);
  for (let m = 0; m < n; m += 4) {
    // xoshiro128** on four lanes.
    const p = i32x4.mul(b, five);
    const r = i32x4.mul(v128.or(i32x4.shl(p, 7), i32x4.shr_u(p, 25)), nine);
    const t = i32x4.shl(b, 9);
    c = v128.xor(c, a);
    d = v128.xor(d, b);
    b = v128.xor(b, c);
    a = v128.xor(a, d);
    c = v128.xor(c, t);
    d = v128.or(i32x4.shl(d, 11), i32x4.shr_u(d, 21));
    const layers = v128.and(r, low8);
    const u = i32x4.shr_u(r, 9);
    const l0 = <usize>i32x4.extract_lane(layers, 0);
    const l1 = <usize>i32x4.extract_lane(layers, 1);
    const l2 = <usize>i32x4.extract_lane(layers, 2);
    const l3 = <usize>i32x4.extract_lane(layers, 3);
    let acc = i32x4.splat(<i32>load<u32>(accept + (l0 << 2)));
    acc = i32x4.replace_lane(acc, 1, <i32>load<u32>(accept + (l1 << 2)));
    acc = i32x4.replace_lane(acc, 2, <i32>load<u32>(accept + (l2 << 2)));
    acc = i32x4.replace_lane(acc, 3, <i32>load<u32>(accept + (l3 << 2)));
    const w01 = f64x2.replace_lane(f64x2.splat(load<f64>(width + (l0 << 3))), 1, load<f64>(width + (l1 << 3)));
    const w23 = f64x2.replace_lane(f64x2.splat(load<f64>(width + (l2 << 3))), 1, load<f64>(width + (l3 << 3)));
    const v01 = f64x2.mul(f64x2.convert_low_i32x4_u(u), w01);
    const v23 = f64x2.mul(f64x2.convert_low_i32x4_u(v128.shuffle<i32>(u, u, 2, 3, 0, 1)), w23);
    const magnitude = v128.shuffle<f32>(f32x4.demote_f64x2_zero(v01), f32x4.demote_f64x2_zero(v23), 0, 1, 4, 5);
    // Bit 8 of the word is the sign: move it to bit 31.
    let value = v128.xor(magnitude, i32x4.shl(v128.and(r, bit8), 23));
    const fast = i32x4.lt_u(u, acc);
    if (!i32x4.all_true(fast)) {
      // Some lane missed the fast path: finish it on its own stream. The
      // vectors go through `spill` (lanes are addressed by memory offset).
      v128.store(spill, a);
      v128.store(spill + 16, b);
      v128.store(spill + 32, c);
      v128.store(spill + 48, d);
      v128.store(spill + 64, r);
      v128.store(spill + 80, fast);
      v128.store(spill + 96, value);
      for (let lane: usize = 0; lane < 4; lane++) {
        const o = lane << 2;
        if (load<i32>(spill + 80 + o) != 0) continue;
        sa = load<u32>(spill + o);
        sb = load<u32>(spill + 16 + o);
        sc = load<u32>(spill + 32 + o);
        sd = load<u32>(spill + 48 + o);
        store<f32>(spill + 96 + o, slowDraw(load<u32>(spill + 64 + o), width, edge, accept));
        store<u32>(spill + o, sa);
        store<u32>(spill + 16 + o, sb);
        store<u32>(spill + 32 + o, sc);
        store<u32>(spill + 48 + o, sd);
      }
      a = v128.load(spill);
      b = v128.load(spill + 16);
      c = v128.load(spill + 32);
      d = v128.load(spill + 48);
      value = v128.load(spill + 96);
    }
    if (m + 4 <= n) {
      v128.store(out + (<usize>m << 2), value);
    } else {
      v128.store(spill + 96, value);
      for (let lane = 0; lane < n - m; lane++) {
        store<f32>(out + (<usize>(m + lane) << 2), load<f32>(spill + 96 + (<usize>lane << 2)));
      }
    }
  }
}

/**
 * Weighted refit (twin of fitForward in src/kernels/math.ts): for X [B, N, D] at
 * `samples` and w [B, N] at `weights`, μ' = Σᵢ wᵢXᵢ/k and
 * σ' = √max(Σᵢ wᵢ(Xᵢ − μ')²/k, floor), floor = f32(minStd²). `acc` is
 * scratch space for D float64.
 */
export function fitForward(
  samples: usize,
  weights: usize,
  batch: i32,
  count: i32,
  dim: i32,
  k: f64,
  floor: f32,
  mean: usize,
  std: usize,
  acc: usize,
): void {
  const pairs = dim & ~1;
  for (let b = 0; b < batch; b++) {
    const row = <usize>(b * dim);
    memory.fill(acc, 0, <usize>dim << 3);
    for (let i = 0; i < count; i++) {
      const w = <f64>load<f32>(weights + (<usize>(b * count + i) << 2));
      const wv = f64x2.splat(w);
      const base = samples + (<usize>((b * count + i) * dim) << 2);
      let j = 0;
      for (; j < pairs; j += 2) {
        const x = f64x2.promote_low_f32x4(v128.load64_zero(base + (<usize>j << 2)));
        const p = acc + (<usize>j << 3);
        v128.store(p, f64x2.add(v128.load(p), f64x2.mul(wv, x)));
      }
      for (; j < dim; j++) {
        const p = acc + (<usize>j << 3);
        store<f64>(p, load<f64>(p) + w * <f64>load<f32>(base + (<usize>j << 2)));
      }
    }
    for (let j = 0; j < dim; j++) {
      store<f32>(mean + ((row + <usize>j) << 2), <f32>(load<f64>(acc + (<usize>j << 3)) / k));
    }
    memory.fill(acc, 0, <usize>dim << 3);
    const mrow = mean + (row << 2);
    for (let i = 0; i < count; i++) {
      const w = <f64>load<f32>(weights + (<usize>(b * count + i) << 2));
      const wv = f64x2.splat(w);
      const base = samples + (<usize>((b * count + i) * dim) << 2);
      let j = 0;
      for (; j < pairs; j += 2) {
        const x = f64x2.promote_low_f32x4(v128.load64_zero(base + (<usize>j << 2)));
        const mu = f64x2.promote_low_f32x4(v128.load64_zero(mrow + (<usize>j << 2)));
        const cv = f64x2.sub(x, mu);
        const p = acc + (<usize>j << 3);
        v128.store(p, f64x2.add(v128.load(p), f64x2.mul(f64x2.mul(wv, cv), cv)));
      }
      for (; j < dim; j++) {
        const cj = <f64>load<f32>(base + (<usize>j << 2)) - <f64>load<f32>(mrow + (<usize>j << 2));
        const p = acc + (<usize>j << 3);
        store<f64>(p, load<f64>(p) + w * cj * cj);
      }
    }
    for (let j = 0; j < dim; j++) {
      const v = <f32>(load<f64>(acc + (<usize>j << 3)) / k);
      store<f32>(std + ((row + <usize>j) << 2), <f32>Math.sqrt(<f64>max<f32>(v, floor)));
    }
  }
}

/**
 * VJP of {@link fitForward} (twin of fitBackward in src/kernels/math.ts). `scratch`
 * holds 4·D float64.
 */
export function fitBackward(
  samples: usize,
  weights: usize,
  mean: usize,
  std: usize,
  dMean: usize,
  dStd: usize,
  batch: i32,
  count: i32,
  dim: i32,
  k: f64,
  floor: f32,
  dSamples: usize,
  dWeights: usize,
  scratch: usize,
): void {
  const pairs = dim & ~1;
  const wc = scratch;
  const variance = scratch + (<usize>dim << 3);
  const dVar = variance + (<usize>dim << 3);
  const dMu = dVar + (<usize>dim << 3);
  const two = f64x2.splat(2);
  const kv = f64x2.splat(k);
  for (let b = 0; b < batch; b++) {
    const row = <usize>(b * dim);
    const mrow = mean + (row << 2);
    memory.fill(wc, 0, <usize>dim << 4);
    for (let i = 0; i < count; i++) {
      const w = <f64>load<f32>(weights + (<usize>(b * count + i) << 2));
      const wv = f64x2.splat(w);
      const base = samples + (<usize>((b * count + i) * dim) << 2);
      let j = 0;
      for (; j < pairs; j += 2) {
        const x = f64x2.promote_low_f32x4(v128.load64_zero(base + (<usize>j << 2)));
        const mu = f64x2.promote_low_f32x4(v128.load64_zero(mrow + (<usize>j << 2)));
        const cv = f64x2.sub(x, mu);
        const wcj = f64x2.mul(wv, cv);
        const p = wc + (<usize>j << 3);
        const q = variance + (<usize>j << 3);
        v128.store(p, f64x2.add(v128.load(p), wcj));
        v128.store(q, f64x2.add(v128.load(q), f64x2.mul(wcj, cv)));
      }
      for (; j < dim; j++) {
        const cj = <f64>load<f32>(base + (<usize>j << 2)) - <f64>load<f32>(mrow + (<usize>j << 2));
        const wcj = w * cj;
        const p = wc + (<usize>j << 3);
        const q = variance + (<usize>j << 3);
        store<f64>(p, load<f64>(p) + wcj);
        store<f64>(q, load<f64>(q) + wcj * cj);
      }
    }
    for (let j = 0; j < dim; j++) {
      const o = <usize>j << 3;
      const v = <f32>(load<f64>(variance + o) / k);
      const e = (row + <usize>j) << 2;
      const dv = v >= floor ? <f64>load<f32>(dStd + e) / (2 * <f64>load<f32>(std + e)) : 0;
      store<f64>(dVar + o, dv);
      store<f64>(dMu + o, <f64>load<f32>(dMean + e) - (2 * dv * load<f64>(wc + o)) / k);
    }
    for (let i = 0; i < count; i++) {
      const w = <f64>load<f32>(weights + (<usize>(b * count + i) << 2));
      const wv = f64x2.splat(w);
      const offset = <usize>((b * count + i) * dim) << 2;
      const base = samples + offset;
      const dBase = dSamples + offset;
      // dw sums the even and the odd j apart (the two lanes), then adds the
      // two sums and the odd dim's last term: as fitBackward in src/kernels/math.ts.
      let sums = f64x2.splat(0);
      let j = 0;
      for (; j < pairs; j += 2) {
        const x = f64x2.promote_low_f32x4(v128.load64_zero(base + (<usize>j << 2)));
        const mu = f64x2.promote_low_f32x4(v128.load64_zero(mrow + (<usize>j << 2)));
        const cv = f64x2.sub(x, mu);
        const dv = v128.load(dVar + (<usize>j << 3));
        const dm = v128.load(dMu + (<usize>j << 3));
        const g = f64x2.div(f64x2.mul(wv, f64x2.add(dm, f64x2.mul(f64x2.mul(two, cv), dv))), kv);
        v128.store64_lane(dBase + (<usize>j << 2), f32x4.demote_f64x2_zero(g), 0);
        sums = f64x2.add(sums, f64x2.add(f64x2.mul(x, dm), f64x2.mul(f64x2.mul(cv, cv), dv)));
      }
      let dw = f64x2.extract_lane(sums, 0) + f64x2.extract_lane(sums, 1);
      for (; j < dim; j++) {
        const x = <f64>load<f32>(base + (<usize>j << 2));
        const cj = x - <f64>load<f32>(mrow + (<usize>j << 2));
        const dv = load<f64>(dVar + (<usize>j << 3));
        const dm = load<f64>(dMu + (<usize>j << 3));
        store<f32>(dBase + (<usize>j << 2), <f32>((w * (dm + 2 * cj * dv)) / k));
        dw += x * dm + cj * cj * dv;
      }
      store<f32>(dWeights + (<usize>(b * count + i) << 2), <f32>(dw / k));
    }
  }
}

/**
 * X = μ + σ ⊙ ε for μ, σ [B, D] and ε [B, N, D], in float32 (twin of the
 * unbounded case of sampleForward in src/kernels/math.ts).
 */
export function sampleForward(
  mean: usize,
  std: usize,
  noise: usize,
  batch: i32,
  samples: i32,
  dim: i32,
  out: usize,
): void {
  const quads = dim & ~3;
  for (let b = 0; b < batch; b++) {
    const row = <usize>(b * dim) << 2;
    for (let i = 0; i < samples; i++) {
      const base = <usize>((b * samples + i) * dim) << 2;
      let j = 0;
      for (; j < quads; j += 4) {
        const o = <usize>j << 2;
        const x = f32x4.add(v128.load(mean + row + o), f32x4.mul(v128.load(std + row + o), v128.load(noise + base + o)));
        v128.store(out + base + o, x);
      }
      for (; j < dim; j++) {
        const o = <usize>j << 2;
        store<f32>(out + base + o, load<f32>(mean + row + o) + load<f32>(std + row + o) * load<f32>(noise + base + o));
      }
    }
  }
}

/**
 * VJP of {@link sampleForward} with respect to μ and σ: dμ = Σᵢ g,
 * dσ = Σᵢ g·ε, accumulated in float64 (twin of the unbounded case of
 * sampleBackwardParams in src/kernels/math.ts). `scratch` holds 2·D float64.
 */
export function sampleBackward(
  dx: usize,
  noise: usize,
  batch: i32,
  samples: i32,
  dim: i32,
  dMean: usize,
  dStd: usize,
  scratch: usize,
): void {
  const pairs = dim & ~1;
  const accMean = scratch;
  const accStd = scratch + (<usize>dim << 3);
  for (let b = 0; b < batch; b++) {
    memory.fill(scratch, 0, <usize>dim << 4);
    for (let i = 0; i < samples; i++) {
      const base = <usize>((b * samples + i) * dim) << 2;
      let j = 0;
      for (; j < pairs; j += 2) {
        const g = f64x2.promote_low_f32x4(v128.load64_zero(dx + base + (<usize>j << 2)));
        const e = f64x2.promote_low_f32x4(v128.load64_zero(noise + base + (<usize>j << 2)));
        const pm = accMean + (<usize>j << 3);
        const ps = accStd + (<usize>j << 3);
        v128.store(pm, f64x2.add(v128.load(pm), g));
        v128.store(ps, f64x2.add(v128.load(ps), f64x2.mul(g, e)));
      }
      for (; j < dim; j++) {
        const g = <f64>load<f32>(dx + base + (<usize>j << 2));
        const pm = accMean + (<usize>j << 3);
        const ps = accStd + (<usize>j << 3);
        store<f64>(pm, load<f64>(pm) + g);
        store<f64>(ps, load<f64>(ps) + g * <f64>load<f32>(noise + base + (<usize>j << 2)));
      }
    }
    const row = <usize>(b * dim) << 2;
    for (let j = 0; j < dim; j++) {
      store<f32>(dMean + row + (<usize>j << 2), <f32>load<f64>(accMean + (<usize>j << 3)));
      store<f32>(dStd + row + (<usize>j << 2), <f32>load<f64>(accStd + (<usize>j << 3)));
    }
  }
}
