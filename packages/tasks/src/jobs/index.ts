export {
  canonicalJson,
  createJobRegistry,
  decodeFloat32,
  encodeFloat32,
  formatJobRecord,
  type JobContext,
  type JobKind,
  type JobRecord,
  type JobRegistry,
  type JobSpec,
  jobId,
  type ParsedJobRecords,
  parseJobRecords,
  type RunJobsOptions,
  runJobsLocally,
} from './jobs.js';
export { sha256Hex } from './sha256.js';
