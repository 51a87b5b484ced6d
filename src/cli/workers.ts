import { startWorker } from '../pipeline/index.js';
import type { RoleStarter } from './start.js';

/** Background roles started by `userz start` (worker role): the pipeline's job loop. */
export const WORKERS: RoleStarter[] = [async (deps) => startWorker(deps.pipeline, { concurrency: { triage: deps.config.load.triageConcurrency } })];
