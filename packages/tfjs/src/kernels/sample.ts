// The fused sampling kernel, X = min(max(μ + σ ⊙ ε, lower), upper) for
// μ, σ [B, D], ε [B, N, D] and optional bounds [1 or B, D], and its
// gradients: one kernel for μ, σ and the bounds (small), one for the noise
// (as large as the samples, computed only when needed).
import type * as tfjs from '@tensorflow/tfjs';
import { type SampleInputs, type SampleShape, sampleBackwardNoise } from './math.js';
import { sampleBackwardParams, sampleForward } from './simd.js';
import {
  type AttrSpec,
  attrMap,
  dims,
  firstDy,
  fusedKernel,
  type KernelEntry,
  type KernelIO,
  type RunKernel,
  readAttrs,
} from './tensor-io.js';

/** Names of the sampling kernels. */
export const SAMPLE_KERNELS = Object.freeze({
  sample: 'DcemSample',
  sampleGrad: 'DcemSampleGrad',
  sampleGradNoise: 'DcemSampleGradNoise',
});

/**
 * Attributes of the sampling kernels (inputs `mean`, `std`, `noise`,
 * `lower`, `upper`, and `dy` for the gradients; a missing bound is a
 * placeholder flagged off).
 */
export interface SampleAttrs {
  /** Whether `lower` is a bound. */
  hasLower: boolean;
  /** Whether `upper` is a bound. */
  hasUpper: boolean;
}

const SAMPLE_ATTRS: AttrSpec<SampleAttrs> = { hasLower: 'boolean', hasUpper: 'boolean' };

/**
 * The inputs of the sampling kernels as float32 views, with their shapes.
 * Call it after allocating the outputs (an allocation may move the heap).
 */
function sampleInputs(io: KernelIO, { hasLower, hasUpper }: SampleAttrs): SampleInputs<Float32Array> {
  const noise = io.input('noise');
  const lower = io.input('lower');
  const upper = io.input('upper');
  const [batch = 0, samples = 0, dim = 0] = noise.shape;
  const shape: SampleShape = {
    batch,
    samples,
    dim,
    lowerRows: hasLower ? (lower.shape[0] ?? 1) : 0,
    upperRows: hasUpper ? (upper.shape[0] ?? 1) : 0,
  };
  return {
    mean: io.read('mean'),
    std: io.read('std'),
    noise: io.read(noise),
    lower: io.read(lower),
    upper: io.read(upper),
    shape,
  };
}

/** The sampling kernels, for registration. */
export const SAMPLE_KERNEL_FUNCS: readonly KernelEntry[] = [
  fusedKernel(SAMPLE_KERNELS.sample, SAMPLE_ATTRS, (io, flags) => {
    const { infos, views } = io.allocate([dims(io.input('noise'))]);
    sampleForward(sampleInputs(io, flags), views[0]);
    return infos[0] as tfjs.TensorInfo;
  }),
  fusedKernel(SAMPLE_KERNELS.sampleGrad, SAMPLE_ATTRS, (io, flags) => {
    const { infos, views } = io.allocate([
      dims(io.input('mean')),
      dims(io.input('std')),
      dims(io.input('lower')),
      dims(io.input('upper')),
    ]);
    const [dMean, dStd, dLower, dUpper] = views;
    sampleBackwardParams(io.read('dy'), sampleInputs(io, flags), { dMean, dStd, dLower, dUpper });
    return infos;
  }),
  fusedKernel(SAMPLE_KERNELS.sampleGradNoise, SAMPLE_ATTRS, (io, flags) => {
    const { infos, views } = io.allocate([dims(io.input('noise'))]);
    sampleBackwardNoise(io.read('dy'), sampleInputs(io, flags), views[0]);
    return infos[0] as tfjs.TensorInfo;
  }),
];

/** The gradient of `DcemSample`. */
export function sampleGradient(tf: typeof tfjs, run: RunKernel): tfjs.GradConfig {
  return {
    kernelName: SAMPLE_KERNELS.sample,
    inputsToSave: ['mean', 'std', 'noise', 'lower', 'upper'],
    gradFunc: (dy, saved, attrs) => {
      const [mean, std, noise, lower, upper] = saved as [
        tfjs.Tensor,
        tfjs.Tensor,
        tfjs.Tensor,
        tfjs.Tensor,
        tfjs.Tensor,
      ];
      const inputs = { dy: firstDy(dy) ?? tf.zerosLike(noise), mean, std, noise, lower, upper };
      const flags = attrMap<SampleAttrs>(readAttrs(SAMPLE_KERNELS.sample, attrs, SAMPLE_ATTRS));
      // One kernel computes the gradients of μ, σ and the bounds (small);
      // the noise's (as large as the samples) only when it is needed.
      const outs = run<tfjs.Tensor[]>(SAMPLE_KERNELS.sampleGrad, inputs, flags);
      return {
        mean: () => outs[0] as tfjs.Tensor,
        std: () => outs[1] as tfjs.Tensor,
        noise: () => run<tfjs.Tensor>(SAMPLE_KERNELS.sampleGradNoise, inputs, flags),
        lower: () => outs[2] as tfjs.Tensor,
        upper: () => outs[3] as tfjs.Tensor,
      };
    },
  };
}

/** Samples on the fused kernel (the caller passes a placeholder for a missing bound and flags it off). */
export function runSample(
  run: RunKernel,
  tensors: {
    mean: tfjs.Tensor;
    std: tfjs.Tensor;
    noise: tfjs.Tensor;
    lower: tfjs.Tensor;
    upper: tfjs.Tensor;
  },
  attrs: SampleAttrs,
): tfjs.Tensor {
  return run<tfjs.Tensor>(SAMPLE_KERNELS.sample, tensors, attrMap(attrs));
}
