// The fused scores kernel, `valuesToScores` of @dcem/core on values
// [rows, n] (outputs: the scores and the count of non-finite values), and
// its gradient with respect to the values.
import type * as tfjs from '@tensorflow/tfjs';
import { scoresBackward, scoresForward } from './math.js';
import {
  type AttrSpec,
  allocate,
  attrMap,
  dims,
  firstDy,
  input,
  type KernelEntry,
  type KernelFunc,
  type RunKernel,
  read,
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

const scoresKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as tfjs.KernelBackend;
  const { normalize, eps, margin } = readAttrs(SCORES_KERNELS.scores, attrs, SCORES_ATTRS);
  const values = input(inputs, 'values');
  const [rows = 0, n = 0] = values.shape;
  const { infos, views } = allocate(b, [dims(values), []]);
  const nonFinite = scoresForward({
    values: read(b, values),
    rows,
    n,
    normalize,
    eps,
    margin,
    scores: views[0] as Float32Array,
  });
  (views[1] as Float32Array)[0] = nonFinite;
  return infos;
};

const scoresGradKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as tfjs.KernelBackend;
  const { normalize, eps } = readAttrs(SCORES_KERNELS.scoresGrad, attrs, SCORES_GRAD_ATTRS);
  const values = input(inputs, 'values');
  const [rows = 0, n = 0] = values.shape;
  const { infos, views } = allocate(b, [dims(values)]);
  scoresBackward({
    values: read(b, values),
    dScores: read(b, input(inputs, 'dy')),
    rows,
    n,
    normalize,
    eps,
    dv: views[0] as Float32Array,
  });
  return infos[0] as tfjs.TensorInfo;
};

/** The scores kernels, for registration. */
export const SCORES_KERNEL_FUNCS: readonly KernelEntry[] = [
  [SCORES_KERNELS.scores, scoresKernel],
  [SCORES_KERNELS.scoresGrad, scoresGradKernel],
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
