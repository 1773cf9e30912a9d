// A recorder of `onIteration` calls shared by the solver tests (cem.test.ts, solver.test.ts) on the float64 backend.
import type { IterationInfo } from './options.js';
import type { Float64Backend, Float64Tensor } from './testing/index.js';

/** A snapshot of the tensors of one `onIteration` call (they are released after it). */
export interface Snapshot {
  iteration: number;
  samples: number[];
  values: number[];
  weights: number[];
  shape: readonly number[];
  mean: number[];
  std: number[];
}

/** An `onIteration` callback that copies every call's tensors into `log`. */
export function recorder(b: Float64Backend): {
  log: Snapshot[];
  onIteration: (info: IterationInfo<Float64Tensor>) => void;
} {
  const log: Snapshot[] = [];
  const read = (x: Float64Tensor): number[] => Array.from(b.readSync(x));
  return {
    log,
    onIteration: (info) =>
      log.push({
        iteration: info.iteration,
        samples: read(info.samples),
        values: read(info.values),
        weights: read(info.weights),
        shape: b.shape(info.samples),
        mean: read(info.mean),
        std: read(info.std),
      }),
  };
}
