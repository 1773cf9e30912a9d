// The arithmetic of the fused kernels (see the kernel files beside this one), over flat
// row-major arrays. Each forward function computes what the generic
// composition of tfjs ops in @dcem/lml and @dcem/core computes, with float64
// accumulation; each backward function is the vector–Jacobian product that
// tfjs's autodiff takes through that composition, written out in closed form.
// Results go to caller-provided float32 arrays (on the wasm backend these are
// views of the output tensors), and every entry of an output is written.

/** Float32 rounding, as every generic tfjs op rounds its result. */
const f32 = Math.fround;

/** Logistic function in float64. */
function sigmoid(t: number): number {
  return 1 / (1 + Math.exp(-t));
}

/**
 * Moves the `rank`-th largest entry (0-based) of `a[0, n)` to `a[rank]`, with
 * every entry of `a[0, rank)` ≥ it and every entry of `a(rank, n)` ≤ it
 * (Hoare quickselect, median of three; expected O(n)).
 */
function selectDescending(a: Float64Array, n: number, rank: number): void {
  let left = 0;
  let right = n - 1;
  while (right > left) {
    const mid = (left + right) >>> 1;
    let p0 = a[left] as number;
    let p1 = a[mid] as number;
    const p2 = a[right] as number;
    if (p0 < p1) [p0, p1] = [p1, p0];
    const pivot = p2 > p0 ? p0 : Math.max(p2, p1);
    let i = left;
    let j = right;
    while (i <= j) {
      while ((a[i] as number) > pivot) i++;
      while ((a[j] as number) < pivot) j--;
      if (i <= j) {
        const t = a[i] as number;
        a[i] = a[j] as number;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (rank <= j) right = j;
    else if (rank >= i) left = i;
    else return;
  }
}

/** Newton steps whose size is below this (relative to 1 + |ν|) end the solve of a row. */
export const NEWTON_CONVERGED = 1e-7;

/** A residual |Σσ(zᵢ + ν) − k| below this ends the solve of a row (every yᵢ is then exact to about this). */
export const RESIDUAL_CONVERGED = 1e-9;

/**
 * Largest spread |zᵢ − z₍ₖ₎| for which a row uses precomputed exponentials
 * (e^(z₍ₖ₎ − zᵢ) and e^(−ν − z₍ₖ₎) stay far inside the float64 range).
 */
const SHIFTED_EXP_RANGE = 300;

/** The arguments of {@link lmlForward}: x and y are [rows, n], row-major. */
export interface LmlForwardArgs<X extends ArrayLike<number> = ArrayLike<number>> {
  /** The input, [rows, n]. */
  x: X;
  /** Rows of x. */
  rows: number;
  /** Entries per row. */
  n: number;
  /** The top-k size, 1 ≤ k < n. */
  k: number;
  /** The temperature τ > 0. */
  temperature: number;
  /** Most Newton steps per row. */
  maxIterations: number;
  /** Receives LML_k(x/τ), [rows, n]. */
  y: Float32Array;
  /** Receives, per row, the steps taken (optional). */
  steps?: Int32Array | undefined;
}

/**
 * LML_k(x/τ) for every row of x [rows, n] (1 ≤ k < n): y = σ(x/τ + ν) with ν
 * the root of Σσ(x/τ + ν) = k, found by the safeguarded log-Newton iteration
 * of `solveDual` in @dcem/lml (same bracket, start, steps and safeguards),
 * in float64. A row stops once |Σσ − k| ≤ 1e-9 (then every yᵢ is within
 * about 1e-9 of its exact value), once a Newton step is below
 * 1e-7·(1 + |ν|) (ν is then exact to float64 rounding: the next step would
 * be ~1e-14), or after `maxIterations` steps. Rows holding NaN or ±∞ come
 * out as NaN.
 *
 * Each step needs Σσ(zᵢ + ν) and Σσ(1 − σ). With c = z₍ₖ₎ and the
 * precomputed eᵢ = e^(c − zᵢ), σ(zᵢ + ν) = 1/(1 + eᵢ·e^(−ν − c)): one
 * exponential per step instead of one per entry.
 */
export function lmlForward(args: LmlForwardArgs): void {
  const { x, rows, n, k, temperature, maxIterations, y, steps } = args;
  const z = new Float64Array(n);
  const scratch = new Float64Array(n);
  const e = new Float64Array(n);
  const logK = Math.log(k);
  const logNK = Math.log(n - k);
  const loOffset = -Math.log(n - k + 1);
  const hiOffset = Math.log(k + 1);
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    let finite = true;
    let zMax = Number.NEGATIVE_INFINITY;
    let zMin = Number.POSITIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      // The generic path divides by τ in float32.
      const v = temperature === 1 ? (x[base + i] as number) : f32((x[base + i] as number) / temperature);
      z[i] = v;
      scratch[i] = v;
      // NaN and ±∞ give v − v = NaN (a NaN never moves the max or the min).
      if (v - v !== 0) finite = false;
      if (v > zMax) zMax = v;
      if (v < zMin) zMin = v;
    }
    if (!finite) {
      y.fill(Number.NaN, base, base + n);
      if (steps !== undefined) steps[r] = 0;
      continue;
    }
    // Bracket from the k-th and (k+1)-th largest entries (see dualBracket).
    selectDescending(scratch, n, k - 1);
    const c = scratch[k - 1] as number;
    let next = Number.NEGATIVE_INFINITY;
    for (let i = k; i < n; i++) if ((scratch[i] as number) > next) next = scratch[i] as number;
    let lo = loOffset - c;
    let hi = hiOffset - next;
    let nu = (lo + hi) * 0.5;
    const shifted = Math.max(zMax - c, c - zMin) < SHIFTED_EXP_RANGE;
    if (shifted) for (let i = 0; i < n; i++) e[i] = Math.exp(c - (z[i] as number));
    let it = 0;
    while (it < maxIterations) {
      it++;
      let s = 0;
      let d = 0;
      if (shifted) {
        const f = Math.exp(-nu - c);
        for (let i = 0; i < n; i++) {
          const t = (e[i] as number) * f;
          const p = 1 / (1 + t);
          s += p;
          d += t * p * p;
        }
      } else {
        for (let i = 0; i < n; i++) {
          const p = sigmoid((z[i] as number) + nu);
          s += p;
          d += p * (1 - p);
        }
      }
      const g = s - k;
      // |Δyᵢ| ≈ sᵢ|ν − ν*| and Σsᵢ|ν − ν*| ≈ |g|: every yᵢ is within |g| of
      // its exact value, so the row is done (this also ends rows whose
      // entries all saturate, where Newton steps are rejected and only
      // bisection would move ν).
      if (Math.abs(g) <= RESIDUAL_CONVERGED) break;
      const below = g < 0;
      const above = g > 0;
      const newLo = above ? lo : nu;
      const newHi = below ? hi : nu;
      let step = 0;
      if (below) step = ((logK - Math.log(s)) * s) / d;
      else if (above) {
        const rest = n - s;
        step = ((Math.log(rest) - logNK) * rest) / d;
      }
      const candidate = nu + step;
      const inside = Number.isFinite(candidate) && candidate > newLo && candidate < newHi;
      let newNu: number;
      if (candidate === nu) newNu = nu;
      else if (inside) newNu = candidate;
      else newNu = (newLo + newHi) * 0.5;
      const done =
        newNu === nu || (inside && Math.abs(newNu - nu) <= NEWTON_CONVERGED * (1 + Math.abs(newNu)));
      lo = newLo;
      hi = newHi;
      nu = newNu;
      if (done) break;
    }
    if (steps !== undefined) steps[r] = it;
    if (shifted) {
      const f = Math.exp(-nu - c);
      for (let i = 0; i < n; i++) y[base + i] = 1 / (1 + (e[i] as number) * f);
    } else {
      for (let i = 0; i < n; i++) y[base + i] = sigmoid((z[i] as number) + nu);
    }
  }
}

