// Studies: the paper's experiments as functions that take settings and
// optional progress callbacks and return their results as values (the `dcem`
// command only parses flags, shows progress and writes files).
export {
  type CartpoleEmbedCell,
  type CartpoleEmbedFigures,
  type CartpoleEmbedRun,
  type CartpoleEmbedStudyCallbacks,
  type CartpoleEmbedStudyResult,
  type CartpoleEmbedStudySettings,
  type ControlIterates,
  runCartpoleEmbedStudy,
} from './cartpole-embed-study.js';
export {
  PENDULUM_UPRIGHT,
  type PendulumStudyCallbacks,
  type PendulumStudyResult,
  type PendulumStudySettings,
  runPendulumStudy,
} from './pendulum-study.js';
export {
  budgetSizes,
  PLANNER_STUDY_TASKS,
  type PlannerStudyCallbacks,
  type PlannerStudyCell,
  type PlannerStudyResult,
  type PlannerStudySettings,
  type PlannerStudyTask,
  type PlannerStudyVerdict,
  runPlannerStudy,
} from './planner-study.js';
export {
  type RegressionStudyCallbacks,
  type RegressionStudyModel,
  type RegressionStudyResult,
  type RegressionStudySettings,
  runRegressionStudy,
} from './regression-study.js';
