// The fused scores kernel, `valuesToScores` of @dcem/core on values
// [rows, n] (outputs: the scores and the count of non-finite values), and
// its gradient with respect to the values.
import type * as tfjs from '@tensorflow/tfjs';
import { scoresBackward, scoresForward } from './math.js';
import {
  type AttrSpec,
  attrMap,
  dims,
  firstDy,
  fusedKernel,
  type KernelEntry,
  type RunKernel,
  readAttrs,
} from './tensor-io.js';

/** Names of the scores kernels. */
export const SCORES_KERNELS = Object.freeze({ scores: 'DcemScores', scoresGrad: 'DcemScoresGrad' });

/** Attributes of `DcemScores` (input `values`). */
export interface ScoresAttrs {
  /** Whether to standardise each row's finite values. */
  normalize: boolean;
  /** Added to the standard deviation. */
  eps: number;
  /** How far below the worst finite score a non-finite value lands. */
  margin: number;
}

/** Attributes of `DcemScoresGrad` (inputs `dy`, `values`). */
export type ScoresGradAttrs = Omit<ScoresAttrs, 'margin'>;

const SCORES_ATTRS: AttrSpec<ScoresAttrs> = { normalize: 'boolean', eps: 'number', margin: 'number' };
const SCORES_GRAD_ATTRS: AttrSpec<ScoresGradAttrs> = { normalize: 'boolean', eps: 'number' };

/** The scores kernels, for registration. */
export const SCORES_KERNEL_FUNCS: readonly KernelEntry[] = [
  fusedKernel(SCORES_KERNELS.scores, SCORES_ATTRS, (io, { normalize, eps, margin }) => {
    const values = io.input('values');
    const [rows = 0, n = 0] = values.shape;
    const { infos, views } = io.allocate([dims(values), []]);
    const [scores, nonFinite] = views;
    nonFinite[0] = scoresForward({ values: io.read(values), rows, n, normalize, eps, margin, scores });
    return infos;
  }),
  fusedKernel(SCORES_KERNELS.scoresGrad, SCORES_GRAD_ATTRS, (io, { normalize, eps }) => {
    const values = io.input('values');
    const [rows = 0, n = 0] = values.shape;
    const { infos, views } = io.allocate([dims(values)]);
    const [dv] = views;
    scoresBackward({ values: io.read(values), dScores: io.read('dy'), rows, n, normalize, eps, dv });
    return infos[0] as tfjs.TensorInfo;
  }),
];

/** The gradient of `DcemScores`: `DcemScoresGrad` at the saved values. */
export function scoresGradient(tf: typeof tfjs, run: RunKernel): tfjs.GradConfig {
  return {
    kernelName: SCORES_KERNELS.scores,
    inputsToSave: ['values'],
    gradFunc: (dy, saved, attrs) => {
      const values = saved[0] as tfjs.Tensor;
      const { normalize, eps } = readAttrs(SCORES_KERNELS.scores, attrs, SCORES_ATTRS);
      return {
        values: () =>
          run<tfjs.Tensor>(
            SCORES_KERNELS.scoresGrad,
            { dy: firstDy(dy) ?? tf.zerosLike(values), values },
            attrMap<ScoresGradAttrs>({ normalize, eps }),
          ),
      };
    },
  };
}

/** The scores of values [rows, n] and the count of non-finite values, on the fused kernel. */
export function runScores(
  run: RunKernel,
  values: tfjs.Tensor,
  attrs: ScoresAttrs,
): { scores: tfjs.Tensor; nonFinite: tfjs.Tensor } {
  const [scores, nonFinite] = run<tfjs.Tensor[]>(SCORES_KERNELS.scores, { values }, attrMap(attrs)) as [
    tfjs.Tensor,
    tfjs.Tensor,
  ];
  return { scores, nonFinite };
}