/** The arguments of {@link lmlBackward}: every array is [rows, n], row-major. */
export interface LmlBackwardArgs<X extends ArrayLike<number> = ArrayLike<number>> {
  /** LML's output. */
  y: X;
  /** The upstream gradient. */
  dy: X;
  /** Rows. */
  rows: number;
  /** Entries per row. */
  n: number;
  /** The temperature τ of the forward pass. */
  temperature: number;
  /** Receives the gradient of x. */
  dx: Float32Array;
}

/**
 * VJP of LML_k(x/τ) at y [rows, n]: with s = y(1 − y),
 * dx = s ⊙ (g − ⟨s, g⟩/Σs)/τ, and 0 for a row with Σs = 0.
 */
export function lmlBackward(args: LmlBackwardArgs): void {
  const { y, dy, rows, n, temperature, dx } = args;
  const scale = 1 / temperature;
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    let total = 0;
    let dot = 0;
    for (let i = 0; i < n; i++) {
      const yi = y[base + i] as number;
      const s = yi * (1 - yi);
      total += s;
      dot += s * (dy[base + i] as number);
    }
    const mean = dot / (total > 0 ? total : 1);
    for (let i = 0; i < n; i++) {
      const yi = y[base + i] as number;
      dx[base + i] = yi * (1 - yi) * ((dy[base + i] as number) - mean) * scale;
    }
  }
}

