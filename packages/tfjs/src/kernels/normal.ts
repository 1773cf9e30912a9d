// The fused standard-normal kernel: draws from the four ziggurat streams of
// a seed (ziggurat.ts), written straight into the output tensor's memory —
// no JavaScript array in between, which on wasm would be a fresh buffer the
// size of the samples per call (its page faults cost more than the draws).
// Where a worker drew them ahead (threads/normals-ahead.ts), they are copied.
import type * as tfjs from '@tensorflow/tfjs';
import { takeAhead } from '../threads/normals-ahead.js';
import { fillNormals } from './simd.js';
import { type AttrSpec, attrMap, fusedKernel, type KernelEntry, type RunKernel } from './tensor-io.js';
import { seedStates } from './ziggurat.js';

/** Names of the normal-draw kernels. */
export const NORMAL_KERNELS = Object.freeze({ normal: 'DcemNormal' });

/** Attributes of `DcemNormal` (no inputs). */
export interface NormalAttrs {
  /** The output's shape. */
  shape: number[];
  /** The seed of the streams. */
  seed: number;
}

const NORMAL_ATTRS: AttrSpec<NormalAttrs> = { shape: 'shape', seed: 'number' };

/** The normal-draw kernel, for registration. */
export const NORMAL_KERNEL_FUNCS: readonly KernelEntry[] = [
  fusedKernel(NORMAL_KERNELS.normal, NORMAL_ATTRS, (io, { shape, seed }) => {
    const { infos, views } = io.allocate([shape]);
    const [out] = views;
    if (!takeAhead(out, seed)) fillNormals(out, seedStates(seed));
    return infos[0] as tfjs.TensorInfo;
  }),
];

/** Standard-normal draws of `shape` from the streams of `seed`, on the fused kernel. */
export function runNormal(run: RunKernel, attrs: NormalAttrs): tfjs.Tensor {
  return run<tfjs.Tensor>(NORMAL_KERNELS.normal, {}, attrMap(attrs));
}
