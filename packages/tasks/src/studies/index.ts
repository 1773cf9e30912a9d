// Studies: the paper's experiments as functions that take settings and
// optional progress callbacks and return their results as values (the `dcem`
// command only parses flags, shows progress and writes files).
export {
  assembleCartpoleEmbedStudy,
  CARTPOLE_EMBED_RUN_JOB,
  type CartpoleEmbedBaseline,
  type CartpoleEmbedCell,
  type CartpoleEmbedFigures,
  type CartpoleEmbedJob,
  type CartpoleEmbedRun,
  type CartpoleEmbedRunParams,
  type CartpoleEmbedRunResult,
  type CartpoleEmbedStudyCallbacks,
  type CartpoleEmbedStudyResult,
  type CartpoleEmbedStudySettings,
  type ControlIterates,
  cartpoleEmbedBaseline,
  cartpoleEmbedJobs,
  cartpoleEmbedRuns,
  runCartpoleEmbedRun,
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
  assemblePlannerStudy,
  budgetSizes,
  PLANNER_CELL_JOB,
  PLANNER_STUDY_TASKS,
  type PlannerCellParams,
  type PlannerStudyCallbacks,
  type PlannerStudyCell,
  type PlannerStudyResult,
  type PlannerStudySettings,
  type PlannerStudyTask,
  type PlannerStudyVerdict,
  plannerStudyJobs,
  runPlannerCell,
  runPlannerStudy,
} from './planner-study.js';
export {
  type RegressionStudyCallbacks,
  type RegressionStudyModel,
  type RegressionStudyResult,
  type RegressionStudySettings,
  runRegressionStudy,
} from './regression-study.js';