/** Per-row statistics of the finite values, as `valuesToScores` in @dcem/core computes them. */
interface RowStats {
  count: number;
  mean: number;
  sd: number;
}

function rowStats(values: ArrayLike<number>, base: number, n: number): RowStats {
  let count = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = values[base + i] as number;
    if (Number.isFinite(v)) {
      count++;
      sum += v;
    }
  }
  const mean = f32(sum / Math.max(count, 1));
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const v = values[base + i] as number;
    if (Number.isFinite(v)) {
      const dev = v - mean;
      ss += dev * dev;
    }
  }
  const sd = f32(Math.sqrt(ss / Math.max(count - 1, 1)));
  return { count, mean, sd };
}

/** The arguments of {@link scoresForward}: values and scores are [rows, n]. */
export interface ScoresForwardArgs {
  /** The objective values. */
  values: ArrayLike<number>;
  /** Rows. */
  rows: number;
  /** Entries per row. */
  n: number;
  /** Whether to standardise each row's finite values. */
  normalize: boolean;
  /** Added to the standard deviation. */
  eps: number;
  /** How far below the worst finite score a non-finite value lands. */
  margin: number;
  /** Receives the scores. */
  scores: Float32Array;
}

/**
 * `valuesToScores` of @dcem/core: scores = −v̂ with v̂ = (v − mean)/(sd + eps)
 * over the finite entries of each row (or −v without `normalize`); a
 * non-finite value gets min(finite scores) − margin (0 for a row with no
 * finite value).
 *
 * @returns the number of non-finite values.
 */
export function scoresForward(args: ScoresForwardArgs): number {
  const { values, rows, n, normalize, eps, margin, scores } = args;
  let nonFinite = 0;
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    let mean = 0;
    let scale = 1;
    let count = 0;
    if (normalize) {
      const stats = rowStats(values, base, n);
      count = stats.count;
      mean = stats.mean;
      scale = f32(stats.sd + eps);
    } else {
      for (let i = 0; i < n; i++) if (Number.isFinite(values[base + i] as number)) count++;
    }
    nonFinite += n - count;
    let worst = Number.POSITIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const v = values[base + i] as number;
      if (!Number.isFinite(v)) continue;
      const score = normalize ? -f32(f32(v - mean) / scale) : -v;
      scores[base + i] = score;
      if (score < worst) worst = score;
    }
    if (count < n) {
      const penalty = count > 0 ? f32(worst - margin) : 0;
      for (let i = 0; i < n; i++)
        if (!Number.isFinite(values[base + i] as number)) scores[base + i] = penalty;
    }
  }
  return nonFinite;
}

/** The arguments of {@link scoresBackward}: every array is [rows, n]. */
export interface ScoresBackwardArgs {
  /** The objective values of the forward pass. */
  values: ArrayLike<number>;
  /** The upstream gradient of the scores. */
  dScores: ArrayLike<number>;
  /** Rows. */
  rows: number;
  /** Entries per row. */
  n: number;
  /** As in the forward pass. */
  normalize: boolean;
  /** As in the forward pass. */
  eps: number;
  /** Receives the gradient of the values. */
  dv: Float32Array;
}

