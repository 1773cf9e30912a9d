// The fused best-sample kernel (`tell` in @dcem/core): per batch row, the
// sample of the largest score, kept where its value beats the previous best;
// and its gradient, which sends each row's gradients where its best came from.
import type * as tfjs from '@tensorflow/tfjs';
import { bestBackward, bestForward } from './math.js';
import {
  type AttrSpec,
  attrMap,
  fusedKernel,
  type KernelEntry,
  type RunKernel,
  readAttrs,
} from './tensor-io.js';

/** Names of the best-sample kernels. */
export const BEST_KERNELS = Object.freeze({ best: 'DcemBest', bestGrad: 'DcemBestGrad' });

/**
 * Attributes of `DcemBest` (inputs `samples` [B, count, dim], `scores`,
 * `values`, `previousSample`, `previousValue`; outputs the sample, the value
 * and the pick).
 */
export interface BestAttrs {
  /** Whether `previousSample` and `previousValue` hold a previous best (else placeholders). */
  hasPrevious: boolean;
  /** Samples per row. */
  count: number;
  /** Dimension. */
  dim: number;
}

/** Attributes of `DcemBestGrad` (inputs `dSample`, `dValue`, `pick`, `value`). */
export type BestGradAttrs = Omit<BestAttrs, 'hasPrevious'>;

const BEST_ATTRS: AttrSpec<BestAttrs> = { hasPrevious: 'boolean', count: 'number', dim: 'number' };
const BEST_GRAD_ATTRS: AttrSpec<BestGradAttrs> = { count: 'number', dim: 'number' };

/** The best-sample kernels, for registration. */
export const BEST_KERNEL_FUNCS: readonly KernelEntry[] = [
  fusedKernel(BEST_KERNELS.best, BEST_ATTRS, (io, { hasPrevious }) => {
    const samples = io.input('samples');
    const [batch = 0, count = 0, dim = 0] = samples.shape;
    const { infos, views } = io.allocate([[batch, dim], [batch], [batch]]);
    bestForward({
      samples: io.read(samples),
      scores: io.read('scores'),
      values: io.read('values'),
      previousSample: hasPrevious ? io.read('previousSample') : undefined,
      previousValue: hasPrevious ? io.read('previousValue') : undefined,
      batch,
      count,
      dim,
      sample: views[0],
      value: views[1],
      pick: views[2],
    });
    return infos;
  }),
  fusedKernel(BEST_KERNELS.bestGrad, BEST_GRAD_ATTRS, (io, { count, dim }) => {
    const pick = io.input('pick');
    const [batch = 0] = pick.shape;
    const { infos, views } = io.allocate([[batch, count, dim], [batch, count], [batch, dim], [batch]]);
    bestBackward({
      dSample: io.read('dSample'),
      dValue: io.read('dValue'),
      pick: io.read(pick),
      value: io.read('value'),
      batch,
      count,
      dim,
      dSamples: views[0],
      dValues: views[1],
      dPreviousSample: views[2],
      dPreviousValue: views[3],
    });
    return infos;
  }),
];

/** The gradient of `DcemBest`: `DcemBestGrad` writes every gradient; the scores get none. */
export function bestGradient(tf: typeof tfjs, run: RunKernel): tfjs.GradConfig {
  return {
    kernelName: BEST_KERNELS.best,
    outputsToSave: [false, true, true],
    gradFunc: (dy, saved, attrs) => {
      const [value, pick] = saved as [tfjs.Tensor, tfjs.Tensor];
      const batch = pick.shape[0] ?? 0;
      const { hasPrevious, count, dim } = readAttrs(BEST_KERNELS.best, attrs, BEST_ATTRS);
      const dys = Array.isArray(dy) ? dy : [dy];
      // One kernel writes every gradient; the scores get none (the choice is not differentiated).
      const outs = run<tfjs.Tensor[]>(
        BEST_KERNELS.bestGrad,
        {
          dSample: dys[0] ?? tf.zeros([batch, dim]),
          dValue: dys[1] ?? tf.zeros([batch]),
          pick,
          value,
        },
        attrMap<BestGradAttrs>({ count, dim }),
      );
      return {
        samples: () => outs[0] as tfjs.Tensor,
        scores: () => tf.zeros([batch, count]),
        values: () => outs[1] as tfjs.Tensor,
        previousSample: () => (hasPrevious ? (outs[2] as tfjs.Tensor) : tf.scalar(0)),
        previousValue: () => (hasPrevious ? (outs[3] as tfjs.Tensor) : tf.scalar(0)),
      };
    },
  };
}

/** The best-sample update on the fused kernel (the caller passes placeholders without a previous best). */
export function runBest(
  run: RunKernel,
  tensors: {
    samples: tfjs.Tensor;
    scores: tfjs.Tensor;
    values: tfjs.Tensor;
    previousSample: tfjs.Tensor;
    previousValue: tfjs.Tensor;
  },
  attrs: BestAttrs,
): { sample: tfjs.Tensor; value: tfjs.Tensor } {
  const [sample, value, pick] = run<tfjs.Tensor[]>(BEST_KERNELS.best, tensors, attrMap(attrs)) as [
    tfjs.Tensor,
    tfjs.Tensor,
    tfjs.Tensor,
  ];
  pick.dispose();
  return { sample, value };
}
