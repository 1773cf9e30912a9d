/**
 * The ELBO's filtering loop with its backward pass through time written
 * out: per step only the gradients of the activations are formed (with the
 * GRU's step kernels of `@dcem/tfjs`), and the gradients of the recurrent
 * step's weights (transition, GRU, posterior) are formed once, as one
 * product over all B × L rows each, instead of one product per step and
 * ~20 gradient sums per step.
 *
 * @module
 */
import { dense, gruCellSteps, matMul, stack, unstack } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import type { RssmParts } from './rssm.js';
import { tidyObject } from './tidy.js';

/** What {@link filterSequence} returns, each [L, B, ·], step-major. */
export interface FilteredSequence {
  /** hₜ, [L, B, D]. */
  h: tf.Tensor3D;
  /** sₜ, [L, B, S]. */
  s: tf.Tensor3D;
  /** μq, [L, B, S]. */
  mean: tf.Tensor3D;
  /** σq, [L, B, S]. */
  std: tf.Tensor3D;
}

const relu = { activation: 'relu' } as const;

/** aᵀ·g for [rows, p] a and [rows, q] g: one product over all rows. */
function productTN(a: tf.Tensor2D, g: tf.Tensor2D): tf.Tensor2D {
  return matMul(a, g, { transposeA: true });
}

/**
 * Filters B sequences from h = 0, s = 0: for t = 0 … L − 1,
 * hₜ = GRU(relu([sₜ₋₁, aₜ]·W + b), hₜ₋₁), q = posterior(hₜ, eₜ),
 * sₜ = μq + σq ⊙ εₜ (μq when `noise` is null): the recurrence of the ELBO,
 * differentiable in `embeddings` and in the recurrent weights. Where the
 * GRU's step kernels run (see `gruCellSteps` of `@dcem/tfjs`) the backward
 * pass is written out over the whole sequence (the same maths; the
 * weights' gradients summed in another order, so equal to float32
 * rounding); elsewhere it is the step-by-step composition. Internal.
 *
 * @param parts The model's building blocks.
 * @param actions aₜ, [L, B, A].
 * @param embeddings eₜ, [L, B, H].
 * @param noise εₜ, [L, B, S], or null.
 * @internal
 */