/**
 * VJP of {@link scoresForward} with respect to the values. With h = −g on the
 * finite entries, d = v − mean, u = sd + eps and N₁ = max(count − 1, 1):
 * dv = (h − h̄)/u − (Σ h d)·d/(u²·N₁·sd); non-finite entries (whose score is
 * a constant) get 0. Where sd = 0 every d is 0 and the second term is taken
 * as 0.
 */
export function scoresBackward(args: ScoresBackwardArgs): void {
  const { values, dScores, rows, n, normalize, eps, dv } = args;
  dv.fill(0, 0, rows * n);
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    if (!normalize) {
      for (let i = 0; i < n; i++) {
        if (Number.isFinite(values[base + i] as number)) dv[base + i] = -(dScores[base + i] as number);
      }
      continue;
    }
    const { count, mean, sd } = rowStats(values, base, n);
    if (count === 0) continue;
    const u = f32(sd + eps);
    let hSum = 0;
    let hd = 0;
    for (let i = 0; i < n; i++) {
      const v = values[base + i] as number;
      if (!Number.isFinite(v)) continue;
      const h = -(dScores[base + i] as number);
      hSum += h;
      hd += h * (v - mean);
    }
    const hMean = hSum / count;
    const coef = sd > 0 ? hd / (u * u * Math.max(count - 1, 1) * sd) : 0;
    for (let i = 0; i < n; i++) {
      const v = values[base + i] as number;
      if (!Number.isFinite(v)) continue;
      const h = -(dScores[base + i] as number);
      dv[base + i] = (h - hMean) / u - coef * (v - mean);
    }
  }
}

/**
 * Shapes of a fused sampling call: batch B, samples N, dimension D, and per
 * bound its rows (1 or B) or 0 where there is no bound.
 */
export interface SampleShape {
  /** Batch rows B. */
  batch: number;
  /** Samples per row N. */
  samples: number;
  /** Dimension D. */
  dim: number;
  /** Rows of the lower bound (1 or B), 0 without one. */
  lowerRows: number;
  /** Rows of the upper bound (1 or B), 0 without one. */
  upperRows: number;
}

/**
 * The inputs of the sampling kernels: μ, σ [B, D], ε [B, N, D] and the
 * bounds [1 or B, D] (placeholders where `shape` says there is none).
 */
export interface SampleInputs<X extends ArrayLike<number> = ArrayLike<number>> {
  /** μ. */
  mean: X;
  /** σ. */
  std: X;
  /** ε. */
  noise: X;
  /** The lower bound. */
  lower: X;
  /** The upper bound. */
  upper: X;
  /** The shapes. */
  shape: SampleShape;
}

/** The gradients {@link sampleBackwardParams} writes: of μ and σ [B, D], and of the bounds. */
export interface SampleParamGrads {
  /** Receives dμ. */
  dMean: Float32Array;
  /** Receives dσ. */
  dStd: Float32Array;
  /** Receives the lower bound's gradient (zeros without a bound). */
  dLower: Float32Array;
  /** Receives the upper bound's gradient (zeros without a bound). */
  dUpper: Float32Array;
}

/**
 * X = min(max(μ + σ ⊙ ε, lower), upper) for μ, σ [B, D], ε [B, N, D] and
 * bounds [1 or B, D] (skipped where `lowerRows`/`upperRows` is 0), rounded
 * exactly as the generic float32 ops round.
 */
