/**
 * `@dcem/tasks/mujoco`: model-predictive control on the MuJoCo tasks of
 * `@dcem/mujoco` with the true simulator as the model, and the study against
 * PlaNet's "CEM + true simulator" results. A separate entry point, so users
 * of the rest of `@dcem/tasks` never load MuJoCo.
 *
 * @module
 */
// The job types the study's jobs use (the same as the main entry's).
export type { JobContext, JobKind, JobSpec } from '../jobs/jobs.js';
export type {
  MujocoEpisodeCallbacks,
  MujocoEpisodeRecord,
  MujocoEpisodeSettings,
  MujocoEpisodesResult,
  MujocoPlannerConfig,
  MujocoPlannerName,
  MujocoStepInfo,
} from './episodes.js';
export {
  MUJOCO_PLANNERS,
  mujocoPlannerConfig,
  PLANET_ACTION_REPEAT,
  PLANET_BUDGET,
  runMujocoEpisodes,
} from './episodes.js';
export type {
  MujocoEpisodeParams,
  MujocoStudyCallbacks,
  MujocoStudyResult,
  MujocoStudyRow,
  MujocoStudySettings,
} from './study.js';
export {
  assembleMujocoStudy,
  formatMujocoTable,
  MUJOCO_EPISODE_JOB,
  mujocoStudyJobs,
  mujocoStudySizes,
  PLANET_TRUE_SIMULATOR,
  runMujocoEpisodeJob,
  runMujocoStudy,
} from './study.js';