export function filterSequence(
  parts: RssmParts,
  actions: tf.Tensor3D,
  embeddings: tf.Tensor3D,
  noise: tf.Tensor3D | null,
): FilteredSequence {
  const [l, b] = actions.shape;
  const { deterministic: D, stochastic: S, hidden: H } = parts.sizes;
  const steps = gruCellSteps(b, H, D);
  if (steps === undefined || l === 0) return filterComposed(parts, actions, embeddings, noise);
  const w = parts.recurrent;
  const minStd = parts.sizes.minStd;
  const run = tf.customGrad((...args: unknown[]) => {
    const [emb, tW, tB, wx, wh, bx, bh, p0W, p0B, p1W, p1B] = args as tf.Tensor2D[] as [
      tf.Tensor3D,
      tf.Tensor2D,
      tf.Tensor1D,
      tf.Tensor2D,
      tf.Tensor2D,
      tf.Tensor1D,
      tf.Tensor1D,
      tf.Tensor2D,
      tf.Tensor1D,
      tf.Tensor2D,
      tf.Tensor1D,
    ];
    const save = args[11] as tf.GradSaveFunc;
    const es = unstack(emb) as tf.Tensor2D[];
    const as = unstack(actions) as tf.Tensor2D[];
    const eps = noise === null ? null : (unstack(noise) as tf.Tensor2D[]);
    let h = tf.zeros([b, D]) as tf.Tensor2D;
    let s = tf.zeros([b, S]) as tf.Tensor2D;
    const us: tf.Tensor2D[] = [];
    const xs: tf.Tensor2D[] = [];
    const hPrevs: tf.Tensor2D[] = [];
    const gatesAll: tf.Tensor2D[] = [];
    const vs: tf.Tensor2D[] = [];
    const ps: tf.Tensor2D[] = [];
    const rhos: tf.Tensor2D[] = [];
    const outs: tf.Tensor2D[] = [];
    for (let t = 0; t < l; t++) {
      // The same kernels, in the same order, as RssmParts.transition and .posterior.
      const u = tf.concat([s, as[t] as tf.Tensor2D], 1) as tf.Tensor2D;
      const x = dense(u, tW, tB, relu);
      const step = steps.forward(x, h, wx, wh, bx, bh);
      const v = tf.concat([step.h, es[t] as tf.Tensor2D], 1) as tf.Tensor2D;
      const p = dense(v, p0W, p0B, relu);
      const o = dense(p, p1W, p1B);
      const mean = tf.slice(o, [0, 0], [-1, S]) as tf.Tensor2D;
      const rho = tf.slice(o, [0, S], [-1, S]) as tf.Tensor2D;
      const std = tf.add(tf.softplus(rho), minStd) as tf.Tensor2D;
      const e = eps?.[t];
      const sNext = e === undefined ? mean : (tf.add(mean, tf.mul(std, e)) as tf.Tensor2D);
      us.push(u);
      xs.push(x);
      hPrevs.push(h);
      gatesAll.push(step.gates);
      vs.push(v);
      ps.push(p);
      rhos.push(rho);
      outs.push(tf.concat([step.h, sNext, mean, std], 1) as tf.Tensor2D);
      h = step.h;
      s = sNext;
    }
    // Every step's rows (t-major): the inputs of the weights' gradients,
    // and (unstacked again in the backward pass) the per-step tensors.
    const rowsOf = (xs: tf.Tensor2D[]) => tf.concat(xs, 0);
    save([
      rowsOf(us),
      rowsOf(xs),
      rowsOf(hPrevs),
      rowsOf(vs),
      rowsOf(ps),
      rowsOf(gatesAll),
      rowsOf(rhos),
      noise ?? tf.zeros([0]),
      tW,
      wx,
      wh,
      p0W,
      p1W,
    ]);
    return {
      value: stack(outs),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        backward(dy as tf.Tensor3D, saved, noise !== null),
    };
  });

  const backward = (dy: tf.Tensor3D, saved: tf.Tensor[], withNoise: boolean): tf.Tensor[] => {
    const [uR, xR, hPrevR, vR, pR, gatesR, rhoR, noiseS, tW, wx, wh, p0W, p1W] = saved as [
      tf.Tensor2D,
      tf.Tensor2D,
      tf.Tensor2D,
      tf.Tensor2D,
      tf.Tensor2D,
      tf.Tensor2D,
      tf.Tensor2D,
      tf.Tensor3D,
      tf.Tensor2D,
      tf.Tensor2D,
      tf.Tensor2D,
      tf.Tensor2D,
      tf.Tensor2D,
    ];
    const perStep = (r: tf.Tensor2D) => unstack(tf.reshape(r, [l, b, r.shape[1]])) as tf.Tensor2D[];
    const [xs, hPrevs, gatesAll, ps, rhos] = [xR, hPrevR, gatesR, pR, rhoR].map(perStep) as [
      tf.Tensor2D[],
      tf.Tensor2D[],
      tf.Tensor2D[],
      tf.Tensor2D[],
      tf.Tensor2D[],
    ];
    const dys = unstack(dy) as tf.Tensor2D[];
    const eps = withNoise ? (unstack(noiseS) as tf.Tensor2D[]) : null;
    const tWT = tf.transpose(tW);
    const p0WT = tf.transpose(p0W);
    const p1WT = tf.transpose(p1W);
    let dhCarry: tf.Tensor2D | null = null;
    let dsCarry: tf.Tensor2D | null = null;
    const dOs: tf.Tensor2D[] = new Array(l);
    const dPs: tf.Tensor2D[] = new Array(l);
    const dXs: tf.Tensor2D[] = new Array(l);
    const dGxs: tf.Tensor2D[] = new Array(l);
    const dGhs: tf.Tensor2D[] = new Array(l);
    const dEs: tf.Tensor2D[] = new Array(l);
    for (let t = l - 1; t >= 0; t--) {
      const dyt = dys[t] as tf.Tensor2D;
      const cols = (from: number, size: number) => tf.slice(dyt, [0, from], [-1, size]) as tf.Tensor2D;
      const [dH, dS, dMean, dStd] = [cols(0, D), cols(D, S), cols(D + S, S), cols(D + 2 * S, S)];
      const ds = dsCarry === null ? dS : (tf.add(dS, dsCarry) as tf.Tensor2D);
      const e = eps?.[t];
      const dmean = tf.add(dMean, ds);
      const dstd = e === undefined ? dStd : tf.add(dStd, tf.mul(ds, e));
      const drho = tf.mul(dstd, tf.sigmoid(rhos[t] as tf.Tensor2D));
      const dO = tf.concat([dmean, drho], 1) as tf.Tensor2D;
      const dP = tf.mul(matMul(dO, p1WT), tf.step(ps[t] as tf.Tensor2D)) as tf.Tensor2D;
      const dV = matMul(dP, p0WT);
      const dhPost = tf.slice(dV, [0, 0], [-1, D]);
      const dE = tf.slice(dV, [0, D], [-1, H]) as tf.Tensor2D;
      const dhSum = tf.add(dH, dhPost);
      const dh = dhCarry === null ? dhSum : tf.add(dhSum, dhCarry);
      const x = xs[t] as tf.Tensor2D;
      const g = steps.backward(x, hPrevs[t] as tf.Tensor2D, wx, wh, gatesAll[t] as tf.Tensor2D, dh);
      const dX = tf.mul(g.dx, tf.step(x)) as tf.Tensor2D;
      const dU = matMul(dX, tWT);
      dsCarry = tf.slice(dU, [0, 0], [-1, S]) as tf.Tensor2D;
      dhCarry = g.dh;
      dOs[t] = dO;
      dPs[t] = dP;
      dXs[t] = dX;
      dGxs[t] = g.dgx;
      dGhs[t] = g.dgh;
      dEs[t] = dE;
    }
    const rows = (ds: tf.Tensor2D[]) => tf.concat(ds, 0) as tf.Tensor2D;
    const dO = rows(dOs);
    const dP = rows(dPs);
    const dX = rows(dXs);
    const dGx = rows(dGxs);
    const dGh = rows(dGhs);
    return [
      tf.reshape(rows(dEs), [l, b, H]),
      productTN(uR, dX),
      tf.sum(dX, 0),
      productTN(xR, dGx),
      productTN(hPrevR, dGh),
      tf.sum(dGx, 0),
      tf.sum(dGh, 0),
      productTN(vR, dP),
      tf.sum(dP, 0),
      productTN(pR, dO),
      tf.sum(dO, 0),
    ];
  };

  return tidyObject(() => {
    const packed = run(
      embeddings,
      w.transW,
      w.transB,
      w.wx,
      w.wh,
      w.bx,
      w.bh,
      w.post0W,
      w.post0B,
      w.post1W,
      w.post1B,
    ) as tf.Tensor3D;
    const cols = (from: number, size: number) =>
      tf.slice(packed, [0, 0, from], [-1, -1, size]) as tf.Tensor3D;
    return { h: cols(0, D), s: cols(D, S), mean: cols(D + S, S), std: cols(D + 2 * S, S) };
  });
}

