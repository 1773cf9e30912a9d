// The fused refit kernel, μ' = Σᵢ wᵢXᵢ/k and σ' = √max(Σᵢ wᵢ(Xᵢ − μ')²/k,
// minStd²) for samples X [B, N, D] and weights w [B, N], and its gradient
// with respect to both (in WebAssembly where it can run, see simd.ts).
import type * as tfjs from '@tensorflow/tfjs';
import { fitBackward, fitForward } from './simd.js';
import {
  type AttrSpec,
  attrMap,
  dims,
  fusedKernel,
  type KernelEntry,
  type RunKernel,
  readAttrs,
} from './tensor-io.js';

/** Names of the refit kernels. */
export const FIT_KERNELS = Object.freeze({ fit: 'DcemFit', fitGrad: 'DcemFitGrad' });

/**
 * Attributes of `DcemFit` (inputs `samples`, `weights`) and of
 * `DcemFitGrad` (inputs `samples`, `weights`, `mean`, `std`, `dMean`, `dStd`).
 */
export interface FitAttrs {
  /** The divisor k (the number of elites). */
  k: number;
  /** The floor of σ'. */
  minStd: number;
}

const FIT_ATTRS: AttrSpec<FitAttrs> = { k: 'number', minStd: 'number' };

/** The refit kernels, for registration. */
export const FIT_KERNEL_FUNCS: readonly KernelEntry[] = [
  fusedKernel(FIT_KERNELS.fit, FIT_ATTRS, (io, { k, minStd }) => {
    const samples = io.input('samples');
    const [batch = 0, count = 0, dim = 0] = samples.shape;
    const { infos, views } = io.allocate([
      [batch, dim],
      [batch, dim],
    ]);
    const [mean, std] = views;
    fitForward({
      samples: io.read(samples),
      weights: io.read('weights'),
      batch,
      count,
      dim,
      k,
      minStd,
      mean,
      std,
    });
    return infos;
  }),
  fusedKernel(FIT_KERNELS.fitGrad, FIT_ATTRS, (io, { k, minStd }) => {
    const samples = io.input('samples');
    const weights = io.input('weights');
    const [batch = 0, count = 0, dim = 0] = samples.shape;
    const { infos, views } = io.allocate([dims(samples), dims(weights)]);
    const [dSamples, dWeights] = views;
    fitBackward({
      samples: io.read(samples),
      weights: io.read(weights),
      mean: io.read('mean'),
      std: io.read('std'),
      dMean: io.read('dMean'),
      dStd: io.read('dStd'),
      batch,
      count,
      dim,
      k,
      minStd,
      dSamples,
      dWeights,
    });
    return infos;
  }),
];

/** The gradient of `DcemFit`: `DcemFitGrad` at the saved inputs and outputs. */
export function fitGradient(tf: typeof tfjs, run: RunKernel): tfjs.GradConfig {
  return {
    kernelName: FIT_KERNELS.fit,
    inputsToSave: ['samples', 'weights'],
    outputsToSave: [true, true],
    gradFunc: (dy, saved, attrs) => {
      const [samples, weights, mean, std] = saved as [tfjs.Tensor, tfjs.Tensor, tfjs.Tensor, tfjs.Tensor];
      const dys = Array.isArray(dy) ? dy : [dy];
      const outs = run<tfjs.Tensor[]>(
        FIT_KERNELS.fitGrad,
        {
          dMean: dys[0] ?? tf.zerosLike(mean),
          dStd: dys[1] ?? tf.zerosLike(std),
          samples,
          weights,
          mean,
          std,
        },
        attrMap<FitAttrs>(readAttrs(FIT_KERNELS.fit, attrs, FIT_ATTRS)),
      );
      return { samples: () => outs[0] as tfjs.Tensor, weights: () => outs[1] as tfjs.Tensor };
    },
  };
}

/** The weighted refit of samples [B, N, D] with weights [B, N] on the fused kernel. */
export function runFit(
  run: RunKernel,
  samples: tfjs.Tensor,
  weights: tfjs.Tensor,
  attrs: FitAttrs,
): { mean: tfjs.Tensor; std: tfjs.Tensor } {
  const [mean, std] = run<tfjs.Tensor[]>(FIT_KERNELS.fit, { samples, weights }, attrMap(attrs)) as [
    tfjs.Tensor,
    tfjs.Tensor,
  ];
  return { mean, std };
}
