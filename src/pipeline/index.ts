export { RUN_STATES, TERMINAL_STATES, TRANSITIONS, type RunState } from './states.js';
export { enqueueJob, claimJobs, completeJob, failJob, backoffMs, countPendingJobs, type Job, type JobKind } from '../store/index.js';
export { getRun, getRunForBatch, insertRun, transitionRun, recordReviewState, reportIdsOfRun, type Run } from './runs.js';
export { triageReport } from './triage.js';
export { executeRun } from './run.js';
export { notifyRun, outcomeOf } from './notify.js';
export { startWorker, type Worker, type WorkerOptions } from './worker.js';
export { registerReviewRoutes } from './review.js';
export { DEFAULT_RUNNER_COMMAND, type PipelineDeps } from './deps.js';
