// Control: differentiable dynamics, the DCEM/CEM trajectory planner, MPC,
// latent action embeddings and rendering.
export {
  CARTPOLE_DEFAULTS,
  CARTPOLE_QUADRATIC_COST,
  type Cartpole,
  type CartpoleParams,
  cartpoleReturn,
  cartpoleReturnFused,
  cartpoleReward,
  createCartpole,
  sampleCartpoleStates,
} from './cartpole.js';
export { type Dynamics, rollout } from './dynamics.js';
export {
  type ActionDecoder,
  type ActionDecoderOptions,
  createActionDecoder,
  disposeLatentPlanResult,
  LATENT_SOLVER_DEFAULTS,
  type LatentPlannerOptions,
  type LatentPlanResult,
  type LatentSolverOptions,
  type LatentTrainingOptions,
  type LatentTrainingResult,
  type LatentTrainingStep,
  type LatentValidation,
  planLatent,
  trainLatentEmbedding,
} from './latent-embedding.js';
export { disposeMpcResult, type MpcOptions, type MpcResult, type MpcStepInfo, runMpc } from './mpc.js';
export {
  createPendulum,
  PENDULUM_DEFAULTS,
  PENDULUM_QUADRATIC_COST,
  type Pendulum,
  type PendulumParams,
  pendulumState,
  pendulumSwingUpCost,
  samplePendulumStates,
} from './pendulum.js';
export {
  type ControlCost,
  disposePlanResult,
  PLANNER_DEFAULTS,
  type PlanIterationInfo,
  type PlannerOptions,
  type PlanResult,
  plan,
  rolloutCost,
  shiftControls,
  type TrajectoryCost,
} from './planner.js';
export {
  type RenderOptions,
  type RenderSystem,
  type RolloutRendering,
  type RolloutRenderOptions,
  renderRollout,
  renderState,
} from './render.js';
