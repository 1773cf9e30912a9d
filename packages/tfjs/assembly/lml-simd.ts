// LML_k(x/τ) by rows for the threaded path (runChunk's OP_LML in gemm.ts):
// the same algorithm, steps and safeguards as `lmlForward` in
// src/kernels/math.ts, in float64, one row at a time. The two differ only
// where the runtimes' exponential and logarithm differ in the last bit of a
// float64, which moves an output by at most about one float32 rounding.

/** Newton steps below this (relative to 1 + |ν|) end a row's solve. */
const NEWTON_CONVERGED: f64 = 1e-7;
/** A residual |Σσ(zᵢ + ν) − k| below this ends a row's solve. */
const RESIDUAL_CONVERGED: f64 = 1e-9;
/** Largest spread |zᵢ − z₍ₖ₎| for which a row uses precomputed exponentials. */
const SHIFTED_EXP_RANGE: f64 = 300;

@inline
function at(p: usize, i: i32): usize {
  return p + (<usize>i << 3);
}

/**
 * Moves the `rank`-th largest entry (0-based) of the n float64 at `a` to
 * position `rank`, larger ones before it and smaller ones after (Hoare
 * quickselect with a median-of-three pivot, as `selectDescending`). The
 * entries are finite.
 */
function selectDescending(a: usize, n: i32, rank: i32): void {
  let left = 0;
  let right = n - 1;
  while (right > left) {
    const mid = (left + right) >>> 1;
    let p0 = load<f64>(at(a, left));
    let p1 = load<f64>(at(a, mid));
    const p2 = load<f64>(at(a, right));
    if (p0 < p1) {
      const t = p0;
      p0 = p1;
      p1 = t;
    }
    const pivot = p2 > p0 ? p0 : Math.max(p2, p1);
    let i = left;
    let j = right;
    while (i <= j) {
      while (load<f64>(at(a, i)) > pivot) i++;
      while (load<f64>(at(a, j)) < pivot) j--;
      if (i <= j) {
        const t = load<f64>(at(a, i));
        store<f64>(at(a, i), load<f64>(at(a, j)));
        store<f64>(at(a, j), t);
        i++;
        j--;
      }
    }
    if (rank <= j) right = j;
    else if (rank >= i) left = i;
    else return;
  }
}

/**
 * Rows [r0, r1) of y = LML_k(x/τ), x and y float32 [rows, n]; `work` holds
 * 3n float64 of scratch for this call alone. A row holding NaN or ±∞ comes
 * out as NaN.
 */