export function sampleForward(inputs: SampleInputs, out: Float32Array): void {
  const { mean, std, noise, lower, upper, shape } = inputs;
  const { batch, samples, dim, lowerRows, upperRows } = shape;
  for (let b = 0; b < batch; b++) {
    const row = b * dim;
    const rowLo = lowerRows === 1 ? 0 : row;
    const rowHi = upperRows === 1 ? 0 : row;
    for (let i = 0; i < samples; i++) {
      const base = (b * samples + i) * dim;
      if (lowerRows === 0 && upperRows === 0) {
        for (let j = 0; j < dim; j++) {
          out[base + j] =
            (mean[row + j] as number) + f32((std[row + j] as number) * (noise[base + j] as number));
        }
        continue;
      }
      for (let j = 0; j < dim; j++) {
        let v = f32((mean[row + j] as number) + f32((std[row + j] as number) * (noise[base + j] as number)));
        if (lowerRows !== 0) v = Math.max(v, lower[rowLo + j] as number);
        if (upperRows !== 0) v = Math.min(v, upper[rowHi + j] as number);
        out[base + j] = v;
      }
    }
  }
}

/**
 * Where the gradient of sample (b, i, j) goes, as tfjs differentiates max
 * and min: 0 to the sample, 1 to the lower bound (raw < lower), 2 to the
 * upper bound (max(raw, lower) > upper).
 */
function route(raw: number, lower: number | undefined, upper: number | undefined): 0 | 1 | 2 {
  const clipped = lower === undefined ? raw : Math.max(raw, lower);
  if (upper !== undefined && clipped > upper) return 2;
  if (lower !== undefined && raw < lower) return 1;
  return 0;
}

/**
 * VJP of {@link sampleForward} with respect to μ, σ and the bounds (the
 * bound gradients are written only where the bound exists): dμ = Σᵢ g,
 * dσ = Σᵢ g·ε over the samples whose gradient reaches them.
 */
export function sampleBackwardParams(
  dx: ArrayLike<number>,
  inputs: SampleInputs,
  grads: SampleParamGrads,
): void {
  const { mean, std, noise, lower, upper, shape } = inputs;
  const { dMean, dStd, dLower, dUpper } = grads;
  const { batch, samples, dim, lowerRows, upperRows } = shape;
  const accMean = new Float64Array(dim);
  const accStd = new Float64Array(dim);
  const accLo = new Float64Array(Math.max(lowerRows, 1) * dim);
  const accHi = new Float64Array(Math.max(upperRows, 1) * dim);
  const bounded = lowerRows !== 0 || upperRows !== 0;
  for (let b = 0; b < batch; b++) {
    const row = b * dim;
    const rowLo = lowerRows === 1 ? 0 : row;
    const rowHi = upperRows === 1 ? 0 : row;
    accMean.fill(0);
    accStd.fill(0);
    for (let i = 0; i < samples; i++) {
      const base = (b * samples + i) * dim;
      if (!bounded) {
        for (let j = 0; j < dim; j++) {
          const g = dx[base + j] as number;
          accMean[j] = (accMean[j] as number) + g;
          accStd[j] = (accStd[j] as number) + g * (noise[base + j] as number);
        }
        continue;
      }
      for (let j = 0; j < dim; j++) {
        const g = dx[base + j] as number;
        const eps = noise[base + j] as number;
        const raw = f32((mean[row + j] as number) + f32((std[row + j] as number) * eps));
        const to = route(
          raw,
          lowerRows === 0 ? undefined : (lower[rowLo + j] as number),
          upperRows === 0 ? undefined : (upper[rowHi + j] as number),
        );
        if (to === 0) {
          accMean[j] = (accMean[j] as number) + g;
          accStd[j] = (accStd[j] as number) + g * eps;
        } else if (to === 1) {
          accLo[rowLo + j] = (accLo[rowLo + j] as number) + g;
        } else {
          accHi[rowHi + j] = (accHi[rowHi + j] as number) + g;
        }
      }
    }
    for (let j = 0; j < dim; j++) {
      dMean[row + j] = accMean[j] as number;
      dStd[row + j] = accStd[j] as number;
    }
  }
  for (let i = 0; i < dLower.length; i++) dLower[i] = lowerRows === 0 ? 0 : (accLo[i] as number);
  for (let i = 0; i < dUpper.length; i++) dUpper[i] = upperRows === 0 ? 0 : (accHi[i] as number);
}

