// Control: differentiable dynamics, task-level helpers over the core planner, MPC,
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
export { type ActionDecoder, type ActionDecoderOptions, createActionDecoder } from './latent-decoder.js';
export {
  disposeLatentPlanResult,
  LATENT_SOLVER_DEFAULTS,
  type LatentPlannerOptions,
  type LatentPlanResult,
  type LatentSolverOptions,
  planLatent,
} from './latent-planner.js';
export {
  type LatentPlanGradients,
  type LatentTrainingOptions,
  type LatentTrainingResult,
  type LatentTrainingStep,
  type LatentValidation,
  latentPlanGradients,
  trainLatentEmbedding,
} from './latent-trainer.js';
export { disposeMpcResult, type MpcOptions, type MpcResult, type MpcStepInfo, runMpc } from './mpc.js';
export {
  createPendulum,
  PENDULUM_DEFAULTS,
  PENDULUM_QUADRATIC_COST,
  type Pendulum,
  type PendulumCostWeights,
  type PendulumParams,
  pendulumState,
  pendulumSwingUpCost,
  pendulumSwingUpCostFused,
  samplePendulumStates,
} from './pendulum.js';
export {
  type ControlCost,
  disposeTrajectoryPlan,
  PLANNER_NAMES,
  type PlannerName,
  plannerSolver,
  planTrajectory,
  rolloutCost,
  type TaskProblem,
  type TrajectoryCost,
  type TrajectoryPlan,
  type TrajectoryPlannerOptions,
  type TrajectoryPlanOptions,
} from './planner.js';
export {
  type RenderOptions,
  type RenderSystem,
  type RolloutRendering,
  type RolloutRenderOptions,
  renderRollout,
  renderState,
} from './render.js';