export function lmlRows(
  x: usize,
  y: usize,
  r0: i32,
  r1: i32,
  n: i32,
  k: i32,
  temperature: f64,
  maxIterations: i32,
  work: usize,
): void {
  const z = work;
  const scratch = at(work, n);
  const e = at(scratch, n);
  const logK = Math.log(<f64>k);
  const logNK = Math.log(<f64>(n - k));
  const loOffset = -Math.log(<f64>(n - k + 1));
  const hiOffset = Math.log(<f64>(k + 1));
  for (let r = r0; r < r1; r++) {
    const xr = x + ((<usize>r * <usize>n) << 2);
    const yr = y + ((<usize>r * <usize>n) << 2);
    let finite = true;
    let zMax = -Infinity;
    let zMin = Infinity;
    for (let i = 0; i < n; i++) {
      const xi = <f64>load<f32>(xr + (<usize>i << 2));
      // As the generic path: x/τ rounded to float32.
      const v = temperature == 1 ? xi : <f64>(<f32>(xi / temperature));
      store<f64>(at(z, i), v);
      store<f64>(at(scratch, i), v);
      if (v - v != 0) finite = false;
      if (v > zMax) zMax = v;
      if (v < zMin) zMin = v;
    }
    if (!finite) {
      for (let i = 0; i < n; i++) store<f32>(yr + (<usize>i << 2), NaN);
      continue;
    }
    // The bracket of ν from the k-th and (k+1)-th largest entries.
    selectDescending(scratch, n, k - 1);
    const c = load<f64>(at(scratch, k - 1));
    let next = -Infinity;
    for (let i = k; i < n; i++) {
      const s = load<f64>(at(scratch, i));
      if (s > next) next = s;
    }
    let lo = loOffset - c;
    let hi = hiOffset - next;
    let nu = (lo + hi) * 0.5;
    const shifted = Math.max(zMax - c, c - zMin) < SHIFTED_EXP_RANGE;
    if (shifted) for (let i = 0; i < n; i++) store<f64>(at(e, i), Math.exp(c - load<f64>(at(z, i))));
    let it = 0;
    while (it < maxIterations) {
      it++;
      let s: f64 = 0;
      let d: f64 = 0;
      if (shifted) {
        const f = Math.exp(-nu - c);
        for (let i = 0; i < n; i++) {
          const t = load<f64>(at(e, i)) * f;
          const p = 1 / (1 + t);
          s += p;
          d += t * p * p;
        }
      } else {
        for (let i = 0; i < n; i++) {
          const p = 1 / (1 + Math.exp(-(load<f64>(at(z, i)) + nu)));
          s += p;
          d += p * (1 - p);
        }
      }
      const g = s - <f64>k;
      if (Math.abs(g) <= RESIDUAL_CONVERGED) break;
      const below = g < 0;
      const above = g > 0;
      const newLo = above ? lo : nu;
      const newHi = below ? hi : nu;
      let step: f64 = 0;
      if (below) step = ((logK - Math.log(s)) * s) / d;
      else if (above) {
        const rest = <f64>n - s;
        step = ((Math.log(rest) - logNK) * rest) / d;
      }
      const candidate = nu + step;
      const inside = isFinite(candidate) && candidate > newLo && candidate < newHi;
      let newNu: f64;
      if (candidate == nu) newNu = nu;
      else if (inside) newNu = candidate;
      else newNu = (newLo + newHi) * 0.5;
      const done = newNu == nu || (inside && Math.abs(newNu - nu) <= NEWTON_CONVERGED * (1 + Math.abs(newNu)));
      lo = newLo;
      hi = newHi;
      nu = newNu;
      if (done) break;
    }
    if (shifted) {
      const f = Math.exp(-nu - c);
      for (let i = 0; i < n; i++) store<f32>(yr + (<usize>i << 2), <f32>(1 / (1 + load<f64>(at(e, i)) * f)));
    } else {
      for (let i = 0; i < n; i++) {
        store<f32>(yr + (<usize>i << 2), <f32>(1 / (1 + Math.exp(-(load<f64>(at(z, i)) + nu)))));
      }
    }
  }
}

/**
 * Rows [r0, r1) of the VJP of LML_k(x/τ) at y, for the upstream gradient dy
 * (all float32 [rows, n]): with s = y(1 − y), dx = s ⊙ (dy − ⟨s, dy⟩/Σs)/τ,
 * the operations of `lmlBackward` in src/kernels/math.ts in the same order
 * (bit-identical: no transcendental functions).
 */
export function lmlGradRows(y: usize, dy: usize, dx: usize, r0: i32, r1: i32, n: i32, temperature: f64): void {
  const scale = 1 / temperature;
  for (let r = r0; r < r1; r++) {
    const base = (<usize>r * <usize>n) << 2;
    let total: f64 = 0;
    let dot: f64 = 0;
    for (let i = 0; i < n; i++) {
      const at = base + (<usize>i << 2);
      const yi = <f64>load<f32>(y + at);
      const s = yi * (1 - yi);
      total += s;
      dot += s * <f64>load<f32>(dy + at);
    }
    const mean = dot / (total > 0 ? total : 1);
    for (let i = 0; i < n; i++) {
      const at = base + (<usize>i << 2);
      const yi = <f64>load<f32>(y + at);
      store<f32>(dx + at, <f32>(yi * (1 - yi) * (<f64>load<f32>(dy + at) - mean) * scale));
    }
  }
}