/** VJP of {@link sampleForward} with respect to the noise: dε = g·σ where the gradient reaches the sample. */
export function sampleBackwardNoise(dx: ArrayLike<number>, inputs: SampleInputs, dNoise: Float32Array): void {
  const { mean, std, noise, lower, upper, shape } = inputs;
  const { batch, samples, dim, lowerRows, upperRows } = shape;
  for (let b = 0; b < batch; b++) {
    const row = b * dim;
    const rowLo = lowerRows === 1 ? 0 : row;
    const rowHi = upperRows === 1 ? 0 : row;
    for (let i = 0; i < samples; i++) {
      const base = (b * samples + i) * dim;
      for (let j = 0; j < dim; j++) {
        const sigma = std[row + j] as number;
        let g = dx[base + j] as number;
        if (lowerRows !== 0 || upperRows !== 0) {
          const raw = f32((mean[row + j] as number) + f32(sigma * (noise[base + j] as number)));
          const to = route(
            raw,
            lowerRows === 0 ? undefined : (lower[rowLo + j] as number),
            upperRows === 0 ? undefined : (upper[rowHi + j] as number),
          );
          if (to !== 0) g = 0;
        }
        dNoise[base + j] = g * sigma;
      }
    }
  }
}

/** The shapes and constants of a refit: X [batch, count, dim], w [batch, count]. */
export interface FitShape {
  /** Batch rows B. */
  batch: number;
  /** Samples per row N. */
  count: number;
  /** Dimension D. */
  dim: number;
  /** The divisor k (the number of elites). */
  k: number;
  /** The floor of σ'. */
  minStd: number;
}

/** The arguments of {@link fitForward}. */
export interface FitForwardArgs<X extends ArrayLike<number> = ArrayLike<number>> extends FitShape {
  /** X, [B, N, D]. */
  samples: X;
  /** w, [B, N]. */
  weights: X;
  /** Receives μ', [B, D]. */
  mean: Float32Array;
  /** Receives σ', [B, D]. */
  std: Float32Array;
}

/** The arguments of {@link fitBackward}. */
export interface FitBackwardArgs<X extends ArrayLike<number> = ArrayLike<number>> extends FitShape {
  /** X, [B, N, D]. */
  samples: X;
  /** w, [B, N]. */
  weights: X;
  /** μ' of the forward pass, [B, D]. */
  mean: X;
  /** σ' of the forward pass, [B, D]. */
  std: X;
  /** The upstream gradient of μ', [B, D]. */
  dMean: X;
  /** The upstream gradient of σ', [B, D]. */
  dStd: X;
  /** Receives dX, [B, N, D]. */
  dSamples: Float32Array;
  /** Receives dw, [B, N]. */
  dWeights: Float32Array;
}

/**
 * Weighted refit of `fitMean`/`fitStd` in @dcem/core for X [B, N, D] and
 * w [B, N]: μ' = Σᵢ wᵢXᵢ/k and σ' = √max(Σᵢ wᵢ(Xᵢ − μ')²/k, minStd²).
 */
export function fitForward(args: FitForwardArgs): void {
  const { samples, weights, batch, count, dim, k, minStd, mean, std } = args;
  const acc = new Float64Array(dim);
  const floor = f32(minStd * minStd);
  for (let b = 0; b < batch; b++) {
    const row = b * dim;
    acc.fill(0);
    for (let i = 0; i < count; i++) {
      const w = weights[b * count + i] as number;
      const base = (b * count + i) * dim;
      for (let j = 0; j < dim; j++) acc[j] = (acc[j] as number) + w * (samples[base + j] as number);
    }
    for (let j = 0; j < dim; j++) mean[row + j] = (acc[j] as number) / k;
    acc.fill(0);
    for (let i = 0; i < count; i++) {
      const w = weights[b * count + i] as number;
      const base = (b * count + i) * dim;
      for (let j = 0; j < dim; j++) {
        const c = (samples[base + j] as number) - (mean[row + j] as number);
        acc[j] = (acc[j] as number) + w * c * c;
      }
    }
    for (let j = 0; j < dim; j++) std[row + j] = Math.sqrt(Math.max(f32((acc[j] as number) / k), floor));
  }
}

