/**
 * `@dcem/tasks`: the applications of the DCEM paper on TensorFlow.js —
 * energy-based structured prediction (regression) and control
 * (differentiable dynamics, DCEM model-predictive control, learned latent
 * action spaces).
 *
 * @packageDocumentation
 */

export * from './control/index.js';
export * from './jobs/index.js';
export * from './objectives/index.js';
export * from './regression/index.js';
export * from './seed-streams.js';
export * from './studies/index.js';
