// WebAssembly kernels of @dcem/tfjs, written in AssemblyScript and compiled
// by `pnpm --filter @dcem/tfjs build:wasm` into src/wasm/binary.generated.ts.
//
// Each function is a port of its JavaScript twin (src/normal.ts,
// src/fused-math.ts) that performs the same IEEE operations in the same order,
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

/**
 * `n` standard-normal draws as float32 at `out`, from xoshiro128** started at
 * state (a, b, c, d) and a 256-layer ziggurat whose tables sit at `tables`:
 * width[256] f64 (x_i·2⁻²³), edge[257] f64 (f(x_i)), accept[256] u32
 * (⌊x_{i+1}/x_i·2²³⌋). Returns nothing; the state is not kept.
 */
export function normals(out: usize, n: i32, a: u32, b: u32, c: u32, d: u32, tables: usize): void {
  const width = tables;
  const edge = tables + 256 * 8;
  const accept = edge + 257 * 8;
  for (let m = 0; m < n; m++) {
    // xoshiro128**
    let r = rotl<u32>(b * 5, 7) * 9;
    let t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl<u32>(d, 11);
    let layer = <usize>(r & 255);
    let u = r >>> 9;
    let v: f64 = 0;
    if (u < load<u32>(accept + (layer << 2))) {
      v = <f64>u * load<f64>(width + (layer << 3));
    } else {
      while (true) {
        const x = <f64>u * load<f64>(width + (layer << 3));
        if (layer == 0) {
          // The tail beyond R (Marsaglia's exponential rejection).
          let xx: f64 = 0;
          let yy: f64 = 0;
          do {
            let q = rotl<u32>(b * 5, 7) * 9;
            t = b << 9;
            c ^= a;
            d ^= b;
            b ^= c;
            a ^= d;
            c ^= t;
            d = rotl<u32>(d, 11);
            xx = -hostLog((<f64>q + 0.5) * TWO_POW_M32) / R;
            q = rotl<u32>(b * 5, 7) * 9;
            t = b << 9;
            c ^= a;
            d ^= b;
            b ^= c;
            a ^= d;
            c ^= t;
            d = rotl<u32>(d, 11);
            yy = -hostLog((<f64>q + 0.5) * TWO_POW_M32);
          } while (yy + yy < xx * xx);
          v = R + xx;
          break;
        }
        // The wedge of layer `layer`: accept under the density.
        const lo = load<f64>(edge + (layer << 3));
        const hi = load<f64>(edge + ((layer + 1) << 3));
        const q = rotl<u32>(b * 5, 7) * 9;
        t = b << 9;
        c ^= a;
        d ^= b;
        b ^= c;
        a ^= d;
        c ^= t;
        d = rotl<u32>(d, 11);
        if (lo + (<f64>q + 0.5) * TWO_POW_M32 * (hi - lo) < hostExp(-0.5 * x * x)) {
          v = x;
          break;
        }
        // Rejected: start over with a fresh draw.
        r = rotl<u32>(b * 5, 7) * 9;
        t = b << 9;
        c ^= a;
        d ^= b;
        b ^= c;
        a ^= d;
        c ^= t;
        d = rotl<u32>(d, 11);
        layer = <usize>(r & 255);
        u = r >>> 9;
        if (u < load<u32>(accept + (layer << 2))) {
          v = <f64>u * load<f64>(width + (layer << 3));
          break;
        }
      }
    }
    store<f32>(out + (<usize>m << 2), <f32>((r & 256) != 0 ? -v : v));
  }
}

/**
 * Weighted refit (twin of fitForward in fused-math.ts): for X [B, N, D] at
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
 * VJP of {@link fitForward} (twin of fitBackward in fused-math.ts). `scratch`
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
      let dw: f64 = 0;
      let j = 0;
      for (; j < pairs; j += 2) {
        const x = f64x2.promote_low_f32x4(v128.load64_zero(base + (<usize>j << 2)));
        const mu = f64x2.promote_low_f32x4(v128.load64_zero(mrow + (<usize>j << 2)));
        const cv = f64x2.sub(x, mu);
        const dv = v128.load(dVar + (<usize>j << 3));
        const dm = v128.load(dMu + (<usize>j << 3));
        const g = f64x2.div(f64x2.mul(wv, f64x2.add(dm, f64x2.mul(f64x2.mul(two, cv), dv))), kv);
        v128.store64_lane(dBase + (<usize>j << 2), f32x4.demote_f64x2_zero(g), 0);
        const term = f64x2.add(f64x2.mul(x, dm), f64x2.mul(f64x2.mul(cv, cv), dv));
        dw += f64x2.extract_lane(term, 0);
        dw += f64x2.extract_lane(term, 1);
      }
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