/** What every entry of one {@link fitBackward} call reads and writes. */
interface FitEntryContext {
  samples: ArrayLike<number>;
  mean: ArrayLike<number>;
  dVar: Float64Array;
  dMu: Float64Array;
  k: number;
  dSamples: Float32Array;
}

/** Entry j of sample `base` (weight w, batch row `row`) in {@link fitBackward}: writes dSamples, returns its term of dw·k. */
function fitBackwardEntry(ctx: FitEntryContext, w: number, base: number, row: number, j: number): number {
  const { samples, mean, dVar, dMu, k, dSamples } = ctx;
  const x = samples[base + j] as number;
  const c = x - (mean[row + j] as number);
  const dv = dVar[j] as number;
  const dm = dMu[j] as number;
  dSamples[base + j] = (w * (dm + 2 * c * dv)) / k;
  return x * dm + c * c * dv;
}

/**
 * VJP of {@link fitForward} at its outputs μ', σ' for upstream gradients of
 * μ' and σ' (tfjs's rule for max sends the gradient to the variance where
 * variance ≥ minStd²): with cᵢ = Xᵢ − μ', dv = dσ/(2σ') and
 * dμ = dμ' − 2·dv·Σᵢ wᵢcᵢ/k, dXᵢ = wᵢ(dμ + 2cᵢ·dv)/k and
 * dwᵢ = Σⱼ (Xᵢⱼ·dμⱼ + cᵢⱼ²·dvⱼ)/k.
 */
export function fitBackward(args: FitBackwardArgs): void {
  const { samples, weights, mean, std, dMean, dStd, batch, count, dim, k, minStd, dSamples, dWeights } = args;
  const floor = f32(minStd * minStd);
  const dVar = new Float64Array(dim);
  const dMu = new Float64Array(dim);
  const wc = new Float64Array(dim);
  const variance = new Float64Array(dim);
  const ctx: FitEntryContext = { samples, mean, dVar, dMu, k, dSamples };
  for (let b = 0; b < batch; b++) {
    const row = b * dim;
    wc.fill(0);
    variance.fill(0);
    for (let i = 0; i < count; i++) {
      const w = weights[b * count + i] as number;
      const base = (b * count + i) * dim;
      for (let j = 0; j < dim; j++) {
        const c = (samples[base + j] as number) - (mean[row + j] as number);
        const wcj = w * c;
        wc[j] = (wc[j] as number) + wcj;
        variance[j] = (variance[j] as number) + wcj * c;
      }
    }
    for (let j = 0; j < dim; j++) {
      const v = f32((variance[j] as number) / k);
      const dv = v >= floor ? (dStd[row + j] as number) / (2 * (std[row + j] as number)) : 0;
      dVar[j] = dv;
      dMu[j] = (dMean[row + j] as number) - (2 * dv * (wc[j] as number)) / k;
    }
    for (let i = 0; i < count; i++) {
      const w = weights[b * count + i] as number;
      const base = (b * count + i) * dim;
      // dw sums the even and the odd j apart, then adds the two sums and an
      // odd dim's last term (the order of the two-lane WebAssembly kernel).
      let even = 0;
      let odd = 0;
      let j = 0;
      for (; j + 1 < dim; j += 2) {
        even += fitBackwardEntry(ctx, w, base, row, j);
        odd += fitBackwardEntry(ctx, w, base, row, j + 1);
      }
      let dw = even + odd;
      if (j < dim) dw += fitBackwardEntry(ctx, w, base, row, j);
      dWeights[b * count + i] = dw / k;
    }
  }
}

/** The arguments of {@link bestForward}. */
export interface BestForwardArgs {
  /** The samples, [batch, count, dim]. */
  samples: ArrayLike<number>;
  /** Their scores, [batch, count]. */
  scores: ArrayLike<number>;
  /** Their objective values, [batch, count]. */
  values: ArrayLike<number>;
  /** The previous best sample [batch, dim], or undefined for none. */
  previousSample: ArrayLike<number> | undefined;
  /** The previous best value [batch], or undefined for none. */
  previousValue: ArrayLike<number> | undefined;
  /** Batch rows. */
  batch: number;
  /** Samples per row. */
  count: number;
  /** Dimension. */
  dim: number;
  /** Receives the best sample, [batch, dim]. */
  sample: Float32Array;
  /** Receives the best value, [batch]. */
  value: Float32Array;
  /** Receives the index taken per row, or −1 where the previous best stayed, [batch]. */
  pick: Float32Array;
}

