// 2-D test objectives and the "move the minimum" demonstration.

export {
  createMinimumMover,
  type MinimumMover,
  type MinimumMoverOptions,
  type MinimumMoverStep,
} from './move-minimum.js';
export {
  BUMPS_THETA,
  OBJECTIVES_2D,
  type Objective2D,
  type Objective2DId,
  threeBumps,
} from './two-d.js';