/** The step-by-step composition (every op on the gradient tape). */
export function filterComposed(
  parts: RssmParts,
  actions: tf.Tensor3D,
  embeddings: tf.Tensor3D,
  noise: tf.Tensor3D | null,
): FilteredSequence {
  const [l, b] = actions.shape;
  const { deterministic: D, stochastic: S } = parts.sizes;
  return tidyObject(() => {
    const as = unstack(actions) as tf.Tensor2D[];
    const es = unstack(embeddings) as tf.Tensor2D[];
    const noises = noise === null ? null : (unstack(noise) as tf.Tensor2D[]);
    let h = tf.zeros([b, D]) as tf.Tensor2D;
    let s = tf.zeros([b, S]) as tf.Tensor2D;
    const hs: tf.Tensor2D[] = [];
    const ss: tf.Tensor2D[] = [];
    const means: tf.Tensor2D[] = [];
    const stds: tf.Tensor2D[] = [];
    for (let t = 0; t < l; t++) {
      h = parts.transition(h, s, as[t] as tf.Tensor2D);
      const q = parts.posterior(h, es[t] as tf.Tensor2D);
      const eps = noises?.[t];
      s = eps === undefined ? q.mean : (tf.add(q.mean, tf.mul(q.std, eps)) as tf.Tensor2D);
      hs.push(h);
      ss.push(s);
      means.push(q.mean);
      stds.push(q.std);
    }
    const all = (xs: tf.Tensor2D[], n: number) => (l === 0 ? tf.zeros([0, b, n]) : stack(xs)) as tf.Tensor3D;
    return { h: all(hs, D), s: all(ss, S), mean: all(means, S), std: all(stds, S) };
  });
}