/** The arguments of {@link bestBackward}. */
export interface BestBackwardArgs {
  /** The upstream gradient of the best sample, [batch, dim]. */
  dSample: ArrayLike<number>;
  /** The upstream gradient of the best value, [batch]. */
  dValue: ArrayLike<number>;
  /** The forward pass's pick, [batch]. */
  pick: ArrayLike<number>;
  /** The forward pass's best value, [batch]. */
  value: ArrayLike<number>;
  /** Batch rows. */
  batch: number;
  /** Samples per row. */
  count: number;
  /** Dimension. */
  dim: number;
  /** Receives the samples' gradient, [batch, count, dim]. */
  dSamples: Float32Array;
  /** Receives the values' gradient, [batch, count]. */
  dValues: Float32Array;
  /** Receives the previous sample's gradient, [batch, dim] (undefined without one). */
  dPreviousSample: Float32Array | undefined;
  /** Receives the previous value's gradient, [batch] (undefined without one). */
  dPreviousValue: Float32Array | undefined;
}

/**
 * The best-sample update of a CEM iteration (`tell` in @dcem/core), per row
 * b of samples [batch, count, dim]: p = the first index of the largest score,
 * the candidate (samples[b, p], values[b, p]) with a NaN or ±∞ value taken as
 * +∞, kept only where its value is strictly below `previousValue[b]` (always
 * without a previous best). Writes the chosen sample and value and, in
 * `pick[b]`, p where the candidate was taken and −1 where the previous best
 * stayed (what the backward pass needs).
 */
export function bestForward(args: BestForwardArgs): void {
  const { samples, scores, values, previousSample, previousValue, batch, count, dim, sample, value, pick } =
    args;
  for (let b = 0; b < batch; b++) {
    const row = b * count;
    let p = 0;
    let top = scores[row] as number;
    for (let i = 1; i < count; i++) {
      const s = scores[row + i] as number;
      if (s > top) {
        top = s;
        p = i;
      }
    }
    const raw = values[row + p] as number;
    const candidate = Number.isFinite(raw) ? raw : Number.POSITIVE_INFINITY;
    const taken = previousValue === undefined || candidate < (previousValue[b] as number);
    pick[b] = taken ? p : -1;
    value[b] = taken ? candidate : (previousValue[b] as number);
    const from = taken ? (row + p) * dim : b * dim;
    const source = taken ? samples : (previousSample as ArrayLike<number>);
    for (let j = 0; j < dim; j++) sample[b * dim + j] = source[from + j] as number;
  }
}

/**
 * VJP of {@link bestForward}: the row's gradients go where its best came
 * from, the candidate (dSamples[b, p]; dValues[b, p] unless the value was
 * NaN or ±∞) or the previous best; every other entry is 0. The scores get
 * none (the choice is not differentiated).
 */
export function bestBackward(args: BestBackwardArgs): void {
  const {
    dSample,
    dValue,
    pick,
    value,
    batch,
    count,
    dim,
    dSamples,
    dValues,
    dPreviousSample,
    dPreviousValue,
  } = args;
  dSamples.fill(0);
  dValues.fill(0);
  dPreviousSample?.fill(0);
  dPreviousValue?.fill(0);
  for (let b = 0; b < batch; b++) {
    const p = pick[b] as number;
    if (p >= 0) {
      const at = (b * count + p) * dim;
      for (let j = 0; j < dim; j++) dSamples[at + j] = dSample[b * dim + j] as number;
      if (Number.isFinite(value[b] as number)) dValues[b * count + p] = dValue[b] as number;
    } else if (dPreviousSample !== undefined && dPreviousValue !== undefined) {
      for (let j = 0; j < dim; j++) dPreviousSample[b * dim + j] = dSample[b * dim + j] as number;
      dPreviousValue[b] = dValue[b] as number;
    }
  }
}
