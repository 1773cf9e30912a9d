// An independent float64 implementation of the RSSM's ELBO, written from the
// equations (plain loops, no tfjs), for the tests: its value checks the tfjs
// forward pass and its central differences the tfjs gradient.
import type { RssmSizes } from './rssm.js';

/** The weights by variable name, as float64 copies. */
export type WeightsF64 = Record<string, Float64Array>;

/** x·W + b with W [in, out] row-major. */
function affine(x: ArrayLike<number>, w: Float64Array, b: Float64Array): Float64Array<ArrayBufferLike> {
  const out = b.length;
  const y = Float64Array.from(b);
  for (let i = 0; i < x.length; i++) {
    const xi = x[i] as number;
    for (let j = 0; j < out; j++) y[j] = (y[j] as number) + xi * (w[i * out + j] as number);
  }
  return y;
}

const relu = (x: Float64Array) => x.map((v) => Math.max(v, 0));
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const softplus = (v: number) => (v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v)));
const concat = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  Float64Array.from([...Array.from(a), ...Array.from(b)]);

function layer(weights: WeightsF64, name: string, x: ArrayLike<number>): Float64Array {
  return affine(x, weights[`${name}.weight`] as Float64Array, weights[`${name}.bias`] as Float64Array);
}

function gru(weights: WeightsF64, x: Float64Array, h: Float64Array): Float64Array {
  const d = h.length;
  const gx = affine(
    x,
    weights['transition.gru.wx'] as Float64Array,
    weights['transition.gru.bx'] as Float64Array,
  );
  const gh = affine(
    h,
    weights['transition.gru.wh'] as Float64Array,
    weights['transition.gru.bh'] as Float64Array,
  );
  const out = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    const r = sigmoid((gx[i] as number) + (gh[i] as number));
    const z = sigmoid((gx[d + i] as number) + (gh[d + i] as number));
    const n = Math.tanh((gx[2 * d + i] as number) + r * (gh[2 * d + i] as number));
    out[i] = (1 - z) * n + z * (h[i] as number);
  }
  return out;
}

function gaussian(out: Float64Array, s: number, minStd: number): { mean: Float64Array; std: Float64Array } {
  return {
    mean: out.slice(0, s),
    std: out.slice(s).map((v) => softplus(v) + minStd),
  };
}

/** KL(N(mq, sq²) ‖ N(mp, sp²)) of diagonal Gaussians, summed, in float64. */
export function klF64(
  mq: ArrayLike<number>,
  sq: ArrayLike<number>,
  mp: ArrayLike<number>,
  sp: ArrayLike<number>,
): number {
  let kl = 0;
  for (let i = 0; i < mq.length; i++) {
    const a = sq[i] as number;
    const b = sp[i] as number;
    const d = (mq[i] as number) - (mp[i] as number);
    kl += Math.log(b / a) + (a * a + d * d) / (2 * b * b) - 0.5;
  }
  return kl;
}

/** The float64 ELBO terms (means over B × L), inputs as nested arrays: obs [B][L][O], actions [B][L][A], rewards [B][L], noise [L][B][S]. */
export function elboF64(
  weights: WeightsF64,
  sizes: RssmSizes,
  observations: number[][][],
  actions: number[][][],
  rewards: number[][],
  noise: number[][][] | null,
  freeNats: number,
): { loss: number; observation: number; reward: number; kl: number } {
  const { deterministic: D, stochastic: S, minStd } = sizes;
  let obsSum = 0;
  let rewSum = 0;
  let klSum = 0;
  let clippedSum = 0;
  let count = 0;
  observations.forEach((sequence, b) => {
    let h: Float64Array<ArrayBufferLike> = new Float64Array(D);
    let s: Float64Array<ArrayBufferLike> = new Float64Array(S);
    sequence.forEach((o, t) => {
      const a = (actions[b] as number[][])[t] as number[];
      const x = relu(layer(weights, 'transition.input', concat(s, a)));
      h = gru(weights, x, h);
      const e = relu(layer(weights, 'encoder.1', relu(layer(weights, 'encoder.0', o))));
      const q = gaussian(
        layer(weights, 'posterior.1', relu(layer(weights, 'posterior.0', concat(h, e)))),
        S,
        minStd,
      );
      const p = gaussian(layer(weights, 'prior.1', relu(layer(weights, 'prior.0', h))), S, minStd);
      const eps = noise === null ? null : ((noise[t] as number[][])[b] as number[]);
      s = q.mean.map((m, i) => m + (eps === null ? 0 : (q.std[i] as number) * (eps[i] as number)));
      const hs = concat(h, s);
      const oHat = layer(
        weights,
        'observation.2',
        relu(layer(weights, 'observation.1', relu(layer(weights, 'observation.0', hs)))),
      );
      const rHat = layer(
        weights,
        'reward.2',
        relu(layer(weights, 'reward.1', relu(layer(weights, 'reward.0', hs)))),
      )[0] as number;
      obsSum += 0.5 * oHat.reduce((acc, v, i) => acc + (v - (o[i] as number)) ** 2, 0);
      rewSum += 0.5 * (rHat - ((rewards[b] as number[])[t] as number)) ** 2;
      const kl = klF64(q.mean, q.std, p.mean, p.std);
      klSum += kl;
      clippedSum += Math.max(freeNats, kl);
      count += 1;
    });
  });
  return {
    loss: (obsSum + rewSum + clippedSum) / count,
    observation: obsSum / count,
    reward: rewSum / count,
    kl: klSum / count,
  };
}
